package config

import (
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// allDiagnostics returns warnings and errors together, in file order.
func allDiagnostics(t *testing.T, warns Diagnostics, err error) Diagnostics {
	t.Helper()
	all := append(Diagnostics(nil), warns...)
	var e *Errors
	if errors.As(err, &e) {
		all = append(all, e.Diagnostics...)
	} else if err != nil {
		t.Fatalf("error is %T, want *Errors: %v", err, err)
	}
	slices.SortStableFunc(all, func(a, b Diagnostic) int { return a.Line - b.Line })
	return all
}

func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if string(got) != string(want) {
		t.Errorf("%s differs (run go test -update after checking):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

// Each testdata/NAME.good.conf loads without errors, each NAME.bad.conf
// has errors; NAME.diag holds the expected diagnostics, and NAME.json the
// decoded configuration of a good file.
func TestFixtures(t *testing.T) {
	files, err := filepath.Glob("testdata/*.conf")
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	for _, file := range files {
		base := strings.TrimSuffix(file, ".conf")
		good := strings.HasSuffix(base, ".good")
		t.Run(filepath.Base(file), func(t *testing.T) {
			cfg, warns, err := Load(file)
			if good && err != nil {
				t.Errorf("a good fixture has errors:\n%v", err)
			}
			if !good && err == nil {
				t.Errorf("a bad fixture has no error")
			}
			if err == nil && cfg == nil {
				t.Errorf("Load returned no config and no error")
			}
			diags := allDiagnostics(t, warns, err)
			for _, d := range diags {
				if d.File != file || d.Line < 1 {
					t.Errorf("diagnostic without its place: %v", d)
				}
			}
			golden(t, base+".diag", []byte(diags.String()+"\n"))
			if good && cfg != nil {
				out, err := json.MarshalIndent(cfg, "", "  ")
				if err != nil {
					t.Fatal(err)
				}
				golden(t, base+".json", append(out, '\n'))
			}
		})
	}
}

func TestWalkthroughPlaceholdersAreNamed(t *testing.T) {
	_, _, err := Load("testdata/azure-cspm-walkthrough.bad.conf")
	var e *Errors
	if !errors.As(err, &e) {
		t.Fatalf("got %v, want *Errors", err)
	}
	want := []string{
		"testdata/azure-cspm-walkthrough.bad.conf:10: error: tenantdomain still holds the placeholder <PRIMARY_DOMAIN>: replace it with the primary domain of your Microsoft Entra tenant",
		"testdata/azure-cspm-walkthrough.bad.conf:15: error: workspace still holds the placeholder <LOG_ANALYTICS_WORKSPACE_ID>: replace it with the Workspace ID",
		"testdata/azure-cspm-walkthrough.bad.conf:22: error: workspace still holds the placeholder <LOG_ANALYTICS_WORKSPACE_ID>",
	}
	if len(e.Diagnostics) != len(want) {
		t.Fatalf("got %d errors, want %d:\n%v", len(e.Diagnostics), len(want), err)
	}
	for i, w := range want {
		if got := e.Diagnostics[i].String(); !strings.HasPrefix(got, w) {
			t.Errorf("error %d:\n got %s\nwant %s…", i, got, w)
		}
	}
}

func TestWalkthroughBlockDecodes(t *testing.T) {
	cfg, _, err := Load("testdata/stock-with-azure-walkthrough.good.conf")
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.AzureLogs) != 1 {
		t.Fatalf("%d azure-logs blocks, want 1", len(cfg.AzureLogs))
	}
	az := cfg.AzureLogs[0]
	if az.Disabled || !az.RunOnStart || az.Schedule.Interval != 5*time.Minute {
		t.Errorf("schedule: disabled %v, run_on_start %v, interval %v", az.Disabled, az.RunOnStart, az.Schedule.Interval)
	}
	la := az.LogAnalytics
	if len(la) != 1 || la[0].TenantDomain != "contoso.onmicrosoft.com" ||
		la[0].AuthPath != "/var/ossec/wodles/credentials/log_analytics_credentials" || len(la[0].Requests) != 2 {
		t.Fatalf("log_analytics = %+v", la)
	}
	for i, q := range []string{"SecurityRecommendation", "SecurityAlert"} {
		r := la[0].Requests[i]
		if r.Tag != "azurefindings" || r.Query != q || r.Workspace != "d6b4a3c2-7e1f-4b8a-9c0d-2e3f4a5b6c7d" || r.TimeOffset != 24*time.Hour {
			t.Errorf("request %d = %+v", i, r)
		}
	}
	if az.Cloud != AzurePublic || az.LogAnalyticsEndpoint != "https://api.loganalytics.io" {
		t.Errorf("cloud %s, endpoint %s", az.Cloud, az.LogAnalyticsEndpoint)
	}
	// The stock part is still there: both <ossec_config> blocks merged.
	if len(cfg.LocalFiles) != 6 || !cfg.Ruleset.BuiltinRules || !cfg.Ruleset.BuiltinDecoders || len(cfg.Ruleset.Lists) != 6 {
		t.Errorf("stock part: %d localfiles, ruleset %+v", len(cfg.LocalFiles), cfg.Ruleset)
	}
}

func TestStockConfigHasNoErrors(t *testing.T) {
	cfg, warns, err := Load("testdata/wazuh-manager-stock.good.conf")
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range warns {
		for _, tolerated := range []string{"global", "alerts", "logging", "command", "rule_test", "cluster"} {
			if strings.Contains(w.Msg, "<"+tolerated+">") {
				t.Errorf("stock section <%s> warned: %v", tolerated, w)
			}
		}
		if strings.Contains(w.Msg, "unknown") {
			t.Errorf("stock option reported unknown: %v", w)
		}
	}
	if !cfg.Global.JSONOutOutput || cfg.Global.LogAll || cfg.Alerts.LogAlertLevel != 3 {
		t.Errorf("global %+v alerts %+v", cfg.Global, cfg.Alerts)
	}
	if got := len(cfg.Global.Pos.String()); got == 0 {
		t.Error("global has no position")
	}
}

func TestHome(t *testing.T) {
	for _, tc := range []struct{ file, home string }{
		{"/var/ossec/etc/ossec.conf", "/var/ossec"},
		{"/etc/tld/ossec.conf", "/etc/tld"},
		{"/etc/ossec.conf", "/"},
		{"testdata/etc/ossec.conf", "testdata"},
		{"etc/ossec.conf", "."},
		{"testdata/x.conf", "testdata"},
		{"ossec.conf", "."},
	} {
		if got := homeOf(tc.file); got != tc.home {
			t.Errorf("homeOf(%q) = %q, want %q", tc.file, got, tc.home)
		}
	}
}

func TestHomeOfTheWorkingDirectory(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "etc")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	if got := homeOf("ossec.conf"); got != ".." {
		t.Errorf("homeOf(ossec.conf) in an etc directory = %q, want ..", got)
	}
}

func TestRulesetWithoutSectionUsesDefaults(t *testing.T) {
	cfg, _, err := Parse("/var/ossec/etc/ossec.conf", []byte("<ossec_config><global><logall>yes</logall></global></ossec_config>"))
	if err != nil {
		t.Fatal(err)
	}
	rs := cfg.Ruleset
	if !rs.BuiltinDecoders || !rs.BuiltinRules {
		t.Error("built-in ruleset not used")
	}
	if len(rs.DecoderDirs) != 1 || rs.DecoderDirs[0].Path != "/var/ossec/etc/decoders" || !rs.DecoderDirs[0].Optional ||
		len(rs.RuleDirs) != 1 || rs.RuleDirs[0].Path != "/var/ossec/etc/rules" || !rs.RuleDirs[0].Optional {
		t.Errorf("default dirs %+v %+v", rs.DecoderDirs, rs.RuleDirs)
	}
}

func TestRulesetNamingOnlyRulesKeepsBuiltinDecoders(t *testing.T) {
	cfg, _, err := Parse("testdata/x.conf", []byte("<ossec_config><ruleset><rule_dir>etc/rules</rule_dir></ruleset></ossec_config>"))
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.Ruleset.BuiltinDecoders || cfg.Ruleset.BuiltinRules {
		t.Errorf("builtin decoders %v rules %v, want true false (Wazuh's default decoder dir applies)",
			cfg.Ruleset.BuiltinDecoders, cfg.Ruleset.BuiltinRules)
	}
}

func TestLoadReportsIOErrors(t *testing.T) {
	_, _, err := Load("testdata/no-such.conf")
	var e *Errors
	if err == nil || errors.As(err, &e) || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("got %v, want a not-exist error", err)
	}
}

func TestDiagnosticFormat(t *testing.T) {
	d := Diagnostic{File: "etc/ossec.conf", Line: 12, Severity: Error, Msg: "bad"}
	if got := d.String(); got != "etc/ossec.conf:12: error: bad" {
		t.Errorf("String() = %q", got)
	}
	e := &Errors{Diagnostics: Diagnostics{d, {File: "etc/ossec.conf", Line: 14, Severity: Error, Msg: "worse"}}}
	if got := e.Error(); got != "etc/ossec.conf:12: error: bad\netc/ossec.conf:14: error: worse" {
		t.Errorf("Error() = %q", got)
	}
	w := Diagnostic{File: "f", Line: 1, Msg: "hm"}
	if got := w.String(); got != "f:1: warning: hm" {
		t.Errorf("warning String() = %q", got)
	}
}

func TestEveryErrorIsReported(t *testing.T) {
	_, _, err := Load("testdata/azure-values.bad.conf")
	var e *Errors
	if !errors.As(err, &e) {
		t.Fatal(err)
	}
	for _, want := range []string{
		`<disabled> must be yes or no, not "maybe"`,
		`<run_on_start> must be yes or no, not "true"`,
		`<interval> "5x": unknown unit "x"`,
		`<time_offset> "5x": unknown unit "x": want a positive whole number followed by m (minutes), h (hours) or d (days)`,
		`<time_offset> "0d": 0 is not positive`,
		`<time_offset> "12": no unit`,
		`<time_offset> "1w": unknown unit "w"`,
		`<wday> "someday"`,
		`<time> "25:00"`,
		`<timeout> must be a positive whole number of seconds, not "-1"`,
		`<timeout> must be a positive whole number of seconds, not "5m"`,
		`<cloud> "AzureGermany"`,
		`<authority_host> "login.example.com" is not an http or https URL`,
		`<log_analytics_endpoint> "ftp://api.example.com"`,
		`<ca_file> no-such-ca.pem`,
		`<application_id> without <application_key>`,
		`<log_analytics> has no <tenantdomain>`,
		`<request> of <log_analytics> has no <workspace>`,
		`<request> has no <query>`,
		`<graph> has no <request>`,
		`<account_key> without <account_name>`,
		`<container> needs a name attribute`,
		`<content_type> "xml" is not text, json_file or json_inline`,
		`<day> and <wday> cannot be used together`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("no error says %q", want)
		}
	}
}

func TestParseDuration(t *testing.T) {
	for _, tc := range []struct {
		in    string
		units string
		bare  bool
		want  time.Duration
		rest  string
		err   bool
	}{
		{"1d", "mhd", false, 24 * time.Hour, "", false},
		{"36h", "mhd", false, 36 * time.Hour, "", false},
		{"90m", "mhd", false, 90 * time.Minute, "", false},
		{"1days", "mhd", false, 24 * time.Hour, "ays", false},
		{"5x", "mhd", false, 0, "", true},
		{"5", "mhd", false, 0, "", true},
		{"0d", "mhd", false, 0, "", true},
		{"-1d", "mhd", false, 0, "", true},
		{"d", "mhd", false, 0, "", true},
		{"1w", "mhd", false, 0, "", true},
		{"1w", "smhdw", true, 7 * 24 * time.Hour, "", false},
		{"300", "smhdw", true, 300 * time.Second, "", false},
		{"10s", "smhdw", true, 10 * time.Second, "", false},
		{"99999999999999999999d", "smhdw", true, 0, "", true},
		{"999999999999d", "smhdw", true, 0, "", true},
	} {
		got, rest, err := parseDuration(tc.in, tc.units, tc.bare)
		if (err != nil) != tc.err || got != tc.want || rest != tc.rest {
			t.Errorf("parseDuration(%q, %q, %v) = %v, %q, %v", tc.in, tc.units, tc.bare, got, rest, err)
		}
	}
}

func TestSchedule(t *testing.T) {
	week := 7 * 24 * time.Hour
	for _, tc := range []struct {
		name  string
		opts  string
		want  Schedule
		warns int
		errs  int
	}{
		{"the default is one day", "", Schedule{Interval: 24 * time.Hour}, 0, 0},
		{"an interval alone", "<interval>5m</interval>", Schedule{Interval: 5 * time.Minute}, 0, 0},
		{"a bare interval is seconds", "<interval>45</interval>", Schedule{Interval: 45 * time.Second}, 0, 0},
		{"months run on the first", "<interval>2M</interval>", Schedule{Months: 2, Day: 1, Time: "00:00"}, 1, 0},
		{"a day of the month defaults to monthly at midnight", "<day>15</day>", Schedule{Months: 1, Day: 15, Time: "00:00"}, 0, 0},
		{"a day with a non-monthly interval", "<day>15</day><interval>1d</interval>", Schedule{Months: 1, Day: 15, Time: "00:00"}, 1, 0},
		{"a day of the week", "<wday>Friday</wday><time>12:00</time>", Schedule{Interval: week, WeekDay: time.Friday, HasWeekDay: true, Time: "12:00"}, 0, 0},
		{"every two weeks", "<wday>sat</wday><interval>2w</interval>", Schedule{Interval: 2 * week, WeekDay: time.Saturday, HasWeekDay: true, Time: "00:00"}, 0, 0},
		{"a week day with a daily interval", "<wday>mon</wday><interval>1d</interval>", Schedule{Interval: week, WeekDay: time.Monday, HasWeekDay: true, Time: "00:00"}, 1, 0},
		{"a time of day", "<time>2:05</time>", Schedule{Interval: 24 * time.Hour, Time: "02:05"}, 0, 0},
		{"a time with an hourly interval", "<time>02:00</time><interval>1h</interval>", Schedule{Interval: 24 * time.Hour, Time: "02:00"}, 1, 0},
		{"day and wday", "<day>1</day><wday>monday</wday>", Schedule{}, 0, 1},
		{"day 32", "<day>32</day>", Schedule{}, 0, 1},
		{"a bad time", "<time>12:60</time>", Schedule{}, 0, 1},
		{"a time without colon", "<time>1200</time>", Schedule{}, 0, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc := `<ossec_config><wodle name="azure-logs">` + tc.opts +
				`<graph><application_id>a</application_id><application_key>b</application_key><tenantdomain>t</tenantdomain>` +
				`<request><query>q</query></request></graph></wodle></ossec_config>`
			cfg, warns, err := Parse("testdata/s.conf", []byte(doc))
			nerr := 0
			var e *Errors
			if errors.As(err, &e) {
				nerr = len(e.Diagnostics)
			}
			nwarn := 0
			for _, w := range warns {
				if !strings.Contains(w.Msg, "deprecated") {
					nwarn++
				}
			}
			if nerr != tc.errs || nwarn != tc.warns {
				t.Fatalf("%d errors, %d warnings, want %d, %d: %v %v", nerr, nwarn, tc.errs, tc.warns, warns, err)
			}
			if err == nil && cfg.AzureLogs[0].Schedule != tc.want {
				t.Errorf("schedule %+v, want %+v", cfg.AzureLogs[0].Schedule, tc.want)
			}
		})
	}
}

func TestParseWeekdayAndClock(t *testing.T) {
	for in, want := range map[string]time.Weekday{"sunday": time.Sunday, "Sun": time.Sunday, "MONDAY": time.Monday, "fridays": time.Friday, "sat": time.Saturday} {
		if got, ok := parseWeekday(in); !ok || got != want {
			t.Errorf("parseWeekday(%q) = %v, %v", in, got, ok)
		}
	}
	for _, in := range []string{"", "fr", "someday"} {
		if _, ok := parseWeekday(in); ok {
			t.Errorf("parseWeekday(%q) accepted", in)
		}
	}
	for in, want := range map[string]string{"0:0": "00:00", "23:59": "23:59", "9:30": "09:30"} {
		if got, ok := parseClock(in); !ok || got != want {
			t.Errorf("parseClock(%q) = %q, %v", in, got, ok)
		}
	}
	for _, in := range []string{"24:00", "12:60", "-1:00", "+1:00", "1:2:3", "ab:cd", "123:00", ":30"} {
		if _, ok := parseClock(in); ok {
			t.Errorf("parseClock(%q) accepted", in)
		}
	}
}
