package logfile

import (
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestRotation(t *testing.T) {
	opts := Options{BatchSize: 4, PollInterval: 5 * time.Millisecond}
	t.Run("by rename: the old file is finished, the new one read from the start", func(t *testing.T) {
		dir := t.TempDir()
		path := filepath.Join(dir, "app.log")
		writeFile(t, path, lines(5, "old"))
		h := newHarness(t)
		e := newEmitter(t, ackAll)
		stop := h.follow(newInput(t, []Spec{{Location: path}}, opts), e)
		waitFor(t, "the first lines", func() bool { return len(e.logs()) == 5 })

		appendFile(t, path, "old tail 1\nold tail 2\n")
		if err := os.Rename(path, path+".1"); err != nil {
			t.Fatal(err)
		}
		writeFile(t, path, "new 1\nnew 2\n")

		want := append(splitLines(lines(5, "old")), "old tail 1", "old tail 2", "new 1", "new 2")
		waitFor(t, "old and new lines", func() bool { return len(e.logs()) == len(want) })
		if got := e.logs(); !equalStrings(got, want) {
			t.Errorf("got %q, want %q", got, want)
		}
		if err := stop(); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(h.logs.String(), "rotated") {
			t.Errorf("rotation not logged:\n%s", h.logs)
		}
		// Restarting reads nothing again.
		again := newEmitter(t, ackAll)
		if err := h.once(newInput(t, []Spec{{Location: path}}, opts), again); err != nil {
			t.Fatal(err)
		}
		if got := again.logs(); len(got) != 0 {
			t.Errorf("restart re-read %q", got)
		}
	})
	t.Run("by truncation: the file is read again from the start with new ids", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "app.log")
		writeFile(t, path, "aaaa 1\naaaa 2\naaaa 3\n")
		h := newHarness(t)
		e := newEmitter(t, ackAll)
		stop := h.follow(newInput(t, []Spec{{Location: path}}, opts), e)
		waitFor(t, "the first lines", func() bool { return len(e.logs()) == 3 })

		if err := os.Truncate(path, 0); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "the truncation to be seen", func() bool { return strings.Contains(h.logs.String(), "truncated") })
		appendFile(t, path, "aaaa 1\nb\n")
		waitFor(t, "the new lines", func() bool { return len(e.logs()) == 5 })
		if err := stop(); err != nil {
			t.Fatal(err)
		}
		evs := e.events()
		if got := e.logs()[3:]; !equalStrings(got, []string{"aaaa 1", "b"}) {
			t.Errorf("after truncation got %q", got)
		}
		if evs[3].ID == evs[0].ID {
			t.Error("a line rewritten at the same offset after truncation kept the old id; outputs would drop it as a replay")
		}
	})
	t.Run("to a name the location also matches: followed without re-reading", func(t *testing.T) {
		dir := t.TempDir()
		path := filepath.Join(dir, "app.log")
		writeFile(t, path, lines(3, "a"))
		h := newHarness(t)
		e := newEmitter(t, ackAll)
		stop := h.follow(newInput(t, []Spec{{Location: filepath.Join(dir, "app*.log")}}, opts), e)
		waitFor(t, "the first lines", func() bool { return len(e.logs()) == 3 })
		moved := filepath.Join(dir, "app-1.log")
		if err := os.Rename(path, moved); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "the rename to be seen", func() bool { return strings.Contains(h.logs.String(), "renamed") })
		appendFile(t, moved, "after move\n")
		waitFor(t, "the appended line", func() bool { return len(e.logs()) == 4 })
		if err := stop(); err != nil {
			t.Fatal(err)
		}
		if got := e.logs(); !equalStrings(got, append(splitLines(lines(3, "a")), "after move")) {
			t.Errorf("got %q", got)
		}
		if loc := e.events()[3].Location; loc != moved {
			t.Errorf("location %s, want %s", loc, moved)
		}
	})
	t.Run("while stopped: the new file at the path is read from the start", func(t *testing.T) {
		dir := t.TempDir()
		path := filepath.Join(dir, "app.log")
		writeFile(t, path, lines(3, "a"))
		h := newHarness(t)
		spec := []Spec{{Location: path, OnlyFutureEvents: true}}
		// First run with only-future-events marks the end of the first file.
		if err := h.once(newInput(t, spec, opts), newEmitter(t, ackAll)); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(path, path+".1"); err != nil {
			t.Fatal(err)
		}
		writeFile(t, path, "fresh 1\nfresh 2\n")
		e := newEmitter(t, ackAll)
		if err := h.once(newInput(t, spec, opts), e); err != nil {
			t.Fatal(err)
		}
		if got := e.logs(); !equalStrings(got, []string{"fresh 1", "fresh 2"}) {
			t.Errorf("got %q", got)
		}
	})
}

func TestDateRollover(t *testing.T) {
	dir := t.TempDir()
	day1 := time.Date(2025, 3, 7, 23, 59, 0, 0, time.Local)
	var clock atomic.Int64
	clock.Store(day1.UnixNano())
	writeFile(t, filepath.Join(dir, "app-2025-03-07.log"), "day 1\n")
	writeFile(t, filepath.Join(dir, "app-2025-03-08.log"), "day 2\n")
	in := newInput(t, []Spec{{Location: filepath.Join(dir, "app-%Y-%m-%d.log")}}, Options{PollInterval: 5 * time.Millisecond})
	in.now = func() time.Time { return time.Unix(0, clock.Load()) }
	h := newHarness(t)
	e := newEmitter(t, ackAll)
	stop := h.follow(in, e)
	waitFor(t, "the first day's file", func() bool { return len(e.logs()) == 1 })
	appendFile(t, filepath.Join(dir, "app-2025-03-07.log"), "day 1 late\n")
	clock.Store(day1.Add(2 * time.Minute).UnixNano())
	waitFor(t, "the second day's file", func() bool { return len(e.logs()) == 3 })
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if got := e.logs(); !equalStrings(got, []string{"day 1", "day 1 late", "day 2"}) {
		t.Errorf("got %q", got)
	}
}
