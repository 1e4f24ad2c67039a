package query

import (
	"net/url"
	"time"

	"github.com/threatlockdown/tld/internal/store"
)

// MaxBuckets bounds a histogram or trend: more points than a chart can show
// would only cost the store time.
const MaxBuckets = 2000

// AutoInterval picks a round bucket width that splits [from, to) into at
// most 100 buckets: the store's choice when no interval is given.
func AutoInterval(from, to time.Time) time.Duration {
	return store.RoundInterval(to.Sub(from), 100)
}

// ParseInterval reads parameter key as a bucket width for [from, to): a
// duration of at least a minute (see ParseDuration), or, when absent or
// "auto", AutoInterval's choice. It refuses widths that would make more
// than MaxBuckets buckets.
func ParseInterval(v url.Values, key string, from, to time.Time) (time.Duration, error) {
	if err := checkSingle(v, key); err != nil {
		return 0, err
	}
	s, ok := single(v, key)
	if !ok || s == "" || s == "auto" {
		return AutoInterval(from, to), nil
	}
	d, err := ParseDuration(s)
	if err != nil {
		return 0, paramErr(key, "%v", err)
	}
	if d < time.Minute {
		return 0, paramErr(key, "must be at least 1m")
	}
	if to.Sub(from)/d > MaxBuckets {
		return 0, paramErr(key, "too small for the time range: more than %d buckets", MaxBuckets)
	}
	return d, nil
}
