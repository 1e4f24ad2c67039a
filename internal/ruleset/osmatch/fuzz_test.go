package osmatch

import "testing"

func FuzzCompile(f *testing.F) {
	for _, seed := range []struct{ pattern, subject string }{
		{"Failed password|^sshd", "sshd[1]: Failed password"},
		{"!^$", ""},
		{"^abc$|$", "x"},
		{"a||b", "zzz"},
	} {
		f.Add(seed.pattern, seed.subject)
	}
	f.Fuzz(func(t *testing.T, pattern, subject string) {
		m, err := Compile(pattern)
		if err != nil {
			if len(pattern) <= MaxPatternSize {
				t.Fatalf("Compile(%q) = %v: only oversized patterns fail", pattern, err)
			}
			return
		}
		got := m.Match(subject)
		// A leading "!" inverts the whole result.
		plain := *m
		plain.negate = false
		if got != (plain.Match(subject) != m.negate) {
			t.Fatalf("negation of %q is not an inversion on %q", pattern, subject)
		}
	})
}
