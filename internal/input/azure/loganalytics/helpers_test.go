package loganalytics

import (
	"cmp"
	"context"
	"encoding/binary"
	"encoding/hex"
	"github.com/threatlockdown/tld/internal/pipeline/pipelinetest"
	"github.com/threatlockdown/tld/internal/syncbuf"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"

	"github.com/threatlockdown/tld/internal/checkpoint"
	"github.com/threatlockdown/tld/internal/config"
	"github.com/threatlockdown/tld/internal/event"
	"github.com/threatlockdown/tld/internal/input/azure/azauth"
	"github.com/threatlockdown/tld/internal/input/azure/azuretest"
	"github.com/threatlockdown/tld/internal/pipeline"
)

const (
	tenantID  = "72f988bf-86f1-41af-91ab-2d7cd011db47"
	domain    = "contoso.onmicrosoft.com"
	appID     = "0b8f3e2a-5a4c-4d7e-9f21-6c1e2d3b4a59"
	secret    = "Xy8Q~s3cr3t.Value-NeverLog-0123456789"
	workspace = "d6b4c1a0-1111-2222-3333-444455556666"
)

// waitTimeout bounds the waits of a test; conditions are polled.
const waitTimeout = 20 * time.Second

// heartbeatColumns is a small table shape for volume tests.
var heartbeatColumns = []azuretest.Column{
	{Name: "TimeGenerated", Type: "datetime"}, {Name: "Computer", Type: "string"},
	{Name: "EventID", Type: "int"}, {Name: "Type", Type: "string"},
}

type logBuffer = syncbuf.Buffer

// fixture is a double with one tenant, app and workspace, and a state
// directory that outlives collectors (a restart keeps it).
type fixture struct {
	t    *testing.T
	s    *azuretest.Server
	ws   *azuretest.Workspace
	dir  string
	log  *slog.Logger
	logs *logBuffer
	cred *azauth.Credential
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	s := azuretest.NewServer(t)
	s.AddTenant(tenantID, domain)
	s.AddApp(tenantID, appID, secret)
	lb := &logBuffer{}
	f := &fixture{t: t, s: s, ws: s.AddWorkspace(workspace, tenantID), dir: t.TempDir(), logs: lb,
		log: slog.New(slog.NewTextHandler(lb, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	f.cred = f.credential(secret)
	return f
}

func (f *fixture) credential(key string) *azauth.Credential {
	f.t.Helper()
	c, err := azauth.NewCredential(azauth.Options{
		TenantDomain: domain, ApplicationID: appID, ApplicationKey: config.NewSecret(key),
		AuthorityHost: f.s.URL(), CAFile: f.s.CAFile(), Logger: f.log,
		Retry: policy.RetryOptions{RetryDelay: 10 * time.Millisecond},
	})
	if err != nil {
		f.t.Fatal(err)
	}
	return c
}

// config is a Config for the double with test-sized delays: no lag, the
// default overlap, quick retries.
func (f *fixture) config(reqs ...Request) Config {
	f.t.Helper()
	hc, err := azauth.NewHTTPClient(f.s.CAFile())
	if err != nil {
		f.t.Fatal(err)
	}
	return Config{
		Endpoint: f.s.URL(), Credential: f.cred, HTTPClient: hc, Requests: reqs,
		Lag:      -1,
		TrySlack: 500 * time.Millisecond,
		Retry:    policy.RetryOptions{RetryDelay: 10 * time.Millisecond, MaxRetryDelay: 5 * time.Second},
	}
}

func newReq(query string) Request {
	return Request{Tag: "azure-test", Query: query, Workspace: workspace, TimeOffset: 24 * time.Hour, Timeout: 5 * time.Second}
}

func (f *fixture) store() *checkpoint.Store {
	f.t.Helper()
	st, err := checkpoint.Open(f.dir)
	if err != nil {
		f.t.Fatal(err)
	}
	return st
}

// collect runs one pass of a new collector over cfg.
func (f *fixture) collect(cfg Config, em *testEmitter) error {
	f.t.Helper()
	c, err := New(cfg)
	if err != nil {
		f.t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	return c.Collect(ctx, em, f.store(), f.log)
}

// testEmitter records what it is given and acks batches in order from its
// own goroutine, as the pipeline does. hold decides which batches are
// never acked (a crash before they were written).
type testEmitter struct {
	hold func(n int) bool
	keep bool // keep the events, not only their ids

	mu      sync.Mutex
	batches int
	ids     [][16]byte
	events  []event.Event
	acked   map[string]bool

	pump *pipelinetest.AckPump
}

func newEmitter(t *testing.T, keep bool) *testEmitter {
	return &testEmitter{keep: keep, hold: func(int) bool { return false }, acked: map[string]bool{},
		pump: pipelinetest.NewAckPump(t)}
}

func (e *testEmitter) Emit(ctx context.Context, b pipeline.Batch) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	e.mu.Lock()
	n := e.batches
	e.batches++
	for _, ev := range b.Events {
		var id [16]byte
		hex.Decode(id[:], []byte(ev.ID))
		e.ids = append(e.ids, id)
		if e.keep {
			e.events = append(e.events, ev)
		}
	}
	hold := e.hold(n)
	e.mu.Unlock()
	if !hold {
		e.pump.Queue(func() {
			b.Ack(nil)
			if e.keep {
				e.mu.Lock()
				for _, ev := range b.Events {
					e.acked[ev.ID] = true
				}
				e.mu.Unlock()
			}
		})
	}
	return nil
}

// count returns the number of events and of distinct ids.
func (e *testEmitter) count() (events, distinct int) {
	e.mu.Lock()
	ids := append([][16]byte(nil), e.ids...)
	e.mu.Unlock()
	slices.SortFunc(ids, func(a, b [16]byte) int {
		if c := cmp.Compare(binary.BigEndian.Uint64(a[:8]), binary.BigEndian.Uint64(b[:8])); c != 0 {
			return c
		}
		return cmp.Compare(binary.BigEndian.Uint64(a[8:]), binary.BigEndian.Uint64(b[8:]))
	})
	for i := range ids {
		if i == 0 || ids[i] != ids[i-1] {
			distinct++
		}
	}
	return len(ids), distinct
}

func (e *testEmitter) all() []event.Event {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]event.Event(nil), e.events...)
}

// idSet returns the ids received.
func (e *testEmitter) idSet() map[[16]byte]int {
	e.mu.Lock()
	defer e.mu.Unlock()
	m := map[[16]byte]int{}
	for _, id := range e.ids {
		m[id]++
	}
	return m
}

func (e *testEmitter) batchCount() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.batches
}

// expectOnce checks that em got want events, all distinct.
func expectOnce(t *testing.T, em *testEmitter, want int) {
	t.Helper()
	n, d := em.count()
	if n != want || d != want {
		t.Errorf("got %d events (%d distinct), want %d, each once", n, d, want)
	}
}

// waitFor polls cond until it holds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func containsAll(s string, subs ...string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}
