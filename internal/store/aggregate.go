package store

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/threatlockdown/tld/internal/mitre"
)

const (
	maxBuckets = 10000
	defaultTop = 10
	maxTop     = 1000
)

// roundIntervals are the bucket widths RoundInterval picks from.
var roundIntervals = []time.Duration{
	time.Minute, 5 * time.Minute, 10 * time.Minute, 15 * time.Minute, 30 * time.Minute,
	time.Hour, 3 * time.Hour, 6 * time.Hour, 12 * time.Hour,
	24 * time.Hour, 7 * 24 * time.Hour, 30 * 24 * time.Hour, 365 * 24 * time.Hour,
}

// RoundInterval is the smallest round bucket width (a minute, 5 or 15
// minutes, an hour, a day, a week…) that splits span into at most n
// buckets. The store, the API and the dashboard all choose with it, so a
// chart and the API's answer for the same range agree.
func RoundInterval(span time.Duration, n int) time.Duration {
	for _, iv := range roundIntervals {
		if span <= time.Duration(n)*iv {
			return iv
		}
	}
	iv := roundIntervals[len(roundIntervals)-1]
	for span > time.Duration(n)*iv {
		iv *= 10
	}
	return iv
}

// chooseInterval returns interval, or when it is 0 the round one that
// splits [from, to) into at most 100 buckets.
func chooseInterval(from, to time.Time, interval time.Duration) (time.Duration, error) {
	if interval < 0 || (interval > 0 && interval%time.Millisecond != 0) {
		return 0, fmt.Errorf("interval %s is not a positive whole number of milliseconds", interval)
	}
	span := to.Sub(from)
	if interval > 0 {
		if span/interval > maxBuckets {
			return 0, fmt.Errorf("interval %s gives more than %d buckets over %s", interval, maxBuckets, span)
		}
		return interval, nil
	}
	return RoundInterval(span, 100), nil
}

// split divides [from, to) (ms, -1 open) into whole buckets of unit ms,
// [bLo, bHi) in bucket numbers, which rollups answer, and the partial
// edges, which must be counted from raw rows.
func split(from, to, unit int64) (bLo, bHi int64, edges [][2]int64) {
	bLo, bHi = math.MinInt64, math.MaxInt64
	if from >= 0 {
		bLo = floorDiv(from+unit-1, unit)
	}
	if to >= 0 {
		bHi = floorDiv(to, unit)
	}
	if from >= 0 && to >= 0 && bLo >= bHi {
		if from < to {
			edges = append(edges, [2]int64{from, to})
		}
		return 0, 0, edges
	}
	if from >= 0 && from < bLo*unit {
		edges = append(edges, [2]int64{from, bLo * unit})
	}
	if to >= 0 && bHi*unit < to {
		edges = append(edges, [2]int64{bHi * unit, to})
	}
	return bLo, bHi, edges
}

// countTime counts the alerts in [from, to) exactly: minute rollups for
// whole minutes, the ts index for the edges.
func (s *Store) countTime(ctx context.Context, from, to int64) (int64, error) {
	bLo, bHi, edges := split(from, to, msPerMinute)
	var total int64
	if bLo < bHi {
		if err := s.r.QueryRowContext(ctx, "SELECT coalesce(sum(n), 0) FROM rollups WHERE dim = ? AND bucket >= ? AND bucket < ?",
			dimMinute, bLo, bHi).Scan(&total); err != nil {
			return 0, err
		}
	}
	for _, e := range edges {
		var n int64
		if err := s.r.QueryRowContext(ctx, "SELECT count(*) FROM alerts WHERE ts >= ? AND ts < ?", e[0], e[1]).Scan(&n); err != nil {
			return 0, err
		}
		total += n
	}
	return total, nil
}

// dataRange is the time span of the stored alerts, [oldest, newest+1ms).
func (s *Store) dataRange(ctx context.Context) (from, to int64, ok bool, err error) {
	var lo, hi *int64
	if err := s.r.QueryRowContext(ctx, "SELECT (SELECT min(ts) FROM alerts), (SELECT max(ts) FROM alerts)").Scan(&lo, &hi); err != nil {
		return 0, 0, false, err
	}
	if lo == nil || hi == nil {
		return 0, 0, false, nil
	}
	return *lo, *hi + 1, true, nil
}

// Histogram counts the alerts f selects per interval, in aligned UTC
// buckets over [f.From, f.To) (the stored data's range for an open end),
// empty buckets included. interval 0 picks a round one giving at most
// about 100 buckets.
func (s *Store) Histogram(ctx context.Context, f Filter, interval time.Duration) ([]TimeBucket, error) {
	if err := s.Flush(ctx); err != nil {
		return nil, fmt.Errorf("alert histogram: %w", err)
	}
	from, to := rangeMillis(f)
	if from < 0 || to < 0 {
		lo, hi, ok, err := s.dataRange(ctx)
		if err != nil {
			return nil, fmt.Errorf("alert histogram: %w", err)
		}
		if !ok {
			if from < 0 || to < 0 {
				return []TimeBucket{}, nil
			}
		}
		if from < 0 {
			from = lo
		}
		if to < 0 {
			to = hi
		}
	}
	if to <= from {
		return []TimeBucket{}, nil
	}
	iv, err := chooseInterval(time.UnixMilli(from), time.UnixMilli(to), interval)
	if err != nil {
		return nil, fmt.Errorf("alert histogram: %w", err)
	}
	ivMs := iv.Milliseconds()
	start := floorDiv(from, ivMs) * ivMs
	n := int((to - start + ivMs - 1) / ivMs)
	counts := make([]int64, n)
	add := func(bucketStart, c int64) {
		if i := (bucketStart - start) / ivMs; bucketStart >= start && i < int64(n) {
			counts[i] += c
		}
	}
	rawRanges := [][2]int64{{from, to}}
	if timeOnly(f) && ivMs%msPerMinute == 0 {
		bLo, bHi, edges := split(from, to, msPerMinute)
		rawRanges = edges
		if bLo < bHi {
			if err := s.eachCount(ctx, add, "SELECT bucket * ?, n FROM rollups WHERE dim = ? AND bucket >= ? AND bucket < ?",
				msPerMinute, dimMinute, bLo, bHi); err != nil {
				return nil, fmt.Errorf("alert histogram: %w", err)
			}
		}
	}
	for _, r := range rawRanges {
		sf, err := s.filter(ctx, f, r[0], r[1])
		if err != nil {
			return nil, fmt.Errorf("alert histogram: %w", err)
		}
		if err := s.eachCount(ctx, add, "SELECT ((a.ts - ?) / ?) * ? + ?, count(*) FROM alerts a WHERE "+sf.where+" GROUP BY 1",
			append([]any{start, ivMs, ivMs, start}, sf.args...)...); err != nil {
			return nil, fmt.Errorf("alert histogram: %w", err)
		}
	}
	out := make([]TimeBucket, n)
	for i := range out {
		out[i] = TimeBucket{Start: fromMillis(start + int64(i)*ivMs), Count: int(counts[i])}
	}
	return out, nil
}

// dimSpec says how to count one Dimension from raw rows and from rollups.
type dimSpec struct {
	expr, from string // raw: key expression and FROM clause
	dim        int    // rollup dimension
	rollKey    string // rollup key column
	dayDim     int    // daily rollup dimension, 0 if none
}

var dimSpecs = map[Dimension]dimSpec{
	ByRule:         {"a.rule_id", "alerts a", dimRule, "k1", dimRuleDay},
	ByLevel:        {"CAST(a.level AS TEXT)", "alerts a", dimRule, "k2", dimRuleDay},
	ByAgent:        {"a.agent_name", "alerts a", dimAgent, "k1", 0},
	ByLocation:     {"a.location", "alerts a", dimLocation, "k1", 0},
	ByResourceType: {"a.resource_type", "alerts a", dimResourceType, "k1", 0},
	ByRegion:       {"a.region", "alerts a", dimRegion, "k1", 0},
	ByGroup:        {"j.value", "alerts a, json_each(a.groups) j", dimGroup, "k1", 0},
	ByTactic:       {"j.value", "alerts a, json_each(a.tactics) j", dimTactic, "k1", 0},
	ByTechnique:    {"j.value", "alerts a, json_each(a.techniques) j", dimTechnique, "k1", 0},
}

// Top counts the alerts f selects by d and returns the n largest counts
// (n 0: 10), in descending count, ties by key.
func (s *Store) Top(ctx context.Context, f Filter, d Dimension, n int) ([]Bucket, error) {
	spec, ok := dimSpecs[d]
	if !ok {
		return nil, fmt.Errorf("top alerts: unknown dimension %q", d)
	}
	if err := s.Flush(ctx); err != nil {
		return nil, fmt.Errorf("top alerts: %w", err)
	}
	if n <= 0 {
		n = defaultTop
	}
	n = min(n, maxTop)
	counts := make(map[string]int64)
	from, to := rangeMillis(f)
	rawRanges := [][2]int64{{from, to}}
	if timeOnly(f) {
		q := "SELECT " + spec.rollKey + ", sum(n) FROM rollups WHERE dim = ? AND bucket >= ? AND bucket < ? GROUP BY 1"
		hourRanges := rawRanges
		if spec.dayDim != 0 {
			dLo, dHi, edges := split(from, to, msPerDay)
			hourRanges = edges
			if dLo < dHi {
				if err := s.collect(ctx, counts, q, spec.dayDim, dLo, dHi); err != nil {
					return nil, fmt.Errorf("top alerts by %s: %w", d, err)
				}
			}
		}
		rawRanges = nil
		for _, r := range hourRanges {
			hLo, hHi, edges := split(r[0], r[1], msPerHour)
			rawRanges = append(rawRanges, edges...)
			if hLo < hHi {
				if err := s.collect(ctx, counts, q, spec.dim, hLo, hHi); err != nil {
					return nil, fmt.Errorf("top alerts by %s: %w", d, err)
				}
			}
		}
	}
	for _, r := range rawRanges {
		sf, err := s.filter(ctx, f, r[0], r[1])
		if err != nil {
			return nil, fmt.Errorf("top alerts by %s: %w", d, err)
		}
		if sf.matchNone {
			continue
		}
		q := "SELECT " + spec.expr + ", count(*) FROM " + spec.from + " WHERE " + sf.where + " GROUP BY 1"
		if err := s.collect(ctx, counts, q, sf.args...); err != nil {
			return nil, fmt.Errorf("top alerts by %s: %w", d, err)
		}
	}
	out := topBuckets(counts, n)
	switch d {
	case ByRule:
		if err := s.label(ctx, dimRule, out); err != nil {
			return nil, fmt.Errorf("top alerts by %s: %w", d, err)
		}
	case ByTechnique:
		if err := s.label(ctx, dimTechnique, out); err != nil {
			return nil, fmt.Errorf("top alerts by %s: %w", d, err)
		}
	}
	return out, nil
}

// eachCount passes each (bucket start, count) row of q to add.
func (s *Store) eachCount(ctx context.Context, add func(start, n int64), q string, args ...any) error {
	rows, err := s.r.QueryContext(ctx, q, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var b, c int64
		if err := rows.Scan(&b, &c); err != nil {
			return err
		}
		add(b, c)
	}
	return rows.Err()
}

// collect adds the (key, count) rows of q to counts.
func (s *Store) collect(ctx context.Context, counts map[string]int64, q string, args ...any) error {
	rows, err := s.r.QueryContext(ctx, q, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var k *string
		var c int64
		if err := rows.Scan(&k, &c); err != nil {
			return err
		}
		if k != nil && *k != "" {
			counts[*k] += c
		}
	}
	return rows.Err()
}

func topBuckets(counts map[string]int64, n int) []Bucket {
	out := make([]Bucket, 0, len(counts))
	for k, c := range counts {
		if c > 0 {
			out = append(out, Bucket{Key: k, Count: int(c)})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Count != out[j].Count {
			return out[i].Count > out[j].Count
		}
		return out[i].Key < out[j].Key
	})
	if len(out) > n {
		out = out[:n]
	}
	return out
}

// label fills in Label from the labels table, and for techniques the
// ATT&CK table when no alert named them.
func (s *Store) label(ctx context.Context, dim int, bs []Bucket) error {
	if len(bs) == 0 {
		return nil
	}
	args := []any{dim}
	for _, b := range bs {
		args = append(args, b.Key)
	}
	rows, err := s.r.QueryContext(ctx, "SELECT key, label FROM labels WHERE dim = ? AND key IN ("+placeholders(len(bs))+")", args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	labels := make(map[string]string, len(bs))
	for rows.Next() {
		var k, l string
		if err := rows.Scan(&k, &l); err != nil {
			return err
		}
		labels[k] = l
	}
	if err := rows.Err(); err != nil {
		return err
	}
	for i := range bs {
		bs[i].Label = labels[bs[i].Key]
		if bs[i].Label == "" && dim == dimTechnique {
			if te, ok := mitre.Default().Lookup(bs[i].Key); ok {
				bs[i].Label = te.Name
			}
		}
	}
	return nil
}

// Mitre counts the alerts f selects per (tactic, technique), in ATT&CK
// matrix order of tactics, then by descending count.
func (s *Store) Mitre(ctx context.Context, f Filter) ([]MitreCell, error) {
	if err := s.Flush(ctx); err != nil {
		return nil, fmt.Errorf("mitre matrix: %w", err)
	}
	counts := make(map[string]int64)
	from, to := rangeMillis(f)
	rawRanges := [][2]int64{{from, to}}
	if timeOnly(f) {
		bLo, bHi, edges := split(from, to, msPerHour)
		rawRanges = edges
		if bLo < bHi {
			q := "SELECT k1 || '|' || k2, sum(n) FROM rollups WHERE dim = ? AND bucket >= ? AND bucket < ? GROUP BY k1, k2"
			if err := s.collect(ctx, counts, q, dimCell, bLo, bHi); err != nil {
				return nil, fmt.Errorf("mitre matrix: %w", err)
			}
		}
	}
	for _, r := range rawRanges {
		sf, err := s.filter(ctx, f, r[0], r[1])
		if err != nil {
			return nil, fmt.Errorf("mitre matrix: %w", err)
		}
		if sf.matchNone {
			continue
		}
		q := "SELECT j.value, count(*) FROM alerts a, json_each(a.cells) j WHERE " + sf.where + " GROUP BY 1"
		if err := s.collect(ctx, counts, q, sf.args...); err != nil {
			return nil, fmt.Errorf("mitre matrix: %w", err)
		}
	}
	bs := topBuckets(counts, len(counts))
	techs := make([]Bucket, 0, len(bs))
	cells := make([]MitreCell, 0, len(bs))
	for _, b := range bs {
		ta, te, _ := strings.Cut(b.Key, "|")
		cells = append(cells, MitreCell{Tactic: ta, TechniqueID: te, Count: b.Count})
		techs = append(techs, Bucket{Key: te})
	}
	for i := 0; i < len(techs); i += 500 { // stay under SQLite's parameter limit
		if err := s.label(ctx, dimTechnique, techs[i:min(i+500, len(techs))]); err != nil {
			return nil, fmt.Errorf("mitre matrix: %w", err)
		}
	}
	for i := range cells {
		cells[i].Technique = techs[i].Label
	}
	order := make(map[string]int)
	for i, t := range mitre.Default().Tactics {
		order[strings.ToLower(t.Name)] = i
	}
	rank := func(t string) int {
		if r, ok := order[strings.ToLower(t)]; ok {
			return r
		}
		return len(order)
	}
	sort.SliceStable(cells, func(i, j int) bool {
		ri, rj := rank(cells[i].Tactic), rank(cells[j].Tactic)
		if ri != rj {
			return ri < rj
		}
		if cells[i].Tactic != cells[j].Tactic {
			return cells[i].Tactic < cells[j].Tactic
		}
		if cells[i].Count != cells[j].Count {
			return cells[i].Count > cells[j].Count
		}
		return cells[i].TechniqueID < cells[j].TechniqueID
	})
	return cells, nil
}
