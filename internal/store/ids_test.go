package store

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/threatlockdown/tld/internal/alert"
)

// Ids move from run to run as the runs fill; a replay must find every one
// of them wherever it is, Get too, and pruning takes them out of all runs.
func TestIdsAreFoundInEveryRunOfTheMergeTree(t *testing.T) {
	ctx := context.Background()
	saved := idRunLimits
	idRunLimits = [2]int64{8, 32}
	t.Cleanup(func() { idRunLimits = saved })
	s := openTest(t)
	var all []*alert.Alert
	for i := 0; i < 150; i++ {
		all = append(all, spec{id: fmt.Sprintf("ev-%03d", i), at: time.Duration(i) * time.Minute}.alert())
	}
	for i := 0; i < len(all); {
		n := min(7+i%7, len(all)-i) // batches of 7 to 13
		if got, err := s.Insert(ctx, all[i:i+n]); err != nil || got != n {
			t.Fatalf("Insert %d..%d = %d, %v", i, i+n, got, err)
		}
		i += n
	}
	runs := func() (sizes [3]int) {
		for i, r := range idRuns {
			if err := s.w.QueryRowContext(ctx, "SELECT count(*) FROM "+r).Scan(&sizes[i]); err != nil {
				t.Fatal(err)
			}
		}
		return sizes
	}
	sizes := runs()
	if sizes[0]+sizes[1]+sizes[2] != 150 || sizes[2] == 0 || sizes[0] >= 8 || sizes[1] >= 32 {
		t.Fatalf("runs hold %v ids; want 150 in all, some merged into the last, the first two under their limits", sizes)
	}
	t.Run("a replay in other batches stores nothing", func(t *testing.T) {
		for i := 0; i < len(all); i += 40 {
			if got, err := s.Insert(ctx, all[i:min(i+40, len(all))]); err != nil || got != 0 {
				t.Fatalf("replay from %d = %d, %v; want 0", i, got, err)
			}
		}
	})
	t.Run("every alert is found by id", func(t *testing.T) {
		for _, a := range all {
			if got, err := s.Get(ctx, a.ID); err != nil || got.ID != a.ID {
				t.Fatalf("Get(%s) = %s, %v", a.ID, got.ID, err)
			}
		}
	})
	t.Run("pruning takes the ids out of every run", func(t *testing.T) {
		if n, err := s.Prune(ctx, base.Add(75*time.Minute)); err != nil || n != 75 {
			t.Fatalf("Prune = %d, %v; want 75", n, err)
		}
		sizes := runs()
		if sizes[0]+sizes[1]+sizes[2] != 75 {
			t.Fatalf("runs hold %v ids after pruning half; want 75", sizes)
		}
		// A pruned alert sent again is a new alert; a kept one is not.
		if got, err := s.Insert(ctx, []*alert.Alert{all[0], all[149]}); err != nil || got != 1 {
			t.Fatalf("Insert of a pruned and a kept alert = %d, %v; want 1", got, err)
		}
	})
}
