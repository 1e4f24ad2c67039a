package pcre2

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestExecuteFollowsPCRE2(t *testing.T) {
	tests := []struct {
		name     string
		pattern  string
		subject  string
		ok       bool
		end      int
		captures []string
	}{
		{"matching is case-sensitive by default", `Failed`, "failed", false, 0, nil},
		{"(?i) makes it case-insensitive", `(?i)^(?:informational|low)$`, "LOW", true, 3, nil},
		{"end is the offset just after the match", `port \d+`, "from x port 22 ssh2", true, 14, nil},
		{"groups are returned in order", `(\w+)@(\w+)`, "mail root@host now", true, 14, []string{"root", "host"}},
		{"named groups are numbered in order with the others", `(?<y>\d+)-(\d+)`, "x 12-34", true, 7, []string{"12", "34"}},
		{"python-style named groups work", `(?P<a>a)(?P=a)`, "aa", true, 2, []string{"a"}},
		{"a group that did not take part is empty", `(a)?(b)`, "b", true, 1, []string{"", "b"}},
		{"trailing groups that did not take part are dropped", `(a)(b)?`, "a", true, 1, []string{"a"}},
		{"$ matches before a final newline", `abc$`, "abc\n", true, 3, nil},
		{". does not match a newline", `a.c`, "a\nc", false, 0, nil},
		{"lookbehind works", `(?<=user=)\w+`, "user=bob", true, 8, nil},
		{"negative lookahead works", `^(?!^$|^-$).*`, "-", false, 0, nil},
		{"lookahead conjunction works", `^(?=.*a)(?=.*x)`, "xyza", true, 0, nil},
		{`\d is ASCII only`, `\d`, "\u0663", false, 0, nil},
		{`\w does not match non-ASCII bytes`, `^\w+`, "josé", true, 3, nil},
		{`\s includes a vertical tab`, `a\sb`, "a\vb", true, 3, nil},
		{`\b uses ASCII word characters`, `\bé`, " é", false, 0, nil},
		{"subjects are bytes without (*UTF)", `^.{5}$`, "josé", true, 5, nil},
		{"(*UTF) matches code points", `(*UTF)^.{4}$`, "josé", true, 5, nil},
		{`(*UTF) with \N{U+...} finds the code point`, `(*UTF)\N{U+202E}`, "abc\u202Eexe", true, 6, nil},
		{"(*UTF) does not match invalid UTF-8", `(*UTF)a`, "a\xff", false, 0, nil},
		{"a non-ASCII literal matches its bytes", `é+`, "xéé", true, 3, nil},
		{`\Q...\E quotes metacharacters`, `\Q.*\E`, "a.*b", true, 3, nil},
		{`\x{...} is a code`, `\x{41}\x42`, "AB", true, 2, nil},
		{"POSIX classes work", `^[[:digit:][:upper:]]+$`, "A1B2", true, 4, nil},
		{"negated shorthands work inside a class", `^[\W\d]+$`, "1-2", true, 3, nil},
		{"an escaped backslash before A is literal", `^(?!^N\\A$|^$).*`, `N\A`, false, 0, nil},
		{"(?U) swaps greediness", `(?U)a(.*)b`, "axbxb", true, 3, []string{"x"}},
		{"(?U) then a lazy mark is greedy", `(?U)a(.*?)b`, "axbxb", true, 5, []string{"xbx"}},
		{"an escaped underscore is a literal", `a\_b`, "a_b", true, 3, nil},
		{"an escaped hyphen can start a range", `[\--\/]+`, "a-./b", true, 4, nil},
		{"an escaped hyphen can end a range", `x[\%-\-]+`, "x%,-y", true, 4, nil},
		{"an escaped hyphen alone is a hyphen", `^[a\-z]+$`, "a-z", true, 3, nil},
		{"\\R matches a CRLF", `a\Rb`, "a\r\nb", true, 4, nil},
		{"(*FAIL) never matches", `a(*FAIL)|b`, "ab", true, 2, nil},
		{"back references work", `(\w)\1`, "abcc", true, 4, []string{"c"}},
		{"relative back references work", `(\w)\g{-1}`, "abcc", true, 4, []string{"c"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			re, err := Compile(tt.pattern)
			if err != nil {
				t.Fatal(err)
			}
			caps, end, ok, err := re.Execute(tt.subject)
			if err != nil {
				t.Fatal(err)
			}
			if ok != tt.ok || end != tt.end || !reflect.DeepEqual(caps, tt.captures) {
				t.Errorf("Execute(%q, %q) = %q, %d, %v; want %q, %d, %v",
					tt.pattern, tt.subject, caps, end, ok, tt.captures, tt.end, tt.ok)
			}
			m, err := re.Match(tt.subject)
			if err != nil || m != tt.ok {
				t.Errorf("Match(%q) = %v, %v; want %v", tt.subject, m, err, tt.ok)
			}
		})
	}
}

func TestCompileRejectsWhatRegexp2CannotRun(t *testing.T) {
	for name, pattern := range map[string]string{
		"recursion":                 `a(?R)?b`,
		"a subroutine call":         `(a)(?1)`,
		"a possessive quantifier":   `a++b`,
		"branch reset":              `(?|(a)|(b))`,
		"an unknown escape":         `\i`,
		"a trailing backslash":      `abc\`,
		"an unclosed class":         `[abc`,
		"a backtracking verb":       `a(*SKIP)b`,
		"a code point above a byte": `\x{100}`,
		"a syntax error":            `(abc`,
	} {
		t.Run(name+" is an error", func(t *testing.T) {
			if _, err := Compile(pattern); err == nil {
				t.Errorf("Compile(%q) succeeded", pattern)
			}
		})
	}
}

func TestCatastrophicPatternTimesOut(t *testing.T) {
	// The lookahead keeps the pattern on regexp2.
	re, err := Compile(`^(?!b)(a+)+$`, WithTimeout(50*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	subject := strings.Repeat("a", 40) + "!"
	_, _, ok, err := re.Execute(subject)
	if !errors.Is(err, ErrTimeout) || ok {
		t.Fatalf("Execute = %v, %v; want a time-out", ok, err)
	}
	if !strings.Contains(err.Error(), `^(?!b)(a+)+$`) {
		t.Errorf("error %q does not name the pattern", err)
	}
	if m, err := re.Match(subject); !errors.Is(err, ErrTimeout) || m {
		t.Fatalf("Match = %v, %v; want a time-out", m, err)
	}
}

func TestRE2PathAnswersWhereRegexp2TimesOut(t *testing.T) {
	re, err := Compile(`^(a+)+$`, WithTimeout(50*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	subject := strings.Repeat("a", 40) + "!"
	if _, _, ok, err := re.Execute(subject); ok || err != nil {
		t.Fatalf("Execute = %v, %v; want no match and no error", ok, err)
	}
	if _, _, _, err := re.executeSlow(subject); !errors.Is(err, ErrTimeout) {
		t.Fatalf("regexp2 alone: %v; want a time-out", err)
	}
}

func TestDefaultsAndAccessors(t *testing.T) {
	re, err := Compile(`(a)(b)`)
	if err != nil {
		t.Fatal(err)
	}
	if re.Timeout() != DefaultTimeout || re.NumGroups() != 2 || re.String() != `(a)(b)` {
		t.Errorf("Timeout, NumGroups, String = %v, %d, %q", re.Timeout(), re.NumGroups(), re.String())
	}
}

func BenchmarkExecute(b *testing.B) {
	line := "Oct 15 21:07:00 linux-server sshd[29205]: Failed password for invalid user admin from 10.0.0.5 port 4242 ssh2"
	for _, bc := range []struct{ name, pattern string }{
		{"captures", `Failed \S+ for invalid user (\S+) from (\S+) port (\d+)`},
		{"miss", `Accepted publickey for (\S+)`},
	} {
		re, err := Compile(bc.pattern)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, _, _, err := re.Execute(line); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(bc.name+"-match", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := re.Match(line); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
