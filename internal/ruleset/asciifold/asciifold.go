// Package asciifold searches text ignoring ASCII case, the way Wazuh's
// osmatch and osregex compare literals: only A–Z fold, every other byte
// compares as is.
package asciifold

import "strings"

// Lower folds one ASCII upper-case letter to lower case.
func Lower(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// LowerString folds the ASCII letters of s.
func LowerString(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] >= 'A' && s[i] <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				b[j] = Lower(b[j])
			}
			return string(b)
		}
	}
	return s
}

// HasPrefix reports whether s starts with prefix, which must already be
// lower case, ignoring ASCII case in s.
func HasPrefix(s, prefix string) bool {
	if len(s) < len(prefix) {
		return false
	}
	for i := 0; i < len(prefix); i++ {
		if Lower(s[i]) != prefix[i] {
			return false
		}
	}
	return true
}

// Index returns the first offset of lit (lower case, not empty) in s,
// ignoring ASCII case in s, or -1. It scans for the literal's rarest byte
// (a byte without case needs one IndexByte, a letter two), remembering the
// next hit of each case so no byte is scanned twice, and checks the whole
// literal around each hit.
func Index(s, lit string) int {
	if len(s) < len(lit) {
		return -1
	}
	k := rarest(lit)
	c := lit[k]
	up := c
	if c >= 'a' && c <= 'z' {
		up = c - ('a' - 'A')
	}
	// A hit at i means a candidate start at i-k.
	window := s[k : len(s)-len(lit)+k+1]
	nextLo, nextUp := -1, -1
	for i := 0; i < len(window); {
		if nextLo < i {
			nextLo = nextIndex(window, i, c)
		}
		if nextUp < i {
			nextUp = nextLo
			if up != c {
				nextUp = nextIndex(window, i, up)
			}
		}
		j := min(nextLo, nextUp)
		if j >= len(window) {
			return -1
		}
		if HasPrefix(s[j:], lit) {
			return j
		}
		i = j + 1
	}
	return -1
}

// rarest picks the byte of lit to scan for: rare punctuation first, then
// digits and uncommon letters; common letters and spaces last.
func rarest(lit string) int {
	best, bestRank := 0, 1<<30
	for i := 0; i < len(lit); i++ {
		if r := byteRank[lit[i]]; r < bestRank {
			best, bestRank = i, r
		}
	}
	return best
}

// byteRank orders bytes by how often they appear in logs (lower is
// rarer). Letters count double: they need two scans, one per case.
var byteRank = func() [256]int {
	var t [256]int
	for i := range t {
		t[i] = 1 // unusual bytes: the best
	}
	for _, c := range "=:/._-,\"" {
		t[c] = 20
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = 30
	}
	t[' '] = 100
	common := "etaoinsrhldcumfpgwybvkxjqz" // most frequent first
	for i, c := range common {
		t[c] = 80 - i*2
	}
	return t
}()

// nextIndex returns the offset of the first c in s at or after from, or
// len(s) when there is none.
func nextIndex(s string, from int, c byte) int {
	if j := strings.IndexByte(s[from:], c); j >= 0 {
		return from + j
	}
	return len(s)
}
