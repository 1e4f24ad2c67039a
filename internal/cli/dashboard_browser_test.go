package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/threatlockdown/tld/internal/alert"
	"github.com/threatlockdown/tld/internal/store"
)

// The hostile events: every value is attacker-controlled and must be shown
// as text. A payload that ran would set window.__xss or open a dialog.
var hostilePayloads = []string{
	`<script>window.__xss=1;alert(1)</script>`,
	`"><img src=x onerror="window.__xss=2;alert(2)">`,
	`javascript:window.__xss=3`,
	`'></pre></td></tr></table><svg onload=window.__xss=4>`,
	"\u202egnp.exe <b>bold</b>",
}

const hostileRules = `<group name="hostile,">
  <rule id="100900" level="7">
    <decoded_as>json</decoded_as>
    <field name="payload">\.+</field>
    <description>Hostile: $(payload)</description>
    <mitre><id>T1059</id></mitre>
  </rule>
</group>`

// browserTestDir is where the browser test leaves its screenshots.
func browserTestDir(t *testing.T) string {
	dir := os.Getenv("TLD_TEST_OUTPUT")
	if dir == "" {
		dir = filepath.Join(repoRoot(t), ".cache", "test-output")
		os.MkdirAll(dir, 0o755)
		// .cache holds nothing to commit.
		os.WriteFile(filepath.Join(repoRoot(t), ".cache", ".gitignore"), []byte("*\n"), 0o644)
	}
	dir = filepath.Join(dir, "dashboard")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

func chromiumPath(t *testing.T) string {
	if p := os.Getenv("CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Fatal("no chromium: run ./scripts/chromium (./scripts/test does) or set CHROMIUM")
	return ""
}

// startQuickstartServer runs `tld run` (not --once) on the quickstart's
// events plus hostile ones and returns the dashboard's base URL, the
// data directory and the admin password.
func startQuickstartServer(t *testing.T) (base, data, password string) {
	t.Helper()
	root := repoRoot(t)
	dir := t.TempDir()
	data = filepath.Join(dir, "var")
	// The file name is hostile too: it becomes the alerts' location. (It
	// avoids < > " &, which ossec.conf, like Wazuh's reader, takes as is.)
	hostile := filepath.Join(dir, `events-' onmouseover='window.__xss=5' x='.json`)
	var lines []string
	for _, p := range hostilePayloads {
		b, _ := json.Marshal(map[string]string{"payload": p, "url": "javascript:alert(document.cookie)"})
		lines = append(lines, string(b))
	}
	// A line stays under the 64 KiB a log line may have (as in Wazuh);
	// the 100 KB values come in an alert stored directly, below.
	big, _ := json.Marshal(map[string]string{"payload": "long " + strings.Repeat("A", 50000)})
	lines = append(lines, string(big))
	writeFile(t, hostile, strings.Join(lines, "\n")+"\n")
	writeFile(t, filepath.Join(dir, "rules", "hostile.xml"), hostileRules)
	conf := filepath.Join(dir, "ossec.conf")
	writeFile(t, conf, fmt.Sprintf(`<ossec_config>
  <ruleset>
    <rule_dir>%s</rule_dir>
    <rule_dir>rules</rule_dir>
  </ruleset>
  <localfile><log_format>json</log_format><location>%s</location><only-future-events>no</only-future-events></localfile>
  <localfile><log_format>json</log_format><location>%s</location><only-future-events>no</only-future-events></localfile>
</ossec_config>`, filepath.Join(root, "etc", "quickstart", "rules"), filepath.Join(root, "etc", "quickstart", "events", "log-analytics-defender.json"), hostile))

	base, password = startManager(t, conf, data, 14+len(hostilePayloads)+1)
	insertHugeAlert(t, filepath.Join(data, "store.db"))
	return base, data, password
}

// startManager runs `tld run -c conf --data data` (serving, not --once)
// until the test ends, and returns the dashboard's address, once it has
// stored at least wantAlerts alerts, and the generated admin password.
func startManager(t *testing.T, conf, data string, wantAlerts int) (base, password string) {
	t.Helper()
	bin := buildBinary(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cmd := exec.Command(bin, "run", "-c", conf, "--data", data, "--listen", addr)
	stdout, _ := cmd.StdoutPipe()
	var stderr strings.Builder
	cmd.Stderr = &syncWriter{w: &stderr}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		cmd.Wait()
	})
	announced := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if u, ok := strings.CutPrefix(sc.Text(), "Dashboard: "); ok {
				announced <- u
			}
		}
	}()
	select {
	case base = <-announced:
	case <-time.After(time.Minute):
		t.Fatalf("tld run never announced the dashboard; stderr:\n%s", stderr.String())
	}
	base = strings.TrimSuffix(base, "/")
	// Wait until every event is analysed and stored.
	want := wantAlerts
	for deadline := time.Now().Add(time.Minute); ; {
		var h struct{ Alerts int }
		if resp, err := http.Get(base + "/healthz"); err == nil {
			json.NewDecoder(resp.Body).Decode(&h)
			resp.Body.Close()
		}
		if h.Alerts >= want {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("only %d of %d alerts after a minute; stderr:\n%s", h.Alerts, want, stderr.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	pw, err := os.ReadFile(filepath.Join(data, "initial-admin-password"))
	if err != nil {
		t.Fatalf("the initial administrator password: %v", err)
	}
	return base, strings.TrimSpace(string(pw))
}

// insertHugeAlert stores, next to the running manager, an alert whose
// every field is a hostile 100 KB string (as a Log Analytics row could
// carry).
func insertHugeAlert(t *testing.T, path string) {
	t.Helper()
	st, err := store.Open(context.Background(), path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	huge := strings.Repeat(hostilePayloads[1], 100<<10/len(hostilePayloads[1]))
	a := &alert.Alert{
		Timestamp: time.Now(), ID: "huge-1", Manager: "m", Location: huge, FullLog: huge,
		Agent: alert.Agent{ID: "000", Name: huge},
		Rule:  &alert.Rule{Level: 12, ID: "100900", Description: "Hostile: " + huge, Groups: []string{"hostile", huge}},
		Data:  alert.Fields{{Key: "payload", Value: huge}, {Key: "url", Value: "javascript:alert(1)"}},
	}
	if n, err := st.Insert(context.Background(), []*alert.Alert{a}); err != nil || n != 1 {
		t.Fatalf("insert the 100 KB alert: %d, %v", n, err)
	}
}

type syncWriter struct {
	mu sync.Mutex
	w  *strings.Builder
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

// TestDashboardInABrowser signs in with headless Chromium, opens every
// page, filters Security events by the group "azure", opens an alert and
// follows the MITRE matrix, checking what is shown. Hostile alerts must
// stay inert: no script of theirs runs, no dialog opens, and the strict
// Content-Security-Policy is never violated by the pages themselves.
func TestDashboardInABrowser(t *testing.T) {
	base, data, password := startQuickstartServer(t)
	shots := browserTestDir(t)

	// What the dashboard must show: the alerts of group azure, from
	// alerts.json.
	var azureRules []string
	for _, a := range readAlerts(t, filepath.Join(data, "alerts", "alerts.json")) {
		if slices.Contains(a.Rule.Groups, "azure") {
			azureRules = append(azureRules, a.Rule.ID)
		}
	}
	if len(azureRules) < 11 {
		t.Fatalf("only %d alerts of group azure in alerts.json", len(azureRules))
	}

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("no-first-run", true),
		chromedp.WindowSize(1400, 1000),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancelTimeout := context.WithTimeout(ctx, 2*time.Minute)
	defer cancelTimeout()

	var mu sync.Mutex
	var incidents []string
	do := func(step string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, actions...); err != nil {
			t.Fatalf("%s: %v", step, err)
		}
	}
	// load runs an action that loads a page (a click on a link, a form
	// submission) and waits for the new page.
	load := func(step string, a chromedp.Action[chromedp.Void]) {
		t.Helper()
		if _, err := chromedp.RunResponse(ctx, a); err != nil {
			t.Fatalf("%s: %v", step, err)
		}
	}
	text := func(sel string) string {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("text of %s: %v", sel, err)
		}
		return v
	}
	location := func() *url.URL {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Location())
		if err != nil {
			t.Fatal(err)
		}
		u, _ := url.Parse(v)
		return u
	}
	screenshot := func(name string) {
		t.Helper()
		buf, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatalf("screenshot %s: %v", name, err)
		}
		if err := os.WriteFile(filepath.Join(shots, name+".png"), buf, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// checkInert fails when a payload ran or the page broke its policy.
	checkInert := func(where string) {
		t.Helper()
		xss, err := chromedp.Run(ctx, chromedp.Evaluate[string](`String(window.__xss)`))
		if err != nil {
			t.Fatal(err)
		}
		csp, err := chromedp.Run(ctx, chromedp.Evaluate[string](`JSON.stringify(window.__csp||[])`))
		if err != nil {
			t.Fatal(err)
		}
		if xss != "undefined" {
			t.Errorf("%s: an event's script ran (window.__xss=%s)", where, xss)
		}
		if csp != "[]" {
			t.Errorf("%s: Content-Security-Policy violations: %s", where, csp)
		}
	}
	rowRules := func() []string {
		t.Helper()
		ids, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll('#alerts-table tr.alert-row td.col-rule')).map(e => e.textContent.trim())`))
		if err != nil {
			t.Fatal(err)
		}
		return ids
	}

	if err := chromedp.Listen(ctx, func(ev any) {
		mu.Lock()
		defer mu.Unlock()
		switch e := ev.(type) {
		case *page.EventJavascriptDialogOpening:
			incidents = append(incidents, "a dialog opened: "+e.Message)
		case *cdplog.EventEntryAdded:
			if strings.Contains(e.Entry.Text, "Content Security Policy") || strings.Contains(e.Entry.Text, "Content-Security-Policy") {
				incidents = append(incidents, "CSP violation: "+e.Entry.Text)
			}
		}
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(ctx, cdplog.Enable, cdp.Empty{}); err != nil {
		t.Fatal(err)
	}
	// Record CSP violations from inside the page too (DevTools scripts are
	// exempt from the page's policy).
	if _, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{
		Source: `window.__csp=[];document.addEventListener('securitypolicyviolation',e=>window.__csp.push(e.violatedDirective+' '+e.blockedURI));`,
	}); err != nil {
		t.Fatal(err)
	}

	// Signing in: a dashboard link leads to the sign-in page and back.
	load("open /events?group=azure", chromedp.Navigate(base+"/events?group=azure"))
	do("sign-in page", chromedp.WaitVisible(chromedp.ID("password")))
	if u := location(); u.Path != "/login" {
		t.Fatalf("an anonymous visit went to %s, not the sign-in page", u)
	}
	screenshot("01-login")
	do("wrong password", chromedp.SendKeys(chromedp.ID("user"), "admin"), chromedp.SendKeys(chromedp.ID("password"), "not the password"))
	load("submit", chromedp.Submit(chromedp.ID("password")))
	do("error shown", chromedp.WaitVisible(chromedp.CSS(".error")))
	do("credentials", chromedp.SetValue(chromedp.ID("user"), "admin"), chromedp.SetValue(chromedp.ID("password"), password))
	load("sign in", chromedp.Submit(chromedp.ID("password")))
	do("events page", chromedp.WaitVisible(chromedp.ID("alerts-table")))
	if u := location(); u.Path != "/events" || u.Query().Get("group") != "azure" {
		t.Errorf("after signing in the browser is at %s, not back at /events?group=azure", u)
	}
	if user := strings.TrimSpace(text("#user")); user != "admin" {
		t.Errorf("#user shows %q", user)
	}

	// Security events filtered by group azure: exactly the walkthrough's
	// alerts and the built-in Azure ones, nothing hostile.
	got := rowRules()
	slices.Sort(got)
	want := slices.Clone(azureRules)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("Security events filtered by group azure show rules %v, want %v", got, want)
	}
	for _, r := range []string{"100200", "100201", "100202", "100203", "100204", "100205"} {
		if !slices.Contains(got, r) {
			t.Errorf("the walkthrough's rule %s is not among the azure events", r)
		}
	}
	screenshot("02-events-group-azure")
	checkInert("events?group=azure")

	// The filter form does the same.
	load("events", chromedp.Navigate(base+"/events"))
	do("filter form", chromedp.WaitVisible(chromedp.ID("filter-form")), chromedp.SetValue(chromedp.CSS(`#filter-form [name=group]`), "azure"))
	load("submit the filter", chromedp.Submit(chromedp.CSS(`#filter-form [name=group]`)))
	if u := location(); u.Query().Get("group") != "azure" {
		t.Errorf("submitting the filter form went to %s", u)
	}
	if n := len(rowRules()); n != len(azureRules) {
		t.Errorf("the filter form shows %d azure events, want %d", n, len(azureRules))
	}

	// One alert in full.
	load("events of 100201", chromedp.Navigate(base+"/events?group=azure&rule=100201"))
	load("open the alert", chromedp.Click(chromedp.CSS(`a.alert-link`)))
	do("detail", chromedp.WaitVisible(chromedp.ID("alert-json")))
	screenshot("03-alert")
	var shown struct {
		Rule struct {
			ID    string `json:"id"`
			Mitre struct {
				ID []string `json:"id"`
			} `json:"mitre"`
		} `json:"rule"`
	}
	if jsonText := text("#alert-json"); json.Unmarshal([]byte(jsonText), &shown) != nil {
		t.Errorf("#alert-json is not the alert's JSON:\n%.300s", jsonText)
	}
	if shown.Rule.ID != "100201" || !slices.Contains(shown.Rule.Mitre.ID, "T1651") {
		t.Errorf("the opened alert is rule %s with MITRE %v, want 100201 with T1651", shown.Rule.ID, shown.Rule.Mitre.ID)
	}

	// Overview.
	load("overview", chromedp.Click(chromedp.ID("nav-overview")))
	do("overview charts", chromedp.WaitVisible(chromedp.ID("chart-histogram")), chromedp.WaitVisible(chromedp.ID("top-rules")))
	if total := strings.ReplaceAll(text("#total-alerts"), ",", ""); !strings.Contains(total, fmt.Sprint(14+len(hostilePayloads)+2)) {
		t.Errorf("the overview's total says %q", total)
	}
	screenshot("04-overview")
	checkInert("overview")

	// MITRE ATT&CK: the matrix links to the events of a technique.
	load("mitre", chromedp.Click(chromedp.ID("nav-mitre")))
	do("matrix", chromedp.WaitVisible(chromedp.ID("mitre-matrix")))
	matrix := text("#mitre-matrix")
	for _, tech := range []string{"T1651", "T1098.004", "T1648", "T1059.009", "T1609"} {
		if !strings.Contains(matrix, tech) {
			t.Errorf("the MITRE matrix does not show %s", tech)
		}
	}
	screenshot("05-mitre")
	checkInert("mitre")
	load("mitre click-through", chromedp.Click(chromedp.CSS(`#mitre-matrix a[href*="T1609"]`)))
	do("events of T1609", chromedp.WaitVisible(chromedp.ID("alerts-table")))
	if got := rowRules(); !slices.Equal(got, []string{"100205"}) {
		t.Errorf("the events of T1609 show rules %v, want [100205]", got)
	}

	// Cloud posture: the six unhealthy recommendations of the quickstart.
	load("posture", chromedp.Click(chromedp.ID("nav-posture")))
	do("posture table", chromedp.WaitVisible(chromedp.ID("posture-table")))
	rows, err := chromedp.Run(ctx, chromedp.Nodes(chromedp.CSSAll(`#posture-table tr.posture-row`), chromedp.AtLeast(0)))
	if err != nil {
		t.Fatal(err)
	}
	postureText := text("#posture-table")
	if len(rows) != 6 || !strings.Contains(postureText, "web-vm-01") || !strings.Contains(postureText, "Unhealthy") {
		t.Errorf("the posture table has %d rows:\n%s", len(rows), postureText)
	}
	screenshot("06-posture")
	checkInert("posture")

	// Hostile alerts: listed, opened, and inert everywhere.
	load("hostile events", chromedp.Navigate(base+"/events?group=hostile"))
	do("hostile table", chromedp.WaitVisible(chromedp.ID("alerts-table")))
	if n := len(rowRules()); n != len(hostilePayloads)+2 {
		t.Errorf("%d hostile alerts listed, want %d", n, len(hostilePayloads)+2)
	}
	if hostileText := text("#alerts-table"); !strings.Contains(hostileText, "<script>window.__xss=1") {
		t.Errorf("the hostile description is not shown as text:\n%.500s", hostileText)
	}
	screenshot("07-hostile-events")
	checkInert("events?group=hostile")
	for i := range len(hostilePayloads) + 2 {
		load("hostile events", chromedp.Navigate(base+"/events?group=hostile"))
		load("hostile alert", chromedp.Click(chromedp.CSS(fmt.Sprintf(`#alerts-table tr.alert-row:nth-child(%d) a.alert-link`, i+1))))
		do("detail", chromedp.WaitVisible(chromedp.ID("alert-json")))
		if detail := text("#alert-json"); !strings.Contains(detail, "payload") {
			t.Errorf("hostile alert %d: its JSON is not shown", i+1)
		}
		checkInert(fmt.Sprintf("hostile alert %d", i+1))
		if i == len(hostilePayloads)+1 {
			screenshot("08-hostile-alert")
		}
	}

	// Signing out ends the session.
	load("overview", chromedp.Navigate(base+"/"))
	load("sign out", chromedp.Submit(chromedp.CSS(`#logout-form button, #logout-form input[type=submit]`)))
	load("mitre after sign-out", chromedp.Navigate(base+"/mitre"))
	if u := location(); u.Path != "/login" {
		t.Errorf("after signing out /mitre shows %s, not the sign-in page", u)
	}

	mu.Lock()
	defer mu.Unlock()
	for _, inc := range incidents {
		t.Error(inc)
	}
	t.Logf("screenshots in %s", shots)
}

// TestQuickstartServesTheDashboard runs the README's first command as it
// is (etc/quickstart/ossec.conf, serving): signing in with the generated
// administrator password and asking for the Security events of group
// azure gives the walkthrough's alerts; without credentials the API
// answers 401.
func TestQuickstartServesTheDashboard(t *testing.T) {
	conf := filepath.Join(repoRoot(t), "etc", "quickstart", "ossec.conf")
	base, password := startManager(t, conf, filepath.Join(t.TempDir(), "var"), 14)

	if resp, err := http.Get(base + "/api/v1/alerts?group=azure"); err != nil || resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("the API without credentials: %v %v", resp.Status, err)
	}
	req, _ := http.NewRequest("POST", base+"/api/v1/auth/token", nil)
	req.SetBasicAuth("admin", password)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("a token for admin with the initial password: %v %v", resp.Status, err)
	}
	var tok struct{ Token string }
	json.NewDecoder(resp.Body).Decode(&tok)
	resp.Body.Close()

	req, _ = http.NewRequest("GET", base+"/api/v1/alerts?group=azure&limit=100", nil)
	req.Header.Set("Authorization", "Bearer "+tok.Token)
	resp, err = http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /api/v1/alerts?group=azure: %v %v", resp.Status, err)
	}
	defer resp.Body.Close()
	var res struct {
		Total  int
		Alerts []struct {
			RuleID string `json:"rule_id"`
		}
	}
	if err := json.NewDecoder(resp.Body).Decode(&res); err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	for _, a := range res.Alerts {
		count[a.RuleID]++
	}
	want := map[string]int{"100200": 6, "100201": 1, "100202": 1, "100203": 1, "100204": 1, "100205": 1}
	for r, n := range want {
		if count[r] != n {
			t.Errorf("group azure has %d alert(s) of rule %s, want %d (all: %v)", count[r], r, n, count)
		}
	}
}
