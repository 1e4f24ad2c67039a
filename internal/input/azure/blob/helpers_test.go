package blob

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"github.com/threatlockdown/tld/internal/pipeline/pipelinetest"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/appendblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blockblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/service"

	"github.com/threatlockdown/tld/internal/checkpoint"
	"github.com/threatlockdown/tld/internal/config"
	"github.com/threatlockdown/tld/internal/event"
	"github.com/threatlockdown/tld/internal/pipeline"
)

// testTimeout bounds one Collect in tests.
const testTimeout = 30 * time.Second

// emitter records batches and acks them in order from its own goroutine,
// as the pipeline does. hold decides, per batch number (from 0), whether
// the batch is never acknowledged (a crash before it was written).
type emitter struct {
	hold func(n int) bool

	mu      sync.Mutex
	batches []pipeline.Batch
	acked   [][]event.Event // events of the batches acknowledged
	emitted chan int        // batch numbers, as they are emitted

	pump *pipelinetest.AckPump
}

func newEmitter(t *testing.T, hold func(n int) bool) *emitter {
	return &emitter{hold: hold, emitted: make(chan int, 1024), pump: pipelinetest.NewAckPump(t)}
}

func (e *emitter) Emit(ctx context.Context, b pipeline.Batch) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	e.mu.Lock()
	n := len(e.batches)
	e.batches = append(e.batches, b)
	e.mu.Unlock()
	e.emitted <- n
	if e.hold != nil && e.hold(n) {
		return nil
	}
	e.pump.Queue(func() {
		e.mu.Lock()
		e.acked = append(e.acked, b.Events)
		e.mu.Unlock()
		b.Ack(nil)
	})
	return nil
}

// events returns the events of every batch emitted, in order.
func (e *emitter) events() []event.Event {
	e.mu.Lock()
	defer e.mu.Unlock()
	var all []event.Event
	for _, b := range e.batches {
		all = append(all, b.Events...)
	}
	return all
}

func (e *emitter) ackedEvents() []event.Event {
	e.mu.Lock()
	defer e.mu.Unlock()
	var all []event.Event
	for _, evs := range e.acked {
		all = append(all, evs...)
	}
	return all
}

// problems collects what Collect reports.
type problems struct {
	mu   sync.Mutex
	list []pipeline.Problem
}

func (p *problems) report(pr pipeline.Problem) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.list = append(p.list, pr)
}

func (p *problems) all() []pipeline.Problem {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]pipeline.Problem(nil), p.list...)
}

// env is what one test needs against Azurite: a service client to write
// fixtures, a checkpoint store, and unique container names.
type env struct {
	t      *testing.T
	az     *azurite
	svc    *service.Client
	store  *checkpoint.Store
	prefix string // of this test's container names
	logs   *syncBuffer
}

var containerSeq atomic.Int64

func newEnv(t *testing.T) *env {
	t.Helper()
	a := needAzurite(t)
	cred, err := service.NewSharedKeyCredential(devAccount, devKey)
	if err != nil {
		t.Fatal(err)
	}
	svc, err := service.NewClientWithSharedKeyCredential(strings.ReplaceAll(a.endpoint, "{account}", devAccount), cred, nil)
	if err != nil {
		t.Fatal(err)
	}
	st, err := checkpoint.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return &env{t: t, az: a, svc: svc, store: st, prefix: fmt.Sprintf("t%d-%d", os.Getpid()%100000, containerSeq.Add(1)), logs: &syncBuffer{}}
}

// container creates a container of this test and returns its name.
func (e *env) container(suffix string) string {
	e.t.Helper()
	name := e.prefix + "-" + suffix
	if _, err := e.svc.CreateContainer(context.Background(), name, nil); err != nil {
		e.t.Fatalf("create container %s: %v", name, err)
	}
	return name
}

// put writes a block blob (replacing it if it exists).
func (e *env) put(cont, name string, data []byte) {
	e.t.Helper()
	c := e.svc.NewContainerClient(cont).NewBlockBlobClient(name)
	if _, err := c.UploadBuffer(context.Background(), data, &blockblob.UploadBufferOptions{}); err != nil {
		e.t.Fatalf("upload %s/%s: %v", cont, name, err)
	}
}

// appendTo appends to an append blob, creating it first if needed.
func (e *env) appendTo(cont, name string, data []byte) {
	e.t.Helper()
	c := e.svc.NewContainerClient(cont).NewAppendBlobClient(name)
	ctx := context.Background()
	if _, err := c.GetProperties(ctx, nil); err != nil {
		if _, err := c.Create(ctx, &appendblob.CreateOptions{}); err != nil {
			e.t.Fatalf("create append blob %s/%s: %v", cont, name, err)
		}
	}
	if _, err := c.AppendBlock(ctx, nopSeekCloser{bytes.NewReader(data)}, nil); err != nil {
		e.t.Fatalf("append to %s/%s: %v", cont, name, err)
	}
}

type nopSeekCloser struct{ *bytes.Reader }

func (nopSeekCloser) Close() error { return nil }

// config returns a collector configuration for Azurite with the
// development account and the given containers.
func (e *env) config(tag string, containers ...config.AzureContainer) Config {
	for i := range containers {
		c := &containers[i]
		if c.Blobs == "" {
			c.Blobs = "*"
		}
		if c.ContentType == "" {
			c.ContentType = "text"
		}
		if c.TimeOffset == 0 {
			c.TimeOffset = 24 * time.Hour
		}
	}
	return Config{
		Storage: config.AzureStorage{
			AccountName: devAccount, AccountKey: config.NewSecret(devKey), Tag: tag, Containers: containers,
		},
		Endpoint: e.az.endpoint,
		Retry:    Retry{MaxRetries: 1, Delay: 20 * time.Millisecond, MaxDelay: 100 * time.Millisecond, TryTimeout: 10 * time.Second},
	}
}

// collector builds a collector, failing the test on error.
func (e *env) collector(cfg Config) *Collector {
	e.t.Helper()
	c, err := New(cfg)
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

// logger writes every level, as text, to e.logs.
func (e *env) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// collect runs one pass with an emitter that acks everything.
func (e *env) collect(c *Collector) ([]event.Event, []pipeline.Problem) {
	e.t.Helper()
	em := newEmitter(e.t, nil)
	var pr problems
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	if err := c.Collect(ctx, em, e.store, pr.report, e.logger()); err != nil {
		e.t.Fatalf("Collect: %v\nlogs:\n%s", err, e.logs.String())
	}
	return em.events(), pr.all()
}

// logs returns the events' texts.
func logsOf(evs []event.Event) []string {
	out := make([]string, len(evs))
	for i, ev := range evs {
		out[i] = ev.Log
	}
	return out
}

func idsOf(evs []event.Event) map[string]bool {
	ids := map[string]bool{}
	for _, ev := range evs {
		ids[ev.ID] = true
	}
	return ids
}

// sharedSample reads a file of ../shared/samples/azure/blob_storage_records,
// looking for the shared folder in the directories above the package.
func sharedSample(t *testing.T, name string) []byte {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		p := filepath.Join(dir, "shared", "samples", "azure", "blob_storage_records", name)
		if data, err := os.ReadFile(p); err == nil {
			return data
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatalf("sample %s not found in a shared/samples/azure/blob_storage_records above the package", name)
		}
		dir = parent
	}
}

// decodeJSON decodes an event's text, failing the test if it is not a
// JSON object.
func decodeJSON(t *testing.T, s string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		t.Fatalf("event is not a JSON object: %v\n%s", err, s)
	}
	return m
}
