package logfile

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/threatlockdown/tld/internal/event"
)

func TestRestartResumesWithoutLoss(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "app.log")
	h := newHarness(t)
	spec := []Spec{{Location: path}}
	var all []event.Event

	writeFile(t, path, lines(10, "first"))
	e1 := newEmitter(t, ackAll)
	if err := h.once(newInput(t, spec, Options{BatchSize: 3}), e1); err != nil {
		t.Fatal(err)
	}
	all = append(all, e1.events()...)

	appendFile(t, path, lines(7, "second"))
	e2 := newEmitter(t, ackAll)
	if err := h.once(newInput(t, spec, Options{BatchSize: 3}), e2); err != nil {
		t.Fatal(err)
	}
	all = append(all, e2.events()...)

	e3 := newEmitter(t, ackAll)
	if err := h.once(newInput(t, spec, Options{BatchSize: 3}), e3); err != nil {
		t.Fatal(err)
	}

	want := splitLines(lines(10, "first") + lines(7, "second"))
	var got []string
	for _, ev := range all {
		got = append(got, ev.Log)
	}
	if !equalStrings(got, want) {
		t.Errorf("over two runs got %q, want %q", got, want)
	}
	if !equalStrings(e2.logs(), splitLines(lines(7, "second"))) {
		t.Errorf("second run re-read old lines: %q", e2.logs())
	}
	if n := len(e3.events()); n != 0 {
		t.Errorf("third run with nothing new read %d lines", n)
	}
	ids := ids(all)
	slices.Sort(ids)
	if len(slices.Compact(ids)) != len(all) {
		t.Error("ids repeat across runs")
	}
}

func TestUnackedBatchesAreReplayedWithTheSameIDs(t *testing.T) {
	tests := []struct {
		name   string
		policy ackPolicy // of the run that "crashes"
		// lines delivered (acked) before the crash
		delivered int
	}{
		{"nothing acked", holdAll, 0},
		{"the first two batches acked, the rest never", func(n int) (bool, error) { return n >= 2, nil }, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "app.log")
			writeFile(t, path, lines(9, "l"))
			h := newHarness(t)
			opts := Options{BatchSize: 2, MaxInFlight: 8, ShutdownGrace: time.Millisecond}

			// A run whose pipeline never acks some batches, then dies.
			crashed := newEmitter(t, tt.policy)
			ctx, cancel := context.WithCancel(t.Context())
			done := make(chan error, 1)
			in := newInput(t, []Spec{{Location: path}}, opts)
			go func() { done <- in.Run(ctx, crashed, h.runOpts(true)) }()
			waitFor(t, "every batch emitted", func() bool { return crashed.batchCount() == 5 })
			waitFor(t, "the acks given", func() bool { return crashed.pending() == 5-tt.delivered/2 })
			cancel()
			if err := <-done; !errors.Is(err, context.Canceled) {
				t.Fatalf("Run after cancel = %v, want context.Canceled", err)
			}

			replay := newEmitter(t, ackAll)
			if err := h.once(newInput(t, []Spec{{Location: path}}, opts), replay); err != nil {
				t.Fatal(err)
			}
			before := crashed.events()
			wantIDs := ids(before[tt.delivered:])
			if got := ids(replay.events()); !equalStrings(got, wantIDs) {
				t.Errorf("replayed ids\n%v\nwant\n%v", got, wantIDs)
			}
			wantLogs := splitLines(lines(9, "l"))[tt.delivered:]
			if got := replay.logs(); !equalStrings(got, wantLogs) {
				t.Errorf("replayed %q, want %q", got, wantLogs)
			}
		})
	}
}

func TestFailedAck(t *testing.T) {
	t.Run("once mode returns an error and the next run re-reads from the failed batch", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "app.log")
		writeFile(t, path, lines(10, "l"))
		h := newHarness(t)
		opts := Options{BatchSize: 3, MaxInFlight: 1}
		failing := newEmitter(t, func(n int) (bool, error) {
			if n == 1 {
				return false, errors.New("output down")
			}
			return false, nil
		})
		err := h.once(newInput(t, []Spec{{Location: path}}, opts), failing)
		if err == nil || !strings.Contains(err.Error(), "output down") || !strings.Contains(err.Error(), path) {
			t.Fatalf("Run = %v, want an error naming the file and the cause", err)
		}
		if got := failing.batchCount(); got != 2 {
			t.Errorf("emitted %d batches, want reading to stop after the failed second", got)
		}
		again := newEmitter(t, ackAll)
		if err := h.once(newInput(t, []Spec{{Location: path}}, opts), again); err != nil {
			t.Fatal(err)
		}
		if want := splitLines(lines(10, "l"))[3:]; !equalStrings(again.logs(), want) {
			t.Errorf("next run read %q, want %q", again.logs(), want)
		}
		if got, want := again.events()[0].ID, failing.events()[3].ID; got != want {
			t.Errorf("replayed id %s, want %s", got, want)
		}
	})
	t.Run("continuous mode reads the file again and delivers every line", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "app.log")
		writeFile(t, path, lines(10, "l"))
		h := newHarness(t)
		e := newEmitter(t, func(n int) (bool, error) {
			if n == 1 || n == 2 {
				return false, errors.New("output down")
			}
			return false, nil
		})
		stop := h.follow(newInput(t, []Spec{{Location: path}}, Options{BatchSize: 3, PollInterval: 5 * time.Millisecond}), e)
		store := mustStore(t, h.stateDir)
		end := int64(len(lines(10, "l")))
		waitFor(t, "the checkpoint at the end of the file", func() bool {
			var st fileState
			found, err := store.Load(path, &st)
			return err == nil && found && st.Offset == end
		})
		if err := stop(); err != nil {
			t.Fatal(err)
		}
		got, want := e.logs(), splitLines(lines(10, "l"))
		if len(got) < len(want)+3 || !equalStrings(got[len(got)-7:], want[3:]) {
			t.Errorf("delivered %q; want every line, the refused ones again at the end", got)
		}
	})
}

func TestOnlyFutureEvents(t *testing.T) {
	tests := []struct {
		name        string
		future      bool
		checkpoint  bool // a previous run saved a position
		wantInitial []string
	}{
		{"yes, without checkpoint: starts at the end", true, false, nil},
		{"yes, with checkpoint: resumes, losing nothing written while stopped", true, true, []string{"while stopped"}},
		{"no, without checkpoint: starts at the beginning", false, false, []string{"old 1", "old 2", "while stopped"}},
		{"no, with checkpoint: resumes", false, true, []string{"while stopped"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "app.log")
			writeFile(t, path, "old 1\nold 2\n")
			h := newHarness(t)
			spec := []Spec{{Location: path, OnlyFutureEvents: tt.future}}
			if tt.checkpoint {
				if err := h.once(newInput(t, []Spec{{Location: path}}, Options{}), newEmitter(t, ackAll)); err != nil {
					t.Fatal(err)
				}
			}
			appendFile(t, path, "while stopped\n")
			e := newEmitter(t, ackAll)
			if err := h.once(newInput(t, spec, Options{}), e); err != nil {
				t.Fatal(err)
			}
			if got := e.logs(); !equalStrings(got, tt.wantInitial) {
				t.Errorf("read %q, want %q", got, tt.wantInitial)
			}
			// Lines written after the first run with only-future-events are
			// read by the next run: the end was saved at once.
			appendFile(t, path, "next\n")
			e2 := newEmitter(t, ackAll)
			if err := h.once(newInput(t, spec, Options{}), e2); err != nil {
				t.Fatal(err)
			}
			if got := e2.logs(); !equalStrings(got, []string{"next"}) {
				t.Errorf("next run read %q, want [next]", got)
			}
		})
	}
	t.Run("a file that appears while running is read from its start", func(t *testing.T) {
		dir := t.TempDir()
		h := newHarness(t)
		e := newEmitter(t, ackAll)
		stop := h.follow(newInput(t, []Spec{{Location: filepath.Join(dir, "*.log"), OnlyFutureEvents: true}}, Options{PollInterval: 5 * time.Millisecond}), e)
		writeFile(t, filepath.Join(dir, "existing.txt"), "ignored\n")
		waitFor(t, "the first poll", func() bool { return strings.Contains(h.logs.String(), "no file matches") })
		writeFile(t, filepath.Join(dir, "new.log"), "n1\nn2\n")
		waitFor(t, "the new file", func() bool { return len(e.logs()) == 2 })
		if err := stop(); err != nil {
			t.Fatal(err)
		}
	})
}

func TestBackPressure(t *testing.T) {
	path := filepath.Join(t.TempDir(), "app.log")
	writeFile(t, path, lines(40, "l"))
	h := newHarness(t)
	e := newEmitter(t, holdAll)
	in := newInput(t, []Spec{{Location: path}}, Options{BatchSize: 2, MaxInFlight: 3})
	done := make(chan error, 1)
	go func() { done <- h.once(in, e) }()
	for delivered := 0; delivered < 20; {
		waitFor(t, "a full window of batches", func() bool {
			n := e.batchCount()
			return n == 20 || n-delivered == 3
		})
		// The input must now wait: no fourth batch while three are unacked.
		time.Sleep(5 * time.Millisecond)
		if n := e.batchCount(); n-delivered > 3 {
			t.Fatalf("%d batches in flight, limit 3", n-delivered)
		}
		delivered = e.batchCount()
		e.release(nil)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.maxUnacked > 3 {
		t.Errorf("up to %d batches unacked, want at most 3", e.maxUnacked)
	}
}

func TestCorruptCheckpointIsAnError(t *testing.T) {
	path := filepath.Join(t.TempDir(), "app.log")
	writeFile(t, path, "x\n")
	h := newHarness(t)
	s := mustStore(t, h.stateDir)
	if err := os.WriteFile(s.Path(path), []byte("{garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	e := newEmitter(t, ackAll)
	err := h.once(newInput(t, []Spec{{Location: path}}, Options{}), e)
	if err == nil || !strings.Contains(err.Error(), s.Path(path)) {
		t.Fatalf("Run = %v, want an error naming %s", err, s.Path(path))
	}
	if n := len(e.events()); n != 0 {
		t.Errorf("read %d lines despite the unreadable checkpoint", n)
	}
}

func TestFileRewrittenWhileStopped(t *testing.T) {
	tests := []struct {
		name  string
		after string // content written in place (same inode) while stopped
	}{
		{"rewritten longer", "cccc 1\ncccc 2\ncccc 3\ncccc 4\n"},
		{"truncated shorter", "c\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "app.log")
			writeFile(t, path, "aaaa 1\naaaa 2\n")
			h := newHarness(t)
			first := newEmitter(t, ackAll)
			if err := h.once(newInput(t, []Spec{{Location: path}}, Options{}), first); err != nil {
				t.Fatal(err)
			}
			writeFile(t, path, tt.after) // O_TRUNC: the inode stays
			e := newEmitter(t, ackAll)
			if err := h.once(newInput(t, []Spec{{Location: path}}, Options{}), e); err != nil {
				t.Fatal(err)
			}
			if got := e.logs(); !equalStrings(got, splitLines(tt.after)) {
				t.Errorf("got %q, want the new content from its start", got)
			}
			if e.events()[0].ID == first.events()[0].ID {
				t.Error("new content at offset 0 reuses the old content's id")
			}
		})
	}
}

func TestIdentityTellsFilesWithTheSameInodeApart(t *testing.T) {
	dir := t.TempDir()
	idOf := func(name, content string) string {
		p := filepath.Join(dir, name)
		writeFile(t, p, content)
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		tl := &tail{f: f, dev: 1, ino: 42} // as if the inode had been reused
		return tl.identity()
	}
	a, b := idOf("a", "Mar 1 first file\nsame\n"), idOf("b", "Mar 2 second file\nsame\n")
	if a == b {
		t.Errorf("same identity %s for files with different first lines", a)
	}
	if again := idOf("c", "Mar 1 first file\nother\n"); again != a {
		t.Errorf("identity %s changed to %s with the same first line", a, again)
	}
}
