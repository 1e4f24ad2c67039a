package store

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"

	"github.com/threatlockdown/tld/internal/alert"
)

// Alert ids are found through their 64-bit hash (idHash) in three tables,
// the runs of a small log-structured merge tree. Event ids are hashes, so
// every new id lands at a random place in an index of them: in one large
// index, each alert of a batch dirtied a page of its own, and at a million
// alerts that was half of all the bytes an insert wrote. New ids go into
// the small ids0, which is merged, in order, into ids1 when it is full, and
// ids1 into the large ids2 likewise: a batch writes a few pages of ids0,
// and the merges touch each page of the next run once per many batches.
// All three are in the alerts file, written with the alerts.
var idRuns = [...]string{"ids0", "ids1", "ids2"}

// idRunLimits are how many ids ids0 and ids1 hold before they are merged
// into the next run. Tests lower them.
var idRunLimits = [2]int64{16384, 262144}

// idSeqsSQL selects the seqs stored under the id hashes ?1 … ?n.
func idSeqsSQL(n int) string {
	var ph strings.Builder
	for i := 1; i <= n; i++ {
		if i > 1 {
			ph.WriteString(", ")
		}
		ph.WriteByte('?')
		ph.WriteString(strconv.Itoa(i))
	}
	parts := make([]string, len(idRuns))
	for i, t := range idRuns {
		parts[i] = "SELECT seq FROM " + t + " WHERE idh IN (" + ph.String() + ")"
	}
	return strings.Join(parts, " UNION ALL ")
}

// newOnly returns the indexes of the alerts whose id is neither stored
// already nor repeats an earlier alert of the batch.
func newOnly(ctx context.Context, tx *sql.Tx, stmts *stmtCache, alerts []*alert.Alert) ([]int, error) {
	seen := make(map[string]bool, len(alerts))
	const chunk = 500
	for i := 0; i < len(alerts); i += chunk {
		part := alerts[i:min(i+chunk, len(alerts))]
		args := make([]any, len(part))
		for j, a := range part {
			args[j] = idHash(a.ID)
		}
		// A hash shared by two ids finds both rows; the ids decide.
		q, st, err := stmts.query(ctx, tx, "SELECT id FROM alerts WHERE seq IN ("+idSeqsSQL(len(part))+")", args...)
		if err != nil {
			return nil, fmt.Errorf("look up stored ids: %w", err)
		}
		defer st.Close()
		for q.Next() {
			var id string
			if err := q.Scan(&id); err != nil {
				q.Close()
				return nil, fmt.Errorf("look up stored ids: %w", err)
			}
			seen[id] = true
		}
		q.Close()
		if err := q.Err(); err != nil {
			return nil, fmt.Errorf("look up stored ids: %w", err)
		}
	}
	var out []int
	for i, a := range alerts {
		if !seen[a.ID] {
			seen[a.ID] = true
			out = append(out, i)
		}
	}
	return out, nil
}

// idRunSizes counts the ids in ids0 and ids1 (ids2 is never merged
// further).
func idRunSizes(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}) ([2]int64, error) {
	var sizes [2]int64
	for i := range sizes {
		if err := q.QueryRowContext(ctx, "SELECT count(*) FROM "+idRuns[i]).Scan(&sizes[i]); err != nil {
			return sizes, fmt.Errorf("count stored ids: %w", err)
		}
	}
	return sizes, nil
}

// mergeIDs merges every run that reached its limit into the next, in tx,
// and returns the runs' new sizes.
func mergeIDs(ctx context.Context, tx *sql.Tx, sizes [2]int64) ([2]int64, error) {
	for i := range sizes {
		if sizes[i] < idRunLimits[i] {
			continue
		}
		// Read in key order, so the inserts walk the next run's pages
		// once, in order.
		if _, err := tx.ExecContext(ctx, "INSERT INTO "+idRuns[i+1]+"(idh, seq) SELECT idh, seq FROM "+idRuns[i]+" ORDER BY idh, seq"); err != nil {
			return sizes, fmt.Errorf("merge %s into %s: %w", idRuns[i], idRuns[i+1], err)
		}
		if _, err := tx.ExecContext(ctx, "DELETE FROM "+idRuns[i]); err != nil {
			return sizes, fmt.Errorf("merge %s into %s: %w", idRuns[i], idRuns[i+1], err)
		}
		if i+1 < len(sizes) {
			sizes[i+1] += sizes[i]
		}
		sizes[i] = 0
	}
	return sizes, nil
}

// deleteIDs takes the ids of the alerts in [lo, hi) out of every run, in
// the transaction that deletes the alerts.
func deleteIDs(ctx context.Context, tx *sql.Tx, lo, hi int64) error {
	for _, t := range idRuns {
		if _, err := tx.ExecContext(ctx, "DELETE FROM "+t+" WHERE (idh, seq) IN (SELECT idh, seq FROM alerts WHERE ts >= ? AND ts < ?)", lo, hi); err != nil {
			return fmt.Errorf("delete from %s: %w", t, err)
		}
	}
	return nil
}
