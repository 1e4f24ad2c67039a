// Package ruletest reads Wazuh's .ini rule-test files and judges them as
// Wazuh's own runner (ruleset/testing/runtests.py driving wazuh-logtest -U)
// does: each "log N pass|fail" key of a section is one test run, whose lines
// are the events of one fresh logtest session; the rule id, level and
// decoder name of the session's last event are compared with the section's
// rule, alert and decoder.
package ruletest

import (
	"fmt"
	"strings"
)

// DefaultSection is the section whose options every other section
// inherits, as in Python's ConfigParser.
const DefaultSection = "DEFAULT"

// File is a rule-test file as runtests.py reads it: Python 2's
// ConfigParser.RawConfigParser with a dictionary that gathers the values of
// a key repeated within a section (runtests.py's MultiOrderedDict).
type File struct {
	Name string
	// Defaults holds the [DEFAULT] section's options; nil when absent.
	Defaults *Section
	// Sections in order of first appearance. A section header repeated
	// later in the file continues the first one.
	Sections []*Section
}

// Section is one [name] of a file.
type Section struct {
	Name string
	// Line is the line of the section's first header.
	Line    int
	Options []*Option
	index   map[string]*Option
}

// Option is one key of a section with every value given to it. A key
// repeated in its section (several "log 1 pass" lines) keeps one entry
// whose Values gather all occurrences in file order; continuation lines
// (lines starting with white space) add values too.
type Option struct {
	// Key is the name before the first ':' or '=', lower-cased (ASCII) and
	// with trailing white space removed, as ConfigParser's optionxform.
	Key    string
	Values []string
	// Lines are the lines where the key appears, one per occurrence.
	Lines []int
}

// Value is the option's value as ConfigParser returns it: the values
// joined with newlines.
func (o *Option) Value() string { return strings.Join(o.Values, "\n") }

// Get returns the option named key (lower-cased as keys are), or nil.
func (s *Section) Get(key string) *Option {
	if s == nil {
		return nil
	}
	return s.index[asciiLower(key)]
}

func (s *Section) set(key, value string, line int) *Option {
	if o := s.index[key]; o != nil {
		o.Values = append(o.Values, value)
		o.Lines = append(o.Lines, line)
		return o
	}
	o := &Option{Key: key, Values: []string{value}, Lines: []int{line}}
	s.Options = append(s.Options, o)
	s.index[key] = o
	return o
}

// Section returns the section called name (exact, case-sensitive), or nil.
func (f *File) Section(name string) *Section {
	for _, s := range f.Sections {
		if s.Name == name {
			return s
		}
	}
	return nil
}

// Lookup finds key in section s, then in [DEFAULT], as ConfigParser.get.
func (f *File) Lookup(s *Section, key string) *Option {
	if o := s.Get(key); o != nil {
		return o
	}
	return f.Defaults.Get(key)
}

// Items returns the options of s as ConfigParser.items lists them: the
// [DEFAULT] options first (with s's value when s sets the key too), then
// the keys only s sets, each in order of first appearance.
func (f *File) Items(s *Section) []*Option {
	if f.Defaults == nil {
		return s.Options
	}
	out := make([]*Option, 0, len(f.Defaults.Options)+len(s.Options))
	for _, d := range f.Defaults.Options {
		if o := s.Get(d.Key); o != nil {
			out = append(out, o)
		} else {
			out = append(out, d)
		}
	}
	for _, o := range s.Options {
		if f.Defaults.Get(o.Key) == nil {
			out = append(out, o)
		}
	}
	return out
}

// SyntaxError is a line of a test file that ConfigParser rejects.
type SyntaxError struct {
	File string
	Line int
	Msg  string
}

func (e *SyntaxError) Error() string { return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg) }

// SyntaxErrors are all the rejected lines of a file.
type SyntaxErrors []*SyntaxError

func (es SyntaxErrors) Error() string {
	var b strings.Builder
	for i, e := range es {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(e.Error())
	}
	return b.String()
}

// asciiSpace is Python 2's string.whitespace: what str.strip, str.isspace
// and the \s of its regular expressions mean for byte strings.
const asciiSpace = " \t\n\r\v\f"

func isSpace(c byte) bool { return strings.IndexByte(asciiSpace, c) >= 0 }

func trimSpace(s string) string { return strings.Trim(s, asciiSpace) }

func asciiLower(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; 'A' <= c && c <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if 'A' <= b[j] && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

// Parse reads a test file exactly as Python 2.7's RawConfigParser._read
// reads it with runtests.py's MultiOrderedDict:
//
//   - Lines are split on "\n" only. A line that is blank, or starts with
//     '#' or ';', or whose first word is "rem" (any case) starting in the
//     first column, is a comment.
//   - A line starting with white space continues the previous option: its
//     stripped text, when not empty, is one more value.
//   - "[name]" at the start of a line opens a section; name runs to the
//     first ']' and anything after it is ignored. A repeated name
//     continues the earlier section; [DEFAULT] is inherited by all.
//   - Otherwise the line is "key = value" or "key: value", split at the
//     first '=' or ':'. The key is lower-cased and may hold spaces. In the
//     value, the first ';' starts a comment when white space precedes it.
//     The value is stripped; `""` means the empty string.
//   - Keys repeated in a section gather their values (MultiOrderedDict):
//     "log 1 pass" given three times is one key with three lines.
//
// Every line ConfigParser would reject is reported, each with its line, as
// SyntaxErrors; a line before any section header stops reading, as it
// does in Python.
func Parse(name string, data []byte) (*File, error) {
	f := &File{Name: name}
	byName := make(map[string]*Section)
	var cur *Section
	var opt *Option // option that continuation lines extend
	var errs SyntaxErrors
	text := string(data)
	for lineNo := 1; len(text) > 0; lineNo++ {
		line := text
		if i := strings.IndexByte(text, '\n'); i >= 0 {
			line, text = text[:i], text[i+1:]
		} else {
			text = ""
		}
		if trimSpace(line) == "" || line[0] == '#' || line[0] == ';' {
			continue
		}
		if (line[0] == 'r' || line[0] == 'R') && asciiLower(firstWord(line)) == "rem" {
			continue
		}
		if isSpace(line[0]) && cur != nil && opt != nil {
			if v := trimSpace(line); v != "" {
				opt.Values = append(opt.Values, v)
			}
			continue
		}
		if header, ok := sectionHeader(line); ok {
			switch {
			case byName[header] != nil:
				cur = byName[header]
			case header == DefaultSection:
				if f.Defaults == nil {
					f.Defaults = &Section{Name: header, Line: lineNo, index: make(map[string]*Option)}
				}
				cur = f.Defaults
			default:
				cur = &Section{Name: header, Line: lineNo, index: make(map[string]*Option)}
				byName[header] = cur
				f.Sections = append(f.Sections, cur)
			}
			opt = nil
			continue
		}
		if cur == nil {
			errs = append(errs, &SyntaxError{File: name, Line: lineNo, Msg: "text before the first [section] header"})
			return nil, errs
		}
		key, value, ok := splitOption(line)
		if !ok {
			errs = append(errs, &SyntaxError{File: name, Line: lineNo,
				Msg: fmt.Sprintf("not a [section], key = value line or comment: %s", quoteShort(line))})
			continue
		}
		opt = cur.set(key, value, lineNo)
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return f, nil
}

// firstWord is Python's line.split(None, 1)[0] for a line that is not blank.
func firstWord(line string) string {
	s := strings.TrimLeft(line, asciiSpace)
	if i := strings.IndexAny(s, asciiSpace); i >= 0 {
		return s[:i]
	}
	return s
}

// sectionHeader matches ConfigParser's SECTCRE, `\[([^]]+)\]`, at the
// start of the line.
func sectionHeader(line string) (string, bool) {
	if len(line) < 3 || line[0] != '[' {
		return "", false
	}
	end := strings.IndexByte(line[1:], ']')
	if end <= 0 {
		return "", false
	}
	return line[1 : 1+end], true
}

// splitOption matches ConfigParser's OPTCRE,
// `([^:=\s][^:=]*)\s*([:=])\s*(.*)$`, and cleans the value as _read does.
func splitOption(line string) (key, value string, ok bool) {
	sep := strings.IndexAny(line, ":=")
	if sep <= 0 || isSpace(line[0]) {
		return "", "", false
	}
	key = asciiLower(strings.TrimRight(line[:sep], asciiSpace))
	value = strings.TrimLeft(line[sep+1:], asciiSpace)
	// An inline comment starts at the first ';' only, and only when white
	// space precedes it. Python reads optval[pos-1]; at pos 0 that is the
	// last character of the value.
	if pos := strings.IndexByte(value, ';'); pos >= 0 {
		prev := len(value) - 1
		if pos > 0 {
			prev = pos - 1
		}
		if isSpace(value[prev]) {
			value = value[:pos]
		}
	}
	value = trimSpace(value)
	if value == `""` {
		value = ""
	}
	return key, value, true
}

func quoteShort(s string) string {
	const max = 80
	if len(s) > max {
		return fmt.Sprintf("%q…", s[:max])
	}
	return fmt.Sprintf("%q", s)
}
