// Package graph collects Microsoft Entra ID audit and sign-in records from
// Microsoft Graph for the azure-logs module's <graph> requests, without
// loss or duplicates.
//
// Each request names a Graph path (auditLogs/directoryAudits,
// auditLogs/signIns or any other collection). Records are read over a
// window of their time property ($filter ge/lt), following
// @odata.nextLink; the window restarts a little before the newest record
// seen (Graph records show up minutes after their time) and records seen
// in that overlap are recognised by id and skipped. State is saved only
// when the batch that ends a window is acknowledged.
package graph

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"

	"github.com/threatlockdown/tld/internal/checkpoint"
	"github.com/threatlockdown/tld/internal/event"
	"github.com/threatlockdown/tld/internal/pipeline"
)

// Request is one <request> of a <graph> block.
type Request struct {
	Tag        string
	Query      string // a Graph path, optionally with its own query string
	TimeOffset time.Duration
	Timeout    time.Duration // per HTTP try; zero means 60 s
	Pos        string
}

// Config is one <graph> block.
type Config struct {
	Tenant     string // tenantdomain
	Endpoint   string // e.g. https://graph.microsoft.com
	Credential azcore.TokenCredential
	HTTPClient *http.Client
	Requests   []Request
	// Overlap is how far before the newest record seen the next window
	// starts (default 15 minutes: Graph's own publication delay).
	Overlap time.Duration
	// BatchSize is the most records per batch (default 500).
	BatchSize int
	// Now is the clock (tests set it).
	Now func() time.Time
	// MaxRetries bounds retries of one page (default 8).
	MaxRetries int
}

// Collector reads the requests of one <graph> block.
type Collector struct {
	cfg Config
}

// New checks cfg and returns a collector.
func New(cfg Config) (*Collector, error) {
	if cfg.Tenant == "" {
		return nil, errors.New("graph: no tenant")
	}
	if cfg.Credential == nil {
		return nil, errors.New("graph: no credential")
	}
	if cfg.Endpoint == "" {
		cfg.Endpoint = "https://graph.microsoft.com"
	}
	cfg.Endpoint = strings.TrimRight(cfg.Endpoint, "/")
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = http.DefaultClient
	}
	if cfg.Overlap <= 0 {
		cfg.Overlap = 15 * time.Minute
	}
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = 500
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.MaxRetries <= 0 {
		cfg.MaxRetries = 8
	}
	return &Collector{cfg: cfg}, nil
}

// state is what is saved per (tenant, request).
type state struct {
	// From is where the next window starts (already minus the overlap).
	From time.Time `json:"from"`
	// Seen are ids of records at or after From that were delivered, so
	// the overlap does not deliver them twice.
	Seen map[string]time.Time `json:"seen"`
}

func stateKey(tenant string, r Request) string {
	return "graph/" + tenant + "/" + event.NewID(r.Query, r.Tag)[:16]
}

// timeProperty is the property a collection is filtered and ordered on.
func timeProperty(path string) string {
	p := strings.ToLower(path)
	switch {
	case strings.Contains(p, "signins"):
		return "createdDateTime"
	case strings.Contains(p, "riskdetections"):
		return "detectedDateTime"
	case strings.Contains(p, "riskyusers"):
		return "riskLastUpdatedDateTime"
	case strings.Contains(p, "provisioning"):
		return "activityDateTime"
	}
	return "activityDateTime"
}

// Collect reads every request once, up to now, emitting records in
// batches; it returns when every emitted batch is acknowledged.
func (c *Collector) Collect(ctx context.Context, emit pipeline.Emitter, st *checkpoint.Store, logger *slog.Logger) error {
	var errs []error
	for _, r := range c.cfg.Requests {
		if err := c.collect(ctx, r, emit, st, logger.With("query", r.Query, "tag", r.Tag)); err != nil {
			errs = append(errs, fmt.Errorf("graph request %q (%s): %w", r.Query, r.Pos, err))
		}
	}
	return errors.Join(errs...)
}

func (c *Collector) collect(ctx context.Context, r Request, emit pipeline.Emitter, st *checkpoint.Store, logger *slog.Logger) error {
	key := stateKey(c.cfg.Tenant, r)
	var s state
	found, err := st.Load(key, &s)
	if err != nil {
		return err
	}
	now := c.cfg.Now().UTC()
	if !found {
		offset := r.TimeOffset
		if offset <= 0 {
			offset = 24 * time.Hour
		}
		s.From = now.Add(-offset)
	}
	if s.Seen == nil {
		s.Seen = map[string]time.Time{}
	}
	prop := timeProperty(r.Query)
	u, err := c.firstURL(r.Query, prop, s.From, now)
	if err != nil {
		return err
	}

	// Records of the window, then sorted by time so that state can
	// advance to the newest one.
	type rec struct {
		id   string
		at   time.Time
		body []byte
	}
	var recs []rec
	for u != "" {
		page, err := c.get(ctx, u, r.Timeout, logger)
		if err != nil {
			return err
		}
		for _, raw := range page.Value {
			var obj map[string]json.RawMessage
			if err := json.Unmarshal(raw, &obj); err != nil {
				logger.Warn("graph record is not a JSON object; skipped", "err", err)
				continue
			}
			var id string
			_ = json.Unmarshal(obj["id"], &id)
			var ts string
			_ = json.Unmarshal(obj[prop], &ts)
			at, _ := time.Parse(time.RFC3339Nano, ts)
			if id == "" {
				id = event.NewID(string(raw))
			}
			if _, dup := s.Seen[id]; dup {
				continue
			}
			body, err := shapeRecord(raw, r.Tag)
			if err != nil {
				logger.Warn("graph record could not be normalised; skipped", "id", id, "err", err)
				continue
			}
			recs = append(recs, rec{id: id, at: at, body: body})
		}
		u = page.NextLink
	}
	sort.SliceStable(recs, func(i, j int) bool { return recs[i].at.Before(recs[j].at) })

	if len(recs) == 0 {
		// Nothing new: the window stays where it starts, so records that
		// Graph publishes late are still read next time.
		if !found {
			return st.Save(key, s)
		}
		return nil
	}
	// The next window starts Overlap before the newest record, and
	// remembers the ids inside the overlap so they are not read twice.
	newest := s.From
	for _, x := range recs {
		if x.at.After(newest) {
			newest = x.at
		}
	}
	next := state{From: newest.Add(-c.cfg.Overlap), Seen: map[string]time.Time{}}
	if next.From.Before(s.From) {
		next.From = s.From
	}
	for id, at := range s.Seen {
		if !at.Before(next.From) {
			next.Seen[id] = at
		}
	}
	for _, x := range recs {
		if !x.at.Before(next.From) {
			next.Seen[x.id] = x.at
		}
	}

	acked := make(chan error, (len(recs)+c.cfg.BatchSize-1)/c.cfg.BatchSize)
	batches := 0
	for start := 0; start < len(recs); start += c.cfg.BatchSize {
		end := min(start+c.cfg.BatchSize, len(recs))
		evs := make([]event.Event, 0, end-start)
		for _, x := range recs[start:end] {
			evs = append(evs, event.Event{
				ID:       event.NewID("azure-ad-graph", c.cfg.Tenant, r.Query, x.id),
				Location: "Azure",
				Log:      string(x.body),
				Format:   event.FormatJSON,
				Time:     x.at,
			})
		}
		last := end == len(recs)
		if err := emit.Emit(ctx, pipeline.Batch{Events: evs, Ack: func(err error) {
			if err == nil && last {
				err = st.Save(key, next)
			}
			acked <- err
		}}); err != nil {
			return err
		}
		batches++
	}
	var errs []error
	for i := 0; i < batches; i++ {
		select {
		case err := <-acked:
			if err != nil {
				errs = append(errs, err)
			}
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if len(errs) == 0 {
		logger.Info("graph records read", "records", len(recs))
	}
	return errors.Join(errs...)
}

// firstURL adds the window's $filter to the request's path, keeping a
// filter the user wrote.
func (c *Collector) firstURL(query, prop string, from, to time.Time) (string, error) {
	path, rawQuery, _ := strings.Cut(strings.TrimLeft(query, "/"), "?")
	if !strings.HasPrefix(strings.ToLower(path), "v1.0/") && !strings.HasPrefix(strings.ToLower(path), "beta/") {
		path = "v1.0/" + path
	}
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return "", fmt.Errorf("query string %q: %w", rawQuery, err)
	}
	window := fmt.Sprintf("%s ge %s and %s lt %s", prop, from.UTC().Format(time.RFC3339), prop, to.UTC().Format(time.RFC3339))
	if f := q.Get("$filter"); f != "" {
		window = "(" + f + ") and " + window
	}
	q.Set("$filter", window)
	// Keep '$' readable, as Graph's examples write it.
	enc := strings.ReplaceAll(q.Encode(), "%24", "$")
	return c.cfg.Endpoint + "/" + path + "?" + enc, nil
}

type page struct {
	Value    []json.RawMessage `json:"value"`
	NextLink string            `json:"@odata.nextLink"`
}

// graphError is Graph's error body.
type graphError struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// get fetches one page, retrying throttling (honouring Retry-After),
// server errors and time-outs with exponential back-off.
func (c *Collector) get(ctx context.Context, u string, timeout time.Duration, logger *slog.Logger) (*page, error) {
	if timeout <= 0 {
		timeout = 60 * time.Second
	}
	var lastErr error
	for attempt := 0; attempt <= c.cfg.MaxRetries; attempt++ {
		if attempt > 0 {
			wait := backoff(attempt)
			if ra, ok := lastErr.(*retryAfterError); ok && ra.after > 0 {
				wait = ra.after
			}
			logger.Warn("graph request failed; retrying", "attempt", attempt, "wait", wait, "err", lastErr)
			select {
			case <-time.After(wait):
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
		p, err, retry := c.try(ctx, u, timeout)
		if err == nil {
			return p, nil
		}
		if !retry {
			return nil, err
		}
		lastErr = err
	}
	return nil, fmt.Errorf("giving up after %d retries: %w", c.cfg.MaxRetries, lastErr)
}

type retryAfterError struct {
	status int
	after  time.Duration
	msg    string
}

func (e *retryAfterError) Error() string { return fmt.Sprintf("HTTP %d: %s", e.status, e.msg) }

func (c *Collector) try(ctx context.Context, u string, timeout time.Duration) (*page, error, bool) {
	tok, err := c.cfg.Credential.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{c.cfg.Endpoint + "/.default"}})
	if err != nil {
		return nil, fmt.Errorf("get a token: %w", err), false
	}
	tctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(tctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err, false
	}
	req.Header.Set("Authorization", "Bearer "+tok.Token)
	req.Header.Set("Accept", "application/json")
	resp, err := c.cfg.HTTPClient.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err(), false
		}
		return nil, &retryAfterError{msg: err.Error()}, true
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 256<<20))
	if err != nil {
		return nil, &retryAfterError{status: resp.StatusCode, msg: "read body: " + err.Error()}, true
	}
	switch {
	case resp.StatusCode == http.StatusOK:
		var p page
		if err := json.Unmarshal(body, &p); err != nil {
			return nil, &retryAfterError{status: resp.StatusCode, msg: "malformed response: " + err.Error()}, true
		}
		return &p, nil, false
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
		return nil, &retryAfterError{status: resp.StatusCode, after: retryAfter(resp.Header.Get("Retry-After")), msg: errorMessage(body)}, true
	default:
		return nil, fmt.Errorf("HTTP %d: %s", resp.StatusCode, errorMessage(body)), false
	}
}

func errorMessage(body []byte) string {
	var ge graphError
	if json.Unmarshal(body, &ge) == nil && ge.Error.Code != "" {
		return ge.Error.Code + ": " + ge.Error.Message
	}
	if len(body) > 200 {
		body = body[:200]
	}
	return strings.TrimSpace(string(body))
}

// retryAfter reads a Retry-After header: seconds or an HTTP date.
func retryAfter(v string) time.Duration {
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && s >= 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return time.Until(t)
	}
	return 0
}

func backoff(attempt int) time.Duration {
	d := time.Duration(1<<min(attempt-1, 6)) * 500 * time.Millisecond
	return d/2 + time.Duration(rand.Int64N(int64(d/2)+1))
}

// shapeRecord turns a Graph record into the event Wazuh's module sends:
// the record with "azure_tag" and "azure_aad_tag" added. Null values are
// dropped, so a property is either absent or of one type (initiatedBy.app
// is null in one record and an object in the next: stores would reject
// the mix).
func shapeRecord(raw json.RawMessage, tag string) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	obj, ok := dropNulls(v).(map[string]any)
	if !ok {
		return nil, errors.New("not an object")
	}
	obj["azure_tag"] = "azure-ad-graph"
	obj["azure_aad_tag"] = tag
	return json.Marshal(obj)
}

func dropNulls(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if e == nil {
				delete(x, k)
				continue
			}
			x[k] = dropNulls(e)
		}
		return x
	case []any:
		out := x[:0]
		for _, e := range x {
			if e != nil {
				out = append(out, dropNulls(e))
			}
		}
		return out
	}
	return v
}
