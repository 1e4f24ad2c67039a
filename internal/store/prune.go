package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/threatlockdown/tld/internal/alert"
)

// Prune deletes the alerts older than before, with their index entries,
// and takes them out of the rollups. Posture (the latest recommendation
// states) is kept. It works an hour of alerts per transaction so inserts
// are never blocked for long.
func (s *Store) Prune(ctx context.Context, before time.Time) (int, error) {
	cut := before.UnixMilli()
	lo, _, ok, err := s.dataRange(ctx)
	if err != nil {
		return 0, fmt.Errorf("prune alerts: %w", err)
	}
	if !ok || lo >= cut {
		return 0, nil
	}
	total := 0
	for h := floorDiv(lo, msPerHour); h*msPerHour < cut; h++ {
		if err := ctx.Err(); err != nil {
			return total, fmt.Errorf("prune alerts: %w", err)
		}
		hi := min((h+1)*msPerHour, cut)
		s.mu.Lock()
		n, err := s.pruneRange(ctx, h*msPerHour, hi)
		s.mu.Unlock()
		if err != nil {
			return total, fmt.Errorf("prune alerts before %s: %w", before.UTC().Format(time.RFC3339), err)
		}
		total += n
		s.wrote()
	}
	return total, nil
}

// pruneRange deletes the alerts in [lo, hi), which lies within one hour:
// first their full text entries, recording the range as pending in the
// same transaction, then the alerts with their counts, then the pending
// mark. A crash in between leaves the mark, and Open finishes the job
// (finishPrune); the counts go with the alerts, so never twice. The caller
// holds s.mu.
func (s *Store) pruneRange(ctx context.Context, lo, hi int64) (int, error) {
	if err := s.settleLocked(ctx); err != nil {
		return 0, err
	}
	if err := s.pruneIndex(ctx, lo, hi); err != nil {
		return 0, err
	}
	return s.finishPrune(ctx, lo, hi)
}

// finishPrune deletes the alerts in [lo, hi), whose index entries are
// gone, takes them out of the rollups in the same transaction, and clears
// the pending mark.
func (s *Store) finishPrune(ctx context.Context, lo, hi int64) (int, error) {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	if err := subtractCounts(ctx, tx, lo, hi); err != nil {
		return 0, fmt.Errorf("update rollups: %w", err)
	}
	if err := deleteIDs(ctx, tx, lo, hi); err != nil {
		return 0, err
	}
	res, err := tx.ExecContext(ctx, "DELETE FROM alerts WHERE ts >= ? AND ts < ?", lo, hi)
	if err != nil {
		return 0, fmt.Errorf("delete alerts: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, err
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("delete alerts: commit: %w", err)
	}
	if s.idSizes, err = idRunSizes(ctx, s.w); err != nil {
		return int(n), err
	}
	if _, err := s.wa.ExecContext(ctx, "UPDATE aux_state SET v = 0 WHERE k IN ('prune_lo', 'prune_hi')"); err != nil {
		return int(n), fmt.Errorf("clear pending prune: %w", err)
	}
	return int(n), nil
}

// subtractCounts takes the alerts in [lo, hi), within one hour, out of
// the rollups, while their rows still exist. A whole hour goes at once; a
// partial one is subtracted alert by alert.
func subtractCounts(ctx context.Context, tx *sql.Tx, lo, hi int64) error {
	if lo%msPerHour != 0 || hi != lo+msPerHour {
		return addRollups(ctx, tx, lo, hi, -1)
	}
	hour := lo / msPerHour
	// The day layer loses what the hour held.
	if _, err := tx.ExecContext(ctx, `UPDATE rollups AS d SET n = d.n - h.n FROM rollups AS h
		WHERE d.dim = ? AND d.bucket = ? AND h.dim = ? AND h.bucket = ? AND h.k1 = d.k1 AND h.k2 = d.k2`,
		dimRuleDay, floorDiv(lo, msPerDay), dimRule, hour); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, "DELETE FROM rollups WHERE dim = ? AND bucket = ? AND n <= 0", dimRuleDay, floorDiv(lo, msPerDay)); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, "DELETE FROM rollups WHERE dim NOT IN (?, ?) AND bucket = ?", dimMinute, dimRuleDay, hour); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, "DELETE FROM rollups WHERE dim = ? AND bucket >= ? AND bucket < ?",
		dimMinute, hour*60, hour*60+60); err != nil {
		return err
	}
	// A partial hour keeps its minutes' ranges: wider than needed, which
	// is all a bound must be.
	_, err := tx.ExecContext(ctx, "DELETE FROM minute_seq WHERE minute >= ? AND minute < ?", hour*60, hour*60+60)
	return err
}

// pruneIndex deletes the full text entries of the alerts in [lo, hi) in
// the index file, whose writer reads the alerts through the attached main
// file, and marks the range as pending in the same transaction.
func (s *Store) pruneIndex(ctx context.Context, lo, hi int64) error {
	// The alerts are deleted next, on the strength of this commit and its
	// pending mark: it must reach the disk, unlike the index file's usual
	// commits (see Open). The writer has a single connection.
	if _, err := s.wa.ExecContext(ctx, "PRAGMA main.synchronous = FULL"); err != nil {
		return err
	}
	defer s.wa.ExecContext(context.WithoutCancel(ctx), "PRAGMA main.synchronous = NORMAL")
	tx, err := s.wa.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, "DELETE FROM alerts_fts WHERE rowid IN (SELECT seq FROM alerts WHERE ts >= ? AND ts < ?)", lo, hi); err != nil {
		return fmt.Errorf("delete from full text index: %w", err)
	}
	if _, err := tx.ExecContext(ctx, "UPDATE aux_state SET v = CASE k WHEN 'prune_lo' THEN ? ELSE ? END WHERE k IN ('prune_lo', 'prune_hi')", lo, hi); err != nil {
		return fmt.Errorf("mark pending prune: %w", err)
	}
	return tx.Commit()
}

// addRollups counts the stored alerts in [lo, hi) into the rollups
// (delta 1) or takes them out (-1).
func addRollups(ctx context.Context, tx *sql.Tx, lo, hi, delta int64) error {
	rows, err := tx.QueryContext(ctx, `SELECT ts, rule_id, level, agent_name, location, groups, techniques, tactics, cells,
		resource_type, region FROM alerts WHERE ts >= ? AND ts < ?`, lo, hi)
	if err != nil {
		return fmt.Errorf("read pruned alerts: %w", err)
	}
	roll := make(rollups)
	for rows.Next() {
		r := row{a: &alert.Alert{}}
		var groups, techs, tactics, cells sql.NullString
		if err := rows.Scan(&r.ts, &r.ruleID, &r.level, &r.a.Agent.Name, &r.a.Location, &groups, &techs, &tactics, &cells,
			&r.rtype, &r.region); err != nil {
			rows.Close()
			return fmt.Errorf("read pruned alerts: %w", err)
		}
		r.groups, r.techniques, r.tactics, r.cells = decodeList(groups), decodeList(techs), decodeList(tactics), decodeList(cells)
		roll.add(&r, delta)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read pruned alerts: %w", err)
	}
	return roll.write(ctx, tx, nil)
}

// RunRetention deletes alerts older than days now and then hourly until
// ctx is done. days <= 0 keeps alerts forever and returns at once.
func (s *Store) RunRetention(ctx context.Context, days int) error {
	if days <= 0 {
		return nil
	}
	keep := time.Duration(days) * 24 * time.Hour
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		cut := time.Now().Add(-keep)
		n, err := s.Prune(ctx, cut)
		switch {
		case ctx.Err() != nil:
			return nil
		case err != nil:
			s.log.Error("alert retention failed", "path", s.path, "err", err)
		case n > 0:
			s.log.Info("alert retention pruned alerts", "path", s.path, "alerts", n, "before", cut.UTC().Format(time.RFC3339), "days", days)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}
