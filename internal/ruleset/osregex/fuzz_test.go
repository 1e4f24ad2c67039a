package osregex

import (
	"strings"
	"testing"
)

func FuzzCompile(f *testing.F) {
	for _, seed := range []struct{ pattern, subject string }{
		{`^(\S+) \S+ (\d+)$`, "alpha beta 123"},
		{`\w+\s+(\d+)`, "hello world 42"},
		{`a\.*b`, "axxb"},
		{`(\w*)\s*\w+`, "aaba "},
		{`^$|x`, ""},
		{`\p\t\$\(\)\\\|\<`, "!\t$()\\|<"},
		{`()`, "("},
		{"$", "abc\x00"},
	} {
		f.Add(seed.pattern, seed.subject)
	}
	f.Fuzz(func(t *testing.T, pattern, subject string) {
		re, err := Compile(pattern)
		if err != nil {
			return
		}
		n := len(subject)
		if i := strings.IndexByte(subject, 0); i >= 0 {
			n = i
		}
		end, ok := re.MatchEnd(subject)
		if ok != re.Match(subject) {
			t.Fatalf("Match and MatchEnd disagree")
		}
		if ok && (end < 0 || end > n) {
			t.Fatalf("MatchEnd end %d outside [0, %d]", end, n)
		}
		caps, end2, ok2 := re.Execute(subject)
		if ok2 && (end2 < 0 || end2 > n) {
			t.Fatalf("Execute end %d outside [0, %d]", end2, n)
		}
		if len(caps) > re.NumGroups() {
			t.Fatalf("%d captures, more than NumGroups %d", len(caps), re.NumGroups())
		}
		for _, c := range caps {
			if !strings.Contains(subject[:n], c) {
				t.Fatalf("capture %q is not part of the subject", c)
			}
		}
		// Without groups Wazuh runs the same matcher in both modes.
		if re.NumGroups() == 0 && (ok != ok2 || (ok && end != end2)) {
			t.Fatalf("no groups, yet MatchEnd = %d,%v and Execute = %d,%v", end, ok, end2, ok2)
		}
	})
}
