package auth

import (
	"maps"
	"slices"
	"testing"
	"time"
)

func TestMakeRoomForgetsStaleEntriesThenTheOldest(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	type entry struct {
		stale bool
		used  time.Time
	}
	table := func() map[string]entry {
		return map[string]entry{
			"a": {used: t0.Add(3 * time.Minute)},
			"b": {used: t0.Add(1 * time.Minute)},
			"c": {stale: true, used: t0.Add(9 * time.Minute)},
			"d": {used: t0.Add(2 * time.Minute)},
		}
	}
	for _, tt := range []struct {
		name  string
		limit int
		want  []string
	}{
		{"a table under its limit is left alone", 5, []string{"a", "b", "c", "d"}},
		{"a full table first loses its stale entries", 4, []string{"a", "b", "d"}},
		{"then the entries used longest ago", 3, []string{"a", "d"}},
		{"down to one less than the limit", 2, []string{"a"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			m := table()
			makeRoom(m, tt.limit, func(e entry) bool { return e.stale }, func(e entry) time.Time { return e.used })
			if got := slices.Sorted(maps.Keys(m)); !slices.Equal(got, tt.want) {
				t.Fatalf("kept %v, want %v", got, tt.want)
			}
		})
	}
}
