package loganalytics

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/threatlockdown/tld/internal/input/azure/azauth"
	"github.com/threatlockdown/tld/internal/input/azure/azuretest"
	"github.com/threatlockdown/tld/internal/pipeline"
)

func TestLargeBacklogIsReadInPagesUnderTheRowLimit(t *testing.T) {
	if testing.Short() {
		t.Skip("1,200,000 rows")
	}
	f := newFixture(t)
	const rows = 1200000
	now := time.Now()
	// One day of backlog: rows ingested from 23 h ago to 1 h ago, each
	// generated 30 s before its ingestion.
	step := 22 * time.Hour / rows
	f.ws.Table("Heartbeat", heartbeatColumns...).AddSynthetic(rows, now.Add(-23*time.Hour), step, 30*time.Second)
	em := newEmitter(t, false)
	start := time.Now()
	cfg := f.config(newReq("Heartbeat"))
	cfg.Requests[0].Timeout = time.Minute // a machine shared with other tests is slow
	if err := f.collect(cfg, em); err != nil {
		t.Fatal(err)
	}
	expectOnce(t, em, rows)
	var pages []int
	for _, q := range f.s.Queries() {
		if q.Status != http.StatusOK || q.Partial || q.Rows > 500000 {
			t.Errorf("a query was answered %d (partial %v) with %d rows: over the service's limits", q.Status, q.Partial, q.Rows)
		}
		pages = append(pages, q.Rows)
	}
	t.Logf("%d rows in pages %v in %v", rows, pages, time.Since(start).Round(time.Millisecond))
	if len(pages) < 3 {
		t.Errorf("pages %v: a backlog of %d rows needs at least 3 pages of 500,000", pages, rows)
	}

	// The next pass has nothing new.
	em2 := newEmitter(t, false)
	if err := f.collect(f.config(newReq("Heartbeat")), em2); err != nil {
		t.Fatal(err)
	}
	expectOnce(t, em2, 0)
}

func TestLateRowsAreReadExactlyOnceOnTheNextPass(t *testing.T) {
	f := newFixture(t)
	tbl := f.ws.Table("Heartbeat", heartbeatColumns...)
	now := time.Now()
	tbl.AddSynthetic(500, now.Add(-3*time.Hour), 10*time.Second, time.Minute)
	em := newEmitter(t, false)
	if err := f.collect(f.config(newReq("Heartbeat")), em); err != nil {
		t.Fatal(err)
	}
	expectOnce(t, em, 500)

	// Rows generated five hours ago, before every window read so far,
	// arrive now.
	for i := range 7 {
		tbl.Add(time.Now().Add(-time.Millisecond), now.Add(-5*time.Hour+time.Duration(i)*time.Second), "late-host", 4000+i, "Heartbeat")
	}
	time.Sleep(2 * time.Millisecond)
	em2 := newEmitter(t, true)
	if err := f.collect(f.config(newReq("Heartbeat")), em2); err != nil {
		t.Fatal(err)
	}
	expectOnce(t, em2, 7)
	for _, ev := range em2.all() {
		if !strings.Contains(ev.Log, `"Computer":"late-host"`) {
			t.Errorf("unexpected event %s", ev.Log)
		}
		if got := now.Sub(ev.Time); got < 4*time.Hour {
			t.Errorf("event time %v is not the row's TimeGenerated", ev.Time)
		}
	}
	em3 := newEmitter(t, false)
	if err := f.collect(f.config(newReq("Heartbeat")), em3); err != nil {
		t.Fatal(err)
	}
	expectOnce(t, em3, 0)
}

func TestRowsThatBecomeVisibleLateInTheOverlapAreReadOnce(t *testing.T) {
	f := newFixture(t)
	tbl := f.ws.Table("Heartbeat", heartbeatColumns...)
	now := time.Now()
	// Rows ingested in the last minute: inside the overlap that the next
	// pass reads again.
	tbl.AddSynthetic(100, now.Add(-60*time.Second), 500*time.Millisecond, time.Second)
	em := newEmitter(t, false)
	if err := f.collect(f.config(newReq("Heartbeat")), em); err != nil {
		t.Fatal(err)
	}
	expectOnce(t, em, 100)

	// A row stamped 30 s ago, inside the window already read, becomes
	// queryable only now (ingestion_time() is approximate).
	tbl.Add(now.Add(-30*time.Second), now.Add(-31*time.Second), "slow-extent", 1, "Heartbeat")
	em2 := newEmitter(t, true)
	if err := f.collect(f.config(newReq("Heartbeat")), em2); err != nil {
		t.Fatal(err)
	}
	expectOnce(t, em2, 1)
	if evs := em2.all(); len(evs) == 1 && !strings.Contains(evs[0].Log, "slow-extent") {
		t.Errorf("got %s, want the late-visible row", evs[0].Log)
	}
}

func TestTransientFailuresAreRetried(t *testing.T) {
	tests := []struct {
		name   string
		faults []azuretest.Fault
	}{
		{"429 with Retry-After", []azuretest.Fault{{Status: http.StatusTooManyRequests, RetryAfter: time.Second}}},
		{"500 then 503", []azuretest.Fault{{Status: http.StatusInternalServerError}, {Status: http.StatusServiceUnavailable}}},
		{"a query slower than the Prefer wait (504)", []azuretest.Fault{{Delay: 3 * time.Second}}},
		{"a stalled answer beyond the client timeout", []azuretest.Fault{{Delay: 4 * time.Second, Stall: true}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			f.ws.Table("Heartbeat", heartbeatColumns...).AddSynthetic(1000, time.Now().Add(-2*time.Hour), time.Second, 0)
			f.s.InjectQueryFaults(tt.faults...)
			cfg := f.config(newReq("Heartbeat"))
			cfg.Requests[0].Timeout = time.Second
			cfg.PageRows = 400
			em := newEmitter(t, false)
			if err := f.collect(cfg, em); err != nil {
				t.Fatal(err)
			}
			expectOnce(t, em, 1000)
			if n := f.s.PendingFaults("query"); n != 0 {
				t.Errorf("%d faults not consumed", n)
			}
			var statuses []int
			for _, q := range f.s.Queries() {
				statuses = append(statuses, q.Status)
				if q.Wait != 1 {
					t.Errorf("Prefer: wait=%d, want the request's timeout, 1", q.Wait)
				}
			}
			t.Logf("statuses %v", statuses)
		})
	}
}

func TestPartialErrorIsReportedAndTheWindowReadAgain(t *testing.T) {
	t.Run("a partial answer is not used and its window is asked again", func(t *testing.T) {
		f := newFixture(t)
		f.ws.Table("Heartbeat", heartbeatColumns...).AddSynthetic(300, time.Now().Add(-2*time.Hour), time.Second, 0)
		f.s.InjectQueryFaults(azuretest.Fault{PartialError: true})
		cfg := f.config(newReq("Heartbeat"))
		var reports []string
		cfg.Report = func(p pipeline.Problem) { reports = append(reports, p.Reason) }
		em := newEmitter(t, false)
		if err := f.collect(cfg, em); err != nil {
			t.Fatal(err)
		}
		expectOnce(t, em, 300)
		if len(reports) != 1 || !strings.Contains(reports[0], "PartialError") {
			t.Errorf("reports %q, want one about the PartialError", reports)
		}
		if !strings.Contains(f.logs.String(), "partial result") {
			t.Errorf("partial result not logged:\n%s", f.logs)
		}
	})
	t.Run("a window that stays partial stops the pass without moving the state past it", func(t *testing.T) {
		f := newFixture(t)
		tbl := f.ws.Table("Heartbeat", heartbeatColumns...)
		tbl.AddSynthetic(200, time.Now().Add(-3*time.Hour), time.Second, 0)
		em := newEmitter(t, false)
		if err := f.collect(f.config(newReq("Heartbeat")), em); err != nil {
			t.Fatal(err)
		}
		expectOnce(t, em, 200)
		saved := f.savedState(t)

		tbl.AddSynthetic(50, time.Now().Add(-time.Minute), 100*time.Millisecond, 0)
		f.s.InjectQueryFaults(azuretest.Fault{PartialError: true}, azuretest.Fault{PartialError: true}, azuretest.Fault{PartialError: true})
		em2 := newEmitter(t, false)
		err := f.collect(f.config(newReq("Heartbeat")), em2)
		if err == nil || !strings.Contains(err.Error(), "partial") {
			t.Fatalf("err = %v, want the partial results reported", err)
		}
		expectOnce(t, em2, 0)
		if got := f.savedState(t); !got.Watermark.Equal(saved.Watermark) {
			t.Errorf("watermark moved from %v to %v past a partial window", saved.Watermark, got.Watermark)
		}

		em3 := newEmitter(t, false)
		if err := f.collect(f.config(newReq("Heartbeat")), em3); err != nil {
			t.Fatal(err)
		}
		expectOnce(t, em3, 50)
	})
}

func (f *fixture) savedState(t *testing.T) savedState {
	t.Helper()
	var s savedState
	found, err := f.store().Load(newRequest(newReq("Heartbeat")).key, &s)
	if err != nil || !found {
		t.Fatalf("state: found %v, err %v", found, err)
	}
	return s
}

func TestResultOverTheSizeLimitIsAskedInSmallerPages(t *testing.T) {
	f := newFixture(t)
	f.s.SizeLimit = 20 << 10 // 20 KiB
	f.ws.Table("Heartbeat", heartbeatColumns...).AddSynthetic(2000, time.Now().Add(-2*time.Hour), time.Second, 0)
	em := newEmitter(t, false)
	if err := f.collect(f.config(newReq("Heartbeat")), em); err != nil {
		t.Fatal(err)
	}
	expectOnce(t, em, 2000)
	partial := 0
	for _, q := range f.s.Queries() {
		if q.Partial {
			partial++
		}
	}
	if partial == 0 {
		t.Error("the size limit was never reached: the test does not test halving")
	}
}

func TestACrashReplaysOnlyTheUnackedBatches(t *testing.T) {
	f := newFixture(t)
	f.ws.Table("Heartbeat", heartbeatColumns...).AddSynthetic(1000, time.Now().Add(-2*time.Hour), time.Second, 0)
	cfg := f.config(newReq("Heartbeat"))
	cfg.BatchSize = 100

	// The pipeline writes the first batch, then the process dies: the
	// second batch and those after are never acked.
	em := newEmitter(t, true)
	em.hold = func(n int) bool { return n >= 1 }
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Collect(ctx, em, f.store(), f.log) }()
	waitFor(t, "all batches emitted", func() bool { return em.batchCount() == 10 })
	waitFor(t, "the first batch acked", func() bool { em.mu.Lock(); defer em.mu.Unlock(); return len(em.acked) == 100 })
	cancel() // SIGKILL-equivalent: nothing more is acked
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("Collect = %v, want it to stop on the cancellation", err)
	}
	first := em.idSet()
	acked := map[string]bool{}
	em.mu.Lock()
	for id := range em.acked {
		acked[id] = true
	}
	em.mu.Unlock()

	em2 := newEmitter(t, true)
	if err := f.collect(f.config(newReq("Heartbeat")), em2); err != nil {
		t.Fatal(err)
	}
	expectOnce(t, em2, 900)
	for id := range em2.idSet() {
		if first[id] == 0 {
			t.Fatal("the restart read a row the first run never read")
		}
	}
	n := 0
	for _, ev := range em2.all() {
		if acked[ev.ID] {
			n++
		}
	}
	if n != 0 {
		t.Errorf("%d rows of the acked batch read again", n)
	}
}

func TestTwoWorkspacesWithTheSameQueryKeepTheirOwnState(t *testing.T) {
	f := newFixture(t)
	const other = "0a0b0c0d-aaaa-bbbb-cccc-ddddeeeeffff"
	wsB := f.s.AddWorkspace(other, tenantID)
	now := time.Now()
	f.ws.Table("SecurityAlert", heartbeatColumns...).AddSynthetic(30, now.Add(-2*time.Hour), time.Minute, 0)
	tb := wsB.Table("SecurityAlert", heartbeatColumns...)
	tb.AddSynthetic(20, now.Add(-90*time.Minute), time.Minute, 0)
	reqA, reqB := newReq("SecurityAlert"), newReq("SecurityAlert")
	reqB.Workspace = other
	em := newEmitter(t, false)
	if err := f.collect(f.config(reqA, reqB), em); err != nil {
		t.Fatal(err)
	}
	expectOnce(t, em, 50)
	ka, kb := newRequest(reqA).key, newRequest(reqB).key
	if ka == kb {
		t.Fatalf("same state key %q for two workspaces", ka)
	}

	tb.AddSynthetic(5, time.Now().Add(-10*time.Second), time.Second, 0)
	em2 := newEmitter(t, true)
	if err := f.collect(f.config(reqA, reqB), em2); err != nil {
		t.Fatal(err)
	}
	expectOnce(t, em2, 5)
	for _, ev := range em2.all() {
		if !strings.Contains(ev.Log, `"Computer":"Computer-2`) { // rows 20..24 of workspace B's table
			t.Errorf("event from the wrong workspace: %s", ev.Log)
		}
	}
}

func TestAuthFailureIsLoggedOnceAndNamesTheCause(t *testing.T) {
	f := newFixture(t)
	f.ws.Table("Heartbeat", heartbeatColumns...).AddSynthetic(10, time.Now().Add(-time.Hour), time.Second, 0)
	f.cred = f.credential("Wrong~Key.0123456789abcdef")
	cfg := f.config(newReq("Heartbeat"), newReq("Heartbeat | where TimeGenerated > datetime(2020-01-01)"))
	for range 2 {
		em := newEmitter(t, false)
		err := f.collect(cfg, em)
		var ae *azauth.Error
		if !errors.As(err, &ae) || ae.Code != "AADSTS7000215" {
			t.Fatalf("Collect = %v, want the AADSTS7000215 failure", err)
		}
		expectOnce(t, em, 0)
	}
	logs := f.logs.String()
	if n := strings.Count(logs, "level=ERROR"); n != 1 {
		t.Errorf("%d error records for 4 failed queries in 2 passes, want 1:\n%s", n, logs)
	}
	if strings.Contains(logs, "Wrong~Key") || strings.Contains(logs, secret) {
		t.Error("secret in the logs")
	}
}

func TestQueryErrorsSayWhatToFix(t *testing.T) {
	tests := []struct {
		name      string
		workspace string
		query     string
		want      []string
	}{
		{"an unknown workspace", "99999999-9999-9999-9999-999999999999", "Heartbeat", []string{"404", "check <workspace>"}},
		{"a workspace of another tenant", "other-tenant-ws", "Heartbeat", []string{"403", "Log Analytics Reader"}},
		{"a query the service cannot parse", workspace, "Heartbeat | summarize count()", []string{"400", "BadArgumentError", "check <query>"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			f.s.AddTenant("11111111-1111-1111-1111-111111111111", "fabrikam.onmicrosoft.com")
			f.s.AddWorkspace("other-tenant-ws", "11111111-1111-1111-1111-111111111111").Table("Heartbeat", heartbeatColumns...)
			f.ws.Table("Heartbeat", heartbeatColumns...)
			r := newReq(tt.query)
			r.Workspace = tt.workspace
			err := f.collect(f.config(r), newEmitter(t, false))
			if err == nil || !containsAll(err.Error(), tt.want...) {
				t.Errorf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestStateIsBounded(t *testing.T) {
	f := newFixture(t)
	f.ws.Table("Heartbeat", heartbeatColumns...).AddSynthetic(300, time.Now().Add(-50*time.Second), 100*time.Millisecond, 0)
	cfg := f.config(newReq("Heartbeat"))
	cfg.MaxSeen = 50
	em := newEmitter(t, false)
	if err := f.collect(cfg, em); err != nil {
		t.Fatal(err)
	}
	expectOnce(t, em, 300)
	s := f.savedState(t)
	n := 0
	for _, ids := range s.Seen {
		n += len(ids)
	}
	if n != 50 {
		t.Errorf("%d row ids kept, want the bound, 50", n)
	}
	b, _ := json.Marshal(s)
	t.Logf("state: %d bytes", len(b))
}
