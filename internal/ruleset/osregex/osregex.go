// Package osregex implements OSRegex, the regular expression flavour Wazuh
// uses by default for <regex> and <prematch> in decoders and for <regex>
// and <field> in rules, with the exact results analysisd produces.
//
// OSRegex is not a backtracking engine. Its matcher walks the subject once,
// remembers at most four places to resume after a failed "+" or "*", and
// restarts the pattern one byte after the last attempt otherwise. Results
// that look surprising next to PCRE are Wazuh's own, and this package keeps
// them, because rules written for Wazuh rely on them:
//
//   - Escapes: \w is [A-Za-z0-9-@_], \d is [0-9], \s is the space only,
//     \p is !"#$%&'()*+,-.:;<=>?[]{|}, \. is any byte, \t a tab; \W \D \S
//     are their complements, and \$ \( \) \\ \| \< are literals. Any other
//     escape does not compile.
//   - "+" and "*" only quantify the escape just before them; after a
//     literal they are literal characters. There are no classes, "?" or
//     "{n}" repetitions.
//   - Literals match case-insensitively (ASCII only); escapes test the raw
//     byte.
//   - "|" separates whole patterns, tried left to right. "^" is an anchor
//     only as the first byte of an alternative, "$" only as the last.
//   - "(" and ")" delimit capture groups, one level deep, never around "|".
//   - "^" anchors an attempt to the start; "$" demands the match end at the
//     end of the subject, and the empty alternative "$" matches only the
//     empty string.
//   - The subject is a C string: it ends at its first NUL byte.
//
// Wazuh compiles rule options without substring capture and decoder
// <regex> with it, and the two modes can differ on patterns that contain
// groups. Match and MatchEnd reproduce the first, Execute the second.
package osregex

import (
	"fmt"
	"strings"
)

// MaxPatternSize is the longest pattern Wazuh accepts, in bytes.
const MaxPatternSize = 20480

// null stands for the NULL pointer Wazuh's matcher returns on failure. Match
// positions are never below -1 (one before the subject, a quirk of "*").
const null = -2

// Regex is a compiled OSRegex pattern. It is safe for concurrent use.
type Regex struct {
	raw     string
	alts    []alt
	groups  int  // the most capture groups any alternative has
	capture bool // the pattern has at least one group: Execute records them
}

// alt is one "|"-separated alternative, kept in Wazuh's internal encoding:
// literals lower-cased, each escape as '\\' followed by its class code,
// and both '(' and ')' stored as '(' (they are told apart by position).
type alt struct {
	prog   []byte
	slot   []int32 // for each '(' in prog, its index among the parentheses; -1 elsewhere
	begin  bool    // pattern started with ^
	end    bool    // pattern ended with $
	groups int
	// prefix is the literal run the alternative starts with. A match is
	// impossible unless the subject contains it (or starts with it, when
	// anchored), so it serves as a cheap early rejection.
	prefix string
	// literal marks an alternative that is nothing but prefix, without
	// anchors: a plain case-insensitive substring search.
	literal bool
	// required are other literal runs of the alternative (distinct, the
	// longest first, at most four). Outside escapes every byte of an OSRegex pattern
	// is matched literally and none is optional, so a subject lacking one
	// of them cannot match: checking them first avoids the quadratic scan
	// of unanchored patterns over subjects that cannot match.
	required []string
}

// Compile parses an OSRegex pattern. The error says what Wazuh would reject
// and where.
func Compile(pattern string) (*Regex, error) {
	if len(pattern) > MaxPatternSize {
		return nil, fmt.Errorf("osregex: pattern is %d bytes, longer than the %d Wazuh accepts", len(pattern), MaxPatternSize)
	}
	enc := make([]byte, 0, len(pattern))
	depth, parens := 0, 0
	for i := 0; i < len(pattern); i++ {
		c := pattern[i]
		if c == '\\' {
			if i+1 == len(pattern) {
				return nil, fmt.Errorf("osregex: pattern %q ends with a lone backslash", pattern)
			}
			code := escapeCode[pattern[i+1]]
			if code == 0 {
				return nil, fmt.Errorf("osregex: unknown escape \\%c at offset %d in %q", pattern[i+1], i, pattern)
			}
			enc = append(enc, '\\', code)
			i++
			continue
		}
		switch c {
		case '(':
			depth++
			if depth > 1 {
				return nil, fmt.Errorf("osregex: nested group at offset %d in %q: only one level of parentheses is allowed", i, pattern)
			}
		case ')':
			depth--
			if depth < 0 {
				return nil, fmt.Errorf("osregex: unbalanced ')' at offset %d in %q", i, pattern)
			}
			parens++
			c = '('
		case '|':
			if depth != 0 {
				return nil, fmt.Errorf("osregex: '|' inside a group at offset %d in %q", i, pattern)
			}
		}
		enc = append(enc, lower(c))
	}
	if depth != 0 {
		return nil, fmt.Errorf("osregex: unclosed '(' in %q", pattern)
	}

	re := &Regex{raw: pattern, capture: parens > 0}
	for _, part := range splitAlternatives(enc) {
		a := newAlt(part)
		if a.groups > re.groups {
			re.groups = a.groups
		}
		re.alts = append(re.alts, a)
	}
	return re, nil
}

// splitAlternatives cuts the encoded pattern at each '|'. An escaped pipe
// is stored as '\\' plus a code, so a bare '|' byte is always a separator.
func splitAlternatives(enc []byte) [][]byte {
	var parts [][]byte
	start := 0
	for i := 0; i < len(enc); i++ {
		if enc[i] == '\\' {
			i++
			continue
		}
		if enc[i] == '|' {
			parts = append(parts, enc[start:i])
			start = i + 1
		}
	}
	return append(parts, enc[start:])
}

func newAlt(p []byte) alt {
	var a alt
	if len(p) > 0 && p[0] == '^' {
		a.begin = true
		p = p[1:]
	}
	// An escaped dollar is stored as a code byte, so a '$' byte at the end
	// is always the anchor.
	if n := len(p); n > 0 && p[n-1] == '$' {
		a.end = true
		p = p[:n-1]
	}
	a.prog = append([]byte(nil), p...)
	a.slot = make([]int32, len(p))
	n := 0
	for i := 0; i < len(p); i++ {
		a.slot[i] = -1
		switch p[i] {
		case '\\':
			i++
			a.slot[i] = -1
		case '(':
			a.slot[i] = int32(n)
			n++
		}
	}
	a.groups = n / 2
	k := 0
	for k < len(p) && p[k] != '\\' && p[k] != '(' {
		k++
	}
	a.prefix = string(p[:k])
	a.literal = k == len(p) && k > 0 && !a.begin && !a.end
	a.required = requiredRuns(p[k:])
	return a
}

// requiredRuns returns the distinct literal runs of an encoded alternative
// (escapes with their quantifiers and parentheses excluded), longest first,
// at most four: even one rare byte such as '%' rejects most subjects.
func requiredRuns(p []byte) []string {
	var runs []string
	start := -1
	flush := func(end int) {
		if start >= 0 && end > start {
			r := string(p[start:end])
			dup := false
			for _, x := range runs {
				if strings.Contains(x, r) {
					dup = true
					break
				}
			}
			if !dup {
				runs = append(runs, r)
			}
		}
		start = -1
	}
	for i := 0; i < len(p); i++ {
		switch p[i] {
		case '\\':
			flush(i)
			i++ // the escape's code
			if i+1 < len(p) && (p[i+1] == '+' || p[i+1] == '*') {
				i++
			}
		case '(', ')':
			flush(i)
		default:
			if start < 0 {
				start = i
			}
		}
	}
	flush(len(p))
	// Longest first; keep two.
	for i := 1; i < len(runs); i++ {
		for j := i; j > 0 && len(runs[j]) > len(runs[j-1]); j-- {
			runs[j], runs[j-1] = runs[j-1], runs[j]
		}
	}
	if len(runs) > 4 {
		runs = runs[:4]
	}
	return runs
}

// String returns the pattern as written.
func (r *Regex) String() string { return r.raw }

// NumGroups returns the number of capture groups of the alternative that has
// the most. Execute may return fewer captures: only those of the matching
// alternative, and only up to the first group Wazuh left unset.
func (r *Regex) NumGroups() int { return r.groups }

// Match reports whether s matches, as analysisd evaluates a rule's <regex>
// or <field> (compiled without substring capture).
func (r *Regex) Match(s string) bool {
	_, ok := r.MatchEnd(s)
	return ok
}

// MatchEnd is Match that also returns the offset in s just after the match,
// as analysisd computes it for a decoder <prematch> (compiled without
// substring capture) before after_prematch / after_parent offsets.
func (r *Regex) MatchEnd(s string) (end int, ok bool) {
	s = cString(s)
	for i := range r.alts {
		a := &r.alts[i]
		if pos := a.run(s, nil, false); pos != null {
			return endAfter(pos, len(s)), true
		}
	}
	return 0, false
}

// Execute matches s as analysisd runs a decoder <regex> (compiled with
// substring capture). It returns the captured sub-strings of the matching
// alternative in group order, and the offset in s just after the match:
// where an after_regex decoder continues, already advanced past the last
// matched byte the way analysisd does.
//
// Captures stop at the first group whose bounds Wazuh did not record, so
// there may be fewer than NumGroups. When Wazuh would compute a capture that
// ends before it starts (it then fails to allocate it and reports no
// match), Execute reports no match too.
func (r *Regex) Execute(s string) (captures []string, end int, ok bool) {
	s = cString(s)
	var buf [32]int
	var bounds []int
	for i := range r.alts {
		a := &r.alts[i]
		if r.capture {
			if n := 2 * a.groups; n <= len(buf) {
				bounds = buf[:n]
			} else {
				bounds = make([]int, n)
			}
			for j := range bounds {
				bounds[j] = -1
			}
		}
		pos := a.run(s, bounds, r.capture)
		if pos == null {
			continue
		}
		n := 0
		for j := 0; j+1 < len(bounds) && bounds[j] >= 0 && bounds[j+1] >= 0; j += 2 {
			if bounds[j+1] < bounds[j] {
				return nil, 0, false
			}
			n++
		}
		if n > 0 {
			captures = make([]string, n)
			for g := range captures {
				captures[g] = s[bounds[2*g]:bounds[2*g+1]]
			}
		}
		return captures, endAfter(pos, len(s)), true
	}
	return nil, 0, false
}

// endAfter turns the position of the last matched byte, which is what
// Wazuh's matcher returns, into the offset of the next byte, stepping over
// it unless it is already the end of the subject, like analysisd does.
func endAfter(pos, n int) int {
	if pos < n {
		return pos + 1
	}
	return n
}

// cString cuts s at its first NUL byte: Wazuh never sees past it.
func cString(s string) string {
	if i := strings.IndexByte(s, 0); i >= 0 {
		return s[:i]
	}
	return s
}
