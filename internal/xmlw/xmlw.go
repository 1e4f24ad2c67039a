// Package xmlw reads Wazuh-style XML: ossec.conf, rule files and decoder
// files. These files are not well-formed XML, and Wazuh's own reader
// (src/os_xml in the Wazuh sources) accepts them on its own terms. This
// package accepts what that reader accepts, rejects what it rejects, and
// gives every element the same text Wazuh gives it:
//
//   - A file holds any number of top-level elements; text between them is
//     ignored. There is no XML declaration; "<?...?>" at the top level is
//     skipped (an extension: Wazuh rejects an XML declaration that has more
//     than one attribute).
//   - Comments start with "<!" and end at the first "!>" or "-->", so "--"
//     inside a comment is fine. They are removed wherever they appear: between
//     elements, inside text, even inside a tag name. "<![CDATA[" and
//     "<!DOCTYPE" are comments too, as in Wazuh: there is no CDATA.
//   - Text is kept byte for byte: it is not trimmed, entities are not decoded
//     ("&lt;" stays "&lt;", a raw "&" is fine), and backslashes are kept.
//   - "\<" in text is a literal "<" (the backslash stays in the text, where
//     regex compilers read "\<" as "<"); "\\<" is an escaped backslash
//     followed by a real tag. Any other unescaped "<" in text starts a child
//     element, so "a < b" is an error, as in Wazuh.
//   - An element's text is what follows its last child element; text before
//     or between children is dropped. For a leaf element that is all of its
//     text. Wazuh leaves the ">" of a child closed with `<x a="1"/>` or
//     `<x />` unread, so it becomes text of the parent; this is reproduced.
//   - Attribute values are quoted with ' or "; no space is allowed before
//     "=", any whitespace after it; a value may not hold ">"; a repeated
//     attribute name is an error; after the closing quote comes whitespace,
//     ">" or "/".
//   - A closing tag must repeat the name exactly ("</a >" does not close
//     "<a>"). Nesting deeper than 1024 levels is an error.
//
// Variables (<var name="X">value</var> and $X) are resolved by
// ApplyVariables, as Wazuh's rule and decoder loaders do; its configuration
// reader does not resolve them but hides <var> elements.
package xmlw

import (
	"fmt"
	"os"
	"strconv"
)

// Attr is one attribute of an element, as written.
type Attr struct{ Name, Value string }

// Node is one element.
type Node struct {
	Name  string
	Attrs []Attr
	// Text is the element's character data as Wazuh's reader gives it: the
	// bytes after its last child element (all of its text for a leaf), with
	// comments removed and nothing else changed — not trimmed, entities not
	// decoded, backslashes kept. It is empty for an element closed with "/>".
	Text     string
	Children []*Node
	File     string
	// Line is the line of the "<" that opens the element, counting from 1.
	// (Wazuh records the line where the tag name ends, which differs only
	// when a newline ends the name.)
	Line int
}

// Attr returns the value of the attribute with that name (compared exactly)
// and whether the element has it.
func (n *Node) Attr(name string) (string, bool) {
	for _, a := range n.Attrs {
		if a.Name == name {
			return a.Value, true
		}
	}
	return "", false
}

// Pos returns "file:line" of the element's start tag.
func (n *Node) Pos() string { return n.File + ":" + strconv.Itoa(n.Line) }

// Child returns the first child element with that name, or nil.
func (n *Node) Child(name string) *Node {
	for _, c := range n.Children {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// SyntaxError is a document that Wazuh's reader would reject, or a variable
// that it could not resolve. Line is where the problem was found; for an
// element or comment left open at the end of the file it is the line where
// that element or comment starts.
type SyntaxError struct {
	File string
	Line int
	Msg  string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
}

// Options changes how Parse reads a document. The zero value is what Parse
// uses.
type Options struct {
	// WazuhLimits enforces the size limits of Wazuh's reader, which rejects a
	// document holding a tag name, a text run or an attribute of 2048 bytes or
	// more. Without it such documents are read whole.
	WazuhLimits bool
	// Placeholders reads a start tag made only of capital letters, digits and
	// underscores, without attributes (like "<PRIMARY_DOMAIN>"), as text of
	// the enclosing element instead of as a child element. Guides write such
	// placeholders for values to fill in; Wazuh reports them as unclosed
	// elements, and a configuration reader can instead name the setting that
	// still holds one. Rule and decoder files must not use this.
	Placeholders bool
}

// maxSize is XML_MAXSIZE of Wazuh's reader.
const maxSize = 2048

// maxDepth is the nesting limit of Wazuh's reader.
const maxDepth = 1024

// Parse reads all top-level elements of data. file names the document in
// positions and errors. Errors are *SyntaxError.
func Parse(file string, data []byte) ([]*Node, error) {
	return ParseOptions(file, data, Options{})
}

// ParseOptions is Parse with options.
func ParseOptions(file string, data []byte, opt Options) ([]*Node, error) {
	p := &parser{r: reader{data: data, line: 1}, file: file, opt: opt}
	if err := p.readElem(0, nil); err != nil && err != errEOF {
		return nil, err
	}
	return p.top, nil
}

// ParseFile reads and parses the file at path.
func ParseFile(path string) ([]*Node, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(path, data)
}
