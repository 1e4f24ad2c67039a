package asciifold

import (
	"strings"
	"testing"
)

func TestIndexIgnoresOnlyASCIICase(t *testing.T) {
	cases := []struct {
		s, lit string
		want   int
	}{
		{"Hello World", "world", 6},
		{"HELLO", "hello", 0},
		{"abc", "abcd", -1},
		{"xxAbAbC", "abc", 4},
		{"Ärger", "ä", -1}, // non-ASCII bytes do not fold
		{"a-B@c", "-b@", 1},
	}
	for _, c := range cases {
		if got := Index(c.s, c.lit); got != c.want {
			t.Errorf("Index(%q, %q) = %d, want %d", c.s, c.lit, got, c.want)
		}
	}
}

func FuzzIndexAgreesWithLowerCaseSearch(f *testing.F) {
	f.Add("Hello World", "wor")
	f.Fuzz(func(t *testing.T, s, lit string) {
		lit = LowerString(lit)
		if lit == "" {
			return
		}
		if got, want := Index(s, lit), strings.Index(LowerString(s), lit); got != want {
			t.Fatalf("Index(%q, %q) = %d, want %d", s, lit, got, want)
		}
	})
}
