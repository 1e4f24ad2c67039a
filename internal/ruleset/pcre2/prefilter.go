package pcre2

import (
	"regexp/syntax"
	"slices"
	"strings"
)

// A prefilter is a set of conditions every subject a pattern matches
// meets, cheap to test: the subject starts with one of some literals, and
// for each clause contains one of its literals. When a subject fails them
// the engine is not run.
//
// The conditions come from the Go form of the pattern (translate.go),
// which matches at least what the pattern does even when it is only an
// approximation, so they are necessary for the real pattern too. Each step
// keeps to what is certain: a node it cannot reason about yields no
// condition, and dropping a condition is always safe.
type prefilter struct {
	prefixes []lit   // when not nil, the subject starts with one of these
	clauses  [][]lit // the subject contains a literal of each clause

	// The same, ready to search.
	prefixNeedles []needle
	clauseNeedles [][]needle
}

// lit is a byte string to look for; fold means ASCII letters match either
// case, and s is then in lower case.
type lit struct {
	s    string
	fold bool
}

const (
	maxExact      = 16 // strings an exact set may hold
	maxClassLen   = 16 // characters a class may have to become an exact set
	maxClauses    = 4  // clauses kept in a prefilter
	minRank       = 6  // clauseRank a clause needs to be kept
	maxClauseLits = 4  // literals a clause may have to be kept as is
)

// newPrefilter derives the prefilter of a parsed Go form. utf tells how a
// pattern character maps to subject bytes: its UTF-8 encoding, or the byte
// of the same value. It returns nil when nothing useful is known.
func newPrefilter(tree *syntax.Regexp, utf bool) *prefilter {
	if tree == nil {
		return nil
	}
	a := analyzer{utf: utf}
	p := &prefilter{prefixes: a.anchoredPrefixes(tree)}
	for _, c := range a.info(tree).required() {
		// A clause of many short literals costs more than it saves, and
		// one that every prefix satisfies is redundant.
		if c = shorten(c); clauseRank(c) >= minRank && !impliedBy(p.prefixes, c) {
			p.clauses = append(p.clauses, c)
		}
	}
	// The longest shortest literal first: likely the rarest, so that a
	// subject is turned down early. Then no clause twice, and not too
	// many.
	slices.SortStableFunc(p.clauses, func(x, y []lit) int { return clauseRank(y) - clauseRank(x) })
	p.clauses = dedupClauses(p.clauses)
	if len(p.clauses) > maxClauses {
		p.clauses = p.clauses[:maxClauses]
	}
	if p.prefixes == nil && len(p.clauses) == 0 {
		return nil
	}
	for _, l := range p.prefixes {
		p.prefixNeedles = append(p.prefixNeedles, newNeedle(l))
	}
	if p.prefixes != nil && p.prefixNeedles == nil {
		p.prefixNeedles = []needle{} // no subject can match
	}
	for _, c := range p.clauses {
		ns := []needle{}
		for _, l := range c {
			ns = append(ns, newNeedle(l))
		}
		p.clauseNeedles = append(p.clauseNeedles, ns)
	}
	return p
}

// mayMatch reports whether s meets the conditions.
func (p *prefilter) mayMatch(s string) bool {
	if p.prefixNeedles != nil {
		found := false
		for _, n := range p.prefixNeedles {
			if n.prefixOf(s) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	for _, c := range p.clauseNeedles {
		found := false
		for _, n := range c {
			if n.in(s) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// impliedBy reports whether a subject starting with any of prefixes
// contains a literal of clause c.
func impliedBy(prefixes []lit, c []lit) bool {
	if len(prefixes) == 0 {
		return false
	}
	for _, p := range prefixes {
		if !slices.ContainsFunc(c, func(l lit) bool {
			switch {
			case l.fold:
				return containsFold(p.s, l.s)
			case p.fold:
				return false
			}
			return strings.Contains(p.s, l.s)
		}) {
			return false
		}
	}
	return true
}

// clauseRank scores a clause: the length of its shortest literal, less for
// the number of literals to look for.
func clauseRank(c []lit) int {
	if len(c) == 0 {
		return 1 << 20 // unsatisfiable: the pattern cannot match
	}
	short := len(c[0].s)
	for _, l := range c[1:] {
		short = min(short, len(l.s))
	}
	return short*8 - len(c)
}

// dedupClauses drops a clause equal to an earlier one.
func dedupClauses(cs [][]lit) [][]lit {
	var out [][]lit
	for _, c := range cs {
		if !slices.ContainsFunc(out, func(o []lit) bool { return slices.Equal(o, c) }) {
			out = append(out, c)
		}
	}
	return out
}

// shorten replaces a clause of several literals that all contain a common
// substring of at least three bytes by that substring: a weaker condition,
// but one search instead of several. A clause of more than maxClauseLits
// literals is replaced by their longest common substring whatever its
// length, or when there is none by the clause of the empty string, always
// true, which newPrefilter drops: such a clause (":" then any space, from
// :\s) costs more than the automaton behind it.
func shorten(c []lit) []lit {
	if len(c) < 2 {
		return c
	}
	minLen := 3
	if len(c) > maxClauseLits {
		minLen = 1
	}
	fold := false
	for _, l := range c {
		fold = fold || l.fold
	}
	norm := make([]string, len(c))
	shortest := 0
	for i, l := range c {
		norm[i] = l.s
		if fold {
			norm[i] = lowerASCII(l.s)
		}
		if len(norm[i]) < len(norm[shortest]) {
			shortest = i
		}
	}
	base := norm[shortest]
	for n := len(base); n >= minLen; n-- {
		for i := 0; i+n <= len(base); i++ {
			sub := base[i : i+n]
			all := true
			for _, s := range norm {
				if !strings.Contains(s, sub) {
					all = false
					break
				}
			}
			if all {
				return []lit{{s: sub, fold: fold && hasLetter(sub)}}
			}
		}
	}
	if len(c) > maxClauseLits {
		return []lit{{}}
	}
	return c
}

func hasLetter(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i] | 0x20; c >= 'a' && c <= 'z' {
			return true
		}
	}
	return false
}
