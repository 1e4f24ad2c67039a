package server

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/threatlockdown/tld/internal/alert"
	"github.com/threatlockdown/tld/internal/auth"
	"github.com/threatlockdown/tld/internal/store"
)

// Credentials of the test users. They are long and distinctive so the
// log test can search for them.
const (
	adminUser  = "alice"
	adminPass  = "alice-Secret-Pass-1"
	readerUser = "bob"
	readerPass = "bob-Secret-Pass-22"
	configUser = "carol" // configured, administrator
	configPass = "carol-Secret-Pass-3"
)

// clock is a settable clock shared by sessions, tokens and the limiter.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// lockedBuffer collects log output from concurrent handlers.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

type env struct {
	t         *testing.T
	srv       *Server
	h         http.Handler
	store     *store.Store
	users     *auth.Users
	usersPath string
	logs      *lockedBuffer
	clock     *clock
	dash      *recordingDashboard
}

// recordingDashboard stands in for package dashboard: it remembers the
// principal it was called with.
type recordingDashboard struct {
	mu   sync.Mutex
	last auth.Principal
}

func (d *recordingDashboard) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p, ok := auth.FromContext(r.Context())
	if !ok {
		http.Error(w, "no principal", http.StatusInternalServerError)
		return
	}
	if r.URL.Path == "/panic" {
		panic("dashboard exploded")
	}
	d.mu.Lock()
	d.last = p
	d.mu.Unlock()
	io.WriteString(w, "dashboard for "+p.User)
}

func hash(t *testing.T, pw string) string {
	t.Helper()
	h, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	return string(h)
}

// newEnv starts a server over a real store in a temporary directory.
func newEnv(t *testing.T, configure ...func(*Options)) *env {
	t.Helper()
	dir := t.TempDir()
	st, err := store.Open(context.Background(), filepath.Join(dir, "store.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })

	usersPath := filepath.Join(dir, "users")
	content := "# test users\n" + adminUser + ":administrator:" + hash(t, adminPass) + "\n" +
		readerUser + ":read-only:" + hash(t, readerPass) + "\n"
	if err := os.WriteFile(usersPath, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	users, err := auth.LoadUsersFile(usersPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := users.AddConfigured(configUser, auth.Administrator, hash(t, configPass)); err != nil {
		t.Fatal(err)
	}

	logs := &lockedBuffer{}
	c := &clock{t: time.Now().UTC().Truncate(time.Second)}
	e := &env{t: t, store: st, users: users, usersPath: usersPath, logs: logs, clock: c, dash: &recordingDashboard{}}
	opts := Options{
		Store:         st,
		Users:         users,
		Dashboard:     e.dash,
		Logger:        slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		RetentionDays: 90,
		Sessions:      auth.SessionConfig{Now: c.Now},
		Tokens:        auth.TokenConfig{Now: c.Now},
		Limiter:       auth.LimiterConfig{Now: c.Now},
	}
	for _, f := range configure {
		f(&opts)
	}
	srv, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	e.srv, e.h = srv, srv.Handler()
	return e
}

// req is a request to send through the handler.
type req struct {
	method, target string
	body           string
	contentType    string
	bearer         string
	cookie         *http.Cookie
	csrf           string
	remote         string
	header         map[string]string
	basic          [2]string
}

func (e *env) do(r req) *httptest.ResponseRecorder {
	e.t.Helper()
	if r.method == "" {
		r.method = "GET"
	}
	var body io.Reader
	if r.body != "" {
		body = strings.NewReader(r.body)
	}
	hr := httptest.NewRequest(r.method, r.target, body)
	if r.remote != "" {
		hr.RemoteAddr = r.remote
	}
	if r.contentType != "" {
		hr.Header.Set("Content-Type", r.contentType)
	}
	if r.bearer != "" {
		hr.Header.Set("Authorization", "Bearer "+r.bearer)
	}
	if r.basic[0] != "" {
		hr.SetBasicAuth(r.basic[0], r.basic[1])
	}
	if r.cookie != nil {
		hr.AddCookie(r.cookie)
	}
	if r.csrf != "" {
		hr.Header.Set(CSRFHeader, r.csrf)
	}
	for k, v := range r.header {
		hr.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	e.h.ServeHTTP(w, hr)
	return w
}

// token signs in through the API and returns a bearer token.
func (e *env) token(user, pw string) string {
	e.t.Helper()
	w := e.do(req{method: "POST", target: "/api/v1/auth/token", basic: [2]string{user, pw}})
	if w.Code != http.StatusOK {
		e.t.Fatalf("token for %s: %d %s", user, w.Code, w.Body)
	}
	var tr TokenResponse
	decode(e.t, w, &tr)
	return tr.Token
}

// login signs in through the form and returns the session cookie and its
// CSRF token.
func (e *env) login(user, pw string) (*http.Cookie, string) {
	e.t.Helper()
	w := e.postLogin(user, pw, "/")
	if w.Code != http.StatusSeeOther {
		e.t.Fatalf("login %s: %d %s", user, w.Code, w.Body)
	}
	var cookie *http.Cookie
	for _, c := range w.Result().Cookies() {
		if c.Name == auth.SessionCookie {
			cookie = c
		}
	}
	if cookie == nil {
		e.t.Fatal("no session cookie")
	}
	w = e.do(req{target: "/api/v1/me", cookie: cookie})
	var me MeResponse
	decode(e.t, w, &me)
	if me.CSRFToken == "" {
		e.t.Fatalf("no CSRF token in /api/v1/me: %s", w.Body)
	}
	return cookie, me.CSRFToken
}

func (e *env) postLogin(user, pw, next string) *httptest.ResponseRecorder {
	form := url.Values{"user": {user}, "password": {pw}, "next": {next}}
	return e.do(req{method: "POST", target: "/login", body: form.Encode(), contentType: "application/x-www-form-urlencoded"})
}

func decode(t *testing.T, w *httptest.ResponseRecorder, v any) {
	t.Helper()
	if err := json.Unmarshal(w.Body.Bytes(), v); err != nil {
		t.Fatalf("decode %q: %v", w.Body.String(), err)
	}
}

// insertAlerts stores a few alerts in the last hours.
func (e *env) insertAlerts() {
	e.t.Helper()
	now := e.clock.Now()
	mk := func(id string, ago time.Duration, rule string, level int, agent string, groups ...string) *alert.Alert {
		return &alert.Alert{
			Timestamp: now.Add(-ago), ID: id, Manager: "tld", Location: "/var/log/auth.log",
			Agent:   alert.Agent{ID: "001", Name: agent},
			FullLog: "event " + id,
			Rule:    &alert.Rule{ID: rule, Level: level, Description: "rule " + rule, Groups: groups},
		}
	}
	alerts := []*alert.Alert{
		mk("a1", 1*time.Hour, "5710", 5, "web-01", "sshd", "authentication_failed"),
		mk("a2", 2*time.Hour, "5715", 3, "web-01", "sshd", "authentication_success"),
		mk("a3", 3*time.Hour, "5710", 10, "db-01", "sshd", "authentication_failed"),
		mk("a4", 4*time.Hour, "31101", 7, "db-01", "web"),
		mk("old", 30*24*time.Hour, "5710", 5, "web-01", "sshd"),
	}
	alerts[3].Rule.Mitre = &alert.Mitre{ID: []string{"T1190"}, Tactic: []string{"Initial Access"}, Technique: []string{"Exploit Public-Facing Application"}}
	if _, err := e.store.Insert(context.Background(), alerts); err != nil {
		e.t.Fatal(err)
	}
}
