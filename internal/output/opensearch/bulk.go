package opensearch

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"

	osgo "github.com/opensearch-project/opensearch-go/v4"
	"github.com/opensearch-project/opensearch-go/v4/opensearchapi"
)

// maxRetryAfter caps the wait a cluster can ask for, so a bad header cannot
// park the pipeline for hours.
const maxRetryAfter = 5 * time.Minute

// rejection is a document the cluster refused for its content.
type rejection struct {
	doc    doc
	status int
	typ    string
	reason string
}

// round is what one pass over the pending documents left to do.
type round struct {
	retry      []doc
	rejected   []rejection
	lastErr    error         // why the last retried documents failed
	retryAfter time.Duration // the longest Retry-After seen
}

// flush sends docs until each one is indexed or rejected, retrying the
// ones that failed for a passing reason with exponential backoff.
func (o *Output) flush(ctx context.Context, docs []doc) error {
	pending := docs
	var rejected []rejection
	for attempt := 0; ; attempt++ {
		r, err := o.sendAll(ctx, pending)
		if err != nil {
			return err
		}
		rejected = append(rejected, r.rejected...)
		if len(r.retry) == 0 {
			break
		}
		if attempt >= o.opts.MaxRetries {
			return fmt.Errorf("%d of %d documents not indexed after %d retries: %w", len(r.retry), len(docs), o.opts.MaxRetries, r.lastErr)
		}
		wait := o.backoff(attempt, r.retryAfter)
		o.logger.Warn("some documents were not indexed; retrying", "documents", len(r.retry), "retry", attempt+1, "wait", wait, "err", r.lastErr)
		if err := sleep(ctx, wait); err != nil {
			return fmt.Errorf("wait to retry %d documents: %w (last failure: %w)", len(r.retry), err, r.lastErr)
		}
		o.stats.retried.Add(int64(len(r.retry)))
		pending = r.retry
	}
	return o.settle(rejected)
}

// settle disposes of the rejected documents: into the dead-letter file
// when there is one, otherwise as an error, so none is dropped silently.
func (o *Output) settle(rejected []rejection) error {
	if len(rejected) == 0 {
		return nil
	}
	first := rejected[0]
	if o.dead == nil {
		return fmt.Errorf("the cluster rejected %d documents (first: index %s id %s: %s: %s); fix the mapping or set a dead-letter file to keep them aside and go on",
			len(rejected), first.doc.index, first.doc.id, first.typ, first.reason)
	}
	if err := o.dead.write(rejected); err != nil {
		return fmt.Errorf("keep %d rejected documents: %w", len(rejected), err)
	}
	o.stats.deadLettered.Add(int64(len(rejected)))
	return nil
}

// sendAll sends docs in bulk requests of at most BatchSize documents and
// MaxBytes bytes. A whole request that fails for a passing reason stops the
// pass: its documents and those not yet sent are left for the retry, as
// there is no point pressing a cluster that is refusing work.
func (o *Output) sendAll(ctx context.Context, docs []doc) (round, error) {
	var r round
	queue := o.chunks(docs)
	for len(queue) > 0 {
		chunk := queue[0]
		queue = queue[1:]
		body := encode(chunk)
		resp, err := o.client.Bulk(ctx, opensearchapi.BulkReq{
			Body:   bytes.NewReader(body),
			Header: http.Header{"Content-Type": []string{"application/x-ndjson"}},
		})
		o.stats.requests.Add(1)
		if ctxErr := ctx.Err(); ctxErr != nil {
			return r, fmt.Errorf("bulk request: %w", ctxErr)
		}
		var raw *osgo.Response
		if resp != nil {
			raw = resp.Inspect().Response
		}
		switch {
		case raw == nil:
			// No answer: connection refused, timeout, TLS failure.
			r.postpone(chunk, queue, fmt.Errorf("bulk request: %w", err))
			return r, nil
		case raw.StatusCode == http.StatusRequestEntityTooLarge:
			if len(chunk) == 1 {
				d := chunk[0]
				o.reject(&r, d, raw.StatusCode, "request_too_large",
					fmt.Sprintf("a request of %d bytes holding only this document is over the cluster's http.max_content_length", len(body)))
				continue
			}
			half := len(chunk) / 2
			o.logger.Info("bulk request too large for the cluster; splitting it", "documents", len(chunk), "bytes", len(body))
			queue = append([][]doc{chunk[:half], chunk[half:]}, queue...)
			continue
		case passingStatus(raw.StatusCode):
			r.retryAfter = max(r.retryAfter, retryAfter(raw.Header, time.Now()))
			r.postpone(chunk, queue, fmt.Errorf("bulk request: %w", statusError(raw.StatusCode, err)))
			return r, nil
		case raw.StatusCode >= 300:
			// 401, 403, 404 on the whole request: retrying the same
			// request will not help; the batch is read again later.
			return r, fmt.Errorf("bulk request refused: %w", statusError(raw.StatusCode, err))
		}
		if len(resp.Items) != len(chunk) {
			r.postpone(chunk, nil, fmt.Errorf("bulk response has %d items for %d documents", len(resp.Items), len(chunk)))
			continue
		}
		for i, item := range resp.Items {
			o.examine(&r, chunk[i], item)
		}
	}
	return r, nil
}

// examine sorts one bulk item into indexed, rejected or to retry.
func (o *Output) examine(r *round, d doc, item map[string]opensearchapi.BulkRespItem) {
	var it opensearchapi.BulkRespItem
	for _, v := range item { // one key: the action
		it = v
	}
	if it.Status >= 200 && it.Status < 300 {
		o.stats.indexed.Add(1)
		return
	}
	typ, reason := "unknown", "no error in the response"
	if it.Error != nil {
		typ, reason = it.Error.Type, it.Error.Reason
	}
	if documentFault(it.Status, typ) {
		o.reject(r, d, it.Status, typ, reason)
		return
	}
	r.retry = append(r.retry, d)
	r.lastErr = fmt.Errorf("index %s id %s: status %d: %s: %s", d.index, d.id, it.Status, typ, reason)
}

// reject counts and logs a document the cluster refused for its content.
// The log names the document but does not hold it: alerts can carry
// credentials and personal data, and the dead-letter file is the place
// meant for them.
func (o *Output) reject(r *round, d doc, status int, typ, reason string) {
	o.stats.rejected.Add(1)
	o.logger.Warn("document rejected by the cluster", "index", d.index, "id", d.id, "status", status, "type", typ, "reason", reason)
	r.rejected = append(r.rejected, rejection{doc: d, status: status, typ: typ, reason: reason})
}

// postpone leaves a chunk, and the chunks after it, for the next pass.
func (r *round) postpone(chunk []doc, rest [][]doc, why error) {
	r.retry = append(r.retry, chunk...)
	for _, c := range rest {
		r.retry = append(r.retry, c...)
	}
	r.lastErr = why
}

// statusError describes an error answer briefly: the client's own error
// repeats the status and lists empty root causes.
func statusError(status int, err error) error {
	var se *osgo.StructError
	switch {
	case errors.As(err, &se):
		return fmt.Errorf("status %d: %s: %s", status, se.Err.Type, se.Err.Reason)
	case err != nil:
		return fmt.Errorf("status %d: %w", status, err)
	}
	return fmt.Errorf("status %d", status)
}

// passingStatus reports whether a whole-request status may go away by
// itself: a timeout, throttling or a server-side failure.
func passingStatus(status int) bool {
	return status == http.StatusRequestTimeout || status == http.StatusTooManyRequests || status >= 500
}

// documentFault reports whether a bulk item failed because of the document
// (a mapping conflict, a value that does not parse), so that sending it
// again cannot succeed. Throttling and server errors are not, nor are
// cluster blocks (403) or a missing index (404): those pass, and the
// document is retried.
func documentFault(status int, typ string) bool {
	if status == http.StatusTooManyRequests || status >= 500 || strings.HasSuffix(typ, "rejected_execution_exception") {
		return false
	}
	switch typ {
	case "mapper_parsing_exception", "document_parsing_exception", "strict_dynamic_mapping_exception", "illegal_argument_exception":
		return true
	}
	return status == http.StatusBadRequest || status == http.StatusRequestEntityTooLarge
}

// retryAfter reads a Retry-After header (seconds or an HTTP date).
func retryAfter(h http.Header, now time.Time) time.Duration {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0
	}
	var d time.Duration
	if s, err := strconv.Atoi(v); err == nil {
		d = time.Duration(s) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		d = t.Sub(now)
	}
	return min(max(d, 0), maxRetryAfter)
}

// backoff is the wait before retry number attempt+1: InitialBackoff
// doubled each time up to MaxBackoff, jittered so that several tld
// instances do not retry in step, and never shorter than the cluster's
// Retry-After.
func (o *Output) backoff(attempt int, after time.Duration) time.Duration {
	d := o.opts.InitialBackoff
	for i := 0; i < attempt && d < o.opts.MaxBackoff; i++ {
		d *= 2
	}
	d = min(d, o.opts.MaxBackoff)
	d = d/2 + rand.N(d/2+1)
	return max(d, after)
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// chunks splits docs into bulk requests within BatchSize and MaxBytes.
func (o *Output) chunks(docs []doc) [][]doc {
	var out [][]doc
	start, size := 0, 0
	for i, d := range docs {
		n := d.size()
		if i > start && (i-start >= o.opts.BatchSize || size+n > o.opts.MaxBytes) {
			out = append(out, docs[start:i])
			start, size = i, 0
		}
		size += n
	}
	if start < len(docs) {
		out = append(out, docs[start:])
	}
	return out
}

// actionLine is the bulk action line of a document. "index" with the event id
// as _id makes a replay overwrite the copy indexed before (result
// "updated") instead of adding one; "create" would answer 409 to the
// replay, which would have to be told apart from a real conflict.
func actionLine(index, id string) []byte {
	b := make([]byte, 0, 32+len(index)+len(id))
	b = append(b, `{"index":{"_index":`...)
	b = appendJSONString(b, index)
	if id != "" {
		b = append(b, `,"_id":`...)
		b = appendJSONString(b, id)
	}
	return append(b, "}}"...)
}

func (d doc) size() int { return len(d.action) + len(d.source) + 2 }

func encode(docs []doc) []byte {
	n := 0
	for _, d := range docs {
		n += d.size()
	}
	b := make([]byte, 0, n)
	for _, d := range docs {
		b = append(b, d.action...)
		b = append(b, '\n')
		b = append(b, d.source...)
		b = append(b, '\n')
	}
	return b
}

func appendJSONString(b []byte, s string) []byte {
	q, _ := json.Marshal(s) // cannot fail for a string
	return append(b, q...)
}
