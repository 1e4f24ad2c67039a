package blob

import (
	"log/slog"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/threatlockdown/tld/internal/checkpoint"
	"github.com/threatlockdown/tld/internal/config"
)

func TestContainerState(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	open := func(t *testing.T) (*checkpoint.Store, *containerState) {
		st, err := checkpoint.Open(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		cs, err := loadState(st, "k", t0, 24*time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		return st, cs
	}
	names := func(cs *containerState) []string { return slices.Sorted(maps.Keys(cs.f.Blobs)) }

	t.Run("the first pass starts time_offset before now, saved at once", func(t *testing.T) {
		st, cs := open(t)
		if !cs.f.Since.Equal(t0.Add(-24 * time.Hour)) {
			t.Errorf("since = %v", cs.f.Since)
		}
		again, err := loadState(st, "k", t0.Add(time.Hour), 24*time.Hour)
		if err != nil || !again.f.Since.Equal(cs.f.Since) {
			t.Errorf("reloaded since = %v (%v), want %v", again.f.Since, err, cs.f.Since)
		}
	})
	t.Run("blobs older than the horizon before the newest are forgotten, unless to be retried", func(t *testing.T) {
		st, cs := open(t)
		cs.commit("old", blobState{ETag: "1", Modified: t0.Add(-20 * time.Hour)}, log)
		cs.retry("failing", t0.Add(-19*time.Hour), log)
		cs.commit("new", blobState{ETag: "2", Modified: t0.Add(10 * time.Hour)}, log)
		if got := names(cs); !slices.Equal(got, []string{"failing", "new"}) {
			t.Errorf("blobs %v, want failing and new", got)
		}
		if want := t0.Add(-14 * time.Hour); !cs.f.Since.Equal(want) {
			t.Errorf("since = %v, want %v", cs.f.Since, want)
		}
		b, seen, _ := cs.lookup("failing")
		if !seen || b.ETag != "" || !b.Retry {
			t.Errorf("failing blob: %+v seen=%v; want an entry that no ETag matches", b, seen)
		}
		again, err := loadState(st, "k", t0, 24*time.Hour)
		if err != nil || !slices.Equal(names(again), names(cs)) {
			t.Errorf("saved blobs %v (%v), want %v", names(again), err, names(cs))
		}
	})
	t.Run("blobs no longer listed are forgotten", func(t *testing.T) {
		_, cs := open(t)
		cs.commit("a", blobState{ETag: "1", Modified: t0}, log)
		cs.commit("b", blobState{ETag: "1", Modified: t0}, log)
		cs.forget(map[string]bool{"b": true}, log)
		if got := names(cs); !slices.Equal(got, []string{"b"}) {
			t.Errorf("blobs %v, want b", got)
		}
	})
	t.Run("a state file of another version is refused, not overwritten", func(t *testing.T) {
		st, _ := open(t)
		if err := st.Save("k", map[string]any{"version": 99}); err != nil {
			t.Fatal(err)
		}
		if _, err := loadState(st, "k", t0, time.Hour); err == nil {
			t.Error("loaded a state of version 99")
		}
	})
}

func TestStateKeys(t *testing.T) {
	cases := []struct {
		cc   config.AzureContainer
		want string
	}{
		{config.AzureContainer{Blobs: "*"}, "azure-blob/acct/logs"},
		{config.AzureContainer{Blobs: "*", Path: "/a/b/"}, "azure-blob/acct/logs?blobs=&path=a%2Fb%2F"},
		{config.AzureContainer{Blobs: "*.json"}, "azure-blob/acct/logs?blobs=.json&path="},
	}
	for _, tc := range cases {
		if got := stateKey("acct", "logs", tc.cc); got != tc.want {
			t.Errorf("key = %q, want %q", got, tc.want)
		}
	}
}
