package graph

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"

	"github.com/threatlockdown/tld/internal/checkpoint"
	"github.com/threatlockdown/tld/internal/pipeline"
)

// fakeCredential hands out a fixed token.
type fakeCredential struct{}

func (fakeCredential) GetToken(context.Context, policy.TokenRequestOptions) (azcore.AccessToken, error) {
	return azcore.AccessToken{Token: "graph-token", ExpiresOn: time.Now().Add(time.Hour)}, nil
}

// graphDouble serves a directory audit collection as Microsoft Graph
// does: $filter on the time property (ge/lt), pages of pageSize with an
// absolute @odata.nextLink, bearer token required, and injected failures.
type graphDouble struct {
	mu       sync.Mutex
	records  []map[string]any
	prop     string
	pageSize int
	fail     []int // statuses to answer first, in order
	requests int
	srv      *httptest.Server
}

func newDouble(t *testing.T, prop string) *graphDouble {
	d := &graphDouble{prop: prop, pageSize: 3}
	d.srv = httptest.NewServer(http.HandlerFunc(d.serve))
	t.Cleanup(d.srv.Close)
	return d
}

func (d *graphDouble) add(id string, at time.Time, extra map[string]any) {
	d.mu.Lock()
	defer d.mu.Unlock()
	r := map[string]any{"id": id, d.prop: at.UTC().Format(time.RFC3339Nano), "activityDisplayName": "Add user", "result": "success",
		"initiatedBy": map[string]any{"app": nil, "user": map[string]any{"userPrincipalName": "admin@contoso.example"}}}
	for k, v := range extra {
		r[k] = v
	}
	d.records = append(d.records, r)
}

func (d *graphDouble) serve(w http.ResponseWriter, r *http.Request) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.requests++
	if r.Header.Get("Authorization") != "Bearer graph-token" {
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprint(w, `{"error":{"code":"InvalidAuthenticationToken","message":"Access token is empty."}}`)
		return
	}
	if len(d.fail) > 0 {
		st := d.fail[0]
		d.fail = d.fail[1:]
		if st == http.StatusTooManyRequests {
			w.Header().Set("Retry-After", "1")
		}
		w.WriteHeader(st)
		fmt.Fprintf(w, `{"error":{"code":"%s","message":"injected"}}`, http.StatusText(st))
		return
	}
	filter := r.URL.Query().Get("$filter")
	var from, to time.Time
	for _, part := range strings.Split(filter, " and ") {
		f := strings.Fields(strings.Trim(part, "()"))
		if len(f) == 3 && f[0] == d.prop {
			v, err := time.Parse(time.RFC3339, f[2])
			if err != nil {
				w.WriteHeader(http.StatusBadRequest)
				fmt.Fprintf(w, `{"error":{"code":"BadRequest","message":"Invalid filter clause %s"}}`, part)
				return
			}
			if f[1] == "ge" {
				from = v
			} else if f[1] == "lt" {
				to = v
			}
		}
	}
	var match []map[string]any
	for _, rec := range d.records {
		at, _ := time.Parse(time.RFC3339Nano, rec[d.prop].(string))
		if !at.Before(from) && at.Before(to) {
			match = append(match, rec)
		}
	}
	skip := 0
	fmt.Sscan(r.URL.Query().Get("$skiptoken"), &skip)
	end := min(skip+d.pageSize, len(match))
	out := map[string]any{"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#auditLogs/directoryAudits", "value": match[skip:end]}
	if end < len(match) {
		q := r.URL.Query()
		q.Set("$skiptoken", fmt.Sprint(end))
		out["@odata.nextLink"] = d.srv.URL + r.URL.Path + "?" + q.Encode()
	}
	json.NewEncoder(w).Encode(out)
}

// recorder acks batches (or, with hold, never acks them).
type recorder struct {
	mu     sync.Mutex
	events []map[string]any
	ids    []string
	hold   bool
}

func (r *recorder) Emit(_ context.Context, b pipeline.Batch) error {
	r.mu.Lock()
	for _, e := range b.Events {
		var m map[string]any
		json.Unmarshal([]byte(e.Log), &m)
		r.events = append(r.events, m)
		r.ids = append(r.ids, e.ID)
	}
	r.mu.Unlock()
	if !r.hold {
		b.Ack(nil)
	}
	return nil
}

func collector(t *testing.T, d *graphDouble, now *time.Time, query string) *Collector {
	c, err := New(Config{Tenant: "contoso.onmicrosoft.com", Endpoint: d.srv.URL, Credential: fakeCredential{},
		Requests: []Request{{Tag: "entra-audit", Query: query, TimeOffset: 24 * time.Hour, Pos: "ossec.conf:1"}},
		Now:      func() time.Time { return *now }, BatchSize: 2})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestGraphRecordsAreReadOnceAcrossPagesAndRuns(t *testing.T) {
	d := newDouble(t, "activityDateTime")
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	for i := 0; i < 7; i++ {
		d.add(fmt.Sprintf("r%d", i), now.Add(-time.Duration(7-i)*time.Hour), nil)
	}
	d.add("too-old", now.Add(-48*time.Hour), nil)
	st, _ := checkpoint.Open(t.TempDir())
	rec := &recorder{}
	c := collector(t, d, &now, "auditLogs/directoryAudits")
	if err := c.Collect(context.Background(), rec, st, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatal(err)
	}
	if len(rec.events) != 7 {
		t.Fatalf("read %d records, want the 7 within time_offset", len(rec.events))
	}
	first := rec.events[0]
	if first["azure_tag"] != "azure-ad-graph" || first["azure_aad_tag"] != "entra-audit" {
		t.Errorf("tags: %v", first)
	}
	if ib, _ := first["initiatedBy"].(map[string]any); ib == nil || ib["app"] != nil || len(ib) != 1 {
		t.Errorf("initiatedBy = %v: a null app must be dropped, the user kept", first["initiatedBy"])
	}

	// Later: one record published late, with a time inside the overlap,
	// and one new record. Each is read once; nothing is repeated.
	now = now.Add(30 * time.Minute)
	d.add("late", now.Add(-70*time.Minute), nil)
	d.add("new", now.Add(-time.Minute), nil)
	rec2 := &recorder{}
	if err := c.Collect(context.Background(), rec2, st, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range rec2.events {
		got = append(got, e["id"].(string))
	}
	if strings.Join(got, ",") != "late,new" {
		t.Errorf("second run read %v, want late,new", got)
	}
}

func TestThrottlingAndServerErrorsAreRetried(t *testing.T) {
	d := newDouble(t, "createdDateTime")
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	for i := 0; i < 5; i++ {
		d.add(fmt.Sprintf("s%d", i), now.Add(-time.Duration(i+1)*time.Minute), nil)
	}
	d.fail = []int{http.StatusTooManyRequests, http.StatusInternalServerError, http.StatusServiceUnavailable}
	st, _ := checkpoint.Open(t.TempDir())
	rec := &recorder{}
	c := collector(t, d, &now, "auditLogs/signIns")
	if err := c.Collect(context.Background(), rec, st, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatal(err)
	}
	if len(rec.events) != 5 {
		t.Errorf("read %d sign-ins after retries, want 5", len(rec.events))
	}
}

func TestStateMovesOnlyWhenTheBatchIsAcknowledged(t *testing.T) {
	d := newDouble(t, "activityDateTime")
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	for i := 0; i < 4; i++ {
		d.add(fmt.Sprintf("r%d", i), now.Add(-time.Duration(i+1)*time.Hour), nil)
	}
	dir := t.TempDir()
	st, _ := checkpoint.Open(dir)
	held := &recorder{hold: true}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	c := collector(t, d, &now, "auditLogs/directoryAudits")
	if err := c.Collect(ctx, held, st, slog.New(slog.DiscardHandler)); err == nil {
		t.Fatal("Collect returned before its batches were acknowledged")
	}
	// "Crash": a new collector on the same state reads everything again,
	// with the same event ids.
	st2, _ := checkpoint.Open(dir)
	again := &recorder{}
	if err := collector(t, d, &now, "auditLogs/directoryAudits").Collect(context.Background(), again, st2, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatal(err)
	}
	if strings.Join(again.ids, ",") != strings.Join(held.ids, ",") || len(again.ids) != 4 {
		t.Errorf("replayed ids %v, first ids %v", again.ids, held.ids)
	}
}

func TestFilterKeepsTheUsersOwnFilter(t *testing.T) {
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	c, _ := New(Config{Tenant: "t", Endpoint: "https://graph.example", Credential: fakeCredential{}})
	u, err := c.firstURL("auditLogs/directoryAudits?$filter=category eq 'UserManagement'&$top=50", "activityDateTime", now.Add(-time.Hour), now)
	if err != nil {
		t.Fatal(err)
	}
	parsed, _ := url.Parse(u)
	f := parsed.Query().Get("$filter")
	if parsed.Path != "/v1.0/auditLogs/directoryAudits" || parsed.Query().Get("$top") != "50" ||
		f != "(category eq 'UserManagement') and activityDateTime ge 2026-11-26T11:00:00Z and activityDateTime lt 2026-11-26T12:00:00Z" {
		t.Errorf("url %s (filter %q)", u, f)
	}
}
