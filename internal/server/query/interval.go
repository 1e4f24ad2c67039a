package query

import (
	"net/url"
	"time"
)

// MaxBuckets bounds a histogram or trend: more points than a chart can show
// would only cost the store time.
const MaxBuckets = 2000

// niceIntervals are the bucket widths AutoInterval picks from.
var niceIntervals = []time.Duration{
	time.Minute, 5 * time.Minute, 10 * time.Minute, 15 * time.Minute, 30 * time.Minute,
	time.Hour, 3 * time.Hour, 6 * time.Hour, 12 * time.Hour,
	24 * time.Hour, 7 * 24 * time.Hour, 30 * 24 * time.Hour,
}

// AutoInterval picks a bucket width that splits [from, to) into at most
// about 100 buckets.
func AutoInterval(from, to time.Time) time.Duration {
	span := to.Sub(from)
	for _, d := range niceIntervals {
		if span/d <= 100 {
			return d
		}
	}
	return niceIntervals[len(niceIntervals)-1]
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
