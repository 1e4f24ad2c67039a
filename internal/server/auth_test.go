package server

import (
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/threatlockdown/tld/internal/auth"
)

// concrete turns a route pattern into a path it serves.
func concrete(path string) string {
	path = strings.ReplaceAll(path, "{id}", "some-id")
	return strings.ReplaceAll(path, "{name}", readerUser)
}

func TestEveryAPIRouteNeedsCredentials(t *testing.T) {
	e := newEnv(t)
	for _, rt := range e.srv.routes {
		if rt.access == public {
			continue
		}
		t.Run(rt.method+" "+rt.path+" answers 401 without credentials", func(t *testing.T) {
			w := e.do(req{method: rt.method, target: concrete(rt.path)})
			if w.Code != http.StatusUnauthorized {
				t.Fatalf("status %d, want 401: %s", w.Code, w.Body)
			}
			if got := w.Header().Get("WWW-Authenticate"); !strings.HasPrefix(got, "Bearer") {
				t.Errorf("WWW-Authenticate = %q", got)
			}
			if !strings.Contains(w.Body.String(), `"error"`) {
				t.Errorf("body %s is not a JSON error", w.Body)
			}
		})
	}
	t.Run("an unknown API path answers 401 too, hiding what exists", func(t *testing.T) {
		if w := e.do(req{target: "/api/v1/secret-admin"}); w.Code != http.StatusUnauthorized {
			t.Fatalf("status %d", w.Code)
		}
	})
	t.Run("a bad bearer token is refused even with a good cookie", func(t *testing.T) {
		cookie, _ := e.login(adminUser, adminPass)
		if w := e.do(req{target: "/api/v1/me", bearer: "tld_forged", cookie: cookie}); w.Code != http.StatusUnauthorized {
			t.Fatalf("status %d", w.Code)
		}
	})
}

func TestReadOnlyUserCannotWrite(t *testing.T) {
	e := newEnv(t)
	tok := e.token(readerUser, readerPass)
	tests := []struct {
		name string
		r    req
	}{
		{"pruning the store is refused", req{method: "POST", target: "/api/v1/store/prune?before=1d"}},
		{"creating a user is refused", req{method: "POST", target: "/api/v1/users", body: `{"name":"eve","role":"administrator","password":"eve-password-1234"}`}},
		{"deleting a user is refused", req{method: "DELETE", target: "/api/v1/users/" + adminUser}},
		{"changing a password is refused", req{method: "PUT", target: "/api/v1/users/" + adminUser + "/password", body: `{"password":"new-password-1234"}`}},
		{"listing users is refused", req{target: "/api/v1/users"}},
		{"an unsafe method on an unknown path is refused", req{method: "PATCH", target: "/api/v1/alerts"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.r.bearer = tok
			if w := e.do(tt.r); w.Code != http.StatusForbidden {
				t.Fatalf("status %d, want 403: %s", w.Code, w.Body)
			}
		})
	}
	t.Run("reading is allowed", func(t *testing.T) {
		if w := e.do(req{target: "/api/v1/alerts", bearer: tok}); w.Code != http.StatusOK {
			t.Fatalf("status %d: %s", w.Code, w.Body)
		}
	})
}

func TestAdministratorManagesUsers(t *testing.T) {
	e := newEnv(t)
	tok := e.token(adminUser, adminPass)

	w := e.do(req{method: "POST", target: "/api/v1/users", bearer: tok, contentType: "application/json",
		body: `{"name":"dave","role":"read-only","password":"dave-Secret-Pass-4"}`})
	if w.Code != http.StatusCreated {
		t.Fatalf("create: %d %s", w.Code, w.Body)
	}
	daveTok := e.token("dave", "dave-Secret-Pass-4")
	data, _ := os.ReadFile(e.usersPath)
	if !strings.Contains(string(data), "\ndave:read-only:$2") || strings.Contains(string(data), configUser) {
		t.Fatalf("users file:\n%s", data)
	}

	var list UsersResponse
	decode(t, e.do(req{target: "/api/v1/users", bearer: tok}), &list)
	if len(list.Users) != 4 || list.Users[2].Name != configUser || !list.Users[2].Configured {
		t.Fatalf("users = %+v", list.Users)
	}

	tests := []struct {
		name string
		r    req
		want int
	}{
		{"a duplicate name conflicts", req{method: "POST", target: "/api/v1/users", body: `{"name":"dave","role":"read-only","password":"another-pass-1234"}`}, http.StatusConflict},
		{"a short password is refused", req{method: "POST", target: "/api/v1/users", body: `{"name":"erin","role":"read-only","password":"short"}`}, http.StatusBadRequest},
		{"an unknown role is refused", req{method: "POST", target: "/api/v1/users", body: `{"name":"erin","role":"root","password":"erin-password-1234"}`}, http.StatusBadRequest},
		{"an unknown field is refused", req{method: "POST", target: "/api/v1/users", body: `{"name":"erin","role":"read-only","password":"erin-password-1234","admin":true}`}, http.StatusBadRequest},
		{"a form body is refused", req{method: "POST", target: "/api/v1/users", body: `name=erin`, contentType: "application/x-www-form-urlencoded"}, http.StatusUnsupportedMediaType},
		{"a configured user cannot be deleted", req{method: "DELETE", target: "/api/v1/users/" + configUser}, http.StatusConflict},
		{"a configured user's password cannot be changed", req{method: "PUT", target: "/api/v1/users/" + configUser + "/password", body: `{"password":"carol-new-pass-1234"}`}, http.StatusConflict},
		{"an unknown user cannot be deleted", req{method: "DELETE", target: "/api/v1/users/nobody"}, http.StatusNotFound},
		{"a password is changed", req{method: "PUT", target: "/api/v1/users/dave/password", body: `{"password":"dave-New-Pass-5555"}`}, http.StatusNoContent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.r.bearer = tok
			if w := e.do(tt.r); w.Code != tt.want {
				t.Fatalf("status %d, want %d: %s", w.Code, tt.want, w.Body)
			}
		})
	}

	if w := e.do(req{target: "/api/v1/me", bearer: daveTok}); w.Code != http.StatusUnauthorized {
		t.Errorf("dave's token outlived the password change: %d", w.Code)
	}
	e.token("dave", "dave-New-Pass-5555")
	if w := e.do(req{method: "DELETE", target: "/api/v1/users/dave", bearer: tok}); w.Code != http.StatusNoContent {
		t.Fatalf("delete: %d %s", w.Code, w.Body)
	}
	back, err := auth.LoadUsersFile(e.usersPath)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := back.Lookup("dave"); ok {
		t.Error("dave is still in the users file")
	}
}

func TestLastAdministratorCannotBeDeleted(t *testing.T) {
	e := newEnv(t, func(o *Options) {
		// Without the configured administrator, alice is the last one.
		u, err := auth.LoadUsersFile(o.Users.Path())
		if err != nil {
			t.Fatal(err)
		}
		o.Users = u
	})
	tok := e.token(adminUser, adminPass)
	w := e.do(req{method: "DELETE", target: "/api/v1/users/" + adminUser, bearer: tok})
	if w.Code != http.StatusConflict || !strings.Contains(w.Body.String(), "last administrator") {
		t.Fatalf("status %d: %s", w.Code, w.Body)
	}
}

func TestCSRF(t *testing.T) {
	e := newEnv(t)
	cookie, csrf := e.login(adminUser, adminPass)
	prune := "/api/v1/store/prune?before=2000-01-01"
	tests := []struct {
		name string
		r    req
		want int
	}{
		{"an API write without a token is refused", req{method: "POST", target: prune}, http.StatusForbidden},
		{"an API write with a wrong token is refused", req{method: "POST", target: prune, csrf: csrf + "x"}, http.StatusForbidden},
		{"a token in the URL is not looked at", req{method: "POST", target: prune + "&csrf_token=" + url.QueryEscape(csrf)}, http.StatusForbidden},
		{"an API write with the token works", req{method: "POST", target: prune, csrf: csrf}, http.StatusOK},
		{"an API write with the token as a form field works", req{method: "POST", target: prune, body: "csrf_token=" + url.QueryEscape(csrf), contentType: "application/x-www-form-urlencoded"}, http.StatusOK},
		{"a dashboard form without a token is refused", req{method: "POST", target: "/settings", body: "x=1", contentType: "application/x-www-form-urlencoded"}, http.StatusForbidden},
		{"a dashboard form with the token reaches the dashboard", req{method: "POST", target: "/settings", body: "x=1&csrf_token=" + url.QueryEscape(csrf), contentType: "application/x-www-form-urlencoded"}, http.StatusOK},
		{"reads need no token", req{target: "/api/v1/stats"}, http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.r.cookie = cookie
			if w := e.do(tt.r); w.Code != tt.want {
				t.Fatalf("status %d, want %d: %s", w.Code, tt.want, w.Body)
			}
		})
	}
	e.dash.mu.Lock()
	last := e.dash.last
	e.dash.mu.Unlock()
	if last.User != adminUser || last.CSRF != csrf || last.Role != auth.Administrator {
		t.Errorf("dashboard got principal %+v", last)
	}

	t.Run("bearer writes need no CSRF token", func(t *testing.T) {
		tok := e.token(adminUser, adminPass)
		if w := e.do(req{method: "POST", target: prune, bearer: tok}); w.Code != http.StatusOK {
			t.Fatalf("status %d: %s", w.Code, w.Body)
		}
	})
	t.Run("a read-only session cannot post dashboard forms", func(t *testing.T) {
		c, tok := e.login(readerUser, readerPass)
		w := e.do(req{method: "POST", target: "/settings", cookie: c, body: "csrf_token=" + url.QueryEscape(tok), contentType: "application/x-www-form-urlencoded"})
		if w.Code != http.StatusForbidden {
			t.Fatalf("status %d", w.Code)
		}
	})
	t.Run("logout needs the token", func(t *testing.T) {
		if w := e.do(req{method: "POST", target: "/logout", cookie: cookie}); w.Code != http.StatusForbidden {
			t.Fatalf("status %d", w.Code)
		}
		w := e.do(req{method: "POST", target: "/logout", cookie: cookie, body: "csrf_token=" + url.QueryEscape(csrf), contentType: "application/x-www-form-urlencoded"})
		if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/login" {
			t.Fatalf("status %d location %q", w.Code, w.Header().Get("Location"))
		}
		if w := e.do(req{target: "/api/v1/me", cookie: cookie}); w.Code != http.StatusUnauthorized {
			t.Fatalf("session survived logout: %d", w.Code)
		}
	})
}

func TestBearerTokenFlow(t *testing.T) {
	e := newEnv(t)
	t.Run("basic credentials give a token that authenticates", func(t *testing.T) {
		w := e.do(req{method: "POST", target: "/api/v1/auth/token", basic: [2]string{adminUser, adminPass}})
		var tr TokenResponse
		decode(t, w, &tr)
		if w.Code != http.StatusOK || !strings.HasPrefix(tr.Token, auth.TokenPrefix) || tr.TokenType != "Bearer" {
			t.Fatalf("%d %s", w.Code, w.Body)
		}
		if d := tr.ExpiresAt.Sub(e.clock.Now()); d != time.Hour {
			t.Errorf("expires in %v, want 1h", d)
		}
		var me MeResponse
		decode(t, e.do(req{target: "/api/v1/me", bearer: tr.Token}), &me)
		if me.User != adminUser || me.Role != auth.Administrator || !me.CanWrite || me.Auth != "token" || me.CSRFToken != "" {
			t.Errorf("me = %+v", me)
		}
	})
	t.Run("a JSON body gives a token too", func(t *testing.T) {
		w := e.do(req{method: "POST", target: "/api/v1/auth/token", contentType: "application/json",
			body: `{"user":"` + readerUser + `","password":"` + readerPass + `"}`})
		if w.Code != http.StatusOK {
			t.Fatalf("%d %s", w.Code, w.Body)
		}
	})
	t.Run("a wrong password gets 401 with a Basic challenge", func(t *testing.T) {
		w := e.do(req{method: "POST", target: "/api/v1/auth/token", basic: [2]string{readerUser, "wrong-password"}})
		if w.Code != http.StatusUnauthorized || !strings.HasPrefix(w.Header().Get("WWW-Authenticate"), "Basic") {
			t.Fatalf("%d %v", w.Code, w.Header())
		}
	})
	t.Run("no credentials get 401", func(t *testing.T) {
		if w := e.do(req{method: "POST", target: "/api/v1/auth/token"}); w.Code != http.StatusUnauthorized {
			t.Fatalf("%d %s", w.Code, w.Body)
		}
	})
	t.Run("a token expires after an hour", func(t *testing.T) {
		tok := e.token(readerUser, readerPass)
		e.clock.Advance(59 * time.Minute)
		if w := e.do(req{target: "/api/v1/me", bearer: tok}); w.Code != http.StatusOK {
			t.Fatalf("after 59m: %d", w.Code)
		}
		e.clock.Advance(time.Minute)
		if w := e.do(req{target: "/api/v1/me", bearer: tok}); w.Code != http.StatusUnauthorized {
			t.Fatalf("after 60m: %d", w.Code)
		}
	})
}

func TestLoginRateLimit(t *testing.T) {
	e := newEnv(t)
	for i := range 5 {
		if w := e.postLogin(adminUser, "wrong-password", "/"); w.Code != http.StatusUnauthorized {
			t.Fatalf("failure %d: status %d", i+1, w.Code)
		}
	}
	w := e.postLogin(adminUser, adminPass, "/")
	if w.Code != http.StatusTooManyRequests || w.Header().Get("Retry-After") != "30" {
		t.Fatalf("6th attempt: %d Retry-After %q, want 429 and 30", w.Code, w.Header().Get("Retry-After"))
	}
	if !strings.Contains(w.Body.String(), "Too many failed sign-ins") {
		t.Errorf("page does not say why: %s", w.Body)
	}
	t.Run("the token endpoint shares the lock", func(t *testing.T) {
		w := e.do(req{method: "POST", target: "/api/v1/auth/token", basic: [2]string{readerUser, readerPass}})
		if w.Code != http.StatusTooManyRequests || w.Header().Get("Retry-After") == "" {
			t.Fatalf("%d %v", w.Code, w.Header())
		}
	})
	t.Run("the user is locked from other addresses too", func(t *testing.T) {
		w := e.do(req{method: "POST", target: "/api/v1/auth/token", basic: [2]string{adminUser, adminPass}, remote: "198.51.100.7:4444"})
		if w.Code != http.StatusTooManyRequests {
			t.Fatalf("%d", w.Code)
		}
	})
	t.Run("a failure right after the lock doubles it", func(t *testing.T) {
		e.clock.Advance(30 * time.Second)
		e.postLogin(adminUser, "wrong-again", "/")
		w := e.postLogin(adminUser, adminPass, "/")
		if w.Code != http.StatusTooManyRequests || w.Header().Get("Retry-After") != "60" {
			t.Fatalf("%d Retry-After %q", w.Code, w.Header().Get("Retry-After"))
		}
	})
	t.Run("a success after the lock resets the count", func(t *testing.T) {
		e.clock.Advance(time.Minute)
		if w := e.postLogin(adminUser, adminPass, "/"); w.Code != http.StatusSeeOther {
			t.Fatalf("%d", w.Code)
		}
		if w := e.postLogin(adminUser, "wrong-password", "/"); w.Code != http.StatusUnauthorized {
			t.Fatalf("%d", w.Code)
		}
	})
	if !strings.Contains(e.logs.String(), `level=WARN msg="sign-in failed" user=alice remote=192.0.2.1`) {
		t.Errorf("failures not logged at warn with user and address:\n%s", e.logs)
	}
}

func TestSessionExpiry(t *testing.T) {
	e := newEnv(t)
	cookie, _ := e.login(readerUser, readerPass)
	if c := cookie; !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Path != "/" || c.Secure {
		t.Errorf("cookie = %+v", c)
	}
	e.clock.Advance(7 * time.Hour)
	if w := e.do(req{target: "/alerts", cookie: cookie}); w.Code != http.StatusOK {
		t.Fatalf("after 7h idle: %d", w.Code)
	}
	e.clock.Advance(8 * time.Hour)
	w := e.do(req{target: "/alerts?range=7d", cookie: cookie})
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/login?next=%2Falerts%3Frange%3D7d" {
		t.Fatalf("after 8h idle: %d %q", w.Code, w.Header().Get("Location"))
	}
	if w := e.do(req{target: "/api/v1/me", cookie: cookie}); w.Code != http.StatusUnauthorized {
		t.Fatalf("API after expiry: %d", w.Code)
	}
}

func TestSecureCookieOverTLS(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.TLS = true })
	w := e.postLogin(readerUser, readerPass, "/")
	cs := w.Result().Cookies()
	if len(cs) != 1 || !cs[0].Secure {
		t.Fatalf("cookies %+v", cs)
	}
}

func TestLoginRedirectStaysLocal(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name, next, want string
	}{
		{"a local path is kept", "/alerts?range=7d", "/alerts?range=7d"},
		{"an empty next goes home", "", "/"},
		{"a protocol-relative URL goes home", "//evil.com", "/"},
		{"a backslash URL goes home", `/\evil.com`, "/"},
		{"an absolute URL goes home", "https://evil.com", "/"},
		{"a javascript URL goes home", "javascript:alert(1)", "/"},
		{"a path with a backslash inside goes home", `/a\..\\evil.com`, "/"},
		{"a tab trick goes home", "/\t/evil.com", "/"},
		{"a relative path goes home", "evil.com", "/"},
		{"the login page itself goes home", "/login", "/"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := e.postLogin(readerUser, readerPass, tt.next)
			if w.Code != http.StatusSeeOther || w.Header().Get("Location") != tt.want {
				t.Fatalf("status %d Location %q, want %q", w.Code, w.Header().Get("Location"), tt.want)
			}
		})
	}
}

func TestLoginPage(t *testing.T) {
	e := newEnv(t)
	w := e.do(req{target: "/login?next=" + url.QueryEscape("//evil.com")})
	body := w.Body.String()
	if w.Code != http.StatusOK || !strings.Contains(body, `href="/assets/app.css"`) || strings.Contains(body, "<script") || strings.Contains(body, "style=") {
		t.Fatalf("%d %s", w.Code, body)
	}
	if strings.Contains(body, "evil.com") {
		t.Error("an unsafe next reached the form")
	}
	w = e.postLogin(readerUser, "wrong password <b>", "/x")
	if w.Code != http.StatusUnauthorized || !strings.Contains(w.Body.String(), "Invalid user name or password.") {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
	if strings.Contains(w.Body.String(), "wrong password") {
		t.Error("the failed password is echoed")
	}
	w = e.do(req{method: "POST", target: "/login", body: "user=bob&password=" + readerPass, contentType: "application/x-www-form-urlencoded",
		header: map[string]string{"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"}})
	if w.Code != http.StatusForbidden {
		t.Errorf("cross-site sign-in: %d", w.Code)
	}
	// What a browser sends for the sign-in form under Referrer-Policy
	// no-referrer: an opaque Origin, and Sec-Fetch-Site telling the truth.
	w = e.do(req{method: "POST", target: "/login", body: "user=" + readerUser + "&password=" + url.QueryEscape(readerPass), contentType: "application/x-www-form-urlencoded",
		header: map[string]string{"Origin": "null", "Sec-Fetch-Site": "same-origin"}})
	if w.Code != http.StatusSeeOther {
		t.Errorf("same-origin sign-in with Origin: null: %d %s", w.Code, w.Body)
	}
	w = e.do(req{method: "POST", target: "/login", body: "user=" + readerUser + "&password=" + url.QueryEscape(readerPass), contentType: "application/x-www-form-urlencoded",
		header: map[string]string{"Origin": "null"}})
	if w.Code != http.StatusForbidden {
		t.Errorf("sign-in from an opaque origin without Sec-Fetch-Site: %d", w.Code)
	}
	cookie, _ := e.login(readerUser, readerPass)
	w = e.do(req{target: "/login?next=/posture", cookie: cookie})
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/posture" {
		t.Errorf("signed-in user at /login: %d %q", w.Code, w.Header().Get("Location"))
	}
}

func TestLimitNet(t *testing.T) {
	tests := []struct{ name, ip, want string }{
		{"an IPv4 address is its own network", "192.0.2.7", "192.0.2.7"},
		{"an IPv4-mapped address is read as IPv4", "::ffff:192.0.2.7", "192.0.2.7"},
		{"an IPv6 address is throttled by its /64", "2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"},
		{"an unparsable address is kept", "pipe", "pipe"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := limitNet(tt.ip); got != tt.want {
				t.Fatalf("limitNet(%q) = %q, want %q", tt.ip, got, tt.want)
			}
		})
	}
}
