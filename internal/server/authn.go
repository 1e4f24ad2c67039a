package server

import (
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"

	"github.com/threatlockdown/tld/internal/auth"
)

// CSRFHeader and CSRFField carry a session's anti-forgery token on unsafe
// requests: the header from scripts, the field from HTML forms.
const (
	CSRFHeader = "X-CSRF-Token"
	CSRFField  = "csrf_token"
)

// how a request was authenticated.
type via int

const (
	viaNone via = iota
	viaToken
	viaSession
)

func (v via) String() string {
	switch v {
	case viaToken:
		return "token"
	case viaSession:
		return "session"
	}
	return "none"
}

// unsafeMethod tells whether a method may change state.
func unsafeMethod(m string) bool {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace:
		return false
	}
	return true
}

// authenticate finds who a request comes from: a bearer token when an
// Authorization header is present (a bad one is not retried as a cookie, so
// a script with an expired token learns it), else the session cookie. The
// role is read from the users set each time, so deleting a user or changing
// a role takes effect at once.
func (s *Server) authenticate(r *http.Request) (auth.Principal, via) {
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, token, _ := strings.Cut(h, " ")
		if !strings.EqualFold(scheme, "Bearer") {
			return auth.Principal{}, viaNone
		}
		name, ok := s.tokens.Lookup(strings.TrimSpace(token))
		if !ok {
			return auth.Principal{}, viaNone
		}
		u, ok := s.users.Lookup(name)
		if !ok {
			return auth.Principal{}, viaNone
		}
		return auth.Principal{User: u.Name, Role: u.Role}, viaToken
	}
	return s.sessionPrincipal(r)
}

// sessionPrincipal authenticates by session cookie only.
func (s *Server) sessionPrincipal(r *http.Request) (auth.Principal, via) {
	c, err := r.Cookie(auth.SessionCookie)
	if err != nil || c.Value == "" {
		return auth.Principal{}, viaNone
	}
	sess, ok := s.sessions.Lookup(c.Value)
	if !ok {
		return auth.Principal{}, viaNone
	}
	u, ok := s.users.Lookup(sess.User)
	if !ok {
		return auth.Principal{}, viaNone
	}
	return auth.Principal{User: u.Name, Role: u.Role, CSRF: sess.CSRF}, viaSession
}

// csrfOK tells whether an unsafe session request carries the session's
// token. Bearer requests need none: a browser never sends them on its own.
func csrfOK(r *http.Request, p auth.Principal) bool {
	token := r.Header.Get(CSRFHeader)
	if token == "" {
		// Only the body: a token in the URL would end up in logs and
		// Referer headers.
		token = r.PostFormValue(CSRFField)
	}
	return auth.Session{CSRF: p.CSRF}.CheckCSRF(token)
}

// guard wraps a route with its access check and puts the principal in the
// request context.
func (s *Server) guard(rt route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if rt.access == public || rt.access == metricsAccess && isLoopback(r) {
			rt.handler(w, r)
			return
		}
		p, how := s.authenticate(r)
		if how == viaNone {
			w.Header().Set("WWW-Authenticate", `Bearer realm="tld"`)
			writeError(w, http.StatusUnauthorized, "authentication required: send a bearer token from POST /api/v1/auth/token")
			return
		}
		noteUser(r, p.User)
		if how == viaSession && unsafeMethod(r.Method) && !csrfOK(r, p) {
			writeError(w, http.StatusForbidden, "missing or invalid CSRF token (send the "+CSRFHeader+" header)")
			return
		}
		if (rt.access == adminOnly || unsafeMethod(r.Method)) && !p.CanWrite() {
			writeError(w, http.StatusForbidden, "this needs the administrator role")
			return
		}
		rt.handler(w, r.WithContext(withAuth(auth.WithPrincipal(r.Context(), p), how)))
	})
}

// handleDashboard serves every path no other route claims: the dashboard,
// for signed-in users only.
func (s *Server) handleDashboard(w http.ResponseWriter, r *http.Request) {
	if s.opts.Dashboard == nil {
		http.NotFound(w, r)
		return
	}
	p, how := s.sessionPrincipal(r)
	if how == viaNone {
		http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
		return
	}
	noteUser(r, p.User)
	if unsafeMethod(r.Method) {
		if !csrfOK(r, p) {
			http.Error(w, "Missing or invalid CSRF token. Reload the page and try again.", http.StatusForbidden)
			return
		}
		if !p.CanWrite() {
			http.Error(w, "This needs the administrator role.", http.StatusForbidden)
			return
		}
	}
	s.opts.Dashboard.ServeHTTP(w, r.WithContext(withAuth(auth.WithPrincipal(r.Context(), p), how)))
}

// clientIP is the address the request came from. X-Forwarded-For is not
// trusted: tld does not know which proxies are its own.
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// isLoopback tells whether the request came from this host.
func isLoopback(r *http.Request) bool {
	a, err := netip.ParseAddr(clientIP(r))
	return err == nil && a.Unmap().IsLoopback()
}

// secureCookies tells whether cookies must be marked Secure.
func (s *Server) secureCookies(r *http.Request) bool { return s.opts.TLS || r.TLS != nil }
