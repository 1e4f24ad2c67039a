package store

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

const (
	defaultLimit = 50
	maxLimit     = 1000
)

func pageBounds(p Page) (limit, offset int) {
	limit, offset = p.Limit, p.Offset
	if limit <= 0 {
		limit = defaultLimit
	}
	limit = min(limit, maxLimit)
	return limit, max(offset, 0)
}

// timeOrder is the ORDER BY of alerts in time order: ts, then seq so
// that pages are stable.
func timeOrder(asc bool) string {
	if asc {
		return "a.ts ASC, a.seq ASC"
	}
	return "a.ts DESC, a.seq DESC"
}

const summaryCols = `a.id, a.ts, a.rule_id, a.level, a.description, a.groups, a.agent_id, a.agent_name, a.location, a.techniques, a.tactics`

func scanSummary(sc interface{ Scan(...any) error }, extra ...any) (AlertSummary, error) {
	var s AlertSummary
	var ts int64
	var groups, techs, tactics sql.NullString
	dest := append([]any{&s.ID, &ts, &s.RuleID, &s.Level, &s.Description, &groups, &s.AgentID, &s.AgentName, &s.Location, &techs, &tactics}, extra...)
	if err := sc.Scan(dest...); err != nil {
		return s, err
	}
	s.Timestamp = fromMillis(ts)
	s.Groups = decodeList(groups)
	if s.Groups == nil {
		s.Groups = []string{}
	}
	s.Techniques = decodeList(techs)
	s.Tactics = decodeList(tactics)
	return s, nil
}

func decodeList(v sql.NullString) []string {
	if !v.Valid || v.String == "" {
		return nil
	}
	var out []string
	if err := json.Unmarshal([]byte(v.String), &out); err != nil {
		return nil // written by us; never happens short of corruption
	}
	return out
}

// Search returns one page of the alerts f selects, sorted as p says, and
// how many match. Total is exact when f constrains only time (the
// rollups know it); otherwise counting stops at 10,000 and
// TotalIsLowerBound says so.
func (s *Store) Search(ctx context.Context, f Filter, p Page) (SearchResult, error) {
	res := SearchResult{Alerts: []AlertSummary{}}
	switch p.Sort {
	case "", SortTimestamp, SortLevel, SortRule, SortAgent, SortLocation:
	default:
		return res, fmt.Errorf("search alerts: unknown sort field %q", p.Sort)
	}
	if err := s.Flush(ctx); err != nil {
		return res, fmt.Errorf("search alerts: %w", err)
	}
	limit, offset := pageBounds(p)
	from, to := rangeMillis(f)
	if residualFilter(f, from, to).matchNone {
		return res, nil
	}
	var err error
	switch {
	case p.Sort != "" && p.Sort != SortTimestamp:
		res.Alerts, err = s.searchByKey(ctx, f, p, from, to, limit, offset)
	case !timeOnly(f):
		res.Alerts, err = s.searchWindowed(ctx, f, from, to, p.Asc, msPerHour, limit, offset)
	default:
		res.Alerts, err = s.page(ctx, residualFilter(f, from, to), timeOrder(p.Asc), limit, offset)
	}
	if err != nil {
		return res, fmt.Errorf("search alerts: %w", err)
	}
	if len(res.Alerts) < limit && (len(res.Alerts) > 0 || offset == 0) {
		// The last page tells the total without counting.
		res.Total = offset + len(res.Alerts)
		return res, nil
	}
	if timeOnly(f) {
		n, err := s.countTime(ctx, from, to)
		if err != nil {
			return res, fmt.Errorf("search alerts: count: %w", err)
		}
		res.Total = int(n)
		return res, nil
	}
	if res.Total, err = s.countCapped(ctx, f, from, to); err != nil {
		return res, fmt.Errorf("search alerts: count: %w", err)
	}
	if res.Total > countCap {
		res.Total, res.TotalIsLowerBound = countCap, true
	}
	return res, nil
}

// page runs one page query.
func (s *Store) page(ctx context.Context, sf sqlFilter, order string, limit, offset int) ([]AlertSummary, error) {
	q := "SELECT " + summaryCols + " FROM alerts a WHERE " + sf.where + " ORDER BY " + order + " LIMIT ? OFFSET ?"
	rows, err := s.r.QueryContext(ctx, q, append(sf.args, limit, offset)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []AlertSummary{}
	for rows.Next() {
		sum, err := scanSummary(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, sum)
	}
	return out, rows.Err()
}

// searchWindowed finds a page of newest (or oldest) alerts for a filter
// beyond time by looking at a growing window at that end of the range:
// first (an hour, usually), then four times as much, and so on. A
// common filter fills its page from the first window, so SQLite sorts a
// few hundred rows instead of every match in 30 days; a rare one ends
// with the whole range, where matches are few anyway.
func (s *Store) searchWindowed(ctx context.Context, f Filter, from, to int64, asc bool, first int64, limit, offset int) ([]AlertSummary, error) {
	lo, hi, ok, err := s.dataRange(ctx)
	if err != nil || !ok {
		return []AlertSummary{}, err
	}
	if from >= 0 {
		lo = max(lo, from)
	}
	if to >= 0 {
		hi = min(hi, to)
	}
	if lo >= hi {
		return []AlertSummary{}, nil
	}
	need := offset + limit
	for w := max(first, 1); ; w *= 4 {
		wlo, whi := max(lo, hi-w), hi
		if asc {
			wlo, whi = lo, min(hi, lo+w)
		}
		whole := wlo == lo && whi == hi
		sf, err := s.filter(ctx, f, wlo, whi)
		if err != nil {
			return nil, err
		}
		var got []AlertSummary
		if !sf.matchNone {
			if got, err = s.page(ctx, sf, timeOrder(asc), need, 0); err != nil {
				return nil, err
			}
		}
		if len(got) >= need || whole {
			if offset >= len(got) {
				return []AlertSummary{}, nil
			}
			return got[offset:], nil
		}
	}
}

// searchByKey pages through alerts sorted by a keyword field (level,
// rule, agent name, location), then by time. There are no indexes on
// those columns: the values the field takes in the range come from the
// rollups, in sort order, and each value's alerts are read like any
// filtered search until the page is full.
func (s *Store) searchByKey(ctx context.Context, f Filter, p Page, from, to int64, limit, offset int) ([]AlertSummary, error) {
	keys, err := s.sortKeys(ctx, p.Sort, from, to)
	if err != nil {
		return nil, err
	}
	if !p.Asc {
		slices.Reverse(keys)
	}
	need := offset + limit
	out := []AlertSummary{}
	for _, k := range keys {
		kf := f
		kf.key = sortKey{field: p.Sort, value: k.value, level: k.level}
		// A value with few alerts in the range is read in one query
		// over all of it rather than through growing windows.
		first := int64(msPerHour)
		if k.count <= int64(4*need) {
			first = math.MaxInt64 / 8
		}
		got, err := s.searchWindowed(ctx, kf, from, to, p.Asc, first, need-len(out), 0)
		if err != nil {
			return nil, err
		}
		out = append(out, got...)
		if len(out) >= need {
			break
		}
	}
	if offset >= len(out) {
		return []AlertSummary{}, nil
	}
	return out[offset:min(len(out), need)], nil
}

// keyCount is one value of a sort field and how many alerts the rollups
// count for it around a range (at least as many as in the range).
type keyCount struct {
	value string
	level int
	count int64
}

// sortKeys returns the values field takes in the hours (for rules and
// levels, the days) around [from, to), in ascending sort order: levels
// by number, the others as SQLite compares text.
func (s *Store) sortKeys(ctx context.Context, field SortField, from, to int64) ([]keyCount, error) {
	dim, col, unit := dimRuleDay, "k1", msPerDay
	switch field {
	case SortLevel:
		col = "k2"
	case SortAgent:
		dim, unit = dimAgent, msPerHour
	case SortLocation:
		dim, unit = dimLocation, msPerHour
	}
	q := "SELECT " + col + ", sum(n) FROM rollups WHERE dim = ?"
	args := []any{dim}
	if from >= 0 {
		q += " AND bucket >= ?"
		args = append(args, floorDiv(from, unit))
	}
	if to >= 0 {
		q += " AND bucket <= ?"
		args = append(args, floorDiv(to-1, unit))
	}
	rows, err := s.r.QueryContext(ctx, q+" GROUP BY 1 HAVING sum(n) > 0", args...)
	if err != nil {
		return nil, fmt.Errorf("sort keys: %w", err)
	}
	defer rows.Close()
	var out []keyCount
	for rows.Next() {
		var k keyCount
		if err := rows.Scan(&k.value, &k.count); err != nil {
			return nil, fmt.Errorf("sort keys: %w", err)
		}
		if field == SortLevel {
			if k.level, err = strconv.Atoi(k.value); err != nil {
				continue
			}
		}
		out = append(out, k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sort keys: %w", err)
	}
	slices.SortFunc(out, func(a, b keyCount) int {
		if field == SortLevel {
			return cmp.Compare(a.level, b.level)
		}
		return strings.Compare(a.value, b.value)
	})
	return out, nil
}

// countCapped counts the matches of f up to countCap+1, streaming them
// from the full text index, which every filter beyond time goes through.
func (s *Store) countCapped(ctx context.Context, f Filter, from, to int64) (int, error) {
	sf := residualFilter(f, from, to)
	var n int
	q := ftsMatch(f)
	if q == "" {
		err := s.r.QueryRowContext(ctx, "SELECT count(*) FROM (SELECT 1 FROM alerts a WHERE "+sf.where+" LIMIT ?)",
			append(sf.args, countCap+1)...).Scan(&n)
		return n, err
	}
	sql := "SELECT count(*) FROM (SELECT 1 FROM alerts_fts f JOIN alerts a ON a.seq = f.rowid WHERE alerts_fts MATCH ?"
	args := []any{q}
	if from >= 0 || to >= 0 {
		minSeq, maxSeq, ok, err := s.seqBounds(ctx, from, to)
		if err != nil || !ok {
			return 0, err
		}
		sql += " AND f.rowid >= ? AND f.rowid <= ?"
		args = append(args, minSeq, maxSeq)
	}
	err := s.r.QueryRowContext(ctx, sql+" AND "+sf.where+" LIMIT ?)", append(append(args, sf.args...), countCap+1)...).Scan(&n)
	return n, err
}

// seqBounds returns the range of seqs the alerts in [from, to) (ms, -1
// open) can have, from the per-minute ranges; ok is false when no alert
// was stored in that time.
func (s *Store) seqBounds(ctx context.Context, from, to int64) (minSeq, maxSeq int64, ok bool, err error) {
	lo, hi := int64(math.MinInt64), int64(math.MaxInt64)
	if from >= 0 {
		lo = floorDiv(from, msPerMinute)
	}
	if to >= 0 {
		hi = floorDiv(to-1, msPerMinute)
	}
	var mn, mx *int64
	err = s.r.QueryRowContext(ctx, "SELECT min(min_seq), max(max_seq) FROM minute_seq WHERE minute >= ? AND minute <= ?", lo, hi).Scan(&mn, &mx)
	if err != nil || mn == nil || mx == nil {
		return 0, 0, false, err
	}
	return *mn, *mx, true, nil
}

// rangeMillis is f's time range in Unix milliseconds, -1 for an open end.
func rangeMillis(f Filter) (from, to int64) {
	from, to = -1, -1
	if !f.From.IsZero() {
		from = max(f.From.UnixMilli(), 0)
	}
	if !f.To.IsZero() {
		to = max(f.To.UnixMilli(), 0)
	}
	return from, to
}

// Get returns one alert in full; the error wraps ErrNotFound when the
// store does not hold it.
func (s *Store) Get(ctx context.Context, id string) (StoredAlert, error) {
	var out StoredAlert
	var raw []byte
	row := s.r.QueryRowContext(ctx, "SELECT "+summaryCols+", a.json FROM alerts a WHERE a.seq IN ("+idSeqsSQL(1)+") AND a.id = ?2", idHash(id), id)
	sum, err := scanSummary(row, &raw)
	if errors.Is(err, sql.ErrNoRows) {
		return out, fmt.Errorf("get alert %q: %w", id, ErrNotFound)
	}
	if err != nil {
		return out, fmt.Errorf("get alert %q: %w", id, err)
	}
	out.AlertSummary, out.JSON = sum, json.RawMessage(raw)
	return out, nil
}
