package logfile

import (
	"context"
	"errors"
	"github.com/threatlockdown/tld/internal/pipeline/pipelinetest"
	"github.com/threatlockdown/tld/internal/syncbuf"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/threatlockdown/tld/internal/event"
	"github.com/threatlockdown/tld/internal/pipeline"
)

// waitTimeout is generous: conditions are polled, never timed.
const waitTimeout = 20 * time.Second

// ackPolicy decides the fate of the n-th batch (0-based) an emitter gets:
// acked at once with err, or held until the test releases it.
type ackPolicy func(n int) (hold bool, err error)

func ackAll(int) (bool, error)  { return false, nil }
func holdAll(int) (bool, error) { return true, nil }

// fakeEmitter records batches and acks them, in order, from its own
// goroutine as the pipeline does.
type fakeEmitter struct {
	policy ackPolicy

	mu         sync.Mutex
	batches    [][]event.Event
	held       []pipeline.Batch
	unacked    int // until the input's Ack returned
	inFlight   int // until Ack is called: what back-pressure bounds
	maxUnacked int
	changed    chan struct{}

	pump *pipelinetest.AckPump
}

func newEmitter(t testing.TB, policy ackPolicy) *fakeEmitter {
	return &fakeEmitter{policy: policy, changed: make(chan struct{}, 1), pump: pipelinetest.NewAckPump(t)}
}

func (e *fakeEmitter) Emit(ctx context.Context, b pipeline.Batch) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	e.mu.Lock()
	n := len(e.batches)
	e.batches = append(e.batches, append([]event.Event(nil), b.Events...))
	e.unacked++
	e.inFlight++
	e.maxUnacked = max(e.maxUnacked, e.inFlight)
	hold, err := e.policy(n)
	if hold {
		e.held = append(e.held, b)
	}
	e.mu.Unlock()
	e.signal()
	if !hold {
		e.pump.Queue(func() { e.ack(b, err) })
	}
	return nil
}

func (e *fakeEmitter) ack(b pipeline.Batch, err error) {
	e.mu.Lock()
	e.inFlight--
	e.mu.Unlock()
	b.Ack(err)
	e.mu.Lock()
	e.unacked--
	e.mu.Unlock()
}

func (e *fakeEmitter) signal() {
	select {
	case e.changed <- struct{}{}:
	default:
	}
}

// release acks the held batches, in order.
func (e *fakeEmitter) release(err error) {
	e.mu.Lock()
	held := e.held
	e.held = nil
	e.mu.Unlock()
	for _, b := range held {
		e.pump.Queue(func() { e.ack(b, err) })
	}
}

func (e *fakeEmitter) events() []event.Event {
	e.mu.Lock()
	defer e.mu.Unlock()
	var all []event.Event
	for _, b := range e.batches {
		all = append(all, b...)
	}
	return all
}

func (e *fakeEmitter) logs() []string {
	var out []string
	for _, ev := range e.events() {
		out = append(out, ev.Log)
	}
	return out
}

// pending is the number of batches not yet acked (an ack counts once
// the input's Ack has returned).
func (e *fakeEmitter) pending() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.unacked
}

func (e *fakeEmitter) batchCount() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.batches)
}

// waitFor polls cond until it holds; it fails the test after waitTimeout.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// problems collects what an input reports.
type problems struct {
	mu   sync.Mutex
	list []pipeline.Problem
}

func (p *problems) add(pr pipeline.Problem) {
	p.mu.Lock()
	p.list = append(p.list, pr)
	p.mu.Unlock()
}

func (p *problems) all() []pipeline.Problem {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]pipeline.Problem(nil), p.list...)
}

type logBuf = syncbuf.Buffer

// harness runs an input the way the pipeline does.
type harness struct {
	t        testing.TB
	stateDir string
	probs    *problems
	logs     *logBuf
}

func newHarness(t testing.TB) *harness {
	return &harness{t: t, stateDir: filepath.Join(t.TempDir(), "state"), probs: &problems{}, logs: &logBuf{}}
}

func (h *harness) runOpts(once bool) pipeline.RunOptions {
	return pipeline.RunOptions{
		Once:     once,
		StateDir: h.stateDir,
		Logger:   slog.New(slog.NewTextHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Report:   h.probs.add,
	}
}

// once runs in in Once mode.
func (h *harness) once(in *Input, e pipeline.Emitter) error {
	return in.Run(h.t.Context(), e, h.runOpts(true))
}

// follow runs in continuously until the returned stop is called; stop
// returns Run's error.
func (h *harness) follow(in *Input, e pipeline.Emitter) (stop func() error) {
	ctx, cancel := context.WithCancel(h.t.Context())
	done := make(chan error, 1)
	go func() { done <- in.Run(ctx, e, h.runOpts(false)) }()
	var once sync.Once
	var err error
	stop = func() error {
		once.Do(func() {
			cancel()
			select {
			case err = <-done:
			case <-time.After(waitTimeout):
				err = errors.New("Run did not return after cancel")
			}
		})
		return err
	}
	h.t.Cleanup(func() { stop() })
	return stop
}

func newInput(t testing.TB, specs []Spec, opts Options) *Input {
	t.Helper()
	in, err := New(specs, opts)
	if err != nil {
		t.Fatal(err)
	}
	return in
}

func writeFile(t testing.TB, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func appendFile(t testing.TB, path, content string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(content); err != nil {
		t.Fatal(err)
	}
}

func lines(n int, prefix string) string {
	var b strings.Builder
	for i := range n {
		b.WriteString(prefix)
		b.WriteString(" line ")
		b.WriteString(strings.Repeat("x", i%7))
		b.WriteString(string(rune('a' + i%26)))
		b.WriteByte('\n')
	}
	return b.String()
}

func splitLines(s string) []string {
	return strings.Split(strings.TrimSuffix(s, "\n"), "\n")
}

func ids(evs []event.Event) []string {
	out := make([]string, len(evs))
	for i, e := range evs {
		out[i] = e.ID
	}
	return out
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
