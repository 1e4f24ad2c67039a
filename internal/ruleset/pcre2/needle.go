package pcre2

import "strings"

// A needle is a literal made ready to search for: it is looked up by its
// rarest byte, with IndexByte, then compared whole. strings.Index would
// jump by the first byte, and a literal such as " for invalid user "
// starts with the commonest byte of a log line.
type needle struct {
	s    string // in lower case when fold
	fold bool   // ASCII letters match either case
	at   int    // offset of the byte to look for
}

func newNeedle(l lit) needle {
	n := needle{s: l.s, fold: l.fold}
	best := 1 << 30
	for i := 0; i < len(l.s); i++ {
		c := l.s[i]
		cost := byteFrequency(c)
		if l.fold && isLowerASCII(c) {
			cost += byteFrequency(c - ('a' - 'A')) // both cases are looked for
		}
		if cost < best {
			best, n.at = cost, i
		}
	}
	return n
}

func isLowerASCII(c byte) bool { return c >= 'a' && c <= 'z' }

// byteFrequency ranks how common a byte is in log lines, roughly: spaces,
// lower-case letters, digits and the usual separators first, upper case
// and rarer punctuation after, control and non-ASCII bytes last.
func byteFrequency(c byte) int {
	switch {
	case c == ' ':
		return 255
	case strings.IndexByte("etaoinsr", c) >= 0:
		return 200
	case strings.IndexByte("hldcumfpgwyb", c) >= 0:
		return 170
	case isLowerASCII(c):
		return 120
	case c >= '0' && c <= '9', strings.IndexByte(":.,/-=_\"", c) >= 0:
		return 180
	case strings.IndexByte("ST", c) >= 0:
		return 100
	case c >= 'A' && c <= 'Z':
		return 90
	case strings.IndexByte("[]()'<>;", c) >= 0:
		return 110
	case c > ' ' && c < 0x7F:
		return 50
	case c == '\t' || c == '\n' || c == '\r':
		return 60
	}
	return 20
}

// in reports whether s contains the needle.
func (n needle) in(s string) bool {
	if len(n.s) > len(s) {
		return false
	}
	if len(n.s) == 0 {
		return true
	}
	c := n.s[n.at]
	if !n.fold || !isLowerASCII(c) {
		for i := n.at; i < len(s); {
			j := strings.IndexByte(s[i:], c)
			if j < 0 {
				return false
			}
			start := i + j - n.at
			if start+len(n.s) > len(s) {
				return false
			}
			if n.equal(s[start : start+len(n.s)]) {
				return true
			}
			i += j + 1
		}
		return false
	}
	// A folded letter: the next occurrence of either case, each found with
	// IndexByte and kept until passed.
	lo, up := c, c-('a'-'A')
	nextLo, nextUp := index(s, lo, n.at), index(s, up, n.at)
	for {
		p := nextLo
		if p < 0 || nextUp >= 0 && nextUp < p {
			p = nextUp
		}
		start := p - n.at
		if p < 0 || start+len(n.s) > len(s) {
			return false
		}
		if equalFoldASCII(s[start:start+len(n.s)], n.s) {
			return true
		}
		if p == nextLo {
			nextLo = index(s, lo, p+1)
		} else {
			nextUp = index(s, up, p+1)
		}
	}
}

// index returns the offset of the first c in s at or after from, or -1.
func index(s string, c byte, from int) int {
	if from >= len(s) {
		return -1
	}
	if j := strings.IndexByte(s[from:], c); j >= 0 {
		return from + j
	}
	return -1
}

// prefixOf reports whether s starts with the needle.
func (n needle) prefixOf(s string) bool {
	return len(s) >= len(n.s) && n.equal(s[:len(n.s)])
}

func (n needle) equal(s string) bool {
	if !n.fold {
		return s == n.s
	}
	return equalFoldASCII(s, n.s)
}

// equalFoldASCII reports whether s equals lower, an ASCII lower-case
// string of the same length, with ASCII letters of s in either case.
func equalFoldASCII(s, lower string) bool {
	for i := 0; i < len(lower); i++ {
		c := s[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}

// containsFold reports whether s contains lower with ASCII letters in
// either case.
func containsFold(s, lower string) bool {
	return newNeedle(lit{s: lower, fold: true}).in(s)
}
