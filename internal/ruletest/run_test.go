package ruletest

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/threatlockdown/tld/internal/analysis"
	"github.com/threatlockdown/tld/internal/ruleset"
)

func testSource() ruleset.Source {
	dir := filepath.Join("testdata", "ruleset")
	return ruleset.Source{Name: dir,
		DecoderDirs: []string{filepath.Join(dir, "decoders")},
		RuleDirs:    []string{filepath.Join(dir, "rules")}}
}

func loadTestRuleset(t *testing.T, windows bool) *ruleset.Set {
	t.Helper()
	srcs := []ruleset.Source{testSource()}
	if windows {
		var n int
		var err error
		srcs, n, err = EnableWindowsEventTests(srcs)
		if err != nil {
			t.Fatal(err)
		}
		if n != 1 {
			t.Fatalf("rewrote %d files, want 1", n)
		}
	}
	set, err := ruleset.Load(srcs...)
	if err != nil {
		t.Fatal(err)
	}
	return set
}

func testRunner(set *ruleset.Set) *Runner {
	noon := time.Date(2024, 1, 10, 12, 0, 0, 0, time.UTC)
	return NewRunner(set, analysis.Options{Manager: "test", Now: func() time.Time { return noon }})
}

func readCases(t *testing.T, name string) []Case {
	t.Helper()
	cases, err := ReadFile(filepath.Join("testdata", "tests", name))
	if err != nil {
		t.Fatal(err)
	}
	return cases
}

func TestRunJudgesAsRuntests(t *testing.T) {
	r := testRunner(loadTestRuleset(t, true))
	for _, tc := range []struct {
		file   string
		passed bool
	}{
		{"demo.ini", true},
		{"failing.ini", false},
		{"windows.ini", true},
	} {
		for _, c := range readCases(t, tc.file) {
			t.Run(tc.file+"/"+c.Section+"/"+c.Key, func(t *testing.T) {
				res := r.Run(c)
				if res.Passed != tc.passed {
					t.Errorf("passed = %v, want %v; want %s (negated %v), got %s; events %+v",
						res.Passed, tc.passed, c.Want, c.Negate, res.Got, res.Events)
				}
				if len(res.Events) != len(c.Events()) {
					t.Errorf("%d outcomes for %d events", len(res.Events), len(c.Events()))
				}
			})
		}
	}
}

func TestRunReportsLevelZeroRules(t *testing.T) {
	r := testRunner(loadTestRuleset(t, false))
	res := r.Run(Case{Input: "Jan  1 10:00:00 host demo[1]: something else", Want: Expect{"100000", "0", "demo"}})
	want := Outcome{Log: "Jan  1 10:00:00 host demo[1]: something else",
		Rule: "100000", Alert: "0", Decoder: "demo", Description: "Demo messages grouped."}
	if res.Got != want || !res.Passed {
		t.Errorf("got %+v (passed %v), want %+v", res.Got, res.Passed, want)
	}
}

func TestEverySessionStartsFresh(t *testing.T) {
	r := testRunner(loadTestRuleset(t, false))
	login := "Jan  1 10:00:00 host demo[1]: login dave from 10.0.0.1"
	three := Case{Input: login + "\n" + login + "\n" + login, Want: Expect{"100002", "10", "demo"}}
	one := Case{Input: login, Want: Expect{"100001", "3", "demo"}}
	for i, c := range []Case{three, one, one, three, three, one} {
		if res := r.Run(c); !res.Passed {
			t.Errorf("run %d: want %s, got %s", i, c.Want, res.Got)
		}
	}
}

func TestWindowsRulesNeedTheAdjustment(t *testing.T) {
	r := testRunner(loadTestRuleset(t, false))
	for _, c := range readCases(t, "windows.ini") {
		res := r.Run(c)
		if res.Passed {
			t.Errorf("%s passed without rule 60000 decoded_as json: got %s", c.Section, res.Got)
		}
		if res.Got.Decoder != "json" || res.Got.Rule != "" {
			t.Errorf("got %s, want the json decoder and no rule", res.Got)
		}
	}
}

func TestRunAllKeepsTheOrderOfCases(t *testing.T) {
	r := testRunner(loadTestRuleset(t, true))
	var cases []Case
	for _, f := range []string{"demo.ini", "failing.ini", "windows.ini"} {
		cases = append(cases, readCases(t, f)...)
	}
	calls := 0
	results := r.RunAll(context.Background(), cases, 3, func(done int) { calls++ })
	if calls != len(cases) {
		t.Errorf("progress called %d times for %d cases", calls, len(cases))
	}
	for i, res := range results {
		if res.Case.Section != cases[i].Section || res.Case.Key != cases[i].Key {
			t.Fatalf("result %d is for %s/%s, want %s/%s", i, res.Section, res.Key, cases[i].Section, cases[i].Key)
		}
		if seq := r.Run(cases[i]); seq.Passed != res.Passed || seq.Got != res.Got {
			t.Errorf("%s/%s: parallel run %+v differs from a lone run %+v", res.Section, res.Key, res.Got, seq.Got)
		}
	}
}

func TestExitCodeIsLogtestsInUnitTestMode(t *testing.T) {
	got := Outcome{Rule: "5", Alert: "3", Decoder: "d"}
	for _, tc := range []struct {
		name string
		want Expect
		got  Outcome
		code int
	}{
		{"the same triple exits 0", Expect{"5", "3", "d"}, got, 0},
		{"another rule exits 1", Expect{"6", "3", "d"}, got, 1},
		{"levels compare as text", Expect{"5", "03", "d"}, got, 1},
		{"a colon in the expectation exits 1", Expect{"5", "3", "d:x"}, Outcome{Rule: "5", Alert: "3", Decoder: "d:x"}, 1},
		{"a matching empty part still fails", Expect{"", "", "d"}, Outcome{Decoder: "d"}, 2},
		{"nothing at all expected and got", Expect{}, Outcome{}, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if code, _ := exitCode(tc.want, tc.got); code != tc.code {
				t.Errorf("exit code %d, want %d", code, tc.code)
			}
		})
	}
}
