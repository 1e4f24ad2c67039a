package pcre2

import (
	"regexp/syntax"
	"slices"
	"strings"
	"unicode/utf8"
)

// cnf is a conjunction of clauses, each a disjunction of literals; nil is
// true, a clause with no literal false.
type cnf [][]lit

func (x cnf) and(y cnf) cnf { return append(x[:len(x):len(x)], y...) }

// clauseOf is the condition that a subject contains one string of set:
// true (nil) when one of them is empty.
func clauseOf(set []lit) cnf {
	if slices.ContainsFunc(set, func(l lit) bool { return l.s == "" }) {
		return nil
	}
	return cnf{slices.Clone(set)}
}

// info is what the analyzer knows of a node. When exact is not nil the
// node matches exactly one of its strings (an empty, non-nil set: nothing
// at all); otherwise every text the node matches meets match.
type info struct {
	exact []lit
	match cnf
}

// unknown is a node about which nothing is known.
var unknown = info{}

type analyzer struct {
	utf bool
}

func (a analyzer) info(re *syntax.Regexp) info {
	switch re.Op {
	case syntax.OpNoMatch:
		return info{exact: []lit{}}
	case syntax.OpEmptyMatch, syntax.OpBeginLine, syntax.OpEndLine, syntax.OpBeginText,
		syntax.OpEndText, syntax.OpWordBoundary, syntax.OpNoWordBoundary:
		// Assertions are dropped: the condition gets weaker, not wrong.
		return info{exact: []lit{{}}}
	case syntax.OpLiteral:
		if l, ok := a.literal(re.Rune, re.Flags&syntax.FoldCase != 0); ok {
			return info{exact: []lit{l}}
		}
		return unknown
	case syntax.OpCharClass:
		if set, ok := a.class(re.Rune); ok {
			return info{exact: set}
		}
		return unknown
	case syntax.OpCapture:
		return a.info(re.Sub[0])
	case syntax.OpQuest:
		return a.optional(re.Sub[0])
	case syntax.OpStar:
		return unknown
	case syntax.OpPlus:
		return info{match: a.info(re.Sub[0]).required()}
	case syntax.OpRepeat:
		switch {
		case re.Min == 0 && re.Max == 1:
			return a.optional(re.Sub[0])
		case re.Min == 1 && re.Max == 1:
			return a.info(re.Sub[0])
		case re.Min >= 1:
			return info{match: a.info(re.Sub[0]).required()}
		}
		return unknown
	case syntax.OpConcat:
		return a.concat(re.Sub)
	case syntax.OpAlternate:
		return a.alternate(re.Sub)
	}
	return unknown // any character
}

// required turns what is known of a node into a condition.
func (in info) required() cnf {
	if in.exact != nil {
		return in.match.and(clauseOf(in.exact))
	}
	return in.match
}

func (a analyzer) optional(sub *syntax.Regexp) info {
	in := a.info(sub)
	if in.exact != nil && len(in.exact) < maxExact {
		return info{exact: union(in.exact, []lit{{}})}
	}
	return unknown
}

func (a analyzer) concat(subs []*syntax.Regexp) info {
	var match cnf
	run := []lit{{}} // the exact strings of the current run of exact nodes
	allExact := true
	for _, sub := range subs {
		in := a.info(sub)
		if in.exact != nil && len(run)*len(in.exact) <= maxExact {
			run = cross(run, in.exact)
			continue
		}
		allExact = false
		match = match.and(clauseOf(run))
		run = []lit{{}}
		if in.exact != nil {
			run = in.exact
		} else {
			match = match.and(in.match)
		}
	}
	if allExact {
		return info{exact: run}
	}
	return info{match: match.and(clauseOf(run))}
}

func (a analyzer) alternate(subs []*syntax.Regexp) info {
	infos := make([]info, len(subs))
	allExact := true
	size := 0
	for i, sub := range subs {
		infos[i] = a.info(sub)
		allExact = allExact && infos[i].exact != nil
		size += len(infos[i].exact)
	}
	if allExact && size <= maxExact {
		var set []lit
		for _, in := range infos {
			set = union(set, in.exact)
		}
		if set == nil {
			set = []lit{}
		}
		return info{exact: set}
	}
	// A match satisfies one branch's conditions: the clauses every branch
	// has, and one literal of any branch's best clause.
	var either []cnf
	for _, in := range infos {
		if in.exact != nil && len(in.exact) == 0 {
			continue // a branch that cannot match
		}
		c := in.required()
		if len(c) == 0 {
			return unknown
		}
		either = append(either, c)
	}
	if len(either) == 0 {
		return info{exact: []lit{}}
	}
	var match cnf
	for _, c := range either[0] {
		inAll := true
		for _, other := range either[1:] {
			if !slices.ContainsFunc(other, func(o []lit) bool { return slices.Equal(o, c) }) {
				inAll = false
				break
			}
		}
		if inAll {
			match = append(match, c)
		}
	}
	var any []lit
	for _, c := range either {
		any = union(any, bestClause(c))
	}
	return info{match: append(match, any)}
}

// bestClause picks the clause of c most worth testing.
func bestClause(c cnf) []lit {
	best := c[0]
	for _, cl := range c[1:] {
		if clauseRank(shorten(cl)) > clauseRank(shorten(best)) {
			best = cl
		}
	}
	return shorten(best)
}

// anchoredPrefixes returns the literals one of which starts every subject
// the pattern matches, when it is anchored with ^ (not in multi-line mode)
// or \A, or nil.
func (a analyzer) anchoredPrefixes(re *syntax.Regexp) []lit {
	for re.Op == syntax.OpCapture {
		re = re.Sub[0]
	}
	switch re.Op {
	case syntax.OpConcat:
		if len(re.Sub) == 0 || re.Sub[0].Op != syntax.OpBeginText {
			return nil
		}
		set := a.prefixes(re.Sub[1:])
		if slices.ContainsFunc(set, func(l lit) bool { return l.s == "" }) {
			return nil
		}
		return set
	case syntax.OpAlternate:
		var all []lit
		for _, sub := range re.Sub {
			set := a.anchoredPrefixes(sub)
			if set == nil || len(all)+len(set) > maxExact {
				return nil
			}
			all = union(all, set)
		}
		return all
	}
	return nil
}

// prefixes returns literals one of which starts every match of the
// concatenation subs ("" when none is known).
func (a analyzer) prefixes(subs []*syntax.Regexp) []lit {
	run := []lit{{}}
	for _, sub := range subs {
		in := a.info(sub)
		if in.exact != nil && len(run)*len(in.exact) <= maxExact {
			run = cross(run, in.exact)
			continue
		}
		var head []lit
		switch {
		case in.exact != nil:
			head = in.exact
		case sub.Op == syntax.OpPlus || sub.Op == syntax.OpRepeat && sub.Min >= 1:
			head = a.prefixes(sub.Sub[:1])
		case sub.Op == syntax.OpCapture:
			head = a.prefixes(sub.Sub[:1])
		case sub.Op == syntax.OpConcat:
			head = a.prefixes(sub.Sub)
		}
		if len(head) == 0 || len(run)*len(head) > maxExact {
			return run
		}
		return cross(run, head)
	}
	return run
}

// literal maps pattern characters to subject bytes. A folded literal must
// be ASCII; in byte mode every character must be a byte value.
func (a analyzer) literal(runes []rune, fold bool) (lit, bool) {
	var b strings.Builder
	for _, r := range runes {
		switch {
		case fold && r >= utf8.RuneSelf:
			return lit{}, false
		case fold:
			if r >= 'A' && r <= 'Z' {
				r += 'a' - 'A'
			}
			b.WriteByte(byte(r))
		case a.utf:
			b.WriteRune(r)
		case r > 0xFF:
			return lit{}, false
		default:
			b.WriteByte(byte(r))
		}
	}
	s := b.String()
	return lit{s: s, fold: fold && hasLetter(s)}, true
}

// class turns a small character class into its single-character strings,
// an ASCII letter in both cases becoming one folded literal. Go folds
// classes under (?i) before this sees them, with Unicode orbits: characters
// that cannot be subject units are dropped, and a class with other
// non-ASCII characters (which regexp2 may fold otherwise) is not used in
// byte mode.
func (a analyzer) class(ranges []rune) ([]lit, bool) {
	limit := rune(utf8.MaxRune)
	if !a.utf {
		limit = 0xFF
	}
	var chars []rune
	for i := 0; i+1 < len(ranges); i += 2 {
		lo, hi := ranges[i], min(ranges[i+1], limit)
		if hi-lo+1 > maxClassLen || len(chars)+int(hi-lo+1) > maxClassLen {
			return nil, false
		}
		for r := lo; r <= hi; r++ {
			chars = append(chars, r)
		}
	}
	var set []lit
	for _, r := range chars {
		switch {
		case !a.utf && r >= utf8.RuneSelf:
			return nil, false
		case r >= 'A' && r <= 'Z' && slices.Contains(chars, r+'a'-'A'):
			// Folded with its lower case below.
		case r >= 'a' && r <= 'z' && slices.Contains(chars, r-('a'-'A')):
			set = append(set, lit{s: string(r), fold: true})
		default:
			set = append(set, lit{s: string(r)})
		}
	}
	if set == nil {
		set = []lit{}
	}
	return set, true
}

// cross returns every concatenation of a string of x with one of y.
func cross(x, y []lit) []lit {
	out := make([]lit, 0, len(x)*len(y))
	for _, l := range x {
		for _, r := range y {
			out = append(out, concatLit(l, r))
		}
	}
	return dedupLits(out)
}

// concatLit joins two literals; if either is folded the result is, a
// weaker condition than the exact one.
func concatLit(l, r lit) lit {
	if l.fold == r.fold || l.s == "" || r.s == "" {
		return lit{s: l.s + r.s, fold: l.fold || r.fold}
	}
	if l.fold {
		return lit{s: l.s + lowerASCII(r.s), fold: true}
	}
	return lit{s: lowerASCII(l.s) + r.s, fold: true}
}

// lowerASCII lower-cases the ASCII letters of s and leaves other bytes.
func lowerASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

func union(x, y []lit) []lit {
	return dedupLits(append(slices.Clip(x), y...))
}

func dedupLits(set []lit) []lit {
	out := set[:0:0]
	for _, l := range set {
		if !slices.Contains(out, l) {
			out = append(out, l)
		}
	}
	return out
}
