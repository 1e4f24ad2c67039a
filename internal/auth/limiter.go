package auth

import (
	"sync"
	"time"
)

// LimiterConfig sets how failed sign-ins are throttled. Zero fields take
// the defaults.
type LimiterConfig struct {
	MaxFailures int           // failures within Window before a lock (default 5)
	Window      time.Duration // how long a failure counts (default 15m)
	BaseLock    time.Duration // first lock (default 30s); each further one doubles
	MaxLock     time.Duration // longest lock (default 15m)
	MaxEntries  int           // keys remembered (default 10,000)
	Now         func() time.Time
}

// Limiter throttles password guessing. It counts failed sign-ins per key,
// and callers use two keys per attempt: the client address (one host trying
// many names) and the user name (many hosts trying one name). Once a key has
// MaxFailures failures within Window it is locked; a failure within Window
// of the end of a lock locks it again for twice as long, up to MaxLock.
// Locking by user name lets an attacker keep a user out for up to MaxLock
// at a time; that is the price of stopping distributed guessing.
// It is safe for concurrent use.
type Limiter struct {
	cfg LimiterConfig

	mu      sync.Mutex
	entries map[string]*limitEntry
}

type limitEntry struct {
	failures    []time.Time // within Window, oldest first
	locks       int         // locks so far, for the doubling
	lockedUntil time.Time
	last        time.Time
}

// NewLimiter returns a limiter with nothing recorded.
func NewLimiter(cfg LimiterConfig) *Limiter {
	if cfg.MaxFailures <= 0 {
		cfg.MaxFailures = 5
	}
	if cfg.Window <= 0 {
		cfg.Window = 15 * time.Minute
	}
	if cfg.BaseLock <= 0 {
		cfg.BaseLock = 30 * time.Second
	}
	if cfg.MaxLock <= 0 {
		cfg.MaxLock = 15 * time.Minute
	}
	if cfg.MaxEntries <= 0 {
		cfg.MaxEntries = 10000
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Limiter{cfg: cfg, entries: make(map[string]*limitEntry)}
}

// IPKey and UserKey name the two kinds of key, so a user called like an
// address does not share the address's count.
func IPKey(ip string) string     { return "ip:" + ip }
func UserKey(user string) string { return "user:" + user }

// Allow tells whether an attempt under all keys may proceed; when not, it
// returns how long until it may.
func (l *Limiter) Allow(keys ...string) (retryAfter time.Duration, ok bool) {
	now := l.cfg.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, k := range keys {
		if e, found := l.entries[k]; found && now.Before(e.lockedUntil) {
			retryAfter = max(retryAfter, e.lockedUntil.Sub(now))
		}
	}
	return retryAfter, retryAfter == 0
}

// Failure records a failed attempt under every key.
func (l *Limiter) Failure(keys ...string) {
	now := l.cfg.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, k := range keys {
		e, found := l.entries[k]
		if !found {
			l.makeRoomLocked(now)
			e = &limitEntry{}
			l.entries[k] = e
		}
		e.last = now
		e.failures = l.recent(e.failures, now)
		// Bounded: once locked, older failures no longer matter.
		if len(e.failures) >= l.cfg.MaxFailures {
			e.failures = e.failures[1:]
		}
		e.failures = append(e.failures, now)
		if e.locks > 0 && now.Sub(e.lockedUntil) > l.cfg.Window {
			// A quiet window since the last lock: start doubling afresh.
			e.locks = 0
		}
		// A failure soon after a lock locks again at once, however long
		// the lock was: otherwise MaxFailures more guesses would be free.
		if e.locks == 0 && len(e.failures) < l.cfg.MaxFailures {
			continue
		}
		lock := l.cfg.BaseLock << min(e.locks, 20)
		if lock <= 0 || lock > l.cfg.MaxLock {
			lock = l.cfg.MaxLock
		}
		e.locks++
		e.lockedUntil = now.Add(lock)
	}
}

// Success forgets the failures of every key.
func (l *Limiter) Success(keys ...string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, k := range keys {
		delete(l.entries, k)
	}
}

// Len is the number of keys remembered.
func (l *Limiter) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.entries)
}

func (l *Limiter) recent(fs []time.Time, now time.Time) []time.Time {
	i := 0
	for i < len(fs) && now.Sub(fs[i]) >= l.cfg.Window {
		i++
	}
	return fs[i:]
}

// makeRoomLocked keeps the table within MaxEntries: first by forgetting keys
// neither locked nor holding a counting failure, then the key idle longest.
func (l *Limiter) makeRoomLocked(now time.Time) {
	makeRoom(l.entries, l.cfg.MaxEntries,
		func(e *limitEntry) bool { return !now.Before(e.lockedUntil) && len(l.recent(e.failures, now)) == 0 },
		func(e *limitEntry) time.Time { return e.last })
}
