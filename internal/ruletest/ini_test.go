package ruletest

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

// section is a parsed section flattened for comparison: its name and its
// items as "key=value" with values joined by "|".
type flatSection struct {
	name  string
	items []string
}

func flatten(f *File) []flatSection {
	var out []flatSection
	for _, s := range f.Sections {
		fs := flatSection{name: s.Name}
		for _, o := range f.Items(s) {
			fs.items = append(fs.items, o.Key+"="+strings.Join(o.Values, "|"))
		}
		out = append(out, fs)
	}
	return out
}

func TestParseReadsWhatConfigParserReads(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
		want []flatSection
	}{
		{
			name: "keys are split at the first = or : and lower-cased",
			in:   "[s]\nLog 1 PASS = a=b: c\nrule: 5\nx :y=z\n",
			want: []flatSection{{"s", []string{"log 1 pass=a=b: c", "rule=5", "x=y=z"}}},
		},
		{
			name: "comments start with ; or # or the word rem in the first column",
			in:   "; one\n# two\nrem three\nREM\tfour\n[s]\n;k = v\nremark = kept\nrem = dropped\n",
			want: []flatSection{{"s", []string{"remark=kept"}}},
		},
		{
			name: "white space around keys and values is dropped",
			in:   "[s]\n  \nk \t=  v w \t\r\n",
			want: []flatSection{{"s", []string{"k=v w"}}},
		},
		{
			name: "a repeated key gathers its values in file order",
			in:   "[s]\nlog 1 pass = a\nrule = 1\nLOG 1 pass = b\nlog 1 pass=c\n",
			want: []flatSection{{"s", []string{"log 1 pass=a|b|c", "rule=1"}}},
		},
		{
			name: "lines starting with white space continue the last key, blank ones add nothing",
			in:   "[s]\nk = a\n  b\n\t\n\tc = d\nz = 1\n",
			want: []flatSection{{"s", []string{"k=a|b|c = d", "z=1"}}},
		},
		{
			name: "a semicolon after white space starts a comment, only the first one counts",
			in:   "[s]\na = x ; note\nb = x;y ; z\nc = ;x \nd = ;x\n",
			want: []flatSection{{"s", []string{"a=x", "b=x;y ; z", "c=", "d=;x"}}},
		},
		{
			name: "two double quotes are the empty string",
			in:   "[s]\na = \"\"\nb = \"x\"\nc =\n",
			want: []flatSection{{"s", []string{"a=", "b=\"x\"", "c="}}},
		},
		{
			name: "a repeated section continues the first one",
			in:   "[s]\nlog 1 pass = a\n[t]\nk = v\n[s]\nlog 1 pass = b\nrule = 2\n",
			want: []flatSection{
				{"s", []string{"log 1 pass=a|b", "rule=2"}},
				{"t", []string{"k=v"}},
			},
		},
		{
			name: "section names run to the first ] and keep their case and spaces",
			in:   "[ A b ] trailing text\nk = v\n[x]]\n",
			want: []flatSection{{" A b ", []string{"k=v"}}, {"x", nil}},
		},
		{
			name: "DEFAULT options come first in every section, overridden by the section's own",
			in:   "[DEFAULT]\ndecoder = d\nalert = 0\n[s]\nrule = 1\nalert = 3\n",
			want: []flatSection{{"s", []string{"decoder=d", "alert=3", "rule=1"}}},
		},
		{
			name: "carriage returns end nothing but are stripped as white space",
			in:   "[s]\r\nk = a\rb\r\n",
			want: []flatSection{{"s", []string{"k=a\rb"}}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := Parse("t.ini", []byte(tc.in))
			if err != nil {
				t.Fatal(err)
			}
			if got := flatten(f); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got  %q\nwant %q", got, tc.want)
			}
		})
	}
}

func TestParseReportsEveryBadLine(t *testing.T) {
	for _, tc := range []struct {
		name  string
		in    string
		lines []int
	}{
		{"a line without = or :", "[s]\nk = v\njust words\n[t]\n= v\n", []int{3, 5}},
		{"an indented line right after a header", "[s]\n  indented\n", []int{2}},
		{"text before any section stops reading", "\n; c\nk = v\n[s]\nbad\n", []int{3}},
		{"an empty section header", "[s]\n[]\n", []int{2}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("bad.ini", []byte(tc.in))
			var es SyntaxErrors
			if !errors.As(err, &es) {
				t.Fatalf("got %v, want SyntaxErrors", err)
			}
			var lines []int
			for _, e := range es {
				lines = append(lines, e.Line)
				if !strings.HasPrefix(e.Error(), "bad.ini:") {
					t.Errorf("error %q does not start with the file name", e)
				}
			}
			if !reflect.DeepEqual(lines, tc.lines) {
				t.Errorf("error lines %v, want %v (%v)", lines, tc.lines, err)
			}
		})
	}
}

func TestCasesAreTheLogKeysOfEachSection(t *testing.T) {
	in := `[a]
log 1 pass = one
LOG 2 FAIL = two
log 3 = three
logx = not a test
rule = 1
alert = 2
decoder = d
log 1 pass = one again

[b]
log 1 pass = x
rule = 9
alert = 0
decoder = e:f
`
	f, err := Parse("c.ini", []byte(in))
	if err != nil {
		t.Fatal(err)
	}
	cases, err := f.Cases()
	if err != nil {
		t.Fatal(err)
	}
	type c struct {
		section, key string
		line         int
		negate       bool
		input        string
		want         Expect
	}
	var got []c
	for _, x := range cases {
		got = append(got, c{x.Section, x.Key, x.Line, x.Negate, x.Input, x.Want})
	}
	want := []c{
		{"a", "log 1 pass", 2, false, "one\none again", Expect{"1", "2", "d"}},
		{"a", "log 2 fail", 3, true, "two", Expect{"1", "2", "d"}},
		{"a", "log 3", 4, false, "three", Expect{"1", "2", "d"}},
		{"b", "log 1 pass", 12, false, "x", Expect{"9", "0", "e:f"}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
}

func TestCasesReportSectionsWithoutExpectations(t *testing.T) {
	f, err := Parse("m.ini", []byte("[ok]\nlog 1 pass = x\nrule = 1\nalert = 1\ndecoder = d\n\n[no rule]\nlog 1 pass = y\nalert = 1\n"))
	if err != nil {
		t.Fatal(err)
	}
	cases, err := f.Cases()
	if len(cases) != 1 || cases[0].Section != "ok" {
		t.Errorf("cases %+v, want only the one of [ok]", cases)
	}
	if err == nil || !strings.Contains(err.Error(), "m.ini:7: section [no rule] has no rule, decoder") {
		t.Errorf("error %v, want one naming m.ini:7 and the missing keys", err)
	}
}

func TestEventsSplitAsLogtestReadsStandardInput(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{"", nil},
		{"one", []string{"one"}},
		{"\none\n\ntwo", []string{"one", "two"}},
		{"a\r\nb\rc\n", []string{"a", "b", "c"}},
	} {
		c := Case{Input: tc.in}
		if got := c.Events(); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Events(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
