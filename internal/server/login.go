package server

import (
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/threatlockdown/tld/internal/auth"
)

// loginPage is the sign-in form. No script and no inline style: the
// Content-Security-Policy forbids both, and the page needs neither.
var loginPage = template.Must(template.New("login").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>Sign in · ThreatLockDown</title>
<link rel="stylesheet" href="/assets/app.css">
</head>
<body class="login">
<main class="login-box">
<h1>ThreatLockDown</h1>
{{if .Error}}<p class="error" role="alert">{{.Error}}</p>{{end}}
<form method="post" action="/login">
<input type="hidden" name="next" value="{{.Next}}">
<label for="user">User name</label>
<input id="user" name="user" type="text" autocomplete="username" autocapitalize="none" spellcheck="false" required autofocus value="{{.User}}">
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit">Sign in</button>
</form>
</main>
</body>
</html>
`))

type loginData struct {
	Error string
	Next  string
	User  string
}

func (s *Server) renderLogin(w http.ResponseWriter, status int, d loginData) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	if err := loginPage.Execute(w, d); err != nil {
		s.log.Debug("write sign-in page", "err", err)
	}
}

func (s *Server) handleLoginPage(w http.ResponseWriter, r *http.Request) {
	next := safeNext(r.URL.Query().Get("next"))
	if _, how := s.sessionPrincipal(r); how == viaSession {
		http.Redirect(w, r, next, http.StatusSeeOther)
		return
	}
	s.renderLogin(w, http.StatusOK, loginData{Next: next})
}

func (s *Server) handleLogin(w http.ResponseWriter, r *http.Request) {
	if !sameOrigin(r) {
		// A page elsewhere posting the form would sign the victim in as
		// the attacker (login CSRF).
		http.Error(w, "Cross-site sign-in refused.", http.StatusForbidden)
		return
	}
	if err := r.ParseForm(); err != nil {
		http.Error(w, "Bad form.", http.StatusBadRequest)
		return
	}
	name, pw := r.PostForm.Get("user"), r.PostForm.Get("password")
	next := safeNext(r.PostForm.Get("next"))
	p, wait, ok := s.signIn(r, name, pw, "dashboard")
	if wait > 0 {
		setRetryAfter(w, wait)
		minutes := int((wait + time.Minute - 1) / time.Minute)
		msg := "Too many failed sign-ins. Try again in 1 minute."
		if minutes > 1 {
			msg = "Too many failed sign-ins. Try again in " + strconv.Itoa(minutes) + " minutes."
		}
		s.renderLogin(w, http.StatusTooManyRequests, loginData{Error: msg, Next: next, User: name})
		return
	}
	if !ok {
		s.renderLogin(w, http.StatusUnauthorized, loginData{Error: "Invalid user name or password.", Next: next, User: name})
		return
	}
	// Always a new session id at sign-in, so an id planted before cannot
	// be ridden afterwards (session fixation).
	if c, err := r.Cookie(auth.SessionCookie); err == nil {
		s.sessions.Delete(c.Value)
	}
	id, _, err := s.sessions.Create(p.User)
	if err != nil {
		s.log.Error("create session failed", "err", err)
		http.Error(w, "Could not create a session.", http.StatusInternalServerError)
		return
	}
	http.SetCookie(w, s.sessions.Cookie(id, s.secureCookies(r)))
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (s *Server) handleLogout(w http.ResponseWriter, r *http.Request) {
	c, err := r.Cookie(auth.SessionCookie)
	if err != nil {
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return
	}
	p, how := s.sessionPrincipal(r)
	if how == viaSession {
		// Without the check, any site could sign users out.
		if !csrfOK(r, p) {
			http.Error(w, "Missing or invalid CSRF token. Reload the page and try again.", http.StatusForbidden)
			return
		}
		s.sessions.Delete(c.Value)
		s.log.Info("signed out", "user", p.User, "remote", clientIP(r))
	}
	http.SetCookie(w, s.sessions.ClearCookie(s.secureCookies(r)))
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

// safeNext returns next when it is a path on this site, else "/": a
// sign-in link must never send the user elsewhere (open redirect). It
// refuses scheme- and host-bearing URLs, protocol-relative "//host", and
// backslashes and control characters, which browsers may read as "/" or
// drop.
func safeNext(next string) string {
	if next == "" || len(next) > 2048 || next[0] != '/' {
		return "/"
	}
	if len(next) > 1 && (next[1] == '/' || next[1] == '\\') {
		return "/"
	}
	for _, c := range next {
		if c == '\\' || c < 0x20 || c == 0x7f {
			return "/"
		}
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil {
		return "/"
	}
	if u.Path == "/login" || u.Path == "/logout" {
		return "/"
	}
	return next
}

// sameOrigin tells whether a browser request comes from a page of this
// site. Browsers send Sec-Fetch-Site or Origin on cross-site form posts;
// requests without either (curl, old browsers) are let through, the
// password being the credential there. Sec-Fetch-Site decides when
// present: under our Referrer-Policy (no-referrer) a browser's same-site
// form post carries "Origin: null".
func sameOrigin(r *http.Request) bool {
	switch r.Header.Get("Sec-Fetch-Site") {
	case "same-origin", "none":
		return true
	case "":
	default:
		return false
	}
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	u, err := url.Parse(origin)
	if err != nil || origin == "null" {
		return false
	}
	return strings.EqualFold(u.Host, r.Host)
}
