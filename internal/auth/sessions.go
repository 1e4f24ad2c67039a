package auth

import (
	"maps"
	"net/http"
	"sync"
	"time"
)

// SessionCookie is the name of the dashboard's session cookie.
const SessionCookie = "tld_session"

// Default session lifetimes.
const (
	DefaultSessionIdle = 8 * time.Hour
	DefaultSessionMax  = 24 * time.Hour
)

// maxSessions bounds memory; when full the oldest session is dropped.
const maxSessions = 10000

// Session is one signed-in dashboard user.
type Session struct {
	User     string
	CSRF     string // anti-forgery token for this session's forms and API writes
	Created  time.Time
	LastSeen time.Time
}

// CheckCSRF tells, in constant time, whether token is the session's
// anti-forgery token.
func (s Session) CheckCSRF(token string) bool { return equalSecret(s.CSRF, token) }

// SessionConfig sets session lifetimes. Zero fields take the defaults.
type SessionConfig struct {
	Idle time.Duration    // a session unused this long ends (default 8h)
	Max  time.Duration    // a session ends this long after sign-in however used (default 24h)
	Now  func() time.Time // the clock, for tests
}

// Sessions holds dashboard sessions in memory: a restart signs everybody
// out, which is acceptable for a single-node manager and keeps no session
// secrets on disk. It is safe for concurrent use.
type Sessions struct {
	idle, max time.Duration
	now       func() time.Time

	mu       sync.Mutex
	sessions map[digest]*Session
}

// NewSessions returns an empty session table.
func NewSessions(cfg SessionConfig) *Sessions {
	s := &Sessions{idle: cfg.Idle, max: cfg.Max, now: cfg.Now, sessions: make(map[digest]*Session)}
	if s.idle <= 0 {
		s.idle = DefaultSessionIdle
	}
	if s.max <= 0 {
		s.max = DefaultSessionMax
	}
	if s.now == nil {
		s.now = time.Now
	}
	return s
}

// Create starts a session for user and returns its id, the cookie value.
func (s *Sessions) Create(user string) (id string, sess Session, err error) {
	id, err = newSecret("")
	if err != nil {
		return "", Session{}, err
	}
	csrf, err := newSecret("")
	if err != nil {
		return "", Session{}, err
	}
	now := s.now()
	sess = Session{User: user, CSRF: csrf, Created: now, LastSeen: now}
	s.mu.Lock()
	defer s.mu.Unlock()
	makeRoom(s.sessions, maxSessions,
		func(x *Session) bool { return s.expired(x, now) },
		func(x *Session) time.Time { return x.LastSeen })
	stored := sess
	s.sessions[digestOf(id)] = &stored
	return id, sess, nil
}

// Lookup returns the live session with this id and marks it used.
func (s *Sessions) Lookup(id string) (Session, bool) {
	if id == "" {
		return Session{}, false
	}
	k := digestOf(id)
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	x, ok := s.sessions[k]
	if !ok {
		return Session{}, false
	}
	if s.expired(x, now) {
		delete(s.sessions, k)
		return Session{}, false
	}
	x.LastSeen = now
	return *x, true
}

// Delete ends the session with this id.
func (s *Sessions) Delete(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.sessions, digestOf(id))
}

// RevokeUser ends every session of user (deleted, or password changed).
func (s *Sessions) RevokeUser(user string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	maps.DeleteFunc(s.sessions, func(_ digest, x *Session) bool { return x.User == user })
}

// Len is the number of sessions held, expired ones included until swept.
func (s *Sessions) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.sessions)
}

// Cookie returns the cookie carrying session id; secure marks it for HTTPS
// only. It lives as long as the browser session, the server enforcing the
// timeouts.
func (s *Sessions) Cookie(id string, secure bool) *http.Cookie {
	return &http.Cookie{
		Name:     SessionCookie,
		Value:    id,
		Path:     "/",
		HttpOnly: true,
		Secure:   secure,
		SameSite: http.SameSiteStrictMode,
	}
}

// ClearCookie returns a cookie that makes the browser forget the session.
func (s *Sessions) ClearCookie(secure bool) *http.Cookie {
	c := s.Cookie("", secure)
	c.MaxAge = -1
	return c
}

func (s *Sessions) expired(x *Session, now time.Time) bool {
	return now.Sub(x.LastSeen) >= s.idle || now.Sub(x.Created) >= s.max
}
