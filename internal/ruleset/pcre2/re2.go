package pcre2

import (
	"fmt"
	"regexp"
	"regexp/syntax"
)

// The RE2 path runs a pattern on Go's regexp package (linear time, no
// time-out, no rune conversion) and on an automaton built from the same
// program (dfa.go), instead of regexp2, when they give the same result:
// match or not, captures, end offset. The translator (translate.go) writes
// a Go form beside the .NET one; where that form is exact, it is used for
// every subject except, when the pattern has $ or \Z, one ending with
// "\n". Everything else stays on regexp2.
//
// regexp2 is handed one rune per subject byte without (*UTF), one per code
// point with it (and no match for invalid UTF-8). Go reads UTF-8. So, per
// call: a subject of ASCII is given to Go as is; a byte-mode subject with
// bytes above 0x7F is given as the UTF-8 of those same runes (Latin-1
// decoding) and the offsets are mapped back; a UTF-mode subject is given as
// is once it is known to be valid. The automaton reads bytes as runes of
// the same value, which is regexp2's view in byte mode and, in UTF mode,
// only for ASCII subjects, where it is then used alone.
//
// With the subjects thus made the same rune sequences, each construct was
// checked to mean the same thing in both forms (TestConstructsAgreeWithRegexp2
// runs them all over every string of up to two symbols of a tricky
// alphabet):
//
//	construct              .NET form (regexp2)              Go form                        decision
//	---------------------  -------------------------------  -----------------------------  ----------------
//	literal byte >= 0x80   (?-i:\uXXXX): never folded       (?-i:\x{XX})                   same
//	. and (?s).            any rune but \n / any rune       same                           same
//	^, (?m)^               start / also after any \n,       same, also after a final \n    same
//	                       also after a final \n (PCRE2
//	                       is not: a known difference)
//	$, \Z                  end or before a final \n         \z                             same unless the
//	                                                                                       subject ends in
//	                                                                                       \n: regexp2
//	(?m)$                  before any \n or at the end      same                           same
//	\A \z                  start / end                      same                           same
//	\d \w \s \h \v \R \N   explicit ASCII / Latin-1 sets    the same explicit sets         same (\s has \v)
//	POSIX [:classes:]      explicit ASCII sets              the same explicit sets         same
//	\- in a class          \u002D: regexp2 reads \- as a    \x{2D}                         same
//	                       hyphen that cannot bound a range
//	\b \B                  lookarounds on [0-9A-Za-z_]      \b \B on ASCII word chars      same
//	(?i) ASCII letters     lower-cases subject and class    Unicode folding orbits; k, s   same: no byte
//	                                                        also reach U+212A, U+017F      value folds to
//	                                                                                       ASCII in either
//	(?i) Latin-1 in a      folds Latin-1 letters (known     folds them (orbits)            same
//	class, byte mode       difference with PCRE2)
//	(?i) with (*UTF)       .NET lower-case mapping: U+0130  orbits: U+0130 folds to        regexp2 only,
//	                       becomes i, U+212A k              nothing, U+017F to s           no prefilter
//	(?U), lazy marks       swapped by the translator        the same swapped marks         same
//	(?x)                   extended mode                    no such flag                   regexp2 only,
//	                                                                                       no prefilter
//	alternation, empty     leftmost-first                   leftmost-first                 same
//	alternatives
//	loop over an           Perl stops a loop on an empty    Go's own rule; captures and    regexp2 only
//	expression that can    iteration                        ends can differ: (a|)*,
//	match empty; optional                                   (a*)+, (a*)?
//	group that can match
//	empty and captures
//	{n,m}                  any counts; {00} is {0}          at most 1000; a leading zero   regexp2 above
//	                                                        makes text, so it is dropped   1000
//	named groups           numbered in order (rewritten)    the same plain groups,         same
//	                                                        count checked
//	captures in loops      last iteration                   last iteration                 same
//	match end offset       leftmost-first, in runes mapped  leftmost-first, in bytes       same
//	                       to bytes
//	\e \a \f \cX \xhh \o{} code points                      \x{..} escapes                 same
//	(*FAIL)                (?!)                             an empty class                 same
//	lookarounds, \G,       run by regexp2                   left out, a wider pattern      regexp2 only;
//	back references,                                        (lookaround dropped, ".*" for  the prefilter
//	atomic, conditional                                     a reference, either branch)    still applies
//	\p{..}, (*UCP)         .NET's Unicode tables            Go's, and ASCII \d \w \b       regexp2 only,
//	                                                                                       no prefilter
//
// Neither Go's regexp nor the automaton ever times out: where regexp2
// would have run out of time they give the real answer.

// re2Form is a pattern's Go regexp form, or why it has none that can stand
// in for regexp2.
type re2Form struct {
	re     *regexp.Regexp
	reason string
}

// newRE2Form decides whether tr's Go form is exact and compiles it. tree
// is its parse, nil when it has none.
func newRE2Form(tr translation, tree *syntax.Regexp) re2Form {
	switch {
	case tr.goPattern == "" || tr.goApprox != "":
		return re2Form{reason: tr.goApprox}
	case tree == nil:
		return re2Form{reason: "Go cannot parse it"}
	}
	if why := re2Unsafe(tree); why != "" {
		return re2Form{reason: why}
	}
	re, err := regexp.Compile(tr.goPattern)
	if err != nil {
		return re2Form{reason: err.Error()}
	}
	if re.NumSubexp() != tr.groups {
		return re2Form{reason: fmt.Sprintf("Go counts %d groups, not %d", re.NumSubexp(), tr.groups)}
	}
	return re2Form{re: re}
}

// re2Unsafe returns the first construct of a parsed Go form whose result
// may differ from a backtracking engine's, or "".
//
// A loop over an expression that can match the empty string is one: Perl
// and PCRE2 end a loop on an empty iteration, Go's automaton follows its
// own rule, and which captures and end the two report can differ (for
// instance (a|)* or (a*)+). An optional expression that can match empty
// and holds a capture is refused for the same reason.
func re2Unsafe(re *syntax.Regexp) string {
	switch re.Op {
	case syntax.OpStar, syntax.OpPlus:
		if canBeEmpty(re.Sub[0]) {
			return "a loop over an expression that can match empty: " + re.String()
		}
	case syntax.OpRepeat:
		if (re.Max == -1 || re.Max > 1) && canBeEmpty(re.Sub[0]) {
			return "a loop over an expression that can match empty: " + re.String()
		}
		if re.Max == 1 && re.Min == 0 && canBeEmpty(re.Sub[0]) && hasCapture(re.Sub[0]) {
			return "an optional group that can match empty: " + re.String()
		}
	case syntax.OpQuest:
		if canBeEmpty(re.Sub[0]) && hasCapture(re.Sub[0]) {
			return "an optional group that can match empty: " + re.String()
		}
	}
	for _, sub := range re.Sub {
		if why := re2Unsafe(sub); why != "" {
			return why
		}
	}
	return ""
}

// canBeEmpty reports whether re can match the empty string.
func canBeEmpty(re *syntax.Regexp) bool {
	switch re.Op {
	case syntax.OpLiteral:
		return len(re.Rune) == 0
	case syntax.OpCharClass, syntax.OpAnyChar, syntax.OpAnyCharNotNL, syntax.OpNoMatch:
		return false
	case syntax.OpCapture, syntax.OpPlus:
		return canBeEmpty(re.Sub[0])
	case syntax.OpRepeat:
		return re.Min == 0 || canBeEmpty(re.Sub[0])
	case syntax.OpConcat:
		for _, sub := range re.Sub {
			if !canBeEmpty(sub) {
				return false
			}
		}
		return true
	case syntax.OpAlternate:
		for _, sub := range re.Sub {
			if canBeEmpty(sub) {
				return true
			}
		}
		return false
	}
	// Empty-width assertions, the empty match, star and quest.
	return true
}

func hasCapture(re *syntax.Regexp) bool {
	if re.Op == syntax.OpCapture {
		return true
	}
	for _, sub := range re.Sub {
		if hasCapture(sub) {
			return true
		}
	}
	return false
}

func endsWithNewline(s string) bool { return len(s) > 0 && s[len(s)-1] == '\n' }

// isASCII reports whether s has no byte above 0x7F, eight bytes at a time.
func isASCII(s string) bool {
	i := 0
	for ; i+8 <= len(s); i += 8 {
		w := uint64(s[i]) | uint64(s[i+1])<<8 | uint64(s[i+2])<<16 | uint64(s[i+3])<<24 |
			uint64(s[i+4])<<32 | uint64(s[i+5])<<40 | uint64(s[i+6])<<48 | uint64(s[i+7])<<56
		if w&0x8080808080808080 != 0 {
			return false
		}
	}
	for ; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
