package pcre2

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"
)

// The regexp2 reference is slow on some ruleset patterns: the 43 Cisco FTD
// ones that start with [^%]* or ([^%]+)? take time quadratic in the
// subject length, up to 160 ms on one 3.6 kB log and about a minute each
// for the logs alone. So that the test runs in a minute or so, each reference
// match may take refTimeout and each pattern refBudget of reference time
// in all; subjects are tried from the shortest, logs before variants, and
// what is left out is counted and logged.
const refTimeout = 20 * time.Millisecond

func refBudget() time.Duration {
	if testing.Short() {
		return 250 * time.Millisecond
	}
	return time.Second
}

// outcome is what Execute reports.
type outcome struct {
	captures []string
	end      int
	ok       bool
}

func (o outcome) String() string {
	if !o.ok {
		return "no match"
	}
	return fmt.Sprintf("match ending at %d, captures %q", o.end, o.captures)
}

// diffStats counts what a differential run compared.
type diffStats struct {
	pairs, matched, rejected, onRE2, onDFA int
	timeouts, overBudget, patternsCut      int
}

func (s *diffStats) add(o diffStats) {
	s.pairs += o.pairs
	s.matched += o.matched
	s.rejected += o.rejected
	s.onRE2 += o.onRE2
	s.onDFA += o.onDFA
	s.timeouts += o.timeouts
	s.overBudget += o.overBudget
	s.patternsCut += o.patternsCut
}

// compareOne runs re on s through Match, Execute and the RE2 path alone,
// and reports any difference from regexp2 alone.
func compareOne(re *Regex, s string) (diffStats, error) {
	var st diffStats
	caps, end, ok, err := re.executeSlow(s)
	if errors.Is(err, ErrTimeout) {
		st.timeouts++
		return st, nil
	}
	if err != nil {
		return st, err
	}
	st.pairs++
	want := outcome{caps, end, ok}
	if ok {
		st.matched++
	}
	// Where the fast implementation falls back to regexp2 it may time out
	// in turn (a close call): that is regexp2's answer, not a difference.
	caps, end, ok, err = re.Execute(s)
	if got := (outcome{caps, end, ok}); err != nil && !errors.Is(err, ErrTimeout) || err == nil && !reflect.DeepEqual(got, want) {
		return st, fmt.Errorf("Execute(%q) = %v, %v; regexp2 alone: %v", s, got, err, want)
	}
	if m, err := re.Match(s); err != nil && !errors.Is(err, ErrTimeout) || err == nil && m != want.ok {
		return st, fmt.Errorf("Match(%q) = %v, %v; regexp2 alone: %v", s, m, err, want.ok)
	}
	if re.pre != nil && !re.pre.mayMatch(s) {
		st.rejected++
	}
	if re.goFits(s) && (!re.utf || utf8.ValidString(s)) {
		// Go's regexp on its own, also where the prefilter or the
		// automaton stop first.
		st.onRE2++
		caps, end, ok := re.executeGo(s)
		if got := (outcome{caps, end, ok}); !reflect.DeepEqual(got, want) {
			return st, fmt.Errorf("RE2 path on %q: %v; regexp2 alone: %v", s, got, want)
		}
	}
	if d := re.auto.get(); d != nil && re.goFits(s) && (!re.utf || isASCII(s)) {
		// The automaton on its own.
		st.onDFA++
		if got := d.match(s); got != want.ok {
			return st, fmt.Errorf("automaton on %q: %v; regexp2 alone: %v", s, got, want.ok)
		}
	}
	return st, nil
}

// multiByte and invalidUTF8 are inserted into subjects to leave the ASCII
// fast path; some fold to ASCII letters in one engine or the other.
var (
	multiByte   = []string{"é", "É", "ß", "日本", "\u202E", "\u212A", "\u017F", "\u0130", "\u00A0", "\u0085", "\u2028", "€"}
	invalidUTF8 = []string{"\xff", "\xc3", "\xe2\x82", "\x80", "\xe9", "\xc0\xaf", "\xa0", "\x85"}
	oddBytes    = []byte(" \t\n\r\v\f%:,;/\\|[](){}<>=\"'-_.@#0123456789aAzZkKsS\x00\x7f")
)

// mutate returns s changed in one to three random ways.
func mutate(rng *rand.Rand, s string) string {
	for n := 1 + rng.IntN(3); n > 0; n-- {
		i := 0
		if len(s) > 0 {
			i = rng.IntN(len(s) + 1)
		}
		j := min(len(s), i+1+rng.IntN(8))
		switch rng.IntN(9) {
		case 0: // replace a byte
			if i < len(s) {
				s = s[:i] + string(oddBytes[rng.IntN(len(oddBytes))]) + s[i+1:]
			}
		case 1: // insert a byte
			s = s[:i] + string(oddBytes[rng.IntN(len(oddBytes))]) + s[i:]
		case 2: // delete a span
			s = s[:i] + s[j:]
		case 3: // repeat a span
			s = s[:j] + s[i:j] + s[j:]
		case 4: // swap the case of a span
			s = s[:i] + swapCase(s[i:j]) + s[j:]
		case 5: // cut the end
			s = s[:i]
		case 6:
			s = s[:i] + multiByte[rng.IntN(len(multiByte))] + s[i:]
		case 7:
			s = s[:i] + invalidUTF8[rng.IntN(len(invalidUTF8))] + s[i:]
		case 8: // a digit for another
			if k := strings.IndexAny(s[i:], "0123456789"); k >= 0 {
				s = s[:i+k] + string(rune('0'+rng.IntN(10))) + s[i+k+1:]
			}
		}
	}
	return s
}

func swapCase(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c|0x20 >= 'a' && c|0x20 <= 'z' {
			b[i] = c ^ 0x20
		}
	}
	return string(b)
}

// diffSubjects returns the logs and variants of them: with a final
// newline, without a syslog header, quoted JSON values, random mutations,
// multi-byte and invalid UTF-8, and the empty string.
func diffSubjects(logs []string, variants int, seed uint64) []string {
	rng := rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
	seen := map[string]bool{}
	var out []string
	add := func(s string) {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	add("")
	add("\n")
	for _, line := range logs {
		add(line)
	}
	// Shortest first (see refTimeout), the logs before their variants.
	slices.SortStableFunc(out, func(a, b string) int { return len(a) - len(b) })
	logsEnd := len(out)
	for _, line := range logs {
		if variants == 0 {
			break
		}
		add(line + "\n")
		if _, msg, ok := strings.Cut(line, ": "); ok {
			add(msg)
		}
		if parts := strings.Split(line, `"`); len(parts) > 2 {
			for k := 0; k < 3; k++ {
				add(strings.ReplaceAll(parts[rng.IntN(len(parts))], `\\`, `\`))
			}
		}
		add(line[:len(line)/2] + multiByte[rng.IntN(len(multiByte))] + line[len(line)/2:])
		add(line + invalidUTF8[rng.IntN(len(invalidUTF8))])
		for k := 0; k < variants; k++ {
			add(mutate(rng, line))
		}
	}
	tail := out[logsEnd:]
	slices.SortStableFunc(tail, func(a, b string) int { return len(a) - len(b) })
	return out
}

// TestRulesetPatternsAgreeWithRegexp2 is the proof that the prefilter and
// the RE2 path change no result: every pcre2 expression of the ruleset
// against every test log and variants of them, compared with regexp2
// alone.
func TestRulesetPatternsAgreeWithRegexp2(t *testing.T) {
	root := rulesetDir(t)
	all := rulesetPatterns(t, root)
	logs := rulesetLogs(t, root)
	variants := 4
	if testing.Short() {
		variants = 0
	}
	subjects := diffSubjects(logs, variants, 1)

	var patterns []rulesetPattern
	seen := map[string]bool{}
	for _, p := range all {
		if !seen[p.pattern] {
			seen[p.pattern] = true
			patterns = append(patterns, p)
		}
	}
	res := make([]*Regex, len(patterns))
	withRE2, withPre, withDFA := 0, 0, 0
	for i, p := range patterns {
		re, err := Compile(p.pattern, WithTimeout(refTimeout))
		if err != nil {
			t.Fatalf("%s: %v", p.where, err)
		}
		res[i] = re
		if re.fast != nil {
			withRE2++
		}
		if re.pre != nil {
			withPre++
		}
		if re.auto.get() != nil {
			withDFA++
		}
	}

	// Patterns are shared out to one worker per CPU.
	var (
		mu    sync.Mutex
		total diffStats
		next  int
		wg    sync.WaitGroup
	)
	fails := 0
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for {
				mu.Lock()
				i := next
				next++
				mu.Unlock()
				if i >= len(res) {
					return
				}
				var st diffStats
				var spent time.Duration
				for k, s := range subjects {
					if spent > refBudget() {
						st.overBudget += len(subjects) - k
						st.patternsCut++
						break
					}
					start := time.Now()
					one, err := compareOne(res[i], s)
					spent += time.Since(start)
					st.add(one)
					if err != nil {
						mu.Lock()
						if fails++; fails <= 20 {
							t.Errorf("%s %q: %v", patterns[i].where, patterns[i].pattern, err)
						}
						mu.Unlock()
					}
				}
				mu.Lock()
				total.add(st)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	t.Logf("%d pcre2 expressions (%d distinct; %d on the RE2 path, %d of them with an automaton; %d with a prefilter), %d subjects from %d logs",
		len(all), len(patterns), withRE2, withDFA, withPre, len(subjects), len(logs))
	t.Logf("%d pairs compared: %d matches, %d rejected by the prefilter; also alone: %d on the RE2 path, %d on the automaton",
		total.pairs, total.matched, total.rejected, total.onRE2, total.onDFA)
	t.Logf("left out: %d pairs where regexp2 took over %v, %d pairs of %d patterns past their %v budget",
		total.timeouts, refTimeout, total.overBudget, total.patternsCut, refBudget())
}
