package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"github.com/threatlockdown/tld/internal/syncbuf"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

func runMain(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Main(context.Background(), args, IO{In: strings.NewReader(""), Out: &out, Err: &errb})
	return code, out.String(), errb.String()
}

func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	return root
}

type alertLine struct {
	ID   string `json:"id"`
	Rule struct {
		ID    string `json:"id"`
		Level int    `json:"level"`
		Mitre struct {
			ID     []string `json:"id"`
			Tactic []string `json:"tactic"`
		} `json:"mitre"`
		Groups []string `json:"groups"`
	} `json:"rule"`
	Data map[string]any `json:"data"`
}

func readAlerts(t *testing.T, path string) []alertLine {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []alertLine
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 1<<20), 4<<20)
	for sc.Scan() {
		var a alertLine
		if err := json.Unmarshal(sc.Bytes(), &a); err != nil {
			t.Fatalf("alerts.json line is not JSON: %v: %.200s", err, sc.Text())
		}
		out = append(out, a)
	}
	return out
}

func TestQuickstartRaisesTheWalkthroughAlerts(t *testing.T) {
	data := t.TempDir()
	conf := filepath.Join(repoRoot(t), "etc", "quickstart", "ossec.conf")
	code, stdout, stderr := runMain(t, "run", "-c", conf, "--data", data, "--once")
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	alerts := readAlerts(t, filepath.Join(data, "alerts", "alerts.json"))
	mitre := map[string]string{}
	tactics := map[string][]string{}
	for _, a := range alerts {
		if len(a.Rule.Mitre.ID) > 0 {
			mitre[a.Rule.ID] = strings.Join(a.Rule.Mitre.ID, ",")
			tactics[a.Rule.ID] = a.Rule.Mitre.Tactic
		}
	}
	want := map[string]string{"100201": "T1651", "100202": "T1098.004", "100203": "T1648", "100204": "T1059.009", "100205": "T1609"}
	for id, m := range want {
		if mitre[id] != m {
			t.Errorf("rule %s mitre %q, want %q", id, mitre[id], m)
		}
		if len(tactics[id]) == 0 {
			t.Errorf("rule %s has no tactic", id)
		}
	}
	if !strings.Contains(stdout, "100200") || !strings.Contains(stdout, "Read 14 event(s)") || !strings.Contains(stdout, "alerts.json") {
		t.Errorf("summary does not say what was read, which rules fired and where the alerts are:\n%s", stdout)
	}

	// A second run finds nothing new and says so.
	code, stdout, _ = runMain(t, "run", "-c", conf, "--data", data, "--once")
	if code != 0 || !strings.Contains(stdout, "Nothing new") {
		t.Errorf("second run: exit %d, stdout:\n%s", code, stdout)
	}
}

func TestLogtestAgreesWithRun(t *testing.T) {
	root := repoRoot(t)
	conf := filepath.Join(root, "etc", "quickstart", "ossec.conf")
	events, err := os.ReadFile(filepath.Join(root, "etc", "quickstart", "events", "log-analytics-defender.json"))
	if err != nil {
		t.Fatal(err)
	}
	data := t.TempDir()
	if code, _, stderr := runMain(t, "run", "-c", conf, "--data", data, "--once"); code != 0 {
		t.Fatalf("run: %s", stderr)
	}
	alerts := readAlerts(t, filepath.Join(data, "alerts", "alerts.json"))

	var out, errb bytes.Buffer
	code := Main(context.Background(), []string{"logtest", "--json", "-c", conf}, IO{In: bytes.NewReader(events), Out: &out, Err: &errb})
	if code != 0 {
		t.Fatalf("logtest exit %d: %s", code, errb.String())
	}
	var got []string
	sc := bufio.NewScanner(&out)
	sc.Buffer(make([]byte, 0, 1<<20), 4<<20)
	for sc.Scan() {
		var r struct {
			Rule  *struct{ ID string } `json:"rule"`
			Alert bool                 `json:"alert"`
		}
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("logtest line: %v", err)
		}
		if r.Rule == nil || !r.Alert {
			t.Fatalf("logtest gave no alerting rule: %s", sc.Text())
		}
		got = append(got, r.Rule.ID)
	}
	if len(got) != len(alerts) {
		t.Fatalf("logtest gave %d results, run %d alerts", len(got), len(alerts))
	}
	for i := range got {
		if got[i] != alerts[i].Rule.ID {
			t.Errorf("event %d: logtest rule %s, run rule %s", i+1, got[i], alerts[i].Rule.ID)
		}
	}
}

func writeFile(t *testing.T, path, body string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestBadConfigurationIsReportedWithFileAndLineAndNothingRuns(t *testing.T) {
	dir := t.TempDir()
	events := filepath.Join(dir, "events.json")
	writeFile(t, events, `{"a":1}`+"\n")
	writeFile(t, filepath.Join(dir, "rules", "bad.xml"), `<group name="x,">
  <rule id="100900" level="5">
    <if_sid>999999</if_sid>
    <description>child of a rule that does not exist</description>
  </rule>
</group>
`)
	conf := filepath.Join(dir, "ossec.conf")
	writeFile(t, conf, `<ossec_config>
  <globall>
    <jsonout_output>yes</jsonout_output>
  </globall>
  <ruleset>
    <rule_dir>rules</rule_dir>
  </ruleset>
  <localfile>
    <log_format>json</log_format>
    <location>`+events+`</location>
    <only-future-events>no</only-future-events>
  </localfile>
  <wodle name="azure-logs">
    <disabled>no</disabled>
    <log_analytics>
      <auth_path>/nonexistent/credentials</auth_path>
      <tenantdomain>contoso.onmicrosoft.com</tenantdomain>
      <request>
        <tag>posture</tag>
        <workspace>0c9b8a7d-6e5f-4a3b-2c1d-0e9f8a7b6c5d</workspace>
        <time_offset>5x</time_offset>
      </request>
    </log_analytics>
  </wodle>
</ossec_config>
`)
	data := filepath.Join(dir, "var")
	code, _, stderr := runMain(t, "run", "-c", conf, "--data", data, "--once")
	if code != 1 {
		t.Fatalf("exit %d, want 1; stderr:\n%s", code, stderr)
	}
	for _, want := range []string{
		conf + ":2: warning", // <globall>
		conf + ":18: error",  // the <request> lacking <query>
		conf + ":21: error",  // time_offset 5x
		filepath.Join(dir, "rules", "bad.xml") + ":2: error", // if_sid 999999
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	if !strings.Contains(stderr, "999999") {
		t.Errorf("stderr does not name the missing rule 999999:\n%s", stderr)
	}
	if _, err := os.Stat(filepath.Join(data, "alerts")); err == nil {
		t.Errorf("alerts directory created although the configuration has errors")
	}
	if _, err := os.Stat(filepath.Join(data, "state")); err == nil {
		t.Errorf("state directory created although the configuration has errors")
	}
}

func readFile(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

const countingRules = `<group name="test,">
  <rule id="100100" level="5">
    <decoded_as>json</decoded_as>
    <field name="seq">\d+</field>
    <description>event $(seq)</description>
  </rule>
</group>
`

func countingConfig(t *testing.T, dir, events string) string {
	writeFile(t, filepath.Join(dir, "rules", "count.xml"), countingRules)
	conf := filepath.Join(dir, "ossec.conf")
	writeFile(t, conf, `<ossec_config>
  <ruleset>
    <rule_dir>rules</rule_dir>
  </ruleset>
  <localfile>
    <log_format>json</log_format>
    <location>`+events+`</location>
    <only-future-events>no</only-future-events>
  </localfile>
</ossec_config>
`)
	return conf
}

func TestBadLinesAreReportedCountedAndTheRestProcessed(t *testing.T) {
	dir := t.TempDir()
	events := filepath.Join(dir, "events.json")
	var b strings.Builder
	b.WriteString(`{"seq":"1"}` + "\n")
	b.WriteString(`{"seq":"2", broken` + "\n")
	b.WriteString(`{"seq":"3","pad":"` + strings.Repeat("x", 1<<20) + `"}` + "\n")
	b.WriteString(`{"seq":"4"}` + "\n")
	writeFile(t, events, b.String())
	conf := countingConfig(t, dir, events)
	data := filepath.Join(dir, "var")
	code, stdout, stderr := runMain(t, "run", "-c", conf, "--data", data, "--once")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	alerts := readAlerts(t, filepath.Join(data, "alerts", "alerts.json"))
	var seqs []string
	for _, a := range alerts {
		seqs = append(seqs, fmt.Sprint(a.Data["seq"]))
	}
	if strings.Join(seqs, ",") != "1,4" {
		t.Errorf("alerts for seq %v, want 1 and 4", seqs)
	}
	if !strings.Contains(stdout, "2 record(s) had problems") || !strings.Contains(stdout, "events.json:2") || !strings.Contains(stdout, "events.json:3") {
		t.Errorf("summary should report the malformed line 2 and the oversized line 3:\n%s", stdout)
	}
}

// TestKilledRunLosesNothing kills a running manager with SIGKILL and starts
// it again: every event must alert across the two runs, and an event
// alerted twice must carry the same id both times.
func TestKilledRunLosesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills the binary")
	}
	dir := t.TempDir()
	bin := buildBinary(t)
	const n = 200000
	events := filepath.Join(dir, "events.json")
	var b strings.Builder
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, `{"seq":"%d","msg":"event number %d"}`+"\n", i, i)
	}
	writeFile(t, events, b.String())
	conf := countingConfig(t, dir, events)
	data := filepath.Join(dir, "var")
	alertsPath := filepath.Join(data, "alerts", "alerts.json")

	cmd := startUntilAlerts(t, bin, alertsPath, "run", "-c", conf, "--data", data, "--listen", "", "--workers", "2")
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	// The kill may leave half a record at the end; count whole lines only.
	raw, err := os.ReadFile(alertsPath)
	if err != nil {
		t.Fatal(err)
	}
	first := bytes.Count(raw, []byte("\n"))
	if first >= n {
		t.Skipf("the first run finished all %d events before the kill; nothing to test", n)
	}

	second := exec.Command(bin, "run", "-c", conf, "--data", data, "--once", "--workers", "2")
	if out, err := second.CombinedOutput(); err != nil {
		t.Fatalf("second run: %v\n%s", err, out)
	}
	ids := make(map[string]string, n)
	dups := 0
	for _, a := range readAlerts(t, alertsPath) {
		seq := fmt.Sprint(a.Data["seq"])
		if prev, ok := ids[seq]; ok {
			dups++
			if prev != a.ID {
				t.Fatalf("event %s alerted twice with different ids %s and %s", seq, prev, a.ID)
			}
		}
		ids[seq] = a.ID
	}
	for i := 1; i <= n; i++ {
		if _, ok := ids[fmt.Sprint(i)]; !ok {
			t.Fatalf("event %d was lost (first run wrote %d alerts before the kill)", i, first)
		}
	}
	t.Logf("killed after %d alerts; %d events repeated with their ids after restart", first, dups)

	// Ids do not depend on the run: a fresh run over the same file gives
	// every event the id it had, so a replay is always recognisable.
	fresh := filepath.Join(dir, "fresh")
	third := exec.Command(bin, "run", "-c", conf, "--data", fresh, "--once")
	if out, err := third.CombinedOutput(); err != nil {
		t.Fatalf("fresh run: %v\n%s", err, out)
	}
	for _, a := range readAlerts(t, filepath.Join(fresh, "alerts", "alerts.json")) {
		if seq := fmt.Sprint(a.Data["seq"]); ids[seq] != a.ID {
			t.Fatalf("event %s has id %s in a fresh run but %s in the killed one", seq, a.ID, ids[seq])
		}
	}
}

var (
	buildOnce sync.Once
	builtBin  string
	buildErr  error
)

// buildBinary builds tld once per test run.
func buildBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "tld-bin")
		if err != nil {
			buildErr = err
			return
		}
		builtBin = filepath.Join(dir, "tld")
		build := exec.Command("go", "build", "-o", builtBin, "./cmd/tld")
		build.Dir = repoRoot(t)
		if out, err := build.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return builtBin
}

// startUntilAlerts starts tld and returns once it has written 2 MiB of alerts.
func startUntilAlerts(t *testing.T, bin, alertsPath string, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(bin, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(2 * time.Minute)
	for {
		fi, err := os.Stat(alertsPath)
		if err == nil && fi.Size() > 2<<20 {
			return cmd
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("tld wrote no alerts in time; stderr:\n%s", stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestTerminationDrainsFlushesAndSavesPosition stops a running manager with
// SIGTERM: it must exit cleanly with every queued batch written and its
// position saved, so a restart neither loses nor repeats an event.
func TestTerminationDrainsFlushesAndSavesPosition(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and signals the binary")
	}
	bin := buildBinary(t)
	dir := t.TempDir()
	const n = 200000
	events := filepath.Join(dir, "events.json")
	var b strings.Builder
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, `{"seq":"%d"}`+"\n", i)
	}
	writeFile(t, events, b.String())
	conf := countingConfig(t, dir, events)
	data := filepath.Join(dir, "var")
	alertsPath := filepath.Join(data, "alerts", "alerts.json")
	cmd := startUntilAlerts(t, bin, alertsPath, "run", "-c", conf, "--data", data, "--listen", "")
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("exit after SIGTERM: %v", err)
	}
	if out, err := exec.Command(bin, "run", "-c", conf, "--data", data, "--once").CombinedOutput(); err != nil {
		t.Fatalf("restart: %v\n%s", err, out)
	}
	seen := make(map[string]bool, n)
	for _, a := range readAlerts(t, alertsPath) {
		seq := fmt.Sprint(a.Data["seq"])
		if seen[seq] {
			t.Fatalf("event %s alerted twice although the first run stopped cleanly", seq)
		}
		seen[seq] = true
	}
	if len(seen) != n {
		t.Fatalf("%d of %d events alerted", len(seen), n)
	}
}

// TestHangupReloadsRulesAndRefusesABrokenRuleset changes the rules of a
// running manager: SIGHUP loads the new ones; a broken file is refused and
// the previous rules keep running, with no event lost.
func TestHangupReloadsRulesAndRefusesABrokenRuleset(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and signals the binary")
	}
	bin := buildBinary(t)
	dir := t.TempDir()
	events := filepath.Join(dir, "events.json")
	writeFile(t, events, "")
	conf := countingConfig(t, dir, events)
	rulesPath := filepath.Join(dir, "rules", "count.xml")
	data := filepath.Join(dir, "var")
	alertsPath := filepath.Join(data, "alerts", "alerts.json")

	cmd := exec.Command(bin, "run", "-c", conf, "--data", data, "--listen", "")
	var stderr syncBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()

	appendEvent := func(seq int) {
		f, err := os.OpenFile(events, os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(f, `{"seq":"%d"}`+"\n", seq)
		f.Close()
	}
	waitDescription := func(seq int) string {
		deadline := time.Now().Add(30 * time.Second)
		for time.Now().Before(deadline) {
			if b, err := os.ReadFile(alertsPath); err == nil {
				for _, line := range strings.Split(string(b), "\n") {
					var a struct {
						Rule struct{ Description string } `json:"rule"`
						Data map[string]any               `json:"data"`
					}
					if json.Unmarshal([]byte(line), &a) == nil && fmt.Sprint(a.Data["seq"]) == fmt.Sprint(seq) {
						return a.Rule.Description
					}
				}
			}
			time.Sleep(50 * time.Millisecond)
		}
		t.Fatalf("no alert for event %d; stderr:\n%s", seq, stderr.String())
		return ""
	}
	waitLog := func(want string) {
		deadline := time.Now().Add(30 * time.Second)
		for time.Now().Before(deadline) {
			if strings.Contains(stderr.String(), want) {
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
		t.Fatalf("stderr never said %q:\n%s", want, stderr.String())
	}

	appendEvent(1)
	if d := waitDescription(1); d != "event 1" {
		t.Fatalf("description %q", d)
	}
	writeFile(t, rulesPath, strings.Replace(countingRules, "event $(seq)", "reloaded $(seq)", 1))
	cmd.Process.Signal(syscall.SIGHUP)
	waitLog("ruleset reloaded")
	appendEvent(2)
	if d := waitDescription(2); d != "reloaded 2" {
		t.Fatalf("after reload, description %q", d)
	}
	writeFile(t, rulesPath, `<group name="x,"><rule id="100100" level="5"><if_sid>424242</if_sid><description>broken</description></rule></group>`)
	cmd.Process.Signal(syscall.SIGHUP)
	waitLog("ruleset reload refused")
	if !strings.Contains(stderr.String(), "424242") {
		t.Errorf("the refusal does not say what is wrong:\n%s", stderr.String())
	}
	appendEvent(3)
	if d := waitDescription(3); d != "reloaded 3" {
		t.Fatalf("after a refused reload, description %q (want the previous rules)", d)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("exit: %v\n%s", err, stderr.String())
	}
}

type syncBuffer = syncbuf.Buffer
