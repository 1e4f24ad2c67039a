package osmatch

import (
	"strings"
	"testing"
)

func TestMatchReproducesWazuh(t *testing.T) {
	tests := []struct {
		name    string
		pattern string
		subject string
		want    bool
	}{
		{"a literal matches anywhere", "password", "Failed password for root", true},
		{"matching ignores ASCII case", "FAILED", "failed login", true},
		{"case folding is ASCII only", "É", "é", false},
		{"a missing literal does not match", "accepted", "Failed password", false},
		{"^ matches a prefix", "^Failed", "Failed password", true},
		{"^ fails elsewhere", "^password", "Failed password", false},
		{"$ matches a suffix", "ssh2$", "port 22 ssh2", true},
		{"$ fails elsewhere", "port$", "port 22 ssh2", false},
		{"^...$ demands equality", "^sshd$", "SSHD", true},
		{"^...$ fails on a longer subject", "^sshd$", "sshd2", false},
		{"alternatives match if any does", "foo|bar|baz", "xbarx", true},
		{"no alternative matching means no match", "foo|bar", "baz", false},
		{"each alternative has its own anchors", "^foo|bar$", "xbar", true},
		{"the empty pattern matches anything", "", "abc", true},
		{"an empty alternative matches anything", "foo|", "abc", true},
		{"a doubled bar makes an empty alternative", "foo||bar", "abc", true},
		{"a bare ^ matches anything", "^", "abc", true},
		{"a bare $ matches anything", "$", "abc", true},
		{"^$ matches the empty subject", "^$", "", true},
		{"^$ does not match a non-empty subject", "^$", "a", false},
		{"there are no escapes", `\d`, "1", false},
		{"a backslash is literal", `a\d`, `xa\dx`, true},
		{"regex metacharacters are literal", "a.*b", "a.*b", true},
		{"! negates the whole pattern", "!foo|bar", "bar", false},
		{"! negates a non-match into a match", "!foo|bar", "baz", true},
		{"! only counts as the first byte", "a!b", "a!b", true},
		{"! of the empty pattern never matches", "!", "anything", false},
		{"the subject ends at its first NUL byte", "c$", "ab\x00c", false},
		{"a pattern longer than the subject does not match", "abcdef", "abc", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Compile(tt.pattern)
			if err != nil {
				t.Fatal(err)
			}
			if got := m.Match(tt.subject); got != tt.want {
				t.Errorf("Compile(%q).Match(%q) = %v, want %v", tt.pattern, tt.subject, got, tt.want)
			}
		})
	}
}

func TestCompileRejectsOnlyOversizedPatterns(t *testing.T) {
	if _, err := Compile(strings.Repeat("a", MaxPatternSize)); err != nil {
		t.Errorf("a %d-byte pattern: %v", MaxPatternSize, err)
	}
	if _, err := Compile(strings.Repeat("a", MaxPatternSize+1)); err == nil {
		t.Errorf("a %d-byte pattern compiled", MaxPatternSize+1)
	}
	m, _ := Compile("!Foo")
	if m.String() != "!Foo" {
		t.Errorf("String() = %q, want the pattern as written", m.String())
	}
}

func BenchmarkMatch(b *testing.B) {
	line := "Oct 15 21:07:00 linux-server sshd[29205]: Invalid user blabla from 192.168.2.24 port 51234"
	for _, bc := range []struct{ name, pattern string }{
		{"contains", "Invalid user"},
		{"alternatives", "authentication failure|Failed password|Invalid user"},
		{"miss", "Accepted publickey"},
		{"prefix", "^Oct"},
	} {
		m, err := Compile(bc.pattern)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				m.Match(line)
			}
		})
	}
}
