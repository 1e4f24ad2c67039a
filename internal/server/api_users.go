package server

import (
	"errors"
	"math"
	"net/http"
	"net/netip"
	"strconv"
	"time"

	"github.com/threatlockdown/tld/internal/auth"
)

// userOf is the authenticated user of a request ("" when none).
func userOf(r *http.Request) string {
	p, _ := auth.FromContext(r.Context())
	return p.User
}

// UsersResponse is the body of GET /api/v1/users.
type UsersResponse struct {
	Users []auth.User `json:"users"`
}

func (s *Server) handleListUsers(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, UsersResponse{Users: s.users.List()})
}

// CreateUserRequest is the body of POST /api/v1/users.
type CreateUserRequest struct {
	Name     string    `json:"name"`
	Role     auth.Role `json:"role"`
	Password string    `json:"password"`
}

func (s *Server) handleCreateUser(w http.ResponseWriter, r *http.Request) {
	var req CreateUserRequest
	if !decodeJSON(w, r, &req) {
		return
	}
	if err := auth.ValidateName(req.Name); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if _, err := auth.ParseRole(string(req.Role)); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if err := s.users.Add(req.Name, req.Role, req.Password); err != nil {
		s.userError(w, r, "create user", err)
		return
	}
	s.log.Info("user created", "user", req.Name, "role", req.Role, "by", userOf(r))
	u, _ := s.users.Lookup(req.Name)
	writeJSON(w, http.StatusCreated, u)
}

func (s *Server) handleDeleteUser(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if err := s.users.Remove(name); err != nil {
		s.userError(w, r, "delete user", err)
		return
	}
	s.sessions.RevokeUser(name)
	s.tokens.RevokeUser(name)
	s.log.Info("user deleted", "user", name, "by", userOf(r))
	w.WriteHeader(http.StatusNoContent)
}

// PasswordRequest is the body of PUT /api/v1/users/{name}/password.
type PasswordRequest struct {
	Password string `json:"password"`
}

func (s *Server) handleSetPassword(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	var req PasswordRequest
	if !decodeJSON(w, r, &req) {
		return
	}
	if err := s.users.SetPassword(name, req.Password); err != nil {
		s.userError(w, r, "set password", err)
		return
	}
	// Whoever held the old password may hold a session or token made with
	// it: they all end, the caller's own included.
	s.sessions.RevokeUser(name)
	s.tokens.RevokeUser(name)
	s.log.Info("password changed", "user", name, "by", userOf(r))
	w.WriteHeader(http.StatusNoContent)
}

// userError maps the users set's errors to statuses. Their messages hold
// no secret.
func (s *Server) userError(w http.ResponseWriter, r *http.Request, what string, err error) {
	switch {
	case errors.Is(err, auth.ErrUnknownUser):
		writeError(w, http.StatusNotFound, err.Error())
	case errors.Is(err, auth.ErrUserExists), errors.Is(err, auth.ErrConfiguredUser), errors.Is(err, auth.ErrLastAdministrator):
		writeError(w, http.StatusConflict, err.Error())
	case errors.Is(err, auth.ErrWeakPassword), errors.Is(err, auth.ErrPasswordTooLong):
		writeError(w, http.StatusBadRequest, err.Error())
	default:
		s.log.Error(what+" failed", "path", r.URL.Path, "err", err)
		writeError(w, http.StatusInternalServerError, what+" failed")
	}
}

// TokenRequest is the JSON form of POST /api/v1/auth/token's credentials;
// HTTP Basic credentials work too.
type TokenRequest struct {
	User     string `json:"user"`
	Password string `json:"password"`
}

// TokenResponse is the body of a successful POST /api/v1/auth/token.
type TokenResponse struct {
	Token     string    `json:"token"`
	TokenType string    `json:"token_type"`
	ExpiresAt time.Time `json:"expires_at"`
}

func (s *Server) handleToken(w http.ResponseWriter, r *http.Request) {
	var req TokenRequest
	if name, pw, ok := r.BasicAuth(); ok {
		req = TokenRequest{User: name, Password: pw}
	} else if r.ContentLength == 0 && r.Header.Get("Content-Type") == "" {
		w.Header().Set("WWW-Authenticate", `Basic realm="tld", charset="UTF-8"`)
		writeError(w, http.StatusUnauthorized, `send HTTP Basic credentials or {"user":…,"password":…}`)
		return
	} else if !decodeJSON(w, r, &req) {
		return
	}
	p, wait, ok := s.signIn(r, req.User, req.Password, "api")
	if wait > 0 {
		setRetryAfter(w, wait)
		writeError(w, http.StatusTooManyRequests, "too many failed sign-ins: try again later")
		return
	}
	if !ok {
		w.Header().Set("WWW-Authenticate", `Basic realm="tld", charset="UTF-8"`)
		writeError(w, http.StatusUnauthorized, auth.ErrBadCredentials.Error())
		return
	}
	token, exp, err := s.tokens.Issue(p.User)
	if err != nil {
		s.log.Error("issue API token failed", "err", err)
		writeError(w, http.StatusInternalServerError, "issue token failed")
		return
	}
	s.log.Info("API token issued", "user", p.User, "remote", clientIP(r), "expires", exp)
	writeJSON(w, http.StatusOK, TokenResponse{Token: token, TokenType: "Bearer", ExpiresAt: exp.UTC()})
}

// signIn checks credentials under the rate limiter, logging failures.
// When the limiter refuses the attempt, it returns how long to wait.
func (s *Server) signIn(r *http.Request, name, pw, via string) (p auth.Principal, retryAfter time.Duration, ok bool) {
	ip := clientIP(r)
	logName := name
	if len(logName) > 64 {
		logName = logName[:64] + "…"
	}
	keys := []string{auth.IPKey(limitNet(ip)), auth.UserKey(name)}
	if wait, ok := s.limiter.Allow(keys...); !ok {
		s.log.Warn("sign-in refused: too many failures", "user", logName, "remote", ip, "via", via, "retry_after", wait.Round(time.Second))
		return auth.Principal{}, wait, false
	}
	p, err := s.users.Authenticate(name, pw)
	if err != nil {
		s.limiter.Failure(keys...)
		s.log.Warn("sign-in failed", "user", logName, "remote", ip, "via", via)
		return auth.Principal{}, 0, false
	}
	s.limiter.Success(keys...)
	noteUser(r, p.User)
	s.log.Info("signed in", "user", p.User, "remote", ip, "via", via)
	return p, 0, true
}

// limitNet is the network an address is throttled as: the address itself
// for IPv4, its /64 for IPv6, since one host commonly holds a whole /64 and
// could otherwise step around the limit address by address.
func limitNet(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return ip
	}
	a = a.Unmap()
	if a.Is4() {
		return a.String()
	}
	p, err := a.WithZone("").Prefix(64)
	if err != nil {
		return ip
	}
	return p.String()
}

// setRetryAfter says in whole seconds, rounded up, when to try again.
func setRetryAfter(w http.ResponseWriter, wait time.Duration) {
	w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
}

// MeResponse is the body of GET /api/v1/me.
type MeResponse struct {
	User     string    `json:"user"`
	Role     auth.Role `json:"role"`
	CanWrite bool      `json:"can_write"`
	Auth     string    `json:"auth"` // "session" or "token"
	// CSRFToken is the session's anti-forgery token, for scripts of the
	// dashboard to send as X-CSRF-Token; absent for token requests.
	CSRFToken string `json:"csrf_token,omitempty"`
}

func (s *Server) handleMe(w http.ResponseWriter, r *http.Request) {
	p, _ := auth.FromContext(r.Context())
	writeJSON(w, http.StatusOK, MeResponse{
		User: p.User, Role: p.Role, CanWrite: p.CanWrite(), Auth: viaOf(r.Context()).String(), CSRFToken: p.CSRF,
	})
}
