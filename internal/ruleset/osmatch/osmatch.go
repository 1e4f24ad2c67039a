// Package osmatch implements OSMatch, the fast string-matching flavour Wazuh
// uses by default for a rule's <match>, <hostname>, <program_name>, <user>,
// <url> and most other static-field options, and for a decoder's
// <program_name>.
//
// A pattern is a list of literal strings separated by "|"; the subject
// matches if any of them matches. Each alternative is compared ignoring
// ASCII case and may be anchored:
//
//	abc     the subject contains "abc"
//	^abc    the subject starts with "abc"
//	abc$    the subject ends with "abc"
//	^abc$   the subject is "abc"
//
// There are no escapes: every other byte, including "\", ".", "*", "(", is
// literal, and "|" cannot be matched. Wazuh's edge cases are kept: an empty
// alternative ("", "a|", "a||b"), a bare "^" and a bare "$" match every
// subject, while "^$" matches only the empty one. A "!" as the very first
// byte negates the result of the whole pattern, all alternatives included.
// The subject is a C string: it ends at its first NUL byte.
package osmatch

import (
	"fmt"
	"github.com/threatlockdown/tld/internal/ruleset/asciifold"
	"strings"
)

// MaxPatternSize is the longest pattern Wazuh accepts, in bytes, counting a
// leading "!".
const MaxPatternSize = 20480

type kind uint8

const (
	always   kind = iota // empty alternative, "^" or "$"
	contains             // abc
	prefix               // ^abc
	suffix               // abc$
	equal                // ^abc$
)

type alt struct {
	kind kind
	lit  string // lower case
}

// Matcher is a compiled OSMatch pattern. It is safe for concurrent use.
type Matcher struct {
	raw    string
	negate bool
	alts   []alt
}

// Compile parses an OSMatch pattern. The only pattern Wazuh rejects is one
// longer than MaxPatternSize.
func Compile(pattern string) (*Matcher, error) {
	if len(pattern) > MaxPatternSize {
		return nil, fmt.Errorf("osmatch: pattern is %d bytes, longer than the %d Wazuh accepts", len(pattern), MaxPatternSize)
	}
	m := &Matcher{raw: pattern}
	p := pattern
	if strings.HasPrefix(p, "!") {
		m.negate = true
		p = p[1:]
	}
	for _, part := range strings.Split(asciifold.LowerString(p), "|") {
		m.alts = append(m.alts, parseAlt(part))
	}
	return m, nil
}

// parseAlt classifies one alternative. The order of the tests matters: it
// is what makes "^" a prefix match of nothing (always true) and "^$" an
// exact match of the empty string.
func parseAlt(p string) alt {
	begin := strings.HasPrefix(p, "^")
	end := strings.HasSuffix(p, "$")
	switch {
	case begin && end && len(p) >= 2:
		return alt{kind: equal, lit: p[1 : len(p)-1]}
	case p == "":
		return alt{kind: always}
	case end:
		if len(p) == 1 {
			return alt{kind: always}
		}
		return alt{kind: suffix, lit: p[:len(p)-1]}
	case begin:
		if len(p) == 1 {
			return alt{kind: always}
		}
		return alt{kind: prefix, lit: p[1:]}
	default:
		return alt{kind: contains, lit: p}
	}
}

// String returns the pattern as written, including a leading "!".
func (m *Matcher) String() string { return m.raw }

// Match reports whether s matches the pattern, negation applied.
func (m *Matcher) Match(s string) bool {
	if i := strings.IndexByte(s, 0); i >= 0 {
		s = s[:i]
	}
	for i := range m.alts {
		if m.alts[i].match(s) {
			return !m.negate
		}
	}
	return m.negate
}

func (a *alt) match(s string) bool {
	switch a.kind {
	case always:
		return true
	case equal:
		return len(s) == len(a.lit) && asciifold.HasPrefix(s, a.lit)
	case prefix:
		return asciifold.HasPrefix(s, a.lit)
	case suffix:
		return len(s) >= len(a.lit) && asciifold.HasPrefix(s[len(s)-len(a.lit):], a.lit)
	default:
		return asciifold.Index(s, a.lit) >= 0
	}
}
