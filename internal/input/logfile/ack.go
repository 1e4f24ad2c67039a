package logfile

import (
	"context"
	"errors"
	"log/slog"
	"sync/atomic"

	"github.com/threatlockdown/tld/internal/checkpoint"
	"github.com/threatlockdown/tld/internal/event"
	"github.com/threatlockdown/tld/internal/pipeline"
)

// batchRef is one emitted batch of one file, waiting for its ack.
type batchRef struct {
	r    *run
	t    *tail
	path string
	end  fileState // the file's checkpoint once this batch is acked
	done atomic.Bool
}

// errRefused stops the reading of a file one of whose batches was refused
// while this one waited for a slot.
var errRefused = errors.New("an earlier batch of the file was refused")

// send emits evs, the lines of t up to t.lineStart, once a slot among
// MaxInFlight is free.
func (r *run) send(ctx context.Context, t *tail, evs []event.Event) error {
	select {
	case r.slots <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	ref := &batchRef{r: r, t: t, path: t.path, end: t.stateAt(t.lineStart, t.lines)}
	r.mu.Lock()
	if t.failed {
		r.mu.Unlock()
		<-r.slots
		return errRefused
	}
	t.inFlight++
	t.advance = nil // this batch's ack saves a later position anyway
	r.mu.Unlock()
	t.lastEnd = t.lineStart
	if err := r.emit.Emit(ctx, pipeline.Batch{Events: evs, Ack: ref.ack}); err != nil {
		if ctx.Err() != nil {
			// Not accepted: the lines stay unacked and are read again by
			// the next run.
			ref.release(nil)
			return err
		}
		// The pipeline refused the batch: the same as a failed ack.
		ref.ack(err)
	}
	return nil
}

// ack records the pipeline's verdict on the batch. Acks of one input arrive
// in emission order, so a successful one moves the file's checkpoint to the
// batch's end, unless an earlier batch of the file failed: its lines will be
// read again, and the checkpoint must stay before them.
func (b *batchRef) ack(err error) {
	if !b.done.CompareAndSwap(false, true) {
		return
	}
	r, t := b.r, b.t
	r.mu.Lock()
	t.inFlight--
	switch {
	case err != nil:
		if !t.failed {
			t.failed, t.failErr = true, err
			r.log.Warn("batch not delivered; its lines will be read again",
				"path", b.path, "from_offset", t.acked.Offset, "err", err)
		}
	case t.failed:
		// Later than a failed batch: ignored, it will be sent again.
	default:
		t.acked, t.backoff = b.end, 0
		if t.inFlight == 0 && t.advance != nil {
			t.acked, t.advance = *t.advance, nil
		}
		if t.key != "" {
			r.commit.put(t.key, t.acked)
		}
	}
	r.mu.Unlock()
	<-r.slots
}

// release frees the batch's slot without a verdict (it was never accepted).
func (b *batchRef) release(error) {
	if !b.done.CompareAndSwap(false, true) {
		return
	}
	b.r.mu.Lock()
	b.t.inFlight--
	b.r.mu.Unlock()
	<-b.r.slots
}

// advanceTo moves t's checkpoint over lines that made no event (empty,
// oversized) at the end of the data, once every earlier batch is acked.
func (r *run) advanceTo(t *tail) {
	st := t.stateAt(t.lineStart, t.lines)
	t.lastEnd = t.lineStart
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case t.failed:
	case t.inFlight == 0:
		t.acked = st
		if t.key != "" {
			r.commit.put(t.key, st)
		}
	default:
		t.advance = &st
	}
}

// waitAcks returns once every emitted batch is acked, or ctx ends.
func (r *run) waitAcks(ctx context.Context) error {
	n := 0
	defer func() {
		for range n {
			<-r.slots
		}
	}()
	for n < cap(r.slots) {
		select {
		case r.slots <- struct{}{}:
			n++
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// committer saves file positions off the ack path (checkpoint.Saver),
// keyed by path.
type committer struct{ *checkpoint.Saver }

func newCommitter(store *checkpoint.Store, log *slog.Logger) *committer {
	return &committer{checkpoint.NewSaver(store, log)}
}

// put records st as the newest state of the file at key.
func (c *committer) put(key string, st fileState) {
	st.Path = key
	c.Put(key, st)
}

func (c *committer) sync() error { return c.Sync() }
func (c *committer) close()      { c.Close() }
