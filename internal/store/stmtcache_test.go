package store

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/threatlockdown/tld/internal/alert"
)

// Batches of every awkward size go through the cached statements: full
// 50-row statements, leftovers split into 32, 16, … rows, and the full
// text insert of each batch's own size, which the cache must not confuse.
func TestInsertBatchSizesThroughCachedStatements(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	n := 0
	for k, size := range []int{1, 7, 50, 63, 64, 65, 133, 7, 1, 500} {
		t.Run(fmt.Sprintf("batch %d of %d alerts stores every alert and its index rows", k+1, size), func(t *testing.T) {
			var batch []*alert.Alert
			for i := 0; i < size; i++ {
				batch = append(batch, spec{
					id: fmt.Sprintf("a%d", n+i), at: time.Duration(n+i) * time.Second,
					groups: []string{"g1", "g2", "g3"}, fullLog: fmt.Sprintf("word%d common", n+i),
				}.alert())
			}
			got, err := s.Insert(ctx, batch)
			if err != nil || got != size {
				t.Fatalf("Insert = %d, %v; want %d", got, err, size)
			}
			n += size
			// The same batch again stores nothing.
			if got, err := s.Insert(ctx, batch); err != nil || got != 0 {
				t.Fatalf("Insert again = %d, %v; want 0", got, err)
			}
			// The index write may still run: wait for it as queries do.
			if err := s.Flush(ctx); err != nil {
				t.Fatal(err)
			}
			var alerts, groups, text int
			if err := s.r.QueryRowContext(ctx, "SELECT count(*) FROM alerts").Scan(&alerts); err != nil {
				t.Fatal(err)
			}
			for _, g := range []string{"g1", "g2", "g3"} {
				var k int
				if err := s.r.QueryRowContext(ctx, "SELECT count(*) FROM alerts_fts WHERE alerts_fts MATCH ?",
					ftsMatch(Filter{Groups: []string{g}})).Scan(&k); err != nil {
					t.Fatal(err)
				}
				groups += k
			}
			if err := s.r.QueryRowContext(ctx, "SELECT count(*) FROM alerts_fts WHERE alerts_fts MATCH 'common'").Scan(&text); err != nil {
				t.Fatal(err)
			}
			st, err := s.Stats(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if alerts != n || groups != 3*n || text != n || st.Alerts != n {
				t.Errorf("alerts %d, group terms %d, full text matches %d, rollup total %d; want %d, %d, %d, %d",
					alerts, groups, text, st.Alerts, n, 3*n, n, n)
			}
		})
	}
}
