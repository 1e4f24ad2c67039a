package osregex

import (
	"bufio"
	"os"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

func TestCompileRejectsWhatWazuhRejects(t *testing.T) {
	tests := []struct {
		name    string
		pattern string
		wantErr string
	}{
		{"an unknown escape is an error", `\x41`, `unknown escape \x`},
		{"a lone trailing backslash is an error", `abc\`, "lone backslash"},
		{"nested groups are an error", `((a))`, "nested group"},
		{"a closing parenthesis without an opening one is an error", `a)`, "unbalanced"},
		{"an unclosed group is an error", `(abc`, "unclosed"},
		{"alternation inside a group is an error", `(a|b)`, "inside a group"},
		{"a pattern over 20480 bytes is an error", strings.Repeat("a", MaxPatternSize+1), "longer than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Compile(tt.pattern)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Compile(%q) error = %v, want one containing %q", tt.pattern, err, tt.wantErr)
			}
		})
	}
}

func TestCompileAcceptsWhatWazuhAccepts(t *testing.T) {
	for _, p := range []string{
		"", "^", "$", "^$", "|", "a||b", "()", `\w\W\d\D\s\S\p\.\t\$\(\)\\\|\<`,
		"a+*?{}[]", strings.Repeat("a", MaxPatternSize), "(a)(b)(c)|(d)",
	} {
		if _, err := Compile(p); err != nil {
			t.Errorf("Compile(%q) = %v, want success", p, err)
		}
	}
}

// Each case was checked against Wazuh's matcher built from its C source.
// end is MatchEnd's offset (-1 when there is no match).
func TestMatchReproducesWazuhQuirks(t *testing.T) {
	tests := []struct {
		name    string
		pattern string
		subject string
		end     int
	}{
		{"a literal matches anywhere, ignoring ASCII case", "ERROR", "an error here", 8},
		{"case folding is ASCII only", "é", "É", -1},
		{"an escape tests the raw byte", `\d\w`, "1A", 2},
		{`\w includes '-' and '@'`, `^\w+$`, "a-b@c", 1},
		{`\w excludes '.'`, `^\w+$`, "a.b", -1},
		{`\s is the space only, not a tab`, `a\sb`, "a\tb", -1},
		{`\t is a tab`, `a\tb`, "a\tb", 3},
		{`\p is Wazuh's punctuation list`, `^\p+$`, `!"#$%&'()*+,-.:;<=>?[]{|}`, 1},
		{`\p excludes '/' and '@'`, `\p`, "/@", -1},
		{`\. matches any byte`, `a\.c`, "a c", 3},
		{`escaped metacharacters are literals`, `\$\(\)\|\<\\`, `$()|<\`, 6},
		{"plus after a literal is a literal", "a+", "aa+", 3},
		{"star after a literal is a literal", "a*", "aaa", -1},
		{"a dot is a literal", "a.c", "abc", -1},
		{"the empty pattern matches and ends after the first byte", "", "abc", 1},
		{"the empty pattern matches the empty subject", "", "", 0},
		{"a bare ^ matches anything", "^", "abc", 1},
		{"a bare $ matches only the empty subject", "$", "abc", -1},
		{"a bare $ matches the empty subject", "$", "", 0},
		{"^...$ demands the whole subject", "^abc$", "abc", 3},
		{"^...$ fails on a longer subject", "^abc$", "abcd", -1},
		{"$ finds a later occurrence at the end", "abc$", "abcabc", 6},
		{"^ only anchors at the start of an alternative", "a^b", "a^b", 3},
		{"$ only anchors at the end of an alternative", "a$b", "a$b", 3},
		{"alternatives are tried left to right", "zzz|b", "abc", 2},
		{"an empty alternative matches anything", "zzz|", "abc", 1},
		{"a plus run ends on the byte after it", `\w+`, "hello world", 6},
		{"a plus run to the end of the subject reports its first byte", `\w+`, "hello", 1},
		{"so does an anchored run to the end", `^\w+$`, "hello", 1},
		{`\.* stops at the first byte the next literal accepts`, `a\.*b`, "axxbyyb", 4},
		{"a leading star that matches nothing lands before the subject", `\d*`, "abc", 0},
		{"a failed repetition resumes after the saved byte", `\w+\s\d+`, "ab cd 12", 7},
		{"an anchored pattern gives up at the first failure", `^\d+a`, "12b 12a", -1},
		{"an unanchored pattern retries one byte further", `\d+a`, "12b 12a", 7},
		{"the subject ends at its first NUL byte", "abc", "ab\x00c", -1},
		{"an empty group pair is taken as a literal parenthesis", "()", "x(", 2},
		{"a group does not change what matches", `(\w+)`, "hello world", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			re, err := Compile(tt.pattern)
			if err != nil {
				t.Fatal(err)
			}
			end, ok := re.MatchEnd(tt.subject)
			if !ok {
				end = -1
			}
			if end != tt.end {
				t.Errorf("MatchEnd(%q, %q) = %d, want %d", tt.pattern, tt.subject, end, tt.end)
			}
			if re.Match(tt.subject) != (tt.end >= 0) {
				t.Errorf("Match(%q, %q) disagrees with MatchEnd", tt.pattern, tt.subject)
			}
		})
	}
}

func TestExecuteCapturesLikeADecoder(t *testing.T) {
	tests := []struct {
		name     string
		pattern  string
		subject  string
		captures []string
		end      int
		ok       bool
	}{
		{"groups capture in order",
			`^(\S+) \S+ (\d+)$`, "alpha beta 123", []string{"alpha", "123"}, 12, true},
		{"an sshd decoder regex captures user and source",
			`^Failed \S+ for (\S+) from (\S+) port \d+`,
			"Failed password for root from 10.0.0.1 port 22 ssh2", []string{"root", "10.0.0.1"}, 47, true},
		{"a group at the end of the subject runs to the end, but end stops at its first byte",
			`from (\S+)$`, "connect from 10.1.1.1", []string{"10.1.1.1"}, 14, true},
		{"captures come from the alternative that matched",
			`a=(\d+)|b=(\w+)`, "b=xyz", []string{"xyz"}, 3, true},
		{"an empty capture is kept",
			`x(\d*)y`, "xy", []string{""}, 2, true},
		{"a pattern without groups captures nothing",
			`\d+`, "abc 42", nil, 5, true},
		{"no match returns no captures",
			`(\d+)x`, "abc", nil, 0, false},
		{"capture mode can match where a rule would not",
			`(\w*)\s*\w+`, "aaba ", []string{"aaba"}, 5, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			re, err := Compile(tt.pattern)
			if err != nil {
				t.Fatal(err)
			}
			caps, end, ok := re.Execute(tt.subject)
			if ok != tt.ok || end != tt.end || !reflect.DeepEqual(caps, tt.captures) {
				t.Errorf("Execute(%q, %q) = %q, %d, %v; want %q, %d, %v",
					tt.pattern, tt.subject, caps, end, ok, tt.captures, tt.end, tt.ok)
			}
		})
	}
}

func TestNumGroupsIsTheLargestAlternative(t *testing.T) {
	re, err := Compile(`(a)|(b)(c)(d)|e`)
	if err != nil {
		t.Fatal(err)
	}
	if got := re.NumGroups(); got != 3 {
		t.Errorf("NumGroups() = %d, want 3", got)
	}
	if got := re.String(); got != `(a)|(b)(c)(d)|e` {
		t.Errorf("String() = %q", got)
	}
}

// testdata/wazuh_reference.txt holds the results of Wazuh's own matcher,
// built from its C source, for random patterns and for the ruleset's
// patterns on the ruleset's test logs.
func TestMatchesWazuhReferenceResults(t *testing.T) {
	f, err := os.Open("testdata/wazuh_reference.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	n := 0
	for line := 1; sc.Scan(); line++ {
		text := sc.Text()
		if text == "" || text[0] == '#' {
			continue
		}
		fields := strings.Split(text, "\t")
		if len(fields) != 3 {
			t.Fatalf("line %d: want 3 tab-separated fields", line)
		}
		pattern, err1 := strconv.Unquote(fields[0])
		subject, err2 := strconv.Unquote(fields[1])
		if err1 != nil || err2 != nil {
			t.Fatalf("line %d: bad quoting", line)
		}
		n++
		if got := describe(pattern, subject); got != fields[2] {
			t.Errorf("line %d: pattern %q on %q: got %s, Wazuh gives %s", line, pattern, subject, got, fields[2])
		}
	}
	if n < 1000 {
		t.Fatalf("only %d reference cases", n)
	}
}

// describe renders results in the reference file's notation.
func describe(pattern, subject string) string {
	re, err := Compile(pattern)
	if err != nil {
		return "error"
	}
	var b strings.Builder
	if end, ok := re.MatchEnd(subject); ok {
		b.WriteString(strconv.Itoa(end))
	} else {
		b.WriteString("-")
	}
	b.WriteString(" | ")
	caps, end, ok := re.Execute(subject)
	if !ok {
		b.WriteString("-")
		return b.String()
	}
	b.WriteString(strconv.Itoa(end))
	for _, c := range caps {
		b.WriteString(" " + strconv.Quote(c))
	}
	return b.String()
}
