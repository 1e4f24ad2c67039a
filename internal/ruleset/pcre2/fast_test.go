package pcre2

import (
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"
)

// constructPatterns exercise, one construct at a time, where Go's regexp
// and regexp2 could part: bytes against runes, case folding of ASCII and
// Latin-1, anchors and newlines, word boundaries, class syntax, empty
// alternatives, laziness, captures in loops, UTF mode.
var constructPatterns = []string{
	`a.c`, `(?s)a.c`, `.`, `^.$`, `^..$`, `.{2}`, `(.)(.)`,
	`^a`, `a$`, `^$`, `$`, `(?m)\n^`, `(?m)^a$`, `(?m)a$`, `(?m)^`, `(?m)^$`, `\Aa\z`, `a\Z`, `\Z`, `a$|b`,
	`\ba\b`, `\Ba`, `a\B`, `\b`, `\B`, `\b\w+\b`,
	`\w+`, `\W+`, `\d\D`, `\s\S`, `\s+`, `\h\H`, `\v\V`, `\R`, `a\Rb`, `\N+`,
	`[[:alpha:]]+`, `[[:^space:]]`, `[[:punct:]]+`, `[[:word:]]`, `[^[:alnum:]]`,
	`(?i)k`, `(?i)s+`, `(?i)[k-s]+`, `(?i)[^k]`, `(?i)\W`, `(?i)\w+`, `(?i)[^\W]`, `(?i)[Z-a]`,
	"(?i)\xe9", "(?i)[\xe9]", "(?i)[\xc9]+", "(?i)[^\xe9]", "\xe9+", "[\xe9\xc9]", "[^\xe9]+",
	`(?i)[\xC0-\xDE]+`, `(?i)[\xe0-\xfe]`, `(?i)\xB5`, `(?i)[\xB5\xFF]`, `(?i)[\x80-\xff]`,
	`é`, `(?i)é`, `[é]+`, `[^é]`, `(?i)[^é]+`,
	`a|`, `|a`, `(a|)b`, `(a)|(b)`, `(a)?(b)?c`, `(a)?b(c)?`, `(?:ab|a)(?:bc|c)?`, `(a|ab)(c|bcd)(d*)`,
	`(?U)a+`, `(?U)a+?`, `a{2,3}`, `a{2,3}?`, `a{2}`, `a{,2}`, `a{x}`, `0{00}`, `a{01,002}`, `a{0,}`, `a*?b`, `a+?`,
	`(a|b)*c`, `((a)|b)+`, `(a+)+$`, `(\w)(\w)?`, `(a*)+`, `(a|)*`, `(a*)*b`, `(a?)?`, `(?:a*)*`, `(a*)?`,
	`\x41\101\o{101}`, `\e\a\f`, `\cA`, `\Q.*\E`, `\Q.*`, `a\_b`, `\#`,
	`(*UTF)é`, `(*UTF).`, `(*UTF)^.$`, `(*UTF)[^a]+`, `(*UTF)\x{e9}`, `(*UTF)(?i)é`, `(*UTF)(?i)k`, `(*UTF)\w\W`,
	`a(?i)b|c`, `(?i:a)b`, `(?-i)a`, `(?i)a(?-i)b`, `(?i)(a(?-i)b)c`, `(?s:.)(?m:$)`,
	`(?P<n>a)(?<m>b)`, `(a)(?:b)(c)`, `(?'x'a)\k<x>`,
	`[\d-z]`, `[a-]`, `[]a]`, `[^]a]`, `[\w-.]+`, `[a\-z]`, `[\]]`, `[\\]`, `[-a]`, `[a-c-e]`,
	`[a-\d]`, `[\d-\w]`, `[%--]`, `[--/]`, `[\--\/]`, `[a-\-]`, `[^-a]`, `[\s-a]`, `[[:digit:]-z]`, `[a-[:digit:]]`,
	`x*`, `x*?`, `(?=a)`, `a(?!b)`, `(?<=a)b`, `(?>a+)b`, `(a)?(?(1)b|c)`, `a(*FAIL)|b`, `(*FAIL)`,
	`(?#comment)a`, `\Ga`, `\pL`, `(*UCP)\w`, `(?x) a b`,
}

// constructAlphabet holds the bytes that tell the engines apart: letters
// that fold, Latin-1 bytes, broken UTF-8, spaces and newlines.
var constructAlphabet = []string{
	"a", "A", "b", "B", "c", "d", "k", "K", "s", "S", "_", "0", "9", " ", "\t", "\n", "\v", "\r", "-", ".", "\\",
	"\xe9", "\xc9", "\xc3", "\xa9", "\xb5", "\xff", "\x85", "\xa0", "\x00", "\x80",
	"é", "É", "\u212a", "\u017f", "\u0130", "\u2028",
}

// constructSubjects returns every string of up to two symbols of the
// alphabet and n random longer ones.
func constructSubjects(n int) []string {
	out := []string{""}
	for _, x := range constructAlphabet {
		out = append(out, x)
		for _, y := range constructAlphabet {
			out = append(out, x+y)
		}
	}
	rng := rand.New(rand.NewPCG(2, 3))
	for range n {
		var b strings.Builder
		for k := 3 + rng.IntN(10); k > 0; k-- {
			b.WriteString(constructAlphabet[rng.IntN(len(constructAlphabet))])
		}
		out = append(out, b.String())
	}
	return out
}

func TestConstructsAgreeWithRegexp2(t *testing.T) {
	subjects := constructSubjects(3000)
	for _, pattern := range constructPatterns {
		t.Run(pattern, func(t *testing.T) {
			re, err := Compile(pattern, WithTimeout(time.Second))
			if err != nil {
				t.Skipf("not compiled: %v", err)
			}
			fails := 0
			for _, s := range subjects {
				if _, err := compareOne(re, s); err != nil {
					t.Error(err)
					if fails++; fails == 5 {
						t.FailNow()
					}
				}
			}
		})
	}
}

func TestRE2PathIsChosenPerConstruct(t *testing.T) {
	tests := []struct {
		pattern string
		re2     bool
	}{
		{`^[^,]*,\d+\/\d+\/\d+\s\d+:\d+:\d+,\d+,\w+,`, true},
		{`(?i)\\(c|w)script\.exe`, true},
		{`a$`, true},
		{`\ba\B`, true},
		{`(?P<n>a)(b)`, true},
		{`a(*FAIL)|b`, true},
		{`(*UTF)\N{U+202E}`, true},
		{`(*UTF)(?i)a`, false},
		{`(*UCP)\w`, false},
		{`(?x)a b`, false},
		{`\pL`, false},
		{`(?=a)a`, false},
		{`(a)\1`, false},
		{`(?>a)`, false},
		{`(a)?(?(1)b|c)`, false},
		{`\Ga`, false},
		{`(a|)*`, false},
		{`(a*)+`, false},
		{`(a*)?`, false},
		{`a{1001}`, false},
	}
	for _, tt := range tests {
		re, err := Compile(tt.pattern)
		if err != nil {
			t.Fatal(err)
		}
		if got := re.fast != nil; got != tt.re2 {
			t.Errorf("%q: RE2 path %v, want %v (%s)", tt.pattern, got, tt.re2, re.slowWhy)
		}
	}
}

func TestPrefilterConditions(t *testing.T) {
	lits := func(ss ...string) []lit {
		var out []lit
		for _, s := range ss {
			fold := strings.HasPrefix(s, "(?i)")
			out = append(out, lit{s: strings.TrimPrefix(s, "(?i)"), fold: fold})
		}
		return out
	}
	tests := []struct {
		name     string
		pattern  string
		prefixes []lit
		clauses  [][]lit
	}{
		{"a literal is required", `ORA\-`, nil, [][]lit{lits("ORA-")}},
		{"a literal ends at a class", `[^%]*%FTD-[0-7]-[^:\s]+[:\s].*`, nil, [][]lit{lits("%FTD-")}},
		{"an anchored literal is a prefix", `^Failed (\w+) for`, lits("Failed "), [][]lit{lits(" for")}},
		{"a clause the prefix implies is dropped", `^Failed password`, lits("Failed password"), nil},
		{"branches give one clause", `CEF:0\|F5\|ASM\|[^\|]+\||CEF:0\|F5\|[^\|]+`, nil, [][]lit{lits("CEF:0|F5|")}},
		{"alternatives of a branch are expanded", `Disconnect(?:ed|ing) (?:from )?user `, nil, [][]lit{lits("Disconnect")}},
		{"case-insensitive literals fold", `(?i)lsass\.exe`, nil, [][]lit{lits("(?i)lsass.exe")}},
		{"a folded class is a folded letter", `[Pp]assword`, nil, [][]lit{lits("(?i)password")}},
		{"anchored branches give prefixes", `^abc|^de`, lits("abc", "de"), nil},
		{"a lookaround is left out", `^(?=.*a)(?!b)xyz`, lits("xyz"), nil},
		{"a back reference ends a literal", `(ab)\1cd`, nil, [][]lit{lits("ab"), lits("cd")}},
		{"many literals shrink to their common part", `:\s`, nil, [][]lit{lits(":")}},
		{"or are not worth it", `[:;][\s,]`, nil, nil},
		{"(*FAIL) everywhere cannot match", `a(*FAIL)`, nil, [][]lit{{}}},
		{"bytes above 0x7F are bytes", "\xe9t\xe9", nil, [][]lit{lits("\xe9t\xe9")}},
		{"in UTF mode they are UTF-8", `(*UTF)\x{e9}t\x{e9}`, nil, [][]lit{lits("ét\u00e9")}},
		{"no condition for a class", `\d+`, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			re, err := Compile(tt.pattern)
			if err != nil {
				t.Fatal(err)
			}
			var got prefilter
			if re.pre != nil {
				got = *re.pre
			}
			if re.literal != "" && re.pre == nil {
				got.clauses = [][]lit{{{s: re.literal}}}
			}
			if !reflect.DeepEqual(got.prefixes, tt.prefixes) || !reflect.DeepEqual(got.clauses, tt.clauses) {
				t.Errorf("%q: prefixes %+v, clauses %+v; want %+v, %+v", tt.pattern, got.prefixes, got.clauses, tt.prefixes, tt.clauses)
			}
		})
	}
}

func TestNeedlesFindWhatStringsContainsFinds(t *testing.T) {
	literals := []string{" for invalid user ", "%FTD-", "a", "zz", "ab", " ", "xq:", "\xe9t", ":\t"}
	rng := rand.New(rand.NewPCG(4, 5))
	for _, l := range literals {
		n := newNeedle(lit{s: l})
		for range 2000 {
			var b strings.Builder
			for k := rng.IntN(40); k > 0; k-- {
				switch rng.IntN(6) {
				case 0:
					b.WriteString(l[:rng.IntN(len(l)+1)])
				case 1:
					b.WriteString(l)
				default:
					const pool = " azqx:%\t\xe9FTD-"
					b.WriteByte(pool[rng.IntN(len(pool))])
				}
			}
			s := b.String()
			if got, want := n.in(s), strings.Contains(s, l); got != want {
				t.Fatalf("needle %q (at %d) in %q = %v, want %v", l, n.at, s, got, want)
			}
			if got, want := n.prefixOf(s), strings.HasPrefix(s, l); got != want {
				t.Fatalf("needle %q prefix of %q = %v, want %v", l, s, got, want)
			}
			lower := strings.ToLower(l)
			if got, want := containsFold(s, lower), strings.Contains(strings.ToLower(s), lower); got != want && isASCII(s) {
				t.Fatalf("containsFold(%q, %q) = %v, want %v", s, lower, got, want)
			}
		}
	}
}

func TestContainsFold(t *testing.T) {
	tests := []struct {
		s, lower string
		want     bool
	}{
		{"C:\\Windows\\LSASS.EXE", "lsass.exe", true},
		{"lsass.ex", "lsass.exe", false},
		{"xLsAsS", "lsass", true},
		{"lsas", "lsass", false},
		{"aaaab", "ab", true},
		{"AAAAB", "ab", true},
		{"AaAaA", "ab", false},
		{"\xe9LSASS", "lsass", true},
		{"abc", "", true},
		{"x.EXE.exe", ".exe", true},
		{"x.EXf", ".exe", false},
	}
	for _, tt := range tests {
		if got := containsFold(tt.s, tt.lower); got != tt.want {
			t.Errorf("containsFold(%q, %q) = %v, want %v", tt.s, tt.lower, got, tt.want)
		}
	}
}

func TestLatin1OffsetsMapBack(t *testing.T) {
	s := "a\xe9b\xffc"
	buf := latin1(s)
	if got := string(*buf); got != "aébÿc" {
		t.Fatalf("latin1(%q) = %q", s, got)
	}
	putBytes(buf)
	loc := []int{0, 3, -1, -1, 6, 7}
	latin1Offsets(s, loc)
	if want := []int{0, 2, -1, -1, 4, 5}; !reflect.DeepEqual(loc, want) {
		t.Errorf("offsets %v, want %v", loc, want)
	}
}

func TestFinalNewlineGoesToRegexp2WhenThePatternHasADollar(t *testing.T) {
	re, err := Compile(`(\w+)$`)
	if err != nil {
		t.Fatal(err)
	}
	if !re.dollar || re.goFits("abc\n") || !re.goFits("abc") {
		t.Fatalf("dollar %v, goFits %v %v", re.dollar, re.goFits("abc\n"), re.goFits("abc"))
	}
	caps, end, ok, err := re.Execute("abc\n")
	if err != nil || !ok || end != 3 || !reflect.DeepEqual(caps, []string{"abc"}) {
		t.Errorf("Execute = %q, %d, %v, %v", caps, end, ok, err)
	}
}

// fuzzPatterns are the hot prematches and a few constructs whose Go form
// and automaton are exercised by the fuzz targets.
func fuzzPatterns(tb testing.TB) []*Regex {
	var res []*Regex
	patterns := []string{`(\w+)@(\w+)`, `(?i)^(?:informational|low)$`, `^(\S+)\s([^\[]+)\[(\d+)\]:\s([0-9a-fA-F]+):(\d+):\s(.*)$`,
		`(?m)^LENGTH : '(\d+)'\n`, `(?mUs)ACTION :(.*)(?:^[A-Z\s]+:)`, `\bport\s(\d+)\b`, `(a|ab)(c|bcd)(d*)`, "\xe9+(.)"}
	for _, hp := range hotPatterns {
		patterns = append(patterns, hp.pattern)
	}
	for _, p := range patterns {
		re, err := Compile(p, WithTimeout(time.Second))
		if err != nil {
			tb.Fatal(err)
		}
		res = append(res, re)
	}
	return res
}

// FuzzSubjects compares the fast implementation with regexp2 alone on
// fuzzed subjects.
func FuzzSubjects(f *testing.F) {
	for _, s := range syslogLines {
		f.Add(s)
	}
	for _, s := range []string{"", "\n", "a\xffb", "%FTD-4-411001: x\n", "x 1:2:3 ab: c 1.2.3.4", "é 12:00:00 a: b 1a1a1a1"} {
		f.Add(s)
	}
	res := fuzzPatterns(f)
	f.Fuzz(func(t *testing.T, s string) {
		for _, re := range res {
			if _, err := compareOne(re, s); err != nil {
				t.Errorf("%q: %v", re.String(), err)
			}
		}
	})
}

// FuzzPatterns compares them on fuzzed patterns and subjects: whatever
// compiles must give regexp2's answers.
func FuzzPatterns(f *testing.F) {
	for _, p := range constructPatterns {
		f.Add(p, "xa\xe9b 12:34 K\n")
	}
	for _, hp := range hotPatterns {
		f.Add(hp.pattern, syslogLines[0])
	}
	f.Fuzz(func(t *testing.T, pattern, s string) {
		if len(pattern) > 200 || len(s) > 1000 {
			return
		}
		re, err := Compile(pattern, WithTimeout(100*time.Millisecond))
		if err != nil {
			return
		}
		if _, err := compareOne(re, s); err != nil {
			t.Errorf("%q: %v", pattern, err)
		}
	})
}
