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
// ignoring ASCII case in s, or -1. Candidates for the first byte are found
// with IndexByte in each case, remembering the next hit of each so no byte
// is scanned twice.
func Index(s, lit string) int {
	first := lit[0]
	up := first
	if first >= 'a' && first <= 'z' {
		up = first - ('a' - 'A')
	}
	last := len(s) - len(lit) // the last possible start
	if last < 0 {
		return -1
	}
	window := s[:last+1]
	nextLo, nextUp := -1, -1 // next candidate offsets; -1: not looked up yet
	for i := 0; i <= last; {
		if nextLo < i {
			nextLo = nextIndex(window, i, first)
		}
		if nextUp < i {
			nextUp = nextLo
			if up != first {
				nextUp = nextIndex(window, i, up)
			}
		}
		j := min(nextLo, nextUp)
		if j > last {
			return -1
		}
		if HasPrefix(s[j+1:], lit[1:]) {
			return j
		}
		i = j + 1
	}
	return -1
}

// nextIndex returns the offset of the first c in s at or after from, or
// len(s) when there is none.
func nextIndex(s string, from int, c byte) int {
	if j := strings.IndexByte(s[from:], c); j >= 0 {
		return from + j
	}
	return len(s)
}
