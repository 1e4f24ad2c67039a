package dashboard

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/threatlockdown/tld/internal/alert"
	"github.com/threatlockdown/tld/internal/auth"
	"github.com/threatlockdown/tld/internal/store"
)

// testNow is the dashboard's clock in tests; every fixture alert is within
// the default 24 h range before it.
var testNow = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

// Hostile values, each of which would run script or break the page if it
// reached the HTML unescaped.
const (
	xssScript = `<script>alert(1)</script>`
	xssImg    = `"><img src=x onerror=alert(1)>`
	xssURL    = `javascript:alert(1)`
	rtl       = "\u202e"
)

var bigValue = strings.Repeat("A", 100*1024)

func newAlert(id string, ago time.Duration, level int, ruleID, desc string, groups []string, agent, location string) *alert.Alert {
	return &alert.Alert{
		ID:        id,
		Timestamp: testNow.Add(-ago),
		Rule:      &alert.Rule{Level: level, ID: ruleID, Description: desc, Groups: groups},
		Agent:     alert.Agent{ID: "001", Name: agent},
		Manager:   "tld",
		Location:  location,
		FullLog:   desc + " full log",
	}
}

// fixtureAlerts are ordinary alerts: SSH failures, an Azure role change
// with MITRE techniques, a Defender recommendation row.
func fixtureAlerts() []*alert.Alert {
	var as []*alert.Alert
	for i := range 5 {
		as = append(as, newAlert("ssh-"+string(rune('a'+i)), time.Duration(i+1)*time.Hour, 5, "5716",
			"sshd: authentication failed.", []string{"syslog", "sshd", "authentication_failed"}, "web-01", "/var/log/auth.log"))
	}
	az := newAlert("azure-role", 30*time.Minute, 12, "100200", "Azure: role assignment created",
		[]string{"azure", "azure_activity"}, "tld-manager", "azure-activity")
	az.Rule.Mitre = &alert.Mitre{ID: []string{"T1098.003"}, Tactic: []string{"Persistence", "Privilege Escalation"}, Technique: []string{"Additional Cloud Roles"}}
	az.Data = alert.Fields{
		{Key: "azure.ResourceId", Value: "/subscriptions/0000-1111/resourceGroups/rg-prod/providers/Microsoft.Compute/virtualMachines/vm-1"},
		{Key: "azure.ResourceRegion", Value: "westeurope"},
	}
	as = append(as, az)
	rec := newAlert("defender-rec", 2*time.Hour, 7, "100300", "Defender recommendation: unhealthy",
		[]string{"azure", "defender"}, "tld-manager", "azure-defender")
	rec.Data = alert.Fields{
		{Key: "azure.RecommendationId", Value: "rec-mfa"},
		{Key: "azure.RecommendationDisplayName", Value: "MFA should be enabled on accounts with owner permissions"},
		{Key: "azure.RecommendationSeverity", Value: "High"},
		{Key: "azure.RecommendationState", Value: "Unhealthy"},
		{Key: "azure.AssessedResourceId", Value: "/subscriptions/0000-1111/resourceGroups/rg-prod/providers/Microsoft.Compute/virtualMachines/vm-1"},
		{Key: "azure.ResourceRegion", Value: "westeurope"},
		{Key: "azure.TimeGenerated", Value: testNow.Add(-2 * time.Hour).Format(time.RFC3339)},
	}
	as = append(as, rec)
	return as
}

// hostileAlerts put attacker-controlled text in every field the pages show.
func hostileAlerts() []*alert.Alert {
	a := newAlert("evil-1", 10*time.Minute, 15, "99999", xssScript+" "+xssImg+" "+rtl+"gpj.exe",
		[]string{"evil", xssImg}, xssImg, xssURL)
	a.Agent.ID = xssScript
	a.Agent.IP = xssImg
	a.FullLog = bigValue + "</pre>" + xssScript + "]]>" + rtl
	a.Rule.Mitre = &alert.Mitre{ID: []string{"T1059", xssScript}, Tactic: []string{"Execution", xssImg}, Technique: []string{"Command and Scripting Interpreter", xssScript}}
	a.Data = alert.Fields{
		{Key: "url", Value: xssURL},
		{Key: "pre", Value: "</pre><script>alert(2)</script>"},
		{Key: "cdata", Value: "]]><script>alert(3)</script>"},
		{Key: "big", Value: bigValue},
		{Key: "azure.RecommendationId", Value: xssScript},
		{Key: "azure.RecommendationDisplayName", Value: xssImg + rtl},
		{Key: "azure.RecommendationSeverity", Value: xssScript},
		{Key: "azure.RecommendationState", Value: "Unhealthy"},
		{Key: "azure.AssessedResourceId", Value: "/subscriptions/" + xssImg + "/resourceGroups/" + xssScript + "/providers/Microsoft.Compute/virtualMachines/" + xssURL},
		{Key: "azure.ResourceRegion", Value: xssURL},
	}
	b := newAlert("evil-2 /../"+xssImg, 20*time.Minute, 3, xssImg, bigValue, []string{xssScript}, xssURL, bigValue)
	return []*alert.Alert{a, b}
}

// newTestDashboard opens a store in a temporary directory holding alerts.
func newTestDashboard(t *testing.T, alerts []*alert.Alert) *Dashboard {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "alerts.db"), store.Options{})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { _ = st.Close() })
	if len(alerts) > 0 {
		if _, err := st.Insert(ctx, alerts); err != nil {
			t.Fatalf("insert alerts: %v", err)
		}
	}
	d, err := New(Options{Store: st, Now: func() time.Time { return testNow }, Product: "tld test"})
	if err != nil {
		t.Fatalf("new dashboard: %v", err)
	}
	return d
}

// get requests target as an authenticated administrator.
func get(t *testing.T, h http.Handler, target string) (int, string) {
	t.Helper()
	r := httptest.NewRequest(http.MethodGet, target, nil)
	r = r.WithContext(auth.WithPrincipal(r.Context(), auth.Principal{User: "alice", Role: auth.Administrator, CSRF: "csrf-123"}))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	body, _ := io.ReadAll(w.Result().Body)
	return w.Code, string(body)
}

func TestPagesRender(t *testing.T) {
	d := newTestDashboard(t, fixtureAlerts())
	tests := []struct {
		name   string
		target string
		want   []string
	}{
		{"the overview shows totals, charts and top tables", "/", []string{
			"<h1>Overview</h1>", `id="chart-histogram"`, `id="chart-levels"`, `id="total-alerts">7<`,
			`id="total-critical">1<`, "5716", "authentication_failed", `href="/events?group=authentication_failed"`,
			"westeurope", "Microsoft.Compute/virtualMachines", "<title>",
		}},
		{"the events page lists alerts with a filter form", "/events", []string{
			"<h1>Security events</h1>", `id="filter-form"`, `name="level_min"`, `id="alerts-table"`,
			`class="alert-row"`, `class="alert-link" href="/events/azure-role"`, "Showing 1–7 of 7",
			`class="level lvl-critical">12<`, `class="level lvl-medium">5<`, "T1098.003",
		}},
		{"the detail page shows the summary and the JSON", "/events/azure-role", []string{
			"<h1>Alert azure-role</h1>", `id="alert-json"`, `&#34;rule&#34;: {`, "Additional Cloud Roles",
			`href="/events?rule=100200"`, `href="/events?technique=T1098.003"`,
		}},
		{"the MITRE page shows the matrix and the attribution", "/mitre?range=7d", []string{
			"<h1>MITRE ATT&amp;CK</h1>", `id="mitre-matrix"`, "Persistence", "Privilege Escalation",
			"T1098.003", `href="/events?range=7d&amp;tactic=Persistence&amp;technique=T1098.003"`,
			"The MITRE Corporation",
		}},
		{"the posture page shows counts, trend and recommendations", "/posture", []string{
			"<h1>Cloud posture</h1>", `id="posture-table"`, "MFA should be enabled", "vm-1", "rg-prod",
			`id="total-unhealthy">1<`, `href="/events/defender-rec"`, `id="chart-posture-trend"`,
		}},
		{"the layout names the user and offers logout", "/", []string{
			`<span id="user">alice</span>`, "administrator", `action="/logout"`,
			`name="csrf_token" value="csrf-123"`, `id="nav-overview"`, `id="nav-events"`,
			`id="nav-mitre"`, `id="nav-posture"`, `href="/assets/app.css"`, "tld test",
		}},
		{"nav links keep the time range", "/events?range=7d&group=sshd", []string{
			`id="nav-overview" href="/?range=7d"`, `id="nav-mitre" href="/mitre?range=7d"`,
			`id="range-30d" href="/events?group=sshd&amp;range=30d"`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, body := get(t, d, tt.target)
			if code != http.StatusOK {
				t.Fatalf("GET %s: status %d, want 200\n%s", tt.target, code, body)
			}
			for _, w := range tt.want {
				if !strings.Contains(body, w) {
					t.Errorf("GET %s: page lacks %q", tt.target, w)
				}
			}
			checkPage(t, tt.target, body)
		})
	}
}

func TestEventsFilter(t *testing.T) {
	d := newTestDashboard(t, fixtureAlerts())
	tests := []struct {
		name     string
		query    url.Values
		rows     int
		want     []string
		dontWant []string
	}{
		{"filtering by group shows only that group's alerts", url.Values{"group": {"azure"}}, 2,
			[]string{"Azure: role assignment created", "Defender recommendation"}, []string{"sshd: authentication failed"}},
		{"filtering by level shows only that level", url.Values{"level_min": {"12"}}, 1,
			[]string{"Azure: role assignment created"}, []string{"Defender recommendation"}},
		{"filtering by technique shows its alerts", url.Values{"technique": {"T1098"}}, 1,
			[]string{"Azure: role assignment created"}, nil},
		{"a narrow range excludes older alerts", url.Values{"range": {"15m"}}, 0, []string{"No alerts match"}, nil},
		{"empty form fields are ignored", url.Values{"range": {"24h"}, "from": {""}, "to": {""}, "group": {""}, "q": {""}, "limit": {""}}, 7,
			nil, nil},
		{"a typed from wins over the range select", url.Values{"range": {"15m"}, "from": {"2025-05-31T00:00:00Z"}}, 7, nil, nil},
		{"paging shows the second page and a link back", url.Values{"limit": {"3"}, "offset": {"3"}}, 3,
			[]string{"Showing 4–6 of 7", `id="page-prev"`, `id="page-next"`}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, body := get(t, d, "/events?"+tt.query.Encode())
			if code != http.StatusOK {
				t.Fatalf("status %d, want 200", code)
			}
			if n := strings.Count(body, `<tr class="alert-row">`); n != tt.rows {
				t.Errorf("%d rows, want %d", n, tt.rows)
			}
			for _, w := range tt.want {
				if !strings.Contains(body, w) {
					t.Errorf("page lacks %q", w)
				}
			}
			for _, w := range tt.dontWant {
				if strings.Contains(body, w) {
					t.Errorf("page shows %q", w)
				}
			}
		})
	}
}

func TestBadParameters(t *testing.T) {
	d := newTestDashboard(t, fixtureAlerts())
	for _, target := range []string{
		"/events?level_min=abc", "/events?sort=%3Cscript%3E", "/?range=%3Cscript%3Ealert(1)%3C/script%3E",
		"/mitre?from=yesterday", "/posture?limit=-1", "/events?offset=x&q=%22%3E%3Cimg%20src=x%20onerror=alert(1)%3E",
	} {
		t.Run("a bad parameter is a 400 page: "+target, func(t *testing.T) {
			code, body := get(t, d, target)
			if code != http.StatusBadRequest {
				t.Errorf("status %d, want 400", code)
			}
			if !strings.Contains(body, `id="page-error"`) {
				t.Errorf("page shows no error message")
			}
			checkPage(t, target, body)
		})
	}
}

func TestNotFound(t *testing.T) {
	d := newTestDashboard(t, fixtureAlerts())
	for _, target := range []string{"/events/no-such-alert", "/nowhere", "/events/" + url.PathEscape(xssScript)} {
		t.Run("an unknown address is a 404 page: "+target, func(t *testing.T) {
			code, body := get(t, d, target)
			if code != http.StatusNotFound {
				t.Errorf("status %d, want 404", code)
			}
			if !strings.Contains(body, "<h1>Not Found</h1>") {
				t.Errorf("not the 404 page:\n%s", body)
			}
			checkPage(t, target, body)
		})
	}
	t.Run("a POST to a page is refused", func(t *testing.T) {
		r := httptest.NewRequest(http.MethodPost, "/events", nil)
		w := httptest.NewRecorder()
		d.ServeHTTP(w, r)
		if w.Code != http.StatusMethodNotAllowed {
			t.Errorf("status %d, want 405", w.Code)
		}
	})
}

func TestEmptyStore(t *testing.T) {
	d := newTestDashboard(t, nil)
	tests := []struct {
		target string
		want   []string
	}{
		{"/", []string{"No alerts in this range", `id="chart-histogram"`, `id="total-alerts">0<`}},
		{"/events", []string{"No alerts match", "No results"}},
		{"/mitre", []string{"No alerts with MITRE ATT&amp;CK techniques", `id="mitre-matrix"`}},
		{"/posture", []string{"No posture data in this range", "No recommendations match"}},
	}
	for _, tt := range tests {
		t.Run("an empty store renders the empty state of "+tt.target, func(t *testing.T) {
			code, body := get(t, d, tt.target)
			if code != http.StatusOK {
				t.Fatalf("status %d, want 200", code)
			}
			for _, w := range tt.want {
				if !strings.Contains(body, w) {
					t.Errorf("page lacks %q", w)
				}
			}
			checkPage(t, tt.target, body)
		})
	}
}

func TestHostileAlertsRenderInert(t *testing.T) {
	d := newTestDashboard(t, append(fixtureAlerts(), hostileAlerts()...))
	targets := []string{
		"/", "/events", "/events?sort=agent&order=asc", "/events/evil-1", "/events/" + url.PathEscape("evil-2 /../"+xssImg),
		"/mitre", "/posture", "/events?group=" + url.QueryEscape(xssImg), "/events?agent=" + url.QueryEscape(xssURL),
		"/events?q=" + url.QueryEscape(xssScript),
	}
	for _, target := range targets {
		t.Run("hostile values are inert on "+target, func(t *testing.T) {
			code, body := get(t, d, target)
			if code != http.StatusOK {
				t.Fatalf("status %d, want 200\n%.2000s", code, body)
			}
			checkPage(t, target, body)
			for _, raw := range []string{xssScript, xssImg, "<img src=x", "]]>", rtl, "alert(2)</script>"} {
				if strings.Contains(body, raw) {
					t.Errorf("page holds the raw payload %q", raw)
				}
			}
			if !strings.HasPrefix(target, "/events/") && strings.Contains(body, bigValue[:cellMax*2]) {
				t.Errorf("a list page shows a 100 KB value uncut")
			}
		})
	}
	t.Run("the detail page shows the whole hostile value, escaped, in its pre", func(t *testing.T) {
		_, body := get(t, d, "/events/evil-1")
		if !strings.Contains(body, bigValue) {
			t.Errorf("the 100 KB value is not shown in full")
		}
		if !strings.Contains(body, `&lt;/pre&gt;`) || !strings.Contains(body, `\u202e`) {
			t.Errorf("the pre does not show the escaped payloads")
		}
	})
}

// checkPage asserts what every page must be under the server's CSP and
// against hostile data: complete, no inline script or style, no event
// handler attributes, every link on our own origin.
func checkPage(t *testing.T, target, body string) {
	t.Helper()
	if !strings.HasSuffix(strings.TrimSpace(body), "</html>") {
		t.Errorf("%s: page does not end with </html>", target)
	}
	if !strings.Contains(body, "<title>") || !strings.Contains(body, "<h1>") {
		t.Errorf("%s: page lacks a <title> or an <h1>", target)
	}
	lower := strings.ToLower(body)
	if strings.Contains(lower, "<script") {
		t.Errorf("%s: page holds a <script> element", target)
	}
	if strings.Contains(lower, "<style") {
		t.Errorf("%s: page holds a <style> element", target)
	}
	if strings.Count(lower, "<pre") != strings.Count(lower, "</pre>") {
		t.Errorf("%s: <pre> elements are unbalanced (a value closed one)", target)
	}
	for _, tag := range scanTags(body) {
		for _, a := range tag.attrs {
			name := strings.ToLower(a.name)
			switch {
			case strings.HasPrefix(name, "on"):
				t.Errorf("%s: <%s> has an event handler attribute %s=%q", target, tag.name, a.name, a.val)
			case name == "style":
				t.Errorf("%s: <%s> has an inline style attribute", target, tag.name)
			case name == "href" || name == "src" || name == "action" || name == "xlink:href":
				if !strings.HasPrefix(a.val, "/") || strings.HasPrefix(a.val, "//") {
					t.Errorf("%s: <%s %s=%q> leaves the origin", target, tag.name, a.name, a.val)
				}
			}
		}
	}
}

type attr struct{ name, val string }

type tag struct {
	name  string
	attrs []attr
}

var tagName = regexp.MustCompile(`^</?([a-zA-Z][a-zA-Z0-9:-]*)`)

// scanTags is a small HTML tag reader for the tests: it finds every start
// tag and its attributes as a browser would split them, which is what
// matters for "no handler attribute" (a substring search would also flag
// escaped text that merely mentions onerror=).
func scanTags(s string) []tag {
	var tags []tag
	for i := 0; i < len(s); i++ {
		if s[i] != '<' {
			continue
		}
		if strings.HasPrefix(s[i:], "<!--") {
			end := strings.Index(s[i:], "-->")
			if end < 0 {
				break
			}
			i += end + 2
			continue
		}
		m := tagName.FindStringSubmatch(s[i:])
		if m == nil {
			continue
		}
		tg := tag{name: strings.ToLower(m[1])}
		j := i + len(m[0])
		for j < len(s) && s[j] != '>' {
			if s[j] == ' ' || s[j] == '\n' || s[j] == '\t' || s[j] == '/' {
				j++
				continue
			}
			k := j
			for k < len(s) && !strings.ContainsRune(" \n\t/>=", rune(s[k])) {
				k++
			}
			a := attr{name: s[j:k]}
			j = k
			if j < len(s) && s[j] == '=' {
				j++
				if j < len(s) && (s[j] == '"' || s[j] == '\'') {
					q := s[j]
					end := strings.IndexByte(s[j+1:], q)
					if end < 0 {
						end = len(s) - j - 1
					}
					a.val = s[j+1 : j+1+end]
					j += end + 2
				} else {
					k := j
					for k < len(s) && !strings.ContainsRune(" \n\t>", rune(s[k])) {
						k++
					}
					a.val = s[j:k]
					j = k
				}
			}
			tg.attrs = append(tg.attrs, a)
		}
		tags = append(tags, tg)
		i = j
	}
	return tags
}

func TestAssets(t *testing.T) {
	d := newTestDashboard(t, nil)
	tests := []struct {
		name, path string
		code       int
		ctype      string
	}{
		{"the stylesheet is served under /assets/", "/assets/app.css", 200, "text/css"},
		{"the stylesheet is served without the prefix", "/app.css", 200, "text/css"},
		{"the logo is an SVG image", "/assets/logo.svg", 200, "image/svg+xml"},
		{"the directory is not listed", "/assets/", 404, ""},
		{"an unknown file is 404", "/assets/nope.js", 404, ""},
		{"a path outside the assets is 404", "/assets/../dashboard.go", 404, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			r.URL.Path = tt.path
			d.Assets().ServeHTTP(w, r)
			if w.Code != tt.code {
				t.Fatalf("status %d, want %d", w.Code, tt.code)
			}
			if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, tt.ctype) {
				t.Errorf("content type %q, want %q", ct, tt.ctype)
			}
		})
	}
	t.Run("the stylesheet styles the login page", func(t *testing.T) {
		w := httptest.NewRecorder()
		d.Assets().ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/assets/app.css", nil))
		css := w.Body.String()
		for _, sel := range []string{"body.login", ".login-box", ".login form", ".login .error"} {
			if !strings.Contains(css, sel) {
				t.Errorf("app.css lacks %s", sel)
			}
		}
	})
}
