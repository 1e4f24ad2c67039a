package store

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Rollup dimensions (rollups.dim). dimMinute counts every alert per
// minute; the others count per hour.
const (
	dimMinute       = 0 // k1 = k2 = ""
	dimRule         = 1 // k1 = rule id, k2 = level
	dimGroup        = 2
	dimTactic       = 3
	dimTechnique    = 4
	dimCell         = 5 // k1 = tactic, k2 = technique id
	dimAgent        = 6 // agent name
	dimLocation     = 7
	dimResourceType = 8
	dimRegion       = 9
	dimRuleDay      = 10 // per day: k1 = rule id, k2 = level
)

// hourDims are the dimensions bucketed by hour.
var hourDims = []int{dimRule, dimGroup, dimTactic, dimTechnique, dimCell, dimAgent, dimLocation, dimResourceType, dimRegion}

const (
	msPerMinute = int64(time.Minute / time.Millisecond)
	msPerHour   = int64(time.Hour / time.Millisecond)
	msPerDay    = 24 * msPerHour
)

type rollKey struct {
	dim    int
	bucket int64
	k1, k2 string
}

type labelKey struct {
	dim int
	key string
}

// rollups accumulates count changes in memory so that a batch of 500
// alerts touches each rollup row once.
type rollups map[rollKey]int64

func (rs rollups) add(r *row, delta int64) {
	minute, hour := floorDiv(r.ts, msPerMinute), floorDiv(r.ts, msPerHour)
	rs[rollKey{dimMinute, minute, "", ""}] += delta
	level := strconv.Itoa(r.level)
	rs[rollKey{dimRule, hour, r.ruleID, level}] += delta
	// Rules are the one dimension with hundreds of keys: a day layer
	// keeps Top by rule or level over 30 days to a few thousand rows.
	rs[rollKey{dimRuleDay, floorDiv(r.ts, msPerDay), r.ruleID, level}] += delta
	for _, g := range r.groups {
		rs[rollKey{dimGroup, hour, g, ""}] += delta
	}
	for _, t := range r.tactics {
		rs[rollKey{dimTactic, hour, t, ""}] += delta
	}
	for _, t := range r.techniques {
		rs[rollKey{dimTechnique, hour, t, ""}] += delta
	}
	for _, c := range r.cells {
		ta, te, _ := strings.Cut(c, "|")
		rs[rollKey{dimCell, hour, ta, te}] += delta
	}
	if n := r.a.Agent.Name; n != "" {
		rs[rollKey{dimAgent, hour, n, ""}] += delta
	}
	if r.a.Location != "" {
		rs[rollKey{dimLocation, hour, r.a.Location, ""}] += delta
	}
	if r.rtype != "" {
		rs[rollKey{dimResourceType, hour, r.rtype, ""}] += delta
	}
	if r.region != "" {
		rs[rollKey{dimRegion, hour, r.region, ""}] += delta
	}
}

// write applies the accumulated changes, many rows per statement, and
// drops rows that reached zero. stmts may be nil.
func (rs rollups) write(ctx context.Context, tx *sql.Tx, stmts *stmtCache) error {
	if len(rs) == 0 {
		return nil
	}
	b := newBulk(ctx, tx, stmts, "INSERT INTO rollups(dim, bucket, k1, k2, n) VALUES ", 5)
	b.suffix = " ON CONFLICT(dim, bucket, k1, k2) DO UPDATE SET n = n + excluded.n"
	negative := false
	for k, n := range rs {
		if n == 0 {
			continue
		}
		negative = negative || n < 0
		b.add(k.dim, k.bucket, k.k1, k.k2, n)
	}
	if err := b.flush(); err != nil {
		return fmt.Errorf("update rollups: %w", err)
	}
	if negative {
		if _, err := tx.ExecContext(ctx, "DELETE FROM rollups WHERE n <= 0"); err != nil {
			return fmt.Errorf("update rollups: %w", err)
		}
	}
	return nil
}

// batchCounts are a batch's rollups and the seq range of each of its
// minutes, accumulated in memory and written in the alerts file's
// transaction, with the alerts they count.
type batchCounts struct {
	roll rollups
	seqs map[int64][2]int64 // minute → seq range
}

func newBatchCounts() *batchCounts {
	return &batchCounts{roll: make(rollups, 64), seqs: make(map[int64][2]int64)}
}

func (c *batchCounts) add(r *row, seq int64) {
	c.roll.add(r, 1)
	m := floorDiv(r.ts, msPerMinute)
	if sr, ok := c.seqs[m]; ok {
		c.seqs[m] = [2]int64{min(sr[0], seq), max(sr[1], seq)}
	} else {
		c.seqs[m] = [2]int64{seq, seq}
	}
}

func (c *batchCounts) write(ctx context.Context, tx *sql.Tx, stmts *stmtCache) error {
	if err := c.roll.write(ctx, tx, stmts); err != nil {
		return err
	}
	for m, sr := range c.seqs {
		if _, err := stmts.exec(ctx, tx, `INSERT INTO minute_seq(minute, min_seq, max_seq) VALUES (?, ?, ?)
			ON CONFLICT(minute) DO UPDATE SET min_seq = min(min_seq, excluded.min_seq), max_seq = max(max_seq, excluded.max_seq)`,
			m, sr[0], sr[1]); err != nil {
			return fmt.Errorf("seq ranges: %w", err)
		}
	}
	return nil
}

// countStoredAlerts fills the rollups and minute ranges from the stored
// alerts, in migration v3's transaction: that version moved them into the
// alerts file from the index file.
func countStoredAlerts(ctx context.Context, tx *sql.Tx) error {
	// Floor division, as floorDiv: alerts before 1970 are not impossible.
	if _, err := tx.ExecContext(ctx, `INSERT INTO minute_seq(minute, min_seq, max_seq)
		SELECT (ts - ((ts % 60000) + 60000) % 60000) / 60000, min(seq), max(seq) FROM alerts GROUP BY 1`); err != nil {
		return fmt.Errorf("count stored alerts: %w", err)
	}
	if err := addRollups(ctx, tx, math.MinInt64, math.MaxInt64, 1); err != nil {
		return fmt.Errorf("count stored alerts: %w", err)
	}
	return nil
}
