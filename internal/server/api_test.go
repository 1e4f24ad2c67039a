package server

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/threatlockdown/tld/internal/store"
)

func TestAlertsAPI(t *testing.T) {
	e := newEnv(t)
	e.insertAlerts()
	tok := e.token(readerUser, readerPass)
	ids := func(r store.SearchResult) []string {
		out := []string{}
		for _, a := range r.Alerts {
			out = append(out, a.ID)
		}
		return out
	}
	tests := []struct {
		name  string
		query string
		ids   []string
		total int
	}{
		{"the default is the last 24 hours, newest first", "", []string{"a1", "a2", "a3", "a4"}, 4},
		{"range all reaches old alerts", "range=all", []string{"a1", "a2", "a3", "a4", "old"}, 5},
		{"a group filter selects", "group=authentication_failed", []string{"a1", "a3"}, 2},
		{"comma-separated groups match any", "group=web,authentication_success", []string{"a2", "a4"}, 2},
		{"a level range selects", "level_min=5&level_max=7", []string{"a1", "a4"}, 2},
		{"an agent filter selects", "agent=db-01", []string{"a3", "a4"}, 2},
		{"a rule filter selects", "rule=5710&range=all", []string{"a1", "a3", "old"}, 3},
		{"sorting by level ascending", "sort=level&order=asc", []string{"a2", "a1", "a4", "a3"}, 4},
		{"paging gives a slice and the full total", "limit=2&offset=1", []string{"a2", "a3"}, 4},
		{"a relative from narrows the range", "from=150m", []string{"a1", "a2"}, 2},
		{"a technique filter selects", "technique=T1190", []string{"a4"}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := e.do(req{target: "/api/v1/alerts?" + tt.query, bearer: tok})
			if w.Code != http.StatusOK {
				t.Fatalf("%d %s", w.Code, w.Body)
			}
			var res store.SearchResult
			decode(t, w, &res)
			if got := ids(res); !slices.Equal(got, tt.ids) || res.Total != tt.total {
				t.Fatalf("ids %v total %d, want %v total %d", got, res.Total, tt.ids, tt.total)
			}
		})
	}
	bad := []struct{ query, param string }{
		{"level_min=99", "level_min"},
		{"sort=description", "sort"},
		{"order=sideways", "order"},
		{"limit=5000", "limit"},
		{"from=yesterday", "from"},
		{"from=1h&range=7d", "range"},
	}
	for _, tt := range bad {
		t.Run("a bad "+tt.param+" answers 400 naming it", func(t *testing.T) {
			w := e.do(req{target: "/api/v1/alerts?" + tt.query, bearer: tok})
			var ae apiError
			decode(t, w, &ae)
			if w.Code != http.StatusBadRequest || !strings.HasPrefix(ae.Error, "parameter "+tt.param+":") {
				t.Fatalf("%d %s", w.Code, w.Body)
			}
		})
	}
	t.Run("one alert is returned in full", func(t *testing.T) {
		w := e.do(req{target: "/api/v1/alerts/a4", bearer: tok})
		var a store.StoredAlert
		decode(t, w, &a)
		if w.Code != http.StatusOK || a.ID != "a4" || a.RuleID != "31101" || !strings.Contains(string(a.JSON), `"full_log":"event a4"`) {
			t.Fatalf("%d %s", w.Code, w.Body)
		}
	})
	t.Run("an unknown alert answers 404", func(t *testing.T) {
		w := e.do(req{target: "/api/v1/alerts/nope", bearer: tok})
		if w.Code != http.StatusNotFound || !strings.Contains(w.Body.String(), `"error"`) {
			t.Fatalf("%d %s", w.Code, w.Body)
		}
	})
	t.Run("a wrong method answers 405 with Allow", func(t *testing.T) {
		w := e.do(req{method: "DELETE", target: "/api/v1/alerts/a1", bearer: e.token(adminUser, adminPass)})
		if w.Code != http.StatusMethodNotAllowed || w.Header().Get("Allow") != "GET, HEAD" {
			t.Fatalf("%d %v", w.Code, w.Header())
		}
	})
}

func TestAggregationsAPI(t *testing.T) {
	e := newEnv(t)
	e.insertAlerts()
	tok := e.token(readerUser, readerPass)

	t.Run("the histogram counts per interval", func(t *testing.T) {
		var h HistogramResponse
		w := e.do(req{target: "/api/v1/aggregations/histogram?interval=1h", bearer: tok})
		decode(t, w, &h)
		total := 0
		for _, b := range h.Buckets {
			total += b.Count
		}
		if w.Code != http.StatusOK || h.Interval != "1h" || h.IntervalSeconds != 3600 || total != 4 {
			t.Fatalf("%d %s", w.Code, w.Body)
		}
	})
	t.Run("the histogram picks an interval over everything", func(t *testing.T) {
		var h HistogramResponse
		w := e.do(req{target: "/api/v1/aggregations/histogram?range=all", bearer: tok})
		decode(t, w, &h)
		if w.Code != http.StatusOK || h.Interval == "" {
			t.Fatalf("%d %s", w.Code, w.Body)
		}
	})
	t.Run("a tiny interval over a long range is refused", func(t *testing.T) {
		w := e.do(req{target: "/api/v1/aggregations/histogram?range=30d&interval=1m", bearer: tok})
		if w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), "parameter interval") {
			t.Fatalf("%d %s", w.Code, w.Body)
		}
	})
	t.Run("top counts by rule by default", func(t *testing.T) {
		var top TopResponse
		w := e.do(req{target: "/api/v1/aggregations/top", bearer: tok})
		decode(t, w, &top)
		if w.Code != http.StatusOK || top.By != store.ByRule || len(top.Buckets) == 0 || top.Buckets[0].Key != "5710" || top.Buckets[0].Count != 2 {
			t.Fatalf("%d %s", w.Code, w.Body)
		}
	})
	t.Run("top counts by agent with a size", func(t *testing.T) {
		var top TopResponse
		w := e.do(req{target: "/api/v1/aggregations/top?by=agent&size=1", bearer: tok})
		decode(t, w, &top)
		if w.Code != http.StatusOK || len(top.Buckets) != 1 {
			t.Fatalf("%d %s", w.Code, w.Body)
		}
	})
	for _, q := range []string{"by=colour", "size=0", "size=1000"} {
		t.Run("top refuses "+q, func(t *testing.T) {
			if w := e.do(req{target: "/api/v1/aggregations/top?" + q, bearer: tok}); w.Code != http.StatusBadRequest {
				t.Fatalf("%d %s", w.Code, w.Body)
			}
		})
	}
	t.Run("the MITRE matrix counts techniques under tactics", func(t *testing.T) {
		var m MitreResponse
		w := e.do(req{target: "/api/v1/aggregations/mitre", bearer: tok})
		decode(t, w, &m)
		if w.Code != http.StatusOK || len(m.Cells) != 1 || m.Cells[0].TechniqueID != "T1190" || m.Cells[0].Count != 1 {
			t.Fatalf("%d %s", w.Code, w.Body)
		}
	})
}

func TestPostureAndStatsAPI(t *testing.T) {
	e := newEnv(t)
	e.insertAlerts()
	tok := e.token(readerUser, readerPass)
	tests := []struct {
		name, target string
		want         int
		contains     string
	}{
		{"posture lists recommendations", "/api/v1/posture?severity=high&limit=10", http.StatusOK, `"items":[]`},
		{"posture refuses an unknown state", "/api/v1/posture?state=fine", http.StatusBadRequest, "parameter state"},
		{"the summary counts", "/api/v1/posture/summary", http.StatusOK, `"by_severity"`},
		{"the trend defaults to 30 days", "/api/v1/posture/trend", http.StatusOK, `"interval":"12h"`},
		{"the trend takes a range and interval", "/api/v1/posture/trend?from=7d&interval=1d", http.StatusOK, `"interval":"1d"`},
		{"the trend refuses a reversed range", "/api/v1/posture/trend?from=1d&to=2d", http.StatusBadRequest, "parameter to"},
		{"stats show the store and the retention", "/api/v1/stats", http.StatusOK, `"retention_days":90`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := e.do(req{target: tt.target, bearer: tok})
			if w.Code != tt.want || !strings.Contains(w.Body.String(), tt.contains) {
				t.Fatalf("%d %s, want %d and %s", w.Code, w.Body, tt.want, tt.contains)
			}
		})
	}
	var st StatsResponse
	decode(t, e.do(req{target: "/api/v1/stats", bearer: tok}), &st)
	if st.Alerts != 5 {
		t.Errorf("stats = %+v", st)
	}
	t.Run("prune uses the retention", func(t *testing.T) {
		admin := e.token(adminUser, adminPass)
		var pr PruneResponse
		w := e.do(req{method: "POST", target: "/api/v1/store/prune", bearer: admin})
		decode(t, w, &pr)
		if w.Code != http.StatusOK || pr.Deleted != 0 || !pr.Before.Equal(e.clock.Now().Add(-90*24*time.Hour)) {
			t.Fatalf("%d %s", w.Code, w.Body)
		}
		w = e.do(req{method: "POST", target: "/api/v1/store/prune?before=7d", bearer: admin})
		decode(t, w, &pr)
		if w.Code != http.StatusOK || pr.Deleted != 1 {
			t.Fatalf("%d %s", w.Code, w.Body)
		}
		if w := e.do(req{method: "POST", target: "/api/v1/store/prune?before=later", bearer: admin}); w.Code != http.StatusBadRequest {
			t.Fatalf("%d", w.Code)
		}
	})
	t.Run("prune without retention needs before", func(t *testing.T) {
		e2 := newEnv(t, func(o *Options) { o.RetentionDays = 0 })
		w := e2.do(req{method: "POST", target: "/api/v1/store/prune", bearer: e2.token(adminUser, adminPass)})
		if w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), "parameter before") {
			t.Fatalf("%d %s", w.Code, w.Body)
		}
	})
}

// failingStore fails every call, as a broken database would.
type failingStore struct{ AlertStore }

func (failingStore) Stats(context.Context) (store.Stats, error) {
	return store.Stats{}, errors.New("sqlite: disk I/O error at /secret/path")
}

func TestStoreErrorsAreNotEchoed(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.Store = failingStore{} })
	w := e.do(req{target: "/api/v1/stats", bearer: e.token(readerUser, readerPass)})
	if w.Code != http.StatusInternalServerError || strings.Contains(w.Body.String(), "secret") {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
	if !strings.Contains(e.logs.String(), "disk I/O error") {
		t.Error("the store error is not logged")
	}
}

func TestOpenAPICoversEveryRoute(t *testing.T) {
	e := newEnv(t)
	w := e.do(req{target: "/api/openapi.json"})
	if w.Code != http.StatusOK {
		t.Fatalf("%d", w.Code)
	}
	var doc struct {
		OpenAPI    string                                `json:"openapi"`
		Paths      map[string]map[string]json.RawMessage `json:"paths"`
		Components struct {
			SecuritySchemes map[string]json.RawMessage `json:"securitySchemes"`
		} `json:"components"`
	}
	decode(t, w, &doc)
	if !strings.HasPrefix(doc.OpenAPI, "3.0") {
		t.Errorf("openapi = %q", doc.OpenAPI)
	}
	for _, s := range []string{"bearerAuth", "cookieAuth"} {
		if _, ok := doc.Components.SecuritySchemes[s]; !ok {
			t.Errorf("security scheme %s missing", s)
		}
	}
	documented := map[string]bool{}
	for path, ops := range doc.Paths {
		for method := range ops {
			if method == "parameters" {
				continue
			}
			documented[strings.ToUpper(method)+" "+path] = true
		}
	}
	served := map[string]bool{}
	for _, rt := range e.srv.routes {
		served[rt.method+" "+rt.path] = true
		if !documented[rt.method+" "+rt.path] {
			t.Errorf("route %s %s is not in openapi.json", rt.method, rt.path)
		}
	}
	for op := range documented {
		if !served[op] {
			t.Errorf("openapi.json documents %s, which no route serves", op)
		}
	}
}

func TestMetrics(t *testing.T) {
	e := newEnv(t)
	t.Run("loopback clients need no credentials", func(t *testing.T) {
		for _, remote := range []string{"127.0.0.1:5555", "[::1]:5555"} {
			w := e.do(req{target: "/metrics", remote: remote})
			if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), "go_goroutines") {
				t.Fatalf("%s: %d %.200s", remote, w.Code, w.Body)
			}
		}
	})
	t.Run("other clients need credentials", func(t *testing.T) {
		if w := e.do(req{target: "/metrics"}); w.Code != http.StatusUnauthorized {
			t.Fatalf("%d", w.Code)
		}
		if w := e.do(req{target: "/metrics", bearer: e.token(readerUser, readerPass)}); w.Code != http.StatusOK {
			t.Fatalf("%d", w.Code)
		}
	})
	t.Run("a given gatherer is served", func(t *testing.T) {
		reg := prometheus.NewRegistry()
		c := prometheus.NewCounter(prometheus.CounterOpts{Name: "tld_test_events_total", Help: "Test."})
		reg.MustRegister(c)
		c.Add(3)
		e2 := newEnv(t, func(o *Options) { o.Gatherer = reg })
		w := e2.do(req{target: "/metrics", remote: "127.0.0.1:1"})
		if !strings.Contains(w.Body.String(), "tld_test_events_total 3") {
			t.Fatalf("%s", w.Body)
		}
	})
}

func TestHealth(t *testing.T) {
	tests := []struct {
		name   string
		health func(context.Context) any
		want   int
		body   string
	}{
		{"without extra fields it is ok", nil, http.StatusOK, `{"status":"ok"}`},
		{"extra fields are merged", func(context.Context) any { return map[string]any{"alerts": 5} }, http.StatusOK, `{"alerts":5,"status":"ok"}`},
		{"a struct's fields are merged", func(context.Context) any {
			return struct {
				Inputs int `json:"inputs"`
			}{2}
		}, http.StatusOK, `{"inputs":2,"status":"ok"}`},
		{"a degraded status answers 503", func(context.Context) any { return map[string]any{"status": "degraded"} }, http.StatusServiceUnavailable, `{"status":"degraded"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, func(o *Options) { o.Health = tt.health })
			w := e.do(req{target: "/healthz"})
			if w.Code != tt.want || strings.TrimSpace(w.Body.String()) != tt.body {
				t.Fatalf("%d %s, want %d %s", w.Code, w.Body, tt.want, tt.body)
			}
		})
	}
}

func TestSecurityHeaders(t *testing.T) {
	e := newEnv(t)
	for _, target := range []string{"/api/v1/alerts", "/login", "/healthz", "/nowhere", "/api/openapi.json"} {
		t.Run(target+" carries the security headers", func(t *testing.T) {
			h := e.do(req{target: target}).Header()
			want := map[string]string{
				"Content-Security-Policy": contentSecurityPolicy,
				"X-Content-Type-Options":  "nosniff",
				"Referrer-Policy":         "no-referrer",
				"X-Frame-Options":         "DENY",
				"Cache-Control":           "no-store",
			}
			for k, v := range want {
				if h.Get(k) != v {
					t.Errorf("%s = %q, want %q", k, h.Get(k), v)
				}
			}
		})
	}
	if !strings.Contains(contentSecurityPolicy, "default-src 'none'") || !strings.Contains(contentSecurityPolicy, "frame-ancestors 'none'") {
		t.Error("the policy lost its core")
	}
}

func TestDashboardAccess(t *testing.T) {
	e := newEnv(t)
	t.Run("without a session the dashboard redirects to sign in", func(t *testing.T) {
		w := e.do(req{target: "/"})
		if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/login?next=%2F" {
			t.Fatalf("%d %q", w.Code, w.Header().Get("Location"))
		}
	})
	t.Run("a bearer token does not open the dashboard", func(t *testing.T) {
		if w := e.do(req{target: "/", bearer: e.token(readerUser, readerPass)}); w.Code != http.StatusSeeOther {
			t.Fatalf("%d", w.Code)
		}
	})
	t.Run("a session opens it with the principal in context", func(t *testing.T) {
		cookie, _ := e.login(readerUser, readerPass)
		w := e.do(req{target: "/", cookie: cookie})
		if w.Code != http.StatusOK || w.Body.String() != "dashboard for bob" {
			t.Fatalf("%d %s", w.Code, w.Body)
		}
	})
	t.Run("a panic answers 500 and is logged", func(t *testing.T) {
		cookie, _ := e.login(readerUser, readerPass)
		w := e.do(req{target: "/panic", cookie: cookie})
		if w.Code != http.StatusInternalServerError || !strings.Contains(e.logs.String(), "dashboard exploded") {
			t.Fatalf("%d %s", w.Code, w.Body)
		}
	})
	t.Run("without a dashboard / is 404", func(t *testing.T) {
		e2 := newEnv(t, func(o *Options) { o.Dashboard = nil })
		if w := e2.do(req{target: "/"}); w.Code != http.StatusNotFound {
			t.Fatalf("%d", w.Code)
		}
	})
	t.Run("assets need no session", func(t *testing.T) {
		e2 := newEnv(t, func(o *Options) {
			o.Assets = http.StripPrefix("/assets/", http.FileServerFS(testFS{}))
		})
		w := e2.do(req{target: "/assets/app.css"})
		if w.Code != http.StatusOK || w.Body.String() != "body{}" {
			t.Fatalf("%d %s", w.Code, w.Body)
		}
	})
}

func TestSecretsNeverLogged(t *testing.T) {
	e := newEnv(t)
	e.postLogin(adminUser, "a-wrong-Password-99", "/")
	cookie, csrf := e.login(adminUser, adminPass)
	tok := e.token(readerUser, readerPass)
	e.do(req{target: "/api/v1/alerts?q=x", bearer: tok})
	e.do(req{method: "POST", target: "/api/v1/users", cookie: cookie, csrf: csrf, contentType: "application/json",
		body: `{"name":"frank","role":"read-only","password":"frank-Secret-Pass-6"}`})
	e.do(req{method: "POST", target: "/api/v1/users", cookie: cookie, csrf: csrf, contentType: "application/json",
		body: `{"name":"frank2","role":"read-only","password":"frank-Secret-Pass-7"`})
	e.do(req{method: "POST", target: "/api/v1/auth/token", basic: [2]string{readerUser, "b-wrong-Password-88"}})
	logs := e.logs.String()
	if !strings.Contains(logs, "sign-in failed") || !strings.Contains(logs, "http request") {
		t.Fatalf("the flow was not logged:\n%s", logs)
	}
	for _, secret := range []string{adminPass, readerPass, "a-wrong-Password-99", "b-wrong-Password-88", "frank-Secret-Pass-6", "frank-Secret-Pass-7", cookie.Value, csrf, tok} {
		if strings.Contains(logs, secret) {
			t.Errorf("the log holds the secret %q:\n%s", secret, logs)
		}
	}
}

func TestServeShutsDownGracefully(t *testing.T) {
	e := newEnv(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.srv.Serve(ctx, ln, "", "") }()
	resp, err := http.Get("http://" + ln.Addr().String() + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"ok"`) {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Serve: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return after cancel")
	}
	if err := e.srv.Serve(context.Background(), ln, "cert.pem", ""); err == nil {
		t.Error("a certificate without a key is accepted")
	}
}
