// Package pcre2 runs the PCRE2 patterns of Wazuh rules and decoders
// (type="pcre2") on github.com/dlclark/regexp2, a backtracking engine, with
// a time limit on every match so that a catastrophic pattern cannot stall
// analysis.
//
// Wazuh compiles these patterns with no options: case-sensitive, "."
// excluding newline, "$" matching at the end or before a final newline,
// and bytes rather than characters (unless the pattern starts with (*UTF)).
// Patterns are translated to regexp2 syntax so that those semantics hold;
// see translate.go for what is rewritten and what is refused.
//
// Known differences that remain: case-insensitive classes that list bytes
// above 127 fold Latin-1 letters, "(?m)^" also matches after a final
// newline, a "(?x)" comment is not parsed by the translator, and PCRE2's
// match-limit errors are time-outs here.
//
// regexp2 is the reference, but it is slow: a backtracking engine, with
// the subject converted to runes on every call. Matching is made fast
// without changing any result (fast.go):
//
//   - a prefilter (prefilter.go, literals.go) rejects, with a few byte
//     searches, subjects that lack a literal every match contains;
//   - patterns whose Go regexp form means exactly what the .NET one does
//     (re2.go says construct by construct) run on Go's regexp, and a
//     deterministic automaton built from the same program (dfa.go) tells
//     match from no match at one table look-up per byte;
//   - regexp2 remains for lookarounds, back references and the other
//     constructs Go lacks, and for the few subjects the Go form cannot
//     take.
//
// Only regexp2 can time out: where it would have, the fast paths give the
// real answer instead of ErrTimeout. A differential test runs every pcre2
// expression of Wazuh's ruleset over its test logs and variants of them
// with and without the fast paths.
package pcre2

import (
	"errors"
	"fmt"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/dlclark/regexp2"
)

// DefaultTimeout bounds a single Match or Execute call that runs on
// regexp2.
const DefaultTimeout = 100 * time.Millisecond

// ErrTimeout is wrapped by the error a match returns when it ran out of
// time. Wazuh would have counted such a subject as not matching.
var ErrTimeout = errors.New("pcre2: match timed out")

// Regex is a compiled PCRE2 pattern. It is safe for concurrent use.
type Regex struct {
	raw     string
	re      *regexp2.Regexp
	utf     bool
	groups  int
	timeout time.Duration

	fastPath // see fast.go
}

// Option changes how Compile builds a Regex.
type Option func(*Regex)

// WithTimeout sets the time limit of each match run on regexp2; zero or
// less means none. The other paths are linear and need none.
func WithTimeout(d time.Duration) Option {
	return func(r *Regex) { r.timeout = d }
}

// Compile translates and compiles a PCRE2 pattern. Constructs regexp2
// cannot run the way PCRE2 does are reported as errors.
func Compile(pattern string, opts ...Option) (*Regex, error) {
	r := &Regex{raw: pattern, timeout: DefaultTimeout}
	for _, o := range opts {
		o(r)
	}
	tr, err := translate(pattern)
	if err != nil {
		return nil, fmt.Errorf("pcre2 %q: %w", pattern, err)
	}
	re, err := regexp2.Compile(tr.pattern, regexp2.None)
	if err != nil {
		return nil, fmt.Errorf("pcre2 %q: %w", pattern, err)
	}
	if r.timeout > 0 {
		re.MatchTimeout = r.timeout
	}
	r.re, r.utf, r.groups = re, tr.utf, tr.groups
	r.fastPath = newFastPath(tr)
	return r, nil
}

// String returns the pattern as written.
func (r *Regex) String() string { return r.raw }

// NumGroups returns the number of capture groups in the pattern.
func (r *Regex) NumGroups() int { return r.groups }

// Timeout returns the time limit of each match, or 0 for none.
func (r *Regex) Timeout() time.Duration { return r.timeout }

// Match reports whether s matches. On a time-out the error wraps ErrTimeout
// and the result is false.
func (r *Regex) Match(s string) (bool, error) {
	if ok, done := r.matchFast(s); done {
		return ok, nil
	}
	return r.matchSlow(s)
}

// matchSlow is Match on regexp2 alone.
func (r *Regex) matchSlow(s string) (bool, error) {
	buf, ok := r.subject(s)
	if !ok {
		return false, nil
	}
	defer putRunes(buf)
	matched, err := r.re.MatchRunes(*buf)
	if err != nil {
		return false, r.timeoutError()
	}
	return matched, nil
}

// Execute matches s and returns the captured groups and the offset in s
// just after the match, where a decoder with offset="after_regex"
// continues.
//
// Like Wazuh's PCRE2 wrapper, the captures run from group 1 to the last
// group that took part in the match; a group in between that did not take
// part is the empty string.
func (r *Regex) Execute(s string) (captures []string, end int, ok bool, err error) {
	if captures, end, ok, done := r.executeFast(s); done {
		return captures, end, ok, nil
	}
	return r.executeSlow(s)
}

// executeSlow is Execute on regexp2 alone.
func (r *Regex) executeSlow(s string) (captures []string, end int, ok bool, err error) {
	buf, valid := r.subject(s)
	if !valid {
		return nil, 0, false, nil
	}
	defer putRunes(buf)
	m, err := r.re.FindRunesMatch(*buf)
	if err != nil {
		return nil, 0, false, r.timeoutError()
	}
	if m == nil {
		return nil, 0, false, nil
	}
	offset := r.offsets(s)
	groups := m.Groups()
	last := 0
	for i := 1; i < len(groups); i++ {
		if len(groups[i].Captures) > 0 {
			last = i
		}
	}
	if last > 0 {
		captures = make([]string, last)
		for i := 1; i <= last; i++ {
			if g := &groups[i]; len(g.Captures) > 0 {
				captures[i-1] = s[offset(g.Index):offset(g.Index+g.Length)]
			}
		}
	}
	return captures, offset(m.Index + m.Length), true, nil
}

func (r *Regex) timeoutError() error {
	return fmt.Errorf("pcre2 %q: %w after %v", r.raw, ErrTimeout, r.timeout)
}

// subject converts s to the runes regexp2 matches: one per byte, or one per
// code point in UTF mode, where invalid UTF-8 makes PCRE2 (and so Wazuh)
// report no match.
func (r *Regex) subject(s string) (*[]rune, bool) {
	if r.utf && !utf8.ValidString(s) {
		return nil, false
	}
	buf := getRunes()
	b := (*buf)[:0]
	if r.utf {
		for _, c := range s {
			b = append(b, c)
		}
	} else {
		for i := 0; i < len(s); i++ {
			b = append(b, rune(s[i]))
		}
	}
	*buf = b
	return buf, true
}

// offsets returns a function from rune index to byte offset in s.
func (r *Regex) offsets(s string) func(int) int {
	if !r.utf {
		return func(i int) int { return i }
	}
	return func(i int) int {
		off := 0
		for ; i > 0; i-- {
			_, n := utf8.DecodeRuneInString(s[off:])
			off += n
		}
		return off
	}
}

var runePool = sync.Pool{New: func() any { b := make([]rune, 0, 512); return &b }}

func getRunes() *[]rune { return runePool.Get().(*[]rune) }

func putRunes(b *[]rune) {
	if cap(*b) <= 1<<16 {
		runePool.Put(b)
	}
}
