package logfile

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/threatlockdown/tld/internal/checkpoint"
	"github.com/threatlockdown/tld/internal/event"
	"github.com/threatlockdown/tld/internal/pipeline"
)

func TestReadsLines(t *testing.T) {
	tests := []struct {
		name    string
		content string
		format  event.Format
		want    []string
	}{
		{"syslog lines", "Jan  1 00:00:01 host sshd[1]: a\nJan  1 00:00:02 host sshd[2]: b\n", event.FormatSyslog,
			[]string{"Jan  1 00:00:01 host sshd[1]: a", "Jan  1 00:00:02 host sshd[2]: b"}},
		{"CRLF line ends lose their CR", "one\r\ntwo\r\nthree\n", event.FormatSyslog, []string{"one", "two", "three"}},
		{"a lone CR inside a line is kept", "a\rb\n", event.FormatSyslog, []string{"a\rb"}},
		{"empty lines are skipped", "\n\none\n\r\n\ntwo\n\n", event.FormatSyslog, []string{"one", "two"}},
		{"an unterminated last line is emitted at EOF in once mode", "one\ntwo", event.FormatSyslog, []string{"one", "two"}},
		{"json lines", `{"a":1}` + "\n" + `{"b":"x y"}` + "\n", event.FormatJSON, []string{`{"a":1}`, `{"b":"x y"}`}},
		{"an unknown format reads as syslog", "x\n", event.Format("apache"), []string{"x"}},
		{"an empty file gives nothing", "", event.FormatSyslog, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "in.log")
			writeFile(t, path, tt.content)
			h := newHarness(t)
			e := newEmitter(t, ackAll)
			if err := h.once(newInput(t, []Spec{{Location: path, Format: tt.format}}, Options{BatchSize: 2}), e); err != nil {
				t.Fatal(err)
			}
			if got := e.logs(); !equalStrings(got, tt.want) {
				t.Errorf("logs = %q, want %q", got, tt.want)
			}
			wantFormat := event.FormatSyslog
			if tt.format == event.FormatJSON {
				wantFormat = event.FormatJSON
			}
			for _, ev := range e.events() {
				if ev.Location != path || ev.Format != wantFormat || !ev.Time.IsZero() || ev.ID == "" {
					t.Errorf("event %+v: want Location %s, Format %s, zero Time, an id", ev, path, wantFormat)
				}
			}
			if got := h.probs.all(); len(got) > 0 {
				t.Errorf("unexpected problems %v", got)
			}
		})
	}
}

func TestEventIDs(t *testing.T) {
	path := filepath.Join(t.TempDir(), "in.log")
	writeFile(t, path, "same\nsame\nother\n")
	read := func() []event.Event {
		h := newHarness(t) // fresh state: the file is read from the start each time
		e := newEmitter(t, ackAll)
		if err := h.once(newInput(t, []Spec{{Location: path}}, Options{}), e); err != nil {
			t.Fatal(err)
		}
		return e.events()
	}
	first, second := read(), read()
	t.Run("are the same when the file is read again", func(t *testing.T) {
		if !equalStrings(ids(first), ids(second)) {
			t.Errorf("ids differ between runs:\n%v\n%v", ids(first), ids(second))
		}
	})
	t.Run("differ for equal lines at different offsets", func(t *testing.T) {
		if first[0].ID == first[1].ID {
			t.Errorf("two lines share id %s", first[0].ID)
		}
	})
	t.Run("differ for another file with the same content", func(t *testing.T) {
		other := filepath.Join(t.TempDir(), "in.log")
		writeFile(t, other, "same\nsame\nother\n")
		h := newHarness(t)
		e := newEmitter(t, ackAll)
		if err := h.once(newInput(t, []Spec{{Location: other}}, Options{}), e); err != nil {
			t.Fatal(err)
		}
		if e.events()[0].ID == first[0].ID {
			t.Errorf("different files share id %s", first[0].ID)
		}
	})
}

func TestOversizedLine(t *testing.T) {
	big := strings.Repeat("x", 1<<20+17)
	tests := []struct {
		name       string
		content    string
		opts       Options
		want       []string
		wantSource string
		wantReason string
	}{
		{
			name:       "a 1 MB line is reported and skipped, the next lines are read",
			content:    "before\n" + big + "\nafter 1\nafter 2\n",
			want:       []string{"before", "after 1", "after 2"},
			wantSource: ":2",
			wantReason: "line of 1048593 bytes exceeds the 65536-byte limit; skipped",
		},
		{
			name:       "an oversized unterminated last line is reported at EOF in once mode",
			content:    "before\n" + big,
			want:       []string{"before"},
			wantSource: ":2",
			wantReason: "line of 1048593 bytes exceeds the 65536-byte limit; skipped",
		},
		{
			name:       "a small limit",
			content:    "12345\n123456\r\n1234567\n12\n",
			opts:       Options{MaxLineBytes: 6},
			want:       []string{"12345", "123456", "12"},
			wantSource: ":3",
			wantReason: "line of 7 bytes exceeds the 6-byte limit; skipped",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "big.log")
			writeFile(t, path, tt.content)
			h := newHarness(t)
			e := newEmitter(t, ackAll)
			if err := h.once(newInput(t, []Spec{{Location: path}}, tt.opts), e); err != nil {
				t.Fatal(err)
			}
			if got := e.logs(); !equalStrings(got, tt.want) {
				t.Errorf("logs = %.80q, want %q", got, tt.want)
			}
			probs := h.probs.all()
			if len(probs) != 1 || probs[0].Source != path+tt.wantSource || probs[0].Reason != tt.wantReason {
				t.Errorf("problems = %v, want one at %s%s: %s", probs, path, tt.wantSource, tt.wantReason)
			}
			if !strings.Contains(h.logs.String(), "level=WARN msg=\"line too long; skipped\"") {
				t.Errorf("no warning logged:\n%s", h.logs)
			}
		})
	}
}

func TestOversizedLineKeepsMemoryBounded(t *testing.T) {
	path := filepath.Join(t.TempDir(), "big.log")
	writeFile(t, path, strings.Repeat("y", 8<<20)+"\nok\n")
	in := newInput(t, []Spec{{Location: path}}, Options{})
	h := newHarness(t)
	r := newRun(in, newEmitter(t, ackAll), mustStore(t, h.stateDir), h.runOpts(true))
	defer r.close()
	r.scan(true)
	tl := r.order[0]
	var got []string
	for {
		evs, eof, err := r.fill(tl, true)
		if err != nil {
			t.Fatal(err)
		}
		if c := cap(tl.pending); c > in.opts.MaxLineBytes+readBufSize+1 {
			t.Fatalf("line buffer grew to %d bytes", c)
		}
		for _, ev := range evs {
			got = append(got, ev.Log)
		}
		if eof {
			break
		}
	}
	if !equalStrings(got, []string{"ok"}) {
		t.Errorf("got %.40q", got)
	}
}

func mustStore(t testing.TB, dir string) *checkpoint.Store {
	t.Helper()
	s, err := checkpoint.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestMalformedJSONIsReportedAndEmitted(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.json")
	writeFile(t, path, `{"ok":1}`+"\n"+`{"broken":`+"\n"+`[1,2]`+"\n"+`{"ok":2}`+"\n")
	h := newHarness(t)
	e := newEmitter(t, ackAll)
	if err := h.once(newInput(t, []Spec{{Location: path, Format: event.FormatJSON}}, Options{}), e); err != nil {
		t.Fatal(err)
	}
	if want := []string{`{"ok":1}`, `{"broken":`, `[1,2]`, `{"ok":2}`}; !equalStrings(e.logs(), want) {
		t.Errorf("logs = %q, want %q", e.logs(), want)
	}
	probs := h.probs.all()
	want := []pipeline.Problem{
		{Source: path + ":2", Reason: "malformed JSON: unexpected end of JSON input"},
		{Source: path + ":3", Reason: "malformed JSON: not a JSON object"},
	}
	if !slices.Equal(probs, want) {
		t.Errorf("problems = %v, want %v", probs, want)
	}
}

func TestLocations(t *testing.T) {
	now := time.Date(2025, 3, 7, 14, 5, 0, 0, time.Local)
	tests := []struct {
		name     string
		location string // relative to the test directory
		files    []string
		want     []string // files read, in order
	}{
		{"a glob", "*.log", []string{"a.log", "b.log", "c.txt"}, []string{"a.log", "b.log"}},
		{"a character class", "app[12].log", []string{"app1.log", "app2.log", "app3.log"}, []string{"app1.log", "app2.log"}},
		{"a strftime date", "app-%Y-%m-%d.log", []string{"app-2025-03-07.log", "app-2025-03-06.log"}, []string{"app-2025-03-07.log"}},
		{"a strftime date and a glob", "app-%y%m%d-*.log", []string{"app-250307-1.log", "app-250307-2.log", "app-250306-1.log"},
			[]string{"app-250307-1.log", "app-250307-2.log"}},
		{"a date in a directory name", "%Y/%b/*.log", []string{"2025/Mar/x.log", "2025/Feb/y.log"}, []string{"2025/Mar/x.log"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			for _, f := range tt.files {
				p := filepath.Join(dir, f)
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				writeFile(t, p, "from "+f+"\n")
			}
			in := newInput(t, []Spec{{Location: filepath.Join(dir, tt.location)}}, Options{})
			in.now = func() time.Time { return now }
			h := newHarness(t)
			e := newEmitter(t, ackAll)
			if err := h.once(in, e); err != nil {
				t.Fatal(err)
			}
			var want []string
			for _, f := range tt.want {
				want = append(want, "from "+f)
			}
			if got := e.logs(); !equalStrings(got, want) {
				t.Errorf("read %q, want %q", got, want)
			}
		})
	}
}

func TestGlobMatchingNothingWarnsOnce(t *testing.T) {
	dir := t.TempDir()
	h := newHarness(t)
	e := newEmitter(t, ackAll)
	loc := filepath.Join(dir, "*.log")
	stop := h.follow(newInput(t, []Spec{{Location: loc, Source: "ossec.conf:12"}}, Options{PollInterval: time.Millisecond}), e)
	waitFor(t, "several polls", func() bool { return strings.Count(h.logs.String(), "no file matches") >= 1 })
	time.Sleep(30 * time.Millisecond) // let more polls happen; they must not warn again
	writeFile(t, filepath.Join(dir, "late.log"), "late\n")
	waitFor(t, "a file created later", func() bool { return len(e.logs()) == 1 })
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	logs := h.logs.String()
	if n := strings.Count(logs, "no file matches"); n != 1 {
		t.Errorf("warned %d times, want once:\n%s", n, logs)
	}
	if !strings.Contains(logs, "ossec.conf:12") {
		t.Errorf("warning does not name the configuration source:\n%s", logs)
	}
}

func TestPartialLineInContinuousMode(t *testing.T) {
	t.Run("a line completed by the writer is one event", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "app.log")
		writeFile(t, path, "done\npart")
		h := newHarness(t)
		e := newEmitter(t, ackAll)
		in := newInput(t, []Spec{{Location: path}}, Options{PollInterval: 5 * time.Millisecond})
		in.partialWait = time.Hour
		stop := h.follow(in, e)
		waitFor(t, "the complete line", func() bool { return len(e.logs()) >= 1 })
		appendFile(t, path, "ial\n")
		waitFor(t, "the completed line", func() bool { return len(e.logs()) >= 2 })
		if err := stop(); err != nil {
			t.Fatal(err)
		}
		if got := e.logs(); !equalStrings(got, []string{"done", "partial"}) {
			t.Errorf("got %q, want [done partial]", got)
		}
	})
	t.Run("a line left unterminated is emitted once it stops growing", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "app.log")
		writeFile(t, path, "done\nnever terminated")
		h := newHarness(t)
		e := newEmitter(t, ackAll)
		stop := h.follow(newInput(t, []Spec{{Location: path}}, Options{PollInterval: 5 * time.Millisecond}), e)
		waitFor(t, "the unterminated line", func() bool { return len(e.logs()) == 2 })
		if err := stop(); err != nil {
			t.Fatal(err)
		}
		if got := e.logs(); !equalStrings(got, []string{"done", "never terminated"}) {
			t.Errorf("got %q", got)
		}
		var st fileState
		if _, err := mustStore(t, h.stateDir).Load(path, &st); err != nil || st.Offset != int64(len("done\nnever terminated")) {
			t.Errorf("checkpoint %+v, %v; want the end of the file", st, err)
		}
	})
}

func TestUnreadableFileIsLoggedAndOthersRead(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root can read any file")
	}
	dir := t.TempDir()
	bad := filepath.Join(dir, "a.log")
	writeFile(t, bad, "secret\n")
	if err := os.Chmod(bad, 0); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "b.log"), "fine\n")
	h := newHarness(t)
	e := newEmitter(t, ackAll)
	if err := h.once(newInput(t, []Spec{{Location: filepath.Join(dir, "*.log")}}, Options{}), e); err != nil {
		t.Fatal(err)
	}
	if got := e.logs(); !equalStrings(got, []string{"fine"}) {
		t.Errorf("got %q", got)
	}
	if !strings.Contains(h.logs.String(), bad) {
		t.Errorf("error does not name %s:\n%s", bad, h.logs)
	}
}

func TestNewRejectsBadLocations(t *testing.T) {
	tests := []struct {
		name string
		spec Spec
	}{
		{"an empty location", Spec{Location: " ", Source: "ossec.conf:3"}},
		{"a malformed pattern", Spec{Location: "/var/log/[a*.log", Source: "ossec.conf:3"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New([]Spec{tt.spec}, Options{})
			if err == nil || !strings.Contains(err.Error(), "ossec.conf:3") {
				t.Errorf("New = %v, want an error naming ossec.conf:3", err)
			}
		})
	}
}

func TestNameAndSample(t *testing.T) {
	in := newInput(t, nil, Options{})
	if in.Name() != "logfile" {
		t.Errorf("Name = %q", in.Name())
	}
	if !strings.Contains(in.SampleConfig(), "<localfile>") {
		t.Error("sample.conf has no <localfile>")
	}
}

func BenchmarkOnce(b *testing.B) {
	path := filepath.Join(b.TempDir(), "big.log")
	const n = 200_000
	var sb strings.Builder
	for i := range n {
		fmt.Fprintf(&sb, "Mar  7 14:05:%02d host sshd[%d]: Failed password for invalid user admin from 10.0.0.%d port 22 ssh2\n", i%60, i, i%255)
	}
	writeFile(b, path, sb.String())
	b.SetBytes(int64(sb.Len()))
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		h := newHarness(b)
		in := newInput(b, []Spec{{Location: path}}, Options{})
		if err := in.Run(b.Context(), discardEmitter{}, pipeline.RunOptions{Once: true, StateDir: h.stateDir}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "lines/s")
}

// discardEmitter acks every batch at once.
type discardEmitter struct{}

func (discardEmitter) Emit(_ context.Context, b pipeline.Batch) error {
	b.Ack(nil)
	return nil
}
