package blob

import (
	"context"
	"sync"

	"github.com/threatlockdown/tld/internal/event"
	"github.com/threatlockdown/tld/internal/pipeline"
)

// blobTrack follows the acknowledgements of one blob's batches.
type blobTrack struct {
	mu     sync.Mutex
	failed bool // a batch was refused: the blob must be read again
}

func (t *blobTrack) fail(err error) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if err != nil {
		t.failed = true
	}
	return t.failed
}

// batcher groups the events of one blob into batches. The last batch
// carries the blob's commit: acknowledgements arrive in order, so when it is
// acknowledged every batch of the blob was, and the blob can be marked read.
type batcher struct {
	ctx   context.Context
	p     *pass
	size  int
	track *blobTrack
	// refused runs, instead of the commit, when a batch of the blob was
	// refused by the pipeline.
	refused func()

	buf     []event.Event
	bytes   int
	events  int // events in batches the pipeline accepted
	batches int
}

func (b *batcher) add(ev event.Event) error {
	// A full batch is sent only when another event comes, so that the
	// last one is never empty and can carry the commit.
	if len(b.buf) >= b.size || len(b.buf) > 0 && b.bytes+len(ev.Log) > maxBatchBytes {
		if err := b.send(nil); err != nil {
			return err
		}
	}
	b.buf = append(b.buf, ev)
	b.bytes += len(ev.Log)
	return nil
}

// finish sends the last batch with commit, or commits at once when the
// blob gave no event.
func (b *batcher) finish(commit func()) error {
	if len(b.buf) == 0 {
		if b.batches == 0 {
			commit()
		}
		return nil
	}
	return b.send(commit)
}

// abandon drops the events not yet sent: the blob is not marked read, and
// the next pass reads it again.
func (b *batcher) abandon() { b.buf, b.bytes = nil, 0 }

func (b *batcher) send(commit func()) error {
	evs := b.buf
	b.buf, b.bytes = nil, 0
	t, log, refused := b.track, b.p.log, b.refused
	b.p.inFlight.Add(1)
	ack := func(err error) {
		defer b.p.inFlight.Done()
		failed := t.fail(err)
		if commit == nil {
			return
		}
		if failed {
			log.Warn("a batch of the blob was not delivered; the blob is read again on the next pass", "err", err)
			refused()
			return
		}
		commit()
	}
	if err := b.p.emit.Emit(b.ctx, pipeline.Batch{Events: evs, Ack: ack}); err != nil {
		b.p.inFlight.Done()
		t.fail(err)
		return err
	}
	b.events += len(evs)
	b.batches++
	return nil
}
