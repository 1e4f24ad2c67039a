package auth

import (
	"maps"
	"time"
)

// makeRoom keeps a table of m's kind under limit entries before one more is
// added: it first forgets the entries stale says are no longer needed,
// then, while still full, the one used longest ago. Sessions, tokens and
// sign-in failures are all held in memory, so an attacker must not be
// able to grow them without bound.
func makeRoom[K comparable, V any](m map[K]V, limit int, stale func(V) bool, lastUse func(V) time.Time) {
	if len(m) < limit {
		return
	}
	maps.DeleteFunc(m, func(_ K, v V) bool { return stale(v) })
	for len(m) >= limit {
		var oldest K
		var when time.Time
		first := true
		for k, v := range m {
			if t := lastUse(v); first || t.Before(when) {
				oldest, when, first = k, t, false
			}
		}
		delete(m, oldest)
	}
}
