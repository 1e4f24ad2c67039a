package pcre2

import (
	"regexp"
	"regexp/syntax"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"
)

// fastPath holds what lets a Regex answer without regexp2, from cheapest
// to dearest: the prefilter rejects a subject lacking a required literal;
// a pattern that is one literal is a substring search; the automaton
// tells match from no match; Go's regexp finds the bounds and captures.
// regexp2 remains for patterns with no exact Go form and, when the pattern
// has $ or \Z, for subjects ending with a newline (see re2.go).
type fastPath struct {
	pre     *prefilter     // nil: no condition known
	literal string         // the whole pattern, when it is one literal without groups
	fast    *regexp.Regexp // the RE2 path, or nil
	auto    *lazyDFA       // with fast, or nil
	dollar  bool           // the Go form has a $ or \Z standing for \z
	slowWhy string         // why there is no RE2 path
}

func newFastPath(tr translation) fastPath {
	var tree *syntax.Regexp
	if tr.goPattern != "" {
		// The flags of regexp.Compile; an error leaves every shortcut off.
		tree, _ = syntax.Parse(tr.goPattern, syntax.Perl)
	}
	fp := fastPath{pre: newPrefilter(tree, tr.utf), dollar: tr.dollar}
	form := newRE2Form(tr, tree)
	fp.fast, fp.slowWhy = form.re, form.reason
	if fp.fast == nil {
		return fp
	}
	if tree.Op == syntax.OpLiteral && tree.Flags&syntax.FoldCase == 0 && tr.groups == 0 {
		if l, ok := (analyzer{utf: tr.utf}).literal(tree.Rune, false); ok && l.s != "" {
			fp.literal, fp.pre = l.s, nil // the prefilter would search it twice
		}
	}
	fp.auto = &lazyDFA{pattern: tr.goPattern}
	return fp
}

// lazyDFA builds a pattern's automaton when first needed: most rule
// patterns of a ruleset rarely run, and building all of Wazuh's takes
// about 0.1 s.
type lazyDFA struct {
	once    sync.Once
	pattern string // the Go form
	d       *dfa   // nil when too large
}

// get returns the automaton, or nil when there is none.
func (l *lazyDFA) get() *dfa {
	if l == nil {
		return nil
	}
	l.once.Do(func() {
		if t, err := syntax.Parse(l.pattern, syntax.Perl); err == nil {
			l.d = newDFA(t)
		}
	})
	return l.d
}

// goFits reports whether the Go form may run on s: it has one, and no $
// would see s's final newline.
func (r *Regex) goFits(s string) bool {
	return r.fast != nil && !(r.dollar && endsWithNewline(s))
}

// matchFast is Match without regexp2; done is false when it cannot tell.
func (r *Regex) matchFast(s string) (ok, done bool) {
	if r.pre != nil && !r.pre.mayMatch(s) {
		return false, true
	}
	if !r.goFits(s) {
		return false, false
	}
	if r.utf {
		// PCRE2 in UTF mode matches no invalid UTF-8. On valid UTF-8 Go
		// reads the code points regexp2 is given; the automaton reads
		// bytes, which are those code points only in ASCII.
		switch {
		case !utf8.ValidString(s):
			return false, true
		case r.literal != "":
			return strings.Contains(s, r.literal), true
		case isASCII(s):
			if d := r.auto.get(); d != nil {
				return d.match(s), true
			}
		}
		return r.fast.MatchString(s), true
	}
	if r.literal != "" {
		return strings.Contains(s, r.literal), true
	}
	if d := r.auto.get(); d != nil {
		return d.match(s), true
	}
	if isASCII(s) {
		return r.fast.MatchString(s), true
	}
	buf := latin1(s)
	defer putBytes(buf)
	return r.fast.Match(*buf), true
}

// executeFast is Execute without regexp2; done is false when it cannot
// tell.
func (r *Regex) executeFast(s string) (captures []string, end int, ok, done bool) {
	if r.pre != nil && !r.pre.mayMatch(s) {
		return nil, 0, false, true
	}
	if !r.goFits(s) {
		return nil, 0, false, false
	}
	if r.utf && !utf8.ValidString(s) {
		return nil, 0, false, true
	}
	if r.literal != "" {
		i := strings.Index(s, r.literal)
		if i < 0 {
			return nil, 0, false, true
		}
		return nil, i + len(r.literal), true, true
	}
	if !r.utf || isASCII(s) {
		if d := r.auto.get(); d != nil && !d.match(s) {
			return nil, 0, false, true
		}
	}
	captures, end, ok = r.executeGo(s)
	return captures, end, ok, true
}

// executeGo is Execute on Go's regexp, for a subject goFits accepts (and
// valid UTF-8 in UTF mode). Without UTF, a subject with bytes above 0x7F
// is given to Go as the UTF-8 of the runes regexp2 would see, one per
// byte, and the offsets are mapped back.
func (r *Regex) executeGo(s string) (captures []string, end int, ok bool) {
	var loc []int
	switch {
	case r.utf || isASCII(s):
		if r.groups == 0 {
			loc = r.fast.FindStringIndex(s)
		} else {
			loc = r.fast.FindStringSubmatchIndex(s)
		}
	default:
		buf := latin1(s)
		if r.groups == 0 {
			loc = r.fast.FindIndex(*buf)
		} else {
			loc = r.fast.FindSubmatchIndex(*buf)
		}
		putBytes(buf)
		latin1Offsets(s, loc)
	}
	if loc == nil {
		return nil, 0, false
	}
	last := 0
	for i := 1; i <= r.groups; i++ {
		if loc[2*i] >= 0 {
			last = i
		}
	}
	if last > 0 {
		captures = make([]string, last)
		for i := 1; i <= last; i++ {
			if loc[2*i] >= 0 {
				captures[i-1] = s[loc[2*i]:loc[2*i+1]]
			}
		}
	}
	return captures, loc[1], true
}

// latin1 returns s with each byte above 0x7F written as the UTF-8 of the
// rune of that value, in a pooled buffer.
func latin1(s string) *[]byte {
	buf := bytePool.Get().(*[]byte)
	b := (*buf)[:0]
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < utf8.RuneSelf {
			b = append(b, c)
		} else {
			b = append(b, 0xC0|c>>6, 0x80|c&0x3F)
		}
	}
	*buf = b
	return buf
}

// latin1Offsets maps offsets in latin1(s) back to offsets in s, in place;
// -1 stays.
func latin1Offsets(s string, loc []int) {
	order := make([]int, 0, len(loc))
	for k, v := range loc {
		if v >= 0 {
			order = append(order, k)
		}
	}
	slices.SortFunc(order, func(a, b int) int { return loc[a] - loc[b] })
	src, dst := 0, 0 // offsets in s and in latin1(s)
	for _, k := range order {
		for dst < loc[k] {
			if s[src] < utf8.RuneSelf {
				dst++
			} else {
				dst += 2
			}
			src++
		}
		loc[k] = src
	}
}

var bytePool = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

func putBytes(b *[]byte) {
	if cap(*b) <= 1<<16 {
		bytePool.Put(b)
	}
}
