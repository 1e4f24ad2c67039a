package auth

import (
	"net/http"
	"testing"
	"time"
)

// fakeClock is a settable clock.
type fakeClock struct{ t time.Time }

func (c *fakeClock) Now() time.Time          { return c.t }
func (c *fakeClock) Advance(d time.Duration) { c.t = c.t.Add(d) }

func newClock() *fakeClock { return &fakeClock{t: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)} }

func TestSessionExpiry(t *testing.T) {
	tests := []struct {
		name  string
		steps []time.Duration // time between uses
		alive bool
	}{
		{"a session used within the idle timeout lives", []time.Duration{7 * time.Hour}, true},
		{"a session idle for 8 hours ends", []time.Duration{8 * time.Hour}, false},
		{"a session in steady use lives until 24 hours", []time.Duration{7 * time.Hour, 7 * time.Hour, 7 * time.Hour, 2 * time.Hour}, true},
		{"a session in steady use ends at 24 hours", []time.Duration{7 * time.Hour, 7 * time.Hour, 7 * time.Hour, 3 * time.Hour}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := newClock()
			s := NewSessions(SessionConfig{Now: clock.Now})
			id, _, err := s.Create("alice")
			if err != nil {
				t.Fatal(err)
			}
			alive := true
			for _, d := range tt.steps {
				clock.Advance(d)
				_, alive = s.Lookup(id)
			}
			if alive != tt.alive {
				t.Fatalf("alive = %v, want %v", alive, tt.alive)
			}
		})
	}
}

func TestSessionCSRFAndRevocation(t *testing.T) {
	s := NewSessions(SessionConfig{})
	id, sess, err := s.Create("alice")
	if err != nil {
		t.Fatal(err)
	}
	other, _, _ := s.Create("bob")
	if len(id) < 43 || id == sess.CSRF {
		t.Fatalf("id %q / csrf %q look wrong", id, sess.CSRF)
	}
	got, ok := s.Lookup(id)
	if !ok || got.User != "alice" {
		t.Fatalf("Lookup = %+v, %v", got, ok)
	}
	if !got.CheckCSRF(sess.CSRF) || got.CheckCSRF("") || got.CheckCSRF(sess.CSRF+"x") {
		t.Error("CheckCSRF accepts the wrong tokens")
	}
	s.RevokeUser("alice")
	if _, ok := s.Lookup(id); ok {
		t.Error("alice's session survived RevokeUser")
	}
	if _, ok := s.Lookup(other); !ok {
		t.Error("bob's session was revoked too")
	}
	c := s.Cookie(other, true)
	if c.Name != SessionCookie || !c.HttpOnly || !c.Secure || c.SameSite != http.SameSiteStrictMode || c.Path != "/" {
		t.Errorf("cookie = %+v", c)
	}
}

func TestTokens(t *testing.T) {
	clock := newClock()
	tok := NewTokens(TokenConfig{Now: clock.Now})
	token, exp, err := tok.Issue("alice")
	if err != nil {
		t.Fatal(err)
	}
	if !exp.Equal(clock.Now().Add(time.Hour)) {
		t.Errorf("expires %v, want an hour from now", exp)
	}
	if user, ok := tok.Lookup(token); !ok || user != "alice" {
		t.Fatalf("Lookup = %q, %v", user, ok)
	}
	if _, ok := tok.Lookup(token + "x"); ok {
		t.Error("a altered token is accepted")
	}
	clock.Advance(time.Hour)
	if _, ok := tok.Lookup(token); ok {
		t.Error("an expired token is accepted")
	}
}

func TestLimiter(t *testing.T) {
	clock := newClock()
	l := NewLimiter(LimiterConfig{Now: clock.Now})
	keys := []string{IPKey("192.0.2.1"), UserKey("alice")}
	for i := range 4 {
		l.Failure(keys...)
		if _, ok := l.Allow(keys...); !ok {
			t.Fatalf("locked after %d failures", i+1)
		}
	}
	l.Failure(keys...)
	wait, ok := l.Allow(keys...)
	if ok || wait != 30*time.Second {
		t.Fatalf("after 5 failures: wait %v ok %v, want a 30s lock", wait, ok)
	}
	if _, ok := l.Allow(IPKey("192.0.2.2"), UserKey("bob")); !ok {
		t.Error("other keys are locked too")
	}
	if _, ok := l.Allow(IPKey("192.0.2.2"), UserKey("alice")); ok {
		t.Error("the user is not locked from another address")
	}
	// Each further failure doubles the lock, up to 15 minutes.
	var waits []time.Duration
	for range 7 {
		clock.Advance(wait)
		l.Failure(keys...)
		wait, _ = l.Allow(keys...)
		waits = append(waits, wait)
	}
	want := []time.Duration{time.Minute, 2 * time.Minute, 4 * time.Minute, 8 * time.Minute, 15 * time.Minute, 15 * time.Minute, 15 * time.Minute}
	for i := range want {
		if waits[i] != want[i] {
			t.Fatalf("locks %v, want %v", waits, want)
		}
	}
	clock.Advance(wait)
	l.Success(keys...)
	l.Failure(keys...)
	if _, ok := l.Allow(keys...); !ok {
		t.Error("a success did not reset the count")
	}
}

func TestLimiterMemoryIsBounded(t *testing.T) {
	clock := newClock()
	l := NewLimiter(LimiterConfig{Now: clock.Now, MaxEntries: 100})
	for i := range 1000 {
		l.Failure(IPKey(time.Duration(i).String()))
		clock.Advance(time.Millisecond)
	}
	if l.Len() > 100 {
		t.Fatalf("Len = %d, want at most 100", l.Len())
	}
}
