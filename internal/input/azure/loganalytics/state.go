package loganalytics

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/threatlockdown/tld/internal/checkpoint"
	"github.com/threatlockdown/tld/internal/event"
	"github.com/threatlockdown/tld/internal/pipeline"
)

// stateVersion is the version of savedState's layout.
const stateVersion = 1

// savedState is the checkpoint of one (workspace, query): every row
// ingested before Watermark has been delivered, and so have the rows
// listed in Seen, keyed by their ingestion time. The next pass asks again
// from Watermark and drops the rows in Seen.
type savedState struct {
	Version   int                 `json:"version"`
	Workspace string              `json:"workspace"`
	QueryHash string              `json:"query_sha256"`
	Watermark time.Time           `json:"watermark"`
	Seen      map[string][]string `json:"seen,omitempty"` // RFC 3339 ingestion time → 16-hex row ids
}

// seenEntry is a delivered row: its id and ingestion time (unix ns).
type seenEntry struct {
	id     uint64
	ingest int64
}

// reqState is the collector's view of one request's state during a pass.
type reqState struct {
	r     *request
	w0    int64       // the watermark the pass started from
	prior []seenEntry // the saved Seen, sorted by ingestion time
	// delivered grows through the pass in ingestion order (pages follow
	// each other, each in order); snapshots hold prefixes of it, so it is
	// only ever appended to.
	delivered []seenEntry
	seen      map[uint64]struct{} // rows that a page of this pass may return again
	pruned    int                 // prior entries dropped from seen
	prunedDel int                 // delivered entries dropped from seen
}

// loadState reads r's state; a request never collected starts at
// passStart − time_offset.
func loadState(st *checkpoint.Store, r *request, passStart time.Time) (*reqState, error) {
	var s savedState
	found, err := st.Load(r.key, &s)
	if err != nil {
		return nil, err
	}
	rs := &reqState{r: r, seen: map[uint64]struct{}{}}
	if !found || s.Version != stateVersion {
		rs.w0 = passStart.Add(-r.TimeOffset).UnixNano()
		return rs, nil
	}
	rs.w0 = s.Watermark.UnixNano()
	for ts, ids := range s.Seen {
		t, err := time.Parse(time.RFC3339Nano, ts)
		if err != nil {
			return nil, fmt.Errorf("load checkpoint %q: %w: seen time %q", r.key, checkpoint.ErrCorrupt, ts)
		}
		for _, id := range ids {
			v, err := strconv.ParseUint(id, 16, 64)
			if err != nil {
				return nil, fmt.Errorf("load checkpoint %q: %w: seen id %q", r.key, checkpoint.ErrCorrupt, id)
			}
			rs.prior = append(rs.prior, seenEntry{id: v, ingest: t.UnixNano()})
			rs.seen[v] = struct{}{}
		}
	}
	sort.Slice(rs.prior, func(i, j int) bool { return rs.prior[i].ingest < rs.prior[j].ingest })
	return rs, nil
}

// deliver records a row as sent; again says whether a later page of the
// pass may return it again, so that it must be recognised.
func (rs *reqState) deliver(id uint64, ingest int64, again bool) {
	rs.delivered = append(rs.delivered, seenEntry{id: id, ingest: ingest})
	if again {
		rs.seen[id] = struct{}{}
	}
}

// prune forgets, for de-duplication, rows ingested before from: no later
// page of the pass asks for them.
func (rs *reqState) prune(from int64) {
	for rs.pruned < len(rs.prior) && rs.prior[rs.pruned].ingest < from {
		delete(rs.seen, rs.prior[rs.pruned].id)
		rs.pruned++
	}
	for rs.prunedDel < len(rs.delivered) && rs.delivered[rs.prunedDel].ingest < from {
		delete(rs.seen, rs.delivered[rs.prunedDel].id)
		rs.prunedDel++
	}
}

// snapshot is the state to save once the events sent so far are acked:
// watermark w, and the delivered rows from w on.
type snapshot struct {
	rs        *reqState
	w         int64
	delivered []seenEntry // a prefix of rs.delivered, never written again
}

func (rs *reqState) snapshot(w int64) snapshot {
	return snapshot{rs: rs, w: w, delivered: rs.delivered[:len(rs.delivered):len(rs.delivered)]}
}

// encode builds the saved form, keeping the maxSeen most recent rows.
func (s snapshot) encode(maxSeen int) savedState {
	var keep []seenEntry
	for _, list := range [][]seenEntry{s.rs.prior, s.delivered} {
		// Both lists are in ingestion order: only their tails count.
		from := sort.Search(len(list), func(i int) bool { return list[i].ingest >= s.w })
		keep = append(keep, list[from:]...)
	}
	if len(keep) > maxSeen {
		// Past the bound, the oldest rows are forgotten: if they show up
		// again they are sent again (with the same event ids, which
		// outputs de-duplicate) rather than risk losing late rows.
		sort.SliceStable(keep, func(i, j int) bool { return keep[i].ingest > keep[j].ingest })
		keep = keep[:maxSeen]
	}
	out := savedState{
		Version: stateVersion, Workspace: s.rs.r.Workspace, QueryHash: s.rs.r.queryHash,
		Watermark: time.Unix(0, s.w).UTC(),
	}
	if len(keep) > 0 {
		out.Seen = map[string][]string{}
		for _, e := range keep {
			k := time.Unix(0, e.ingest).UTC().Format(time.RFC3339Nano)
			out.Seen[k] = append(out.Seen[k], fmt.Sprintf("%016x", e.id))
		}
	}
	return out
}

// tracker follows the batches of one request: it saves the state of a
// batch when the batch is acked (acks come in emission order), and stops
// saving after a failed one, so that its rows are read again.
type tracker struct {
	key     string
	commit  *committer
	changed chan struct{}

	mu       sync.Mutex
	inflight int
	advance  *snapshot // saved once the batches in flight are acked
	failed   error
}

func newTracker(key string, c *committer) *tracker {
	return &tracker{key: key, commit: c, changed: make(chan struct{}, 1)}
}

// send emits evs; snap is saved when they are acked.
func (t *tracker) send(ctx context.Context, emit pipeline.Emitter, evs []event.Event, snap snapshot) error {
	t.mu.Lock()
	if t.failed != nil {
		err := t.failed
		t.mu.Unlock()
		return err
	}
	t.inflight++
	t.advance = nil // this batch's state is later than any advance
	t.mu.Unlock()
	var done atomic.Bool
	ack := func(err error) {
		if done.CompareAndSwap(false, true) {
			t.acked(snap, err, true)
		}
	}
	if err := emit.Emit(ctx, pipeline.Batch{Events: evs, Ack: ack}); err != nil {
		if ctx.Err() != nil {
			// Not taken: its rows are read again by the next pass.
			if done.CompareAndSwap(false, true) {
				t.acked(snap, nil, false)
			}
			return err
		}
		ack(err) // refused: the same as a failed ack
		return t.err()
	}
	return nil
}

// acked records the pipeline's verdict; verdict is false for a batch the
// pipeline never took.
func (t *tracker) acked(snap snapshot, err error, verdict bool) {
	t.mu.Lock()
	t.inflight--
	switch {
	case !verdict:
	case err != nil:
		if t.failed == nil {
			t.failed = fmt.Errorf("a batch was not delivered (%w); its rows are read again next pass", err)
		}
	case t.failed != nil:
		// After a failed batch: its rows will be read again, so the state
		// must stay before them.
	default:
		t.commit.put(t.key, snap)
		if t.inflight == 0 && t.advance != nil {
			t.commit.put(t.key, *t.advance)
			t.advance = nil
		}
	}
	t.mu.Unlock()
	select {
	case t.changed <- struct{}{}:
	default:
	}
}

// advanceTo saves snap once every batch sent so far is acked: the state
// moves over rows that made no event (all already seen, or none).
func (t *tracker) advanceTo(snap snapshot) {
	t.mu.Lock()
	defer t.mu.Unlock()
	switch {
	case t.failed != nil:
	case t.inflight == 0:
		t.commit.put(t.key, snap)
	default:
		t.advance = &snap
	}
}

func (t *tracker) err() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.failed
}

// wait returns once every batch sent is acked, or ctx ends.
func (t *tracker) wait(ctx context.Context) error {
	for {
		t.mu.Lock()
		n := t.inflight
		t.mu.Unlock()
		if n == 0 {
			return nil
		}
		select {
		case <-t.changed:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// committer saves states off the ack path (checkpoint.Saver); a snapshot
// is encoded when written, not when acked.
type committer struct {
	saver   *checkpoint.Saver
	maxSeen int
}

func newCommitter(store *checkpoint.Store, log *slog.Logger, maxSeen int) *committer {
	return &committer{saver: checkpoint.NewSaver(store, log), maxSeen: maxSeen}
}

func (c *committer) put(key string, s snapshot) {
	c.saver.Put(key, encodedSnapshot{s, c.maxSeen})
}

// close saves what is pending and stops the committer; it returns the
// errors of states that could not be saved.
func (c *committer) close() error { return c.saver.Close() }

// encodedSnapshot defers a snapshot's encoding to the saver.
type encodedSnapshot struct {
	snap    snapshot
	maxSeen int
}

func (e encodedSnapshot) MarshalJSON() ([]byte, error) { return json.Marshal(e.snap.encode(e.maxSeen)) }
