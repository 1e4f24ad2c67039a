package xmlw

import (
	"errors"
	"fmt"
)

// The scanner below is a state machine with the same states and the same
// order of tests as Wazuh's _ReadElem and _getattributes, so that it accepts
// and rejects the same documents and yields the same text. It reads bytes one
// at a time through a two-byte push-back stash, like Wazuh's reader, because
// a few of Wazuh's answers depend on what was pushed back (see comment).

const eof = -1

// errEOF is the end of the document reached between top-level elements:
// not an error.
var errEOF = errors.New("end of document")

type reader struct {
	data  []byte
	pos   int
	stash [2]int
	n     int
	line  int
}

func (r *reader) get() int {
	var c int
	switch {
	case r.n > 0:
		r.n--
		c = r.stash[r.n]
	case r.pos < len(r.data):
		c = int(r.data[r.pos])
		r.pos++
	default:
		return eof
	}
	if c == '\n' {
		r.line++
	}
	return c
}

// unget pushes c back. Like Wazuh's, it silently drops c when the stash is
// full; the scanner never fills it, but the behaviour is kept for fidelity.
func (r *reader) unget(c int) {
	if r.n >= len(r.stash) {
		return
	}
	r.stash[r.n] = c
	r.n++
	if c == '\n' {
		r.line--
	}
}

// comment is called after a "<". It consumes a comment ("<!" up to the first
// "!>" or "-->") and returns 1, returns 0 when no comment starts here, or -1
// when the comment is not closed. Wazuh pushes back the byte after "--" twice
// when it is not ">", which makes "--->" close a comment; so does this.
func (r *reader) comment() int {
	c := r.get()
	if c != '!' {
		r.unget(c)
		return 0
	}
	for {
		c = r.get()
		switch c {
		case eof:
			return -1
		case '!':
			c = r.get()
			if c == '>' {
				return 1
			}
			r.unget(c)
		case '-':
			c = r.get()
			if c == '-' {
				c = r.get()
				if c == '>' {
					return 1
				}
				r.unget(c)
			}
			r.unget(c)
		}
	}
}

func isSpace(c int) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
}

type parser struct {
	r       reader
	file    string
	opt     Options
	top     []*Node
	scratch []*scratch
	names   map[string]string
}

// scratch holds the buffers of one nesting level, reused from one element
// to the next.
type scratch struct{ name, text, closing []byte }

func (p *parser) scratchAt(depth int) *scratch {
	for len(p.scratch) <= depth {
		p.scratch = append(p.scratch, &scratch{})
	}
	return p.scratch[depth]
}

// intern returns name as a string, sharing one copy per distinct name.
func (p *parser) intern(b []byte) string {
	if s, ok := p.names[string(b)]; ok {
		return s
	}
	s := string(b)
	if p.names == nil {
		p.names = make(map[string]string)
	}
	p.names[s] = s
	return s
}

func (p *parser) errorf(line int, format string, args ...any) error {
	return &SyntaxError{File: p.file, Line: line, Msg: fmt.Sprintf(format, args...)}
}

// readElem mirrors Wazuh's _ReadElem. At depth 0 it reads every top-level
// element until the end of the document and returns errEOF; deeper, it reads
// exactly one element, whose "<" the caller has pushed back, and appends it
// to parent's children as soon as its start tag is complete (at depth 0, to
// the top-level list).
func (p *parser) readElem(depth int, parent *Node) error {
	if depth >= maxDepth {
		return p.errorf(p.r.line, "elements nested more than %d levels deep", maxDepth)
	}
	r := &p.r
	location := -1 // -1 between elements, 0 tag name, 1 text, 2 closing tag
	escaped := false
	s := p.scratchAt(depth)
	name, text, closing := s.name[:0], s.text[:0], s.closing[:0]
	defer func() { s.name, s.text, s.closing = name, text, closing }()
	var cur *Node
	startLine := 0
	for {
		// Fast path over plain text and the space between elements: bytes
		// other than "<" and "\\" only accumulate (or are skipped).
		if r.n == 0 && !escaped && (location == 1 || location == -1) && !p.opt.WazuhLimits {
			rest := r.data[r.pos:]
			k := 0
			for k < len(rest) && rest[k] != '<' && rest[k] != '\\' {
				if rest[k] == '\n' {
					r.line++
				}
				k++
			}
			if location == 1 {
				text = append(text, rest[:k]...)
			}
			r.pos += k
		}
		c := r.get()
		if c == eof {
			break
		}
		if c == '\\' {
			escaped = !escaped
		} else if c != '<' && escaped {
			escaped = false
		}

		if p.opt.WazuhLimits {
			n := 0
			switch location {
			case 0:
				n = len(name)
			case 1:
				n = len(text)
			case 2:
				n = len(closing)
			}
			if n >= maxSize {
				return p.errorf(r.line, "string longer than Wazuh's limit of %d bytes", maxSize-1)
			}
		}

		if c == '<' {
			line := r.line
			switch r.comment() {
			case -1:
				return p.errorf(line, "comment not closed")
			case 1:
				continue
			}
		}

		switch {
		case location == -1 && !escaped:
			if c != '<' {
				continue
			}
			startLine = r.line
			c2 := r.get()
			if c2 == '/' {
				return p.errorf(r.line, "closing tag </%s> without an opening tag", p.peekName())
			}
			if c2 == '?' && depth == 0 {
				if !p.skipPI() {
					return p.errorf(startLine, "processing instruction \"<?\" not closed by \"?>\"")
				}
				continue
			}
			r.unget(c2)
			location = 0

		case location == 0 && (c == '>' || isSpace(c)):
			selfClosed := false
			if len(name) > 0 && name[len(name)-1] == '/' {
				selfClosed = true
				name = name[:len(name)-1]
			}
			cur = &Node{Name: p.intern(name), File: p.file, Line: startLine}
			if parent == nil {
				p.top = append(p.top, cur)
			} else {
				parent.Children = append(parent.Children, cur)
			}
			if isSpace(c) {
				slash, err := p.attributes(cur)
				if err != nil {
					return err
				}
				selfClosed = selfClosed || slash
			}
			if selfClosed {
				location = -1
				name, text, closing = name[:0], text[:0], closing[:0]
				if depth > 0 {
					return nil
				}
			} else {
				location = 1
			}

		case location == 2 && c == '>':
			if string(closing) != string(name) {
				return p.errorf(r.line, "element <%s> (line %d) not closed: found </%s>", name, cur.Line, closing)
			}
			cur.Text = string(text)
			location = -1
			name, text, closing = name[:0], text[:0], closing[:0]
			if depth > 0 {
				return nil
			}

		case location == 1 && c == '<' && !escaped:
			c2 := r.get()
			if c2 == '/' {
				location = 2
				break
			}
			if p.opt.Placeholders {
				if ph, ok := p.placeholder(c2); ok {
					text = append(text, ph...)
					break
				}
			}
			r.unget(c2)
			r.unget('<')
			err := p.readElem(depth+1, cur)
			if err == errEOF {
				// Cannot happen: a child starts with the "<" pushed back.
				return p.errorf(r.line, "element <%s> (line %d) not closed at end of file", cur.Name, cur.Line)
			}
			if err != nil {
				return err
			}
			text = text[:0]

		default:
			switch location {
			case 0:
				name = append(name, byte(c))
			case 1:
				text = append(text, byte(c))
			case 2:
				closing = append(closing, byte(c))
			}
			if c == '<' {
				escaped = false
			}
		}
	}
	switch location {
	case -1:
		return errEOF
	case 0:
		return p.errorf(startLine, "tag <%s not finished at end of file", name)
	default:
		return p.errorf(cur.Line, "element <%s> not closed at end of file", cur.Name)
	}
}

// attributes mirrors Wazuh's _getattributes, reading attributes after the
// whitespace that ended a tag name. It reports whether the tag ended with
// "/", in which case the ">" after it is left unread, as in Wazuh.
func (p *parser) attributes(n *Node) (slash bool, err error) {
	r := &p.r
	var name, value []byte
	inValue := false
	quote := 0
	for {
		c := r.get()
		if c == eof {
			return false, p.errorf(r.line, "end of file while reading an attribute of <%s>", n.Name)
		}
		if p.opt.WazuhLimits && ((!inValue && len(name) >= maxSize) || (inValue && len(value) >= maxSize)) {
			return false, p.errorf(r.line, "attribute of <%s> longer than Wazuh's limit of %d bytes", n.Name, maxSize-1)
		}
		switch {
		case c == '>' || (!inValue && c == '/'):
			if inValue {
				return false, p.errorf(r.line, "attribute %q of <%s> not closed (a value may not contain \">\")", name, n.Name)
			}
			if len(name) > 0 {
				return false, p.errorf(r.line, "attribute %q of <%s> has no value", name, n.Name)
			}
			return c == '/', nil

		case !inValue && c == '=':
			for _, a := range n.Attrs {
				if a.Name == string(name) {
					return false, p.errorf(r.line, "attribute %q of <%s> already defined", name, n.Name)
				}
			}
			c = r.get()
			if c != '"' && c != '\'' {
				ok := false
				if isSpace(c) {
					for {
						c = r.get()
						if c == eof {
							break
						}
						if isSpace(c) {
							continue
						}
						ok = c == '"' || c == '\''
						break
					}
				}
				if !ok {
					return false, p.errorf(r.line, "attribute %q of <%s> not followed by a \" or '", name, n.Name)
				}
			}
			quote = c
			inValue = true

		case !inValue && isSpace(c):
			if len(name) > 0 {
				return false, p.errorf(r.line, "attribute %q of <%s> has no value", name, n.Name)
			}

		case inValue && c == quote:
			n.Attrs = append(n.Attrs, Attr{Name: p.intern(name), Value: string(value)})
			c = r.get()
			switch {
			case isSpace(c):
				// Another attribute may follow (Wazuh recurses here).
				name, value, inValue, quote = name[:0], value[:0], false, 0
			case c == '>':
				return false, nil
			case c == '/':
				return true, nil
			default:
				return false, p.errorf(r.line, "bad attribute closing for %s=%q of <%s>", name, value, n.Name)
			}

		case !inValue:
			name = append(name, byte(c))

		default:
			value = append(value, byte(c))
		}
	}
}

// peekName returns the name of a closing tag for an error message without
// consuming anything.
func (p *parser) peekName() string {
	d := p.r.data[p.r.pos:]
	for i, b := range d {
		if b == '>' || isSpace(int(b)) || i == 64 {
			return string(d[:i])
		}
	}
	return string(d)
}

// skipPI consumes a processing instruction up to "?>", after "<?".
func (p *parser) skipPI() bool {
	r := &p.r
	prev := 0
	for {
		c := r.get()
		if c == eof {
			return false
		}
		if c == '>' && prev == '?' {
			return true
		}
		prev = c
	}
}

// placeholder recognises "<NAME>" where NAME is made of capital letters,
// digits and underscores and starts with a letter; c is the byte after "<".
// It consumes the rest of the tag and returns it whole.
func (p *parser) placeholder(c int) (string, bool) {
	r := &p.r
	if r.n != 0 || c < 'A' || c > 'Z' {
		return "", false
	}
	d := r.data[r.pos:]
	for i, b := range d {
		switch {
		case b >= 'A' && b <= 'Z', b >= '0' && b <= '9', b == '_':
			continue
		case b == '>':
			r.pos += i + 1
			return "<" + string(rune(c)) + string(d[:i]) + ">", true
		}
		return "", false
	}
	return "", false
}
