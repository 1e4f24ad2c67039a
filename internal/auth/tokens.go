package auth

import (
	"maps"
	"sync"
	"time"
)

// DefaultTokenTTL is how long an API token lives.
const DefaultTokenTTL = time.Hour

// TokenPrefix starts every API token, so secret scanners and people can
// tell one when they see it.
const TokenPrefix = "tld_"

// maxTokens bounds memory; when full the token closest to expiry is dropped.
const maxTokens = 10000

// TokenConfig sets API token lifetimes. Zero fields take the defaults.
type TokenConfig struct {
	TTL time.Duration    // default 1h
	Now func() time.Time // the clock, for tests
}

// Tokens holds API bearer tokens in memory, by their SHA-256 only. It is
// safe for concurrent use.
type Tokens struct {
	ttl time.Duration
	now func() time.Time

	mu     sync.Mutex
	tokens map[digest]tokenEntry
}

type tokenEntry struct {
	user    string
	expires time.Time
}

// NewTokens returns an empty token table.
func NewTokens(cfg TokenConfig) *Tokens {
	t := &Tokens{ttl: cfg.TTL, now: cfg.Now, tokens: make(map[digest]tokenEntry)}
	if t.ttl <= 0 {
		t.ttl = DefaultTokenTTL
	}
	if t.now == nil {
		t.now = time.Now
	}
	return t
}

// Issue makes a new token for user.
func (t *Tokens) Issue(user string) (token string, expires time.Time, err error) {
	token, err = newSecret(TokenPrefix)
	if err != nil {
		return "", time.Time{}, err
	}
	now := t.now()
	expires = now.Add(t.ttl)
	t.mu.Lock()
	defer t.mu.Unlock()
	// Full: expired tokens go first, then the one that expires soonest.
	makeRoom(t.tokens, maxTokens,
		func(e tokenEntry) bool { return !now.Before(e.expires) },
		func(e tokenEntry) time.Time { return e.expires })
	t.tokens[digestOf(token)] = tokenEntry{user: user, expires: expires}
	return token, expires, nil
}

// Lookup returns the user a live token was issued to.
func (t *Tokens) Lookup(token string) (user string, ok bool) {
	if token == "" {
		return "", false
	}
	k := digestOf(token)
	now := t.now()
	t.mu.Lock()
	defer t.mu.Unlock()
	e, ok := t.tokens[k]
	if !ok {
		return "", false
	}
	if !now.Before(e.expires) {
		delete(t.tokens, k)
		return "", false
	}
	return e.user, true
}

// Revoke ends one token.
func (t *Tokens) Revoke(token string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.tokens, digestOf(token))
}

// RevokeUser ends every token of user.
func (t *Tokens) RevokeUser(user string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	maps.DeleteFunc(t.tokens, func(_ digest, e tokenEntry) bool { return e.user == user })
}
