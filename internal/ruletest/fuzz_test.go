package ruletest

import (
	"bytes"
	"errors"
	"testing"
)

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"",
		"[s]\nlog 1 pass = Jan  1 host p[1]: x = y\nrule = 1\nalert = 0\ndecoder = d\n",
		"[s]\nk = a\n  continued\n\n[s]\nk = b\n",
		"; c\n# c\nrem c\n[DEFAULT]\nrule = 1\n[t]\nlog 2 fail: v ; note\n",
		"k = before header\n",
		"[s]\n= no key\n[]\n  \t\r\nx = \"\"\n",
		"[a]b]\r\nLOG 1 PASS=;x \r\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		lines := bytes.Count(data, []byte("\n")) + 1
		file, err := Parse("fuzz.ini", data)
		if err != nil {
			var es SyntaxErrors
			if !errors.As(err, &es) || len(es) == 0 {
				t.Fatalf("error of type %T: %v", err, err)
			}
			for _, e := range es {
				if e.Line < 1 || e.Line > lines {
					t.Fatalf("error line %d outside 1..%d: %v", e.Line, lines, e)
				}
			}
			return
		}
		for _, s := range append([]*Section{file.Defaults}, file.Sections...) {
			if s == nil {
				continue
			}
			if s.Line < 1 || s.Line > lines {
				t.Fatalf("section %q at line %d outside 1..%d", s.Name, s.Line, lines)
			}
			for _, o := range s.Options {
				if o.Key == "" || len(o.Lines) == 0 || len(o.Values) < len(o.Lines) {
					t.Fatalf("option %+v is malformed", o)
				}
				if s.Get(o.Key) != o {
					t.Fatalf("option %q is not found by its key", o.Key)
				}
			}
		}
		cases, _ := file.Cases()
		for _, c := range cases {
			if c.Line < 1 || c.Line > lines {
				t.Fatalf("case %q at line %d outside 1..%d", c.Key, c.Line, lines)
			}
			for _, ev := range c.Events() {
				if ev == "" {
					t.Fatalf("empty event in %q", c.Input)
				}
			}
		}
	})
}
