package ruletest

import (
	"fmt"
	"os"
	"strings"
)

// Expect is what a section says its logs should give: the rule id, the
// alert level and the decoder name, as written (runtests.py compares them
// as strings).
type Expect struct {
	Rule    string `json:"rule"`
	Alert   string `json:"alert"`
	Decoder string `json:"decoder"`
}

func (e Expect) String() string {
	return fmt.Sprintf("rule %s, level %s, decoder %s", orNone(e.Rule), orNone(e.Alert), orNone(e.Decoder))
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

// Case is one test run: one "log ..." key of a section.
type Case struct {
	File    string `json:"file"`
	Section string `json:"section"`
	// Key is the option name, lower-cased: "log 1 pass".
	Key string `json:"key"`
	// Line is where the key first appears.
	Line int `json:"line"`
	// Negate is set for keys ending in "fail": the case passes when the
	// last event's rule, level and decoder differ from Want.
	Negate bool `json:"negate"`
	// Input is the text runtests.py writes to wazuh-logtest's standard
	// input: every value of the key joined with newlines.
	Input string `json:"-"`
	Want  Expect `json:"want"`
}

// Events splits the input as wazuh-logtest reads it: one event per line
// (Python's universal newlines: "\n", "\r\n" or "\r"), empty lines skipped.
func (c *Case) Events() []string {
	var out []string
	s := c.Input
	for len(s) > 0 {
		i := strings.IndexAny(s, "\r\n")
		line := s
		if i < 0 {
			s = ""
		} else {
			line = s[:i]
			if s[i] == '\r' && i+1 < len(s) && s[i+1] == '\n' {
				i++
			}
			s = s[i+1:]
		}
		if line != "" {
			out = append(out, line)
		}
	}
	return out
}

// Cases lists the test runs of f in the order runtests.py runs them: for
// each section, its options (as ConfigParser.items lists them) whose key
// starts with "log ". A key ending in "fail" is negated; any other ("pass",
// or neither) is not. A section without rule, alert or decoder stops
// runtests.py (ConfigParser raises NoOptionError); Cases reports each such
// section and returns the cases of the others.
func (f *File) Cases() ([]Case, error) {
	var out []Case
	var errs SyntaxErrors
	for _, s := range f.Sections {
		var want Expect
		var missing []string
		for _, k := range []struct {
			key string
			dst *string
		}{{"rule", &want.Rule}, {"alert", &want.Alert}, {"decoder", &want.Decoder}} {
			o := f.Lookup(s, k.key)
			if o == nil {
				missing = append(missing, k.key)
				continue
			}
			*k.dst = o.Value()
		}
		if len(missing) > 0 {
			errs = append(errs, &SyntaxError{File: f.Name, Line: s.Line,
				Msg: fmt.Sprintf("section [%s] has no %s", s.Name, strings.Join(missing, ", "))})
			continue
		}
		for _, o := range f.Items(s) {
			if !strings.HasPrefix(o.Key, "log ") {
				continue
			}
			out = append(out, Case{
				File: f.Name, Section: s.Name, Key: o.Key, Line: o.Lines[0],
				Negate: strings.HasSuffix(o.Key, "fail"),
				Input:  o.Value(), Want: want,
			})
		}
	}
	if len(errs) > 0 {
		return out, errs
	}
	return out, nil
}

// ReadFile reads and parses the test file at path, and lists its cases.
func ReadFile(path string) ([]Case, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read rule tests: %w", err)
	}
	f, err := Parse(path, data)
	if err != nil {
		return nil, err
	}
	return f.Cases()
}
