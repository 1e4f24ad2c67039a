package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
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

// orderBy is the ORDER BY of a sort; each ends in ts and seq so pages are
// stable, and each has an index that yields rows in that order.
func orderBy(p Page) (string, error) {
	dir := " DESC"
	if p.Asc {
		dir = " ASC"
	}
	var lead string
	switch p.Sort {
	case "", SortTimestamp:
	case SortLevel:
		lead = "a.level"
	case SortRule:
		lead = "a.rule_id"
	case SortAgent:
		lead = "a.agent_name"
	case SortLocation:
		lead = "a.location"
	default:
		return "", fmt.Errorf("unknown sort field %q", p.Sort)
	}
	if lead != "" {
		lead += dir + ", "
	}
	return lead + "a.ts" + dir + ", a.seq" + dir, nil
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
	order, err := orderBy(p)
	if err != nil {
		return res, fmt.Errorf("search alerts: %w", err)
	}
	limit, offset := pageBounds(p)
	from, to := rangeMillis(f)
	sf := buildFilter(f, from, to)
	if sf.matchNone {
		return res, nil
	}
	if (p.Sort == "" || p.Sort == SortTimestamp) && !timeOnly(f) {
		res.Alerts, err = s.searchWindowed(ctx, f, from, to, order, p.Asc, limit, offset)
	} else {
		res.Alerts, err = s.page(ctx, sf, order, limit, offset)
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
// an hour, then four times as much, and so on. A common filter fills its
// page from the first window, so SQLite sorts a few hundred rows instead
// of every match in 30 days; a rare one ends with the whole range, where
// matches are few anyway.
func (s *Store) searchWindowed(ctx context.Context, f Filter, from, to int64, order string, asc bool, limit, offset int) ([]AlertSummary, error) {
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
	for w := msPerHour; ; w *= 4 {
		wlo, whi := max(lo, hi-w), hi
		if asc {
			wlo, whi = lo, min(hi, lo+w)
		}
		whole := wlo == lo && whi == hi
		sf := buildFilter(f, wlo, whi)
		if ftsQuery(f.Text) != "" {
			// Full text knows no time; bound it by the window's seqs.
			minSeq, maxSeq, ok, err := s.seqBounds(ctx, wlo, whi)
			if err != nil {
				return nil, err
			}
			if !ok {
				if whole {
					return []AlertSummary{}, nil
				}
				continue
			}
			sf = buildFilterSeq(f, wlo, whi, minSeq, maxSeq)
		}
		got, err := s.page(ctx, sf, order, need, 0)
		if err != nil {
			return nil, err
		}
		if len(got) >= need || whole {
			if offset >= len(got) {
				return []AlertSummary{}, nil
			}
			return got[offset:], nil
		}
	}
}

// countCapped counts the matches of f up to countCap+1. Full text drives
// the count when present: FTS streams its matches, while an IN list
// would first collect every one of them.
func (s *Store) countCapped(ctx context.Context, f Filter, from, to int64) (int, error) {
	q := ftsQuery(f.Text)
	if q == "" {
		sf := buildFilter(f, from, to)
		var n int
		err := s.r.QueryRowContext(ctx, "SELECT count(*) FROM (SELECT 1 FROM alerts a WHERE "+sf.where+" LIMIT ?)",
			append(sf.args, countCap+1)...).Scan(&n)
		return n, err
	}
	rest := f
	rest.Text = ""
	sf := buildFilter(rest, from, to)
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
	var n int
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
	row := s.r.QueryRowContext(ctx, "SELECT "+summaryCols+", a.json FROM alerts a WHERE a.id = ?", id)
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
