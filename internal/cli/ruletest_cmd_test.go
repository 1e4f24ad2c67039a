package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/threatlockdown/tld/internal/ruletest"
)

// minPassRate is the share of Wazuh's own rule tests (../shared/wazuh-ruleset/testing/tests,
// GeoIP files left out as runtests.py leaves them out) that must pass.
// 1,378 of 1,400 passed when this test was written (98.4%); the floor sits
// a little below so that work in progress elsewhere does not break the
// suite. Raise it as the engine catches up; the target is 0.98.
const minPassRate = 0.98

// suiteTime is when the suite's events are analysed: a Wednesday at noon,
// so that rules with <time> or <weekday> give the answers the .ini files
// were written for (netscreen.ini expects business hours).
const suiteTime = "2024-01-10T12:00:00Z"

func runRulesetTest(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Main(context.Background(), append([]string{"ruleset", "test"}, args...),
		IO{In: strings.NewReader(""), Out: &out, Err: &errb})
	return code, out.String(), errb.String()
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return lines[len(lines)-1]
}

func TestRulesetTestCommand(t *testing.T) {
	const (
		rs     = "testdata/ruletest/ruleset"
		pass   = "testdata/ruletest/tests/pass.ini"
		fail   = "testdata/ruletest/tests/fail.ini"
		tests  = "testdata/ruletest/tests"
		broken = "testdata/ruletest/broken/bad.ini"
	)
	for _, tc := range []struct {
		name     string
		args     []string
		code     int
		last     string   // the last line of standard output
		out, err []string // substrings of standard output and error
		notOut   []string
	}{
		{
			name: "passing cases exit 0 and print only the summary",
			args: []string{"--ruleset", rs, pass},
			code: 0, last: "3 passed, 0 failed", notOut: []string{"FAIL", "ok "},
		},
		{
			name: "a failing case exits 1 and shows what was expected and what came",
			args: []string{"--ruleset", rs, fail},
			code: 1, last: "0 passed, 1 failed",
			out: []string{
				"FAIL " + fail + ":4 [Order with the wrong level] log 1 pass\n",
				"want: rule 100101, level 5, decoder shop\n",
				`got:  rule 100101, level 3, decoder shop ("Order 42 by ann.")`,
			},
		},
		{
			name: "a folder runs each of its files and -v shows the passing cases",
			args: []string{"--ruleset", rs, "-v", tests},
			code: 1, last: "3 passed, 1 failed",
			out: []string{"ok   " + filepath.Join(tests, "pass.ini") + ":12 [Two orders in one session] log 2 fail\n", "FAIL "},
		},
		{
			name: "flags may follow the paths",
			args: []string{pass, "--ruleset", rs, "-v"},
			code: 0, last: "3 passed, 0 failed", out: []string{"ok   " + pass + ":4 [Order] log 1 pass\n"},
		},
		{
			name: "a malformed file is reported with its line and fails the run",
			args: []string{"--ruleset", rs, broken, pass},
			code: 1, last: "3 passed, 0 failed",
			out: []string{"1 file(s) could not be read"},
			err: []string{broken + ":8: not a [section], key = value line or comment"},
		},
		{
			name: "without --ruleset the built-in ruleset is used",
			args: []string{pass},
			code: 1, last: "1 passed, 2 failed",
		},
		{name: "no path is a usage error", args: []string{"--ruleset", rs}, code: 2, err: []string{"give at least one .ini file"}},
		{name: "a missing path is a usage error", args: []string{"testdata/ruletest/nothing.ini"}, code: 2, err: []string{"nothing.ini"}},
		{name: "an unknown flag is a usage error", args: []string{"--frobnicate", pass}, code: 2},
		{name: "a bad --time is a usage error", args: []string{"--time", "noon", pass}, code: 2, err: []string{"RFC 3339"}},
		{name: "a missing ruleset folder is a usage error", args: []string{"--ruleset", "testdata/ruletest/none", pass}, code: 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := runRulesetTest(t, tc.args...)
			if code != tc.code {
				t.Errorf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tc.code, out, errOut)
			}
			if tc.last != "" && lastLine(out) != tc.last {
				t.Errorf("last line %q, want %q\nstdout:\n%s", lastLine(out), tc.last, out)
			}
			for _, s := range tc.out {
				if !strings.Contains(out, s) {
					t.Errorf("stdout lacks %q:\n%s", s, out)
				}
			}
			for _, s := range tc.notOut {
				if strings.Contains(out, s) {
					t.Errorf("stdout has %q:\n%s", s, out)
				}
			}
			for _, s := range tc.err {
				if !strings.Contains(errOut, s) {
					t.Errorf("stderr lacks %q:\n%s", s, errOut)
				}
			}
		})
	}
}

func TestRulesetTestJSON(t *testing.T) {
	code, out, errOut := runRulesetTest(t, "--json", "--ruleset", "testdata/ruletest/ruleset", "testdata/ruletest/tests")
	if code != 1 {
		t.Fatalf("exit %d, want 1; stderr:\n%s", code, errOut)
	}
	var doc suiteDoc
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("stdout is not one JSON document: %v\n%s", err, out)
	}
	if doc.Passed != 3 || doc.Failed != 1 || len(doc.Results) != 4 {
		t.Errorf("passed %d failed %d with %d results, want 3, 1 and 4", doc.Passed, doc.Failed, len(doc.Results))
	}
	if lastLine(errOut) != "3 passed, 1 failed" {
		t.Errorf("stderr ends with %q, want the summary", lastLine(errOut))
	}
	r := doc.Results[3]
	if r.Section != "Two orders in one session" || r.Key != "log 2 fail" || !r.Negate || !r.Passed ||
		len(r.Events) != 1 || r.Got.Rule != "100101" || r.Got.Alert != "3" || r.Got.Decoder != "shop" {
		t.Errorf("last result %+v", r)
	}
}

type suiteDoc struct {
	Passed      int               `json:"passed"`
	Failed      int               `json:"failed"`
	BrokenFiles int               `json:"broken_files"`
	Results     []ruletest.Result `json:"results"`
}

// testRulesetPattern is how runtests.py picks the files of
// testing/ruleset it installs into etc/rules and etc/decoders.
var testRulesetPattern = regexp.MustCompile(`^test_(.*_)?(rules|decoders)\.xml$`)

// loaderWorkarounds are rules of testing/ruleset that Wazuh skips with an
// error message while loading but ruleset.Load rejects, failing the whole
// ruleset. The test drops them from its copy, which is what Wazuh's loader
// amounts to. Remove an entry once ruleset.Load skips the rule itself.
var loaderWorkarounds = []struct{ file, startTag, why string }{}

// dropRule blanks the rule that starts with startTag, keeping its lines.
func dropRule(data []byte, startTag string) ([]byte, bool) {
	i := bytes.Index(data, []byte(startTag))
	if i < 0 {
		return data, false
	}
	j := bytes.Index(data[i:], []byte("</rule>"))
	if j < 0 {
		return data, false
	}
	j += i + len("</rule>")
	out := append([]byte{}, data[:i]...)
	out = append(out, bytes.Repeat([]byte("\n"), bytes.Count(data[i:j], []byte("\n")))...)
	return append(out, data[j:]...), true
}

// layOutTestRuleset copies testing/ruleset's files into dir/decoders and
// dir/rules, as runtests.py copies them into etc/decoders and etc/rules.
func layOutTestRuleset(t *testing.T, from, dir string) {
	t.Helper()
	entries, err := os.ReadDir(from)
	if err != nil {
		t.Fatal(err)
	}
	for _, sub := range []string{"decoders", "rules"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, e := range entries {
		m := testRulesetPattern.FindStringSubmatch(e.Name())
		if m == nil || e.IsDir() {
			continue
		}
		data, err := os.ReadFile(filepath.Join(from, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range loaderWorkarounds {
			if w.file != e.Name() {
				continue
			}
			var ok bool
			if data, ok = dropRule(data, w.startTag); ok {
				t.Logf("workaround: %s: dropped %s: %s", w.file, w.startTag, w.why)
			}
		}
		if err := os.WriteFile(filepath.Join(dir, m[2], e.Name()), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestWazuhRuleTests runs Wazuh's own rule tests with Wazuh's ruleset and
// its test-only rules and decoders, logs the pass rate and every failing
// case, and fails only below minPassRate.
func TestWazuhRuleTests(t *testing.T) {
	if testing.Short() {
		t.Skip("runs about 1,400 Wazuh rule tests")
	}
	shared := filepath.Join(repoRootDir(t), "..", "shared", "wazuh-ruleset")
	testsDir := filepath.Join(shared, "testing", "tests")
	if _, err := os.Stat(testsDir); err != nil {
		t.Skipf("Wazuh's ruleset is not there: %v", err)
	}
	extra := t.TempDir()
	layOutTestRuleset(t, filepath.Join(shared, "testing", "ruleset"), extra)

	code, out, errOut := runRulesetTest(t, "--json", "--time", suiteTime, "--ruleset", shared, "--ruleset", extra, testsDir)
	var doc suiteDoc
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("exit %d; stdout is not JSON (%v); stderr:\n%s", code, err, errOut)
	}
	if doc.BrokenFiles > 0 {
		t.Errorf("%d test file(s) could not be read:\n%s", doc.BrokenFiles, errOut)
	}
	total := doc.Passed + doc.Failed
	if total < 1300 {
		t.Fatalf("only %d test runs found; want about 1,400\nstderr:\n%s", total, errOut)
	}
	rate := float64(doc.Passed) / float64(total)
	t.Logf("Wazuh rule tests: %d passed, %d failed of %d (%.1f%%; floor %.1f%%)",
		doc.Passed, doc.Failed, total, 100*rate, 100*minPassRate)

	perFile := map[string]int{}
	for _, r := range doc.Results {
		if r.Passed {
			continue
		}
		perFile[filepath.Base(r.File)]++
		not := ""
		if r.Negate {
			not = "not "
		}
		got := r.Got.String()
		if r.Got.Description != "" {
			got += fmt.Sprintf(" (%q)", r.Got.Description)
		}
		t.Logf("FAIL %s:%d [%s] %s\n\twant %s%s\n\tgot  %s", filepath.Base(r.File), r.Line, r.Section, r.Key, not, r.Want, got)
	}
	var files []string
	for f, n := range perFile {
		files = append(files, fmt.Sprintf("%s %d", f, n))
	}
	sort.Strings(files)
	t.Logf("failures per file: %s", strings.Join(files, ", "))

	if rate < minPassRate {
		t.Errorf("pass rate %.1f%% is below the floor of %.1f%%", 100*rate, 100*minPassRate)
	}
}

func repoRootDir(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	return root
}
