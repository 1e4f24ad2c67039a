// Package query turns URL query parameters into store filters and back. The
// REST API and the dashboard share it, so a dashboard URL and an API call
// with the same parameters select the same alerts.
package query

import (
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/threatlockdown/tld/internal/store"
)

// DefaultRange is the time range used when a request gives neither "from"
// nor "range": the last 24 hours (ending at "to" when given).
const DefaultRange = 24 * time.Hour

// Limits on what a request may ask for.
const (
	MaxLimit   = 1000    // the store's own cap on a page
	MaxOffset  = 1000000 // deeper pages are better reached by narrowing the filter
	MaxLevel   = 16
	maxTextLen = 1000
)

// Error is a bad query parameter. The API answers it with 400.
type Error struct {
	Param  string
	Reason string
}

func (e *Error) Error() string { return "parameter " + e.Param + ": " + e.Reason }

func paramErr(param, format string, args ...any) *Error {
	return &Error{Param: param, Reason: fmt.Sprintf(format, args...)}
}

// Ranges are the shorthands the dashboard offers for "range"; any relative
// duration is accepted too.
var Ranges = []string{"15m", "1h", "24h", "7d", "30d", "all"}

// ParseFilter reads an alert filter:
//
//	from, to      RFC 3339 time, YYYY-MM-DD (UTC midnight), or a duration
//	              before now (30m, 24h, 7d, 2w)
//	range         a duration before now, or "all" (no lower bound); not with from
//	group, rule, technique, tactic   repeatable or comma-separated
//	agent, location                  repeatable (values may hold commas)
//	level_min, level_max             0 to 16
//	q             free text
//
// With neither from nor range, the filter covers DefaultRange before "to"
// (or now). Times come back in UTC.
func ParseFilter(v url.Values, now time.Time) (store.Filter, error) {
	var f store.Filter
	now = now.UTC()
	var err error
	if f.To, err = optionalTime(v, "to", now); err != nil {
		return f, err
	}
	from, hasFrom := single(v, "from")
	rng, hasRange := single(v, "range")
	switch {
	case hasFrom && hasRange:
		return f, paramErr("range", "give from or range, not both")
	case hasFrom:
		if f.From, err = ParseTime(from, now); err != nil {
			return f, paramErr("from", "%v", err)
		}
	case hasRange && rng == "all":
		// No lower bound.
	case hasRange:
		d, err := ParseDuration(rng)
		if err != nil {
			return f, paramErr("range", "want one of %s or a duration like 12h: %v", strings.Join(Ranges, ", "), err)
		}
		f.From = now.Add(-d)
	default:
		end := now
		if !f.To.IsZero() {
			end = f.To
		}
		f.From = end.Add(-DefaultRange)
		if f.From.Year() < 1 {
			// Keep it writable as RFC 3339; "to" then fails the check below.
			f.From = time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)
		}
	}
	if !f.From.IsZero() && !f.To.IsZero() && !f.From.Before(f.To) {
		return f, paramErr("to", "must be after from")
	}
	if err := checkSingle(v, "from", "to", "range", "level_min", "level_max", "q"); err != nil {
		return f, err
	}
	f.Groups = list(v, "group", true)
	f.RuleIDs = list(v, "rule", true)
	f.Techniques = list(v, "technique", true)
	f.Tactics = list(v, "tactic", true)
	f.Agents = list(v, "agent", false)
	f.Locations = list(v, "location", false)
	if f.MinLevel, err = intParam(v, "level_min", 0, MaxLevel); err != nil {
		return f, err
	}
	if f.MaxLevel, err = intParam(v, "level_max", 0, MaxLevel); err != nil {
		return f, err
	}
	if f.MaxLevel != 0 && f.MinLevel > f.MaxLevel {
		return f, paramErr("level_max", "must not be below level_min")
	}
	if f.Text, err = text(v, "q"); err != nil {
		return f, err
	}
	return f, nil
}

// EncodeFilter writes f as query parameters that ParseFilter reads back to
// the same filter, whatever the time: times are absolute, and a filter with
// no lower bound says range=all.
func EncodeFilter(f store.Filter) url.Values {
	v := url.Values{}
	if f.From.IsZero() {
		v.Set("range", "all")
	} else {
		v.Set("from", f.From.UTC().Format(time.RFC3339Nano))
	}
	if !f.To.IsZero() {
		v.Set("to", f.To.UTC().Format(time.RFC3339Nano))
	}
	for _, p := range []struct {
		key  string
		vals []string
	}{
		{"group", f.Groups}, {"rule", f.RuleIDs}, {"agent", f.Agents}, {"location", f.Locations},
		{"technique", f.Techniques}, {"tactic", f.Tactics},
	} {
		for _, x := range p.vals {
			v.Add(p.key, x)
		}
	}
	if f.MinLevel != 0 {
		v.Set("level_min", strconv.Itoa(f.MinLevel))
	}
	if f.MaxLevel != 0 {
		v.Set("level_max", strconv.Itoa(f.MaxLevel))
	}
	if f.Text != "" {
		v.Set("q", f.Text)
	}
	return v
}

// Sorts are the values "sort" accepts.
var Sorts = []store.SortField{store.SortTimestamp, store.SortLevel, store.SortRule, store.SortAgent, store.SortLocation}

// ParsePage reads limit (1 to 1000; default the store's 50), offset, sort
// (timestamp, level, rule, agent, location; default timestamp) and order
// (asc or desc; default desc).
func ParsePage(v url.Values) (store.Page, error) {
	var p store.Page
	if err := checkSingle(v, "limit", "offset", "sort", "order"); err != nil {
		return p, err
	}
	var err error
	if p.Limit, err = intParam(v, "limit", 1, MaxLimit); err != nil {
		return p, err
	}
	if p.Offset, err = intParam(v, "offset", 0, MaxOffset); err != nil {
		return p, err
	}
	if s, ok := single(v, "sort"); ok {
		if !slices.Contains(Sorts, store.SortField(s)) {
			return p, paramErr("sort", "want one of timestamp, level, rule, agent, location")
		}
		p.Sort = store.SortField(s)
	}
	if o, ok := single(v, "order"); ok {
		switch o {
		case "asc":
			p.Asc = true
		case "desc":
		default:
			return p, paramErr("order", "want asc or desc")
		}
	}
	return p, nil
}

// EncodePage writes p as query parameters; defaults are left out.
func EncodePage(p store.Page) url.Values {
	v := url.Values{}
	if p.Limit != 0 {
		v.Set("limit", strconv.Itoa(p.Limit))
	}
	if p.Offset != 0 {
		v.Set("offset", strconv.Itoa(p.Offset))
	}
	if p.Sort != "" {
		v.Set("sort", string(p.Sort))
	}
	if p.Asc {
		v.Set("order", "asc")
	}
	return v
}

// Posture values accepted for "severity" and "state", case-insensitively.
var (
	Severities = []string{"High", "Medium", "Low"}
	States     = []string{"Healthy", "Unhealthy", "NotApplicable"}
)

// ParsePostureFilter reads a recommendation filter: subscription,
// resource_group, resource_type, severity and state (each repeatable or
// comma-separated) and q.
func ParsePostureFilter(v url.Values) (store.PostureFilter, error) {
	var f store.PostureFilter
	if err := checkSingle(v, "q"); err != nil {
		return f, err
	}
	f.Subscriptions = list(v, "subscription", true)
	f.ResourceGroups = list(v, "resource_group", true)
	f.ResourceTypes = list(v, "resource_type", true)
	var err error
	if f.Severities, err = enumList(v, "severity", Severities); err != nil {
		return f, err
	}
	if f.States, err = enumList(v, "state", States); err != nil {
		return f, err
	}
	if f.Text, err = text(v, "q"); err != nil {
		return f, err
	}
	return f, nil
}

// EncodePostureFilter writes f as query parameters ParsePostureFilter
// reads back.
func EncodePostureFilter(f store.PostureFilter) url.Values {
	v := url.Values{}
	for _, p := range []struct {
		key  string
		vals []string
	}{
		{"subscription", f.Subscriptions}, {"resource_group", f.ResourceGroups}, {"resource_type", f.ResourceTypes},
		{"severity", f.Severities}, {"state", f.States},
	} {
		for _, x := range p.vals {
			v.Add(p.key, x)
		}
	}
	if f.Text != "" {
		v.Set("q", f.Text)
	}
	return v
}

// ParseTime reads an absolute time (RFC 3339, or YYYY-MM-DD as UTC
// midnight) or a duration before now ("30m", "7d").
func ParseTime(s string, now time.Time) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t, err = time.Parse(time.DateOnly, s)
	}
	if err == nil {
		// RFC 3339 has four-digit years, so EncodeFilter could not write
		// others back.
		if y := t.UTC().Year(); y < 1 || y > 9999 {
			return time.Time{}, fmt.Errorf("year %d is out of range (1 to 9999)", y)
		}
		return t.UTC(), nil
	}
	d, err := ParseDuration(s)
	if err != nil {
		return time.Time{}, fmt.Errorf("want an RFC 3339 time (2025-01-02T15:04:05Z), a date (2025-01-02) or a duration before now (30m, 24h, 7d)")
	}
	return now.UTC().Add(-d), nil
}

// ParseDuration reads a positive duration: Go's syntax (90s, 30m, 1h30m)
// plus whole days and weeks (7d, 2w).
func ParseDuration(s string) (time.Duration, error) {
	var d time.Duration
	if n, ok := strings.CutSuffix(s, "d"); ok {
		d = days(n, 1)
	} else if n, ok := strings.CutSuffix(s, "w"); ok {
		d = days(n, 7)
	} else {
		var err error
		if d, err = time.ParseDuration(s); err != nil {
			return 0, fmt.Errorf("bad duration %q", s)
		}
	}
	if d <= 0 {
		return 0, fmt.Errorf("bad duration %q: want a positive one like 30m, 24h or 7d", s)
	}
	return d, nil
}

// days reads a count of days (times mult); 0 when n is not a positive
// integer of at most a century, which ParseDuration reports.
func days(n string, mult int) time.Duration {
	x, err := strconv.Atoi(n)
	// A century is plenty, and keeps the product far from overflowing.
	if err != nil || x <= 0 || x*mult > 36525 {
		return 0
	}
	return time.Duration(x*mult) * 24 * time.Hour
}

// FormatDuration writes d the way ParseDuration reads it, in days when whole.
func FormatDuration(d time.Duration) string {
	day := 24 * time.Hour
	if d >= day && d%day == 0 {
		return strconv.Itoa(int(d/day)) + "d"
	}
	s := d.String()
	// "1h0m0s" reads better as "1h", and "15m0s" as "15m".
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// single returns the only value of key; false when absent. A parameter
// given twice is caught by checkSingle.
func single(v url.Values, key string) (string, bool) {
	vals, ok := v[key]
	if !ok || len(vals) == 0 {
		return "", false
	}
	return vals[0], true
}

// checkSingle rejects repeats of parameters that take one value, rather
// than silently using one of them.
func checkSingle(v url.Values, keys ...string) error {
	for _, k := range keys {
		if len(v[k]) > 1 {
			return paramErr(k, "given more than once")
		}
	}
	return nil
}

func optionalTime(v url.Values, key string, now time.Time) (time.Time, error) {
	s, ok := single(v, key)
	if !ok {
		return time.Time{}, nil
	}
	t, err := ParseTime(s, now)
	if err != nil {
		return time.Time{}, paramErr(key, "%v", err)
	}
	return t, nil
}

// list collects every value of key, split on commas when splitComma,
// trimmed, empty ones dropped.
func list(v url.Values, key string, splitComma bool) []string {
	var out []string
	for _, raw := range v[key] {
		parts := []string{raw}
		if splitComma {
			parts = strings.Split(raw, ",")
		}
		for _, p := range parts {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
	}
	return out
}

// enumList is list restricted to allowed values, matched case-insensitively
// and returned in their canonical spelling.
func enumList(v url.Values, key string, allowed []string) ([]string, error) {
	vals := list(v, key, true)
	for i, x := range vals {
		j := slices.IndexFunc(allowed, func(a string) bool { return strings.EqualFold(a, x) })
		if j < 0 {
			return nil, paramErr(key, "%q is not one of %s", x, strings.Join(allowed, ", "))
		}
		vals[i] = allowed[j]
	}
	return vals, nil
}

func intParam(v url.Values, key string, lo, hi int) (int, error) {
	s, ok := single(v, key)
	if !ok || s == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < lo || n > hi {
		return 0, paramErr(key, "want an integer from %d to %d", lo, hi)
	}
	return n, nil
}

func text(v url.Values, key string) (string, error) {
	s, _ := single(v, key)
	s = strings.TrimSpace(s)
	if len(s) > maxTextLen {
		return "", paramErr(key, "longer than %d bytes", maxTextLen)
	}
	return s, nil
}
