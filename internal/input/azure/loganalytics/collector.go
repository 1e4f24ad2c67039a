// Package loganalytics collects the results of Log Analytics queries as
// events, the way Wazuh's azure-logs module does (same event shape and
// tags), without its duplicates and losses: windows over ingestion time
// with an overlap and de-duplication, paging under the service's record
// limit, retries, and a state per workspace and query that advances only
// when the pipeline has acknowledged the events. See README.md.
package loganalytics

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/url"
	"time"

	"github.com/threatlockdown/tld/internal/checkpoint"
	"github.com/threatlockdown/tld/internal/event"
	"github.com/threatlockdown/tld/internal/input/azure/azauth"
	"github.com/threatlockdown/tld/internal/pipeline"
)

const (
	// minPageRows is the smallest page asked for after halving on a size
	// limit; a smaller one means a row alone is over the limit.
	minPageRows = 1
	// minSpan is the shortest window tried after halving on timeouts.
	minSpan = time.Minute
)

// Collector runs collection passes over the requests of one
// <log_analytics> block. It keeps its token between passes; it is not
// safe for concurrent passes.
type Collector struct {
	cfg  Config
	reqs []*request
	pl   *azauth.Pipeline
}

// New checks cfg and returns its collector.
func New(cfg Config) (*Collector, error) {
	cfg.setDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	c := &Collector{cfg: cfg}
	for _, r := range cfg.Requests {
		rq := newRequest(r)
		c.reqs = append(c.reqs, &rq)
	}
	u, _ := url.Parse(cfg.Endpoint)
	c.pl = azauth.NewPipeline(azauth.PipelineOptions{
		Credential: cfg.Credential, Scope: cfg.Scope, HTTPClient: cfg.HTTPClient, Retry: cfg.Retry,
		AllowHTTP: u.Scheme == "http",
	})
	return c, nil
}

// Collect runs one pass: for each request, every row ingested since its
// state (or since time_offset on the first pass) up to a little before
// now is emitted once, in batches, and the state is saved as the batches
// are acked. It returns after every batch is acked or ctx ends. A request
// that fails does not stop the others; failures are logged here
// (authentication failures once per streak, by the credential) and
// returned joined, for the run's status.
func (c *Collector) Collect(ctx context.Context, emit pipeline.Emitter, st *checkpoint.Store, logger *slog.Logger) error {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	commit := newCommitter(st, logger, c.cfg.MaxSeen)
	var errs []error
	var trackers []*tracker
	for _, r := range c.reqs {
		if ctx.Err() != nil {
			break
		}
		log := logger.With("workspace", r.Workspace, "query_sha256", r.queryHash[:16])
		if r.Pos != "" {
			log = log.With("request", r.Pos)
		}
		t := newTracker(r.key, commit)
		trackers = append(trackers, t)
		if err := c.collect(ctx, r, emit, st, t, log); err != nil {
			var ae *azauth.Error
			if !errors.As(err, &ae) && ctx.Err() == nil {
				log.Error("log analytics query failed; the next pass resumes where this one stopped", "err", err)
			}
			errs = append(errs, fmt.Errorf("log analytics workspace %s: %w", r.Workspace, err))
		}
	}
	for _, t := range trackers {
		if err := t.wait(ctx); err != nil {
			logger.Warn("stopping with batches not acknowledged; their rows are read again next pass")
			errs = append(errs, fmt.Errorf("waiting for acknowledgements: %w", err))
			break
		}
		if err := t.err(); err != nil {
			errs = append(errs, err)
		}
	}
	if err := commit.close(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// collect reads the rows of one request from its state up to now − Lag.
func (c *Collector) collect(ctx context.Context, r *request, emit pipeline.Emitter, st *checkpoint.Store, t *tracker, log *slog.Logger) error {
	passStart := c.cfg.Now().UTC().Truncate(time.Microsecond)
	end := passStart.Add(-c.cfg.Lag)
	rs, err := loadState(st, r, passStart)
	if err != nil {
		return err
	}
	if rs.w0 >= end.UnixNano() {
		return nil
	}
	// Rows ingested before risk are taken to be visible now; those after
	// it may still show up with an earlier ingestion time, so the state
	// keeps the watermark at most at risk and remembers what it sent since.
	risk := end.Add(-c.cfg.Overlap).UnixNano()
	floor := max(rs.w0, risk)

	from := time.Unix(0, rs.w0).UTC()
	span := end.Sub(from)
	pageRows := c.cfg.PageRows
	partials := 0
	sent, queries := 0, 0
	rend := newRenderer(r.Tag)
	batch := make([]event.Event, 0, c.cfg.BatchSize)
	for from.Before(end) {
		if err := t.err(); err != nil {
			return err
		}
		to := from.Add(span)
		if to.After(end) {
			to = end
		}
		p, err := c.query(ctx, r, from, to, pageRows)
		queries++
		switch {
		case err != nil && timedOut(ctx, err) && to.Sub(from) > minSpan:
			span = max(to.Sub(from)/2, minSpan)
			log.Warn("query timed out: asking for a shorter window", "from", from, "to", to, "next_span", span, "err", err)
			continue
		case err != nil:
			return err
		case p.partial != nil && p.partial.tooLarge():
			if pageRows <= minPageRows {
				return fmt.Errorf("a single row is over the service's result size limit: %s", p.partial)
			}
			pageRows = max(pageRows/2, minPageRows)
			log.Info("result over the service's limits: asking for smaller pages", "rows", pageRows, "cause", p.partial.String())
			continue
		case p.partial != nil:
			partials++
			c.cfg.Report(pipeline.Problem{Source: "workspace " + r.Workspace + " query " + r.queryHash[:16],
				Reason: "partial result, window read again: " + p.partial.String()})
			log.Warn("partial result: the window is read again", "from", from, "to", to, "attempt", partials, "cause", p.partial.String())
			if partials > c.cfg.PartialRetries {
				return fmt.Errorf("partial results for the window from %s: %s", from.Format(time.RFC3339Nano), p.partial)
			}
			if err := sleep(ctx, time.Duration(partials)*c.retryDelay()); err != nil {
				return err
			}
			continue
		}
		partials = 0

		// A row takes at least a few dozen bytes of JSON: size the index
		// once rather than grow it through half a million rows.
		refs, err := indexRows(p.rows, p.layout, min(pageRows, len(p.rows)/24+1))
		if err != nil {
			return fmt.Errorf("workspace %s: %w", r.Workspace, err)
		}
		full := len(refs) >= pageRows
		// Only rows tied with the last one of a full page are asked for
		// again in this pass (the next page starts at that time): those go
		// into the de-duplication set; the state gets them all.
		tie := int64(math.MaxInt64)
		if full && len(refs) > 0 {
			tie = refs[len(refs)-1].ingest
		}
		newRows := 0
		var vals [][]byte
		for _, ref := range refs {
			vals, _ = rowAt(p.rows, ref.off, vals)
			rw := rend.render(p.layout, vals, ref.ingest)
			if _, dup := rs.seen[rw.id]; dup {
				continue
			}
			rs.deliver(rw.id, rw.ingest, rw.ingest >= tie)
			batch = append(batch, rw.event(r))
			newRows++
			if len(batch) == c.cfg.BatchSize {
				if err := t.send(ctx, emit, batch, rs.snapshot(min(rw.ingest, floor))); err != nil {
					return err
				}
				batch = make([]event.Event, 0, c.cfg.BatchSize)
			}
		}
		p.rows = nil
		sent += newRows
		// Where this page ends: at its window's end, or, for a full page,
		// at its last ingestion time (rows tied with it may follow).
		next := to
		if full && len(refs) > 0 {
			next = time.Unix(0, refs[len(refs)-1].ingest).UTC()
			if !next.After(from) && newRows == 0 {
				return fmt.Errorf("more than %d rows share the ingestion time %s: they cannot be paged", pageRows, from.Format(time.RFC3339Nano))
			}
		}
		snap := rs.snapshot(min(next.UnixNano(), floor))
		if len(batch) > 0 {
			if err := t.send(ctx, emit, batch, snap); err != nil {
				return err
			}
			batch = make([]event.Event, 0, c.cfg.BatchSize)
		} else {
			t.advanceTo(snap)
		}
		log.Debug("log analytics page", "from", from, "to", to, "rows", len(refs), "new", newRows, "full", full)
		from = next
		rs.prune(from.UnixNano())
	}
	t.advanceTo(rs.snapshot(floor))
	log.Info("log analytics pass done", "rows", sent, "queries", queries, "until", end)
	return nil
}

// retryDelay is the pause before asking again for a window whose answer
// was partial: the retry policy's base delay.
func (c *Collector) retryDelay() time.Duration {
	if d := c.cfg.Retry.RetryDelay; d > 0 {
		return d
	}
	return 800 * time.Millisecond
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
