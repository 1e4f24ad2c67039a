// Package alertstore is the pipeline output that writes alerts into the
// embedded alert store (internal/store), where the REST API and the
// dashboard read them.
package alertstore

import (
	"context"
	"fmt"
	"sync"

	"github.com/threatlockdown/tld/internal/alert"
	"github.com/threatlockdown/tld/internal/pipeline"
	"github.com/threatlockdown/tld/internal/store"
)

// Output buffers the alerts of each batch and inserts them on Flush, one
// durable transaction per flush. It does not own the store: Close flushes
// but leaves the store open for its owner to close.
type Output struct {
	s   *store.Store
	mu  sync.Mutex
	buf []*alert.Alert
}

var _ pipeline.Output = (*Output)(nil)

// New returns an output writing into s.
func New(s *store.Store) *Output { return &Output{s: s} }

// Name identifies the output in logs and metrics.
func (o *Output) Name() string { return "store" }

// Write buffers the batch's alerts; archives are not stored.
func (o *Output) Write(_ context.Context, recs pipeline.Records) error {
	if len(recs.Alerts) == 0 {
		return nil
	}
	o.mu.Lock()
	o.buf = append(o.buf, recs.Alerts...)
	o.mu.Unlock()
	return nil
}

// Flush inserts the buffered alerts and clears the buffer once they are
// durable. On error the buffer is kept, so a retried Flush inserts them
// again; the store skips any that did make it.
func (o *Output) Flush(ctx context.Context) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(o.buf) == 0 {
		return nil
	}
	if _, err := o.s.Insert(ctx, o.buf); err != nil {
		return fmt.Errorf("store output: %w", err)
	}
	clear(o.buf) // let the alerts be collected while the array is reused
	o.buf = o.buf[:0]
	return nil
}

// Close flushes what is buffered. The store stays open.
func (o *Output) Close() error {
	// pipeline.Output.Close has no context; the pipeline calls it at
	// shutdown after its own context is gone, and the final insert must
	// still happen.
	return o.Flush(context.Background())
}
