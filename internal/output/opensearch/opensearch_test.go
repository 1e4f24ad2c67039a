package opensearch

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/threatlockdown/tld/internal/alert"
	"github.com/threatlockdown/tld/internal/config"
	"github.com/threatlockdown/tld/internal/pipeline"
)

func secret(s string) config.Secret { return config.NewSecret(s) }

// testAlert is an alert of rule 5710 (sshd: attempt to log in with a
// non-existent user), stamped at ts.
func testAlert(id string, ts time.Time) *alert.Alert {
	return &alert.Alert{
		Timestamp: ts,
		Rule: &alert.Rule{
			Level: 5, ID: "5710", Description: "sshd: Attempt to login using a non-existent user",
			Groups: []string{"syslog", "sshd", "authentication_failed"}, FiredTimes: 1,
			Mitre: &alert.Mitre{ID: []string{"T1110.001"}, Tactic: []string{"Credential Access"}, Technique: []string{"Password Guessing"}},
		},
		Agent:    alert.Agent{ID: "000", Name: "manager"},
		Manager:  "manager",
		ID:       id,
		FullLog:  "Jan  2 03:04:05 host sshd[42]: Invalid user admin from 192.0.2.7 port 5555",
		Decoder:  alert.Decoder{Name: "sshd"},
		Data:     alert.Fields{{Key: "srcip", Value: "192.0.2.7"}, {Key: "srcuser", Value: "admin"}},
		Location: "/var/log/auth.log",
	}
}

// alerts makes n alerts a minute apart from ts, with ids prefix-0…
func alerts(prefix string, n int, ts time.Time) []*alert.Alert {
	var out []*alert.Alert
	for i := range n {
		out = append(out, testAlert(fmt.Sprintf("%s-%d", prefix, i), ts.Add(time.Duration(i)*time.Minute)))
	}
	return out
}

func newOutput(t *testing.T, opts Options) *Output {
	t.Helper()
	o, err := New(t.Context(), opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { o.Close() })
	return o
}

func writeFlush(ctx context.Context, o *Output, as []*alert.Alert) error {
	if err := o.Write(ctx, pipeline.Records{Alerts: as}); err != nil {
		return err
	}
	return o.Flush(ctx)
}

func TestAlertsLandInTheirUTCDailyIndexWithTheEventIDAsID(t *testing.T) {
	c := newCluster(t)
	o := newOutput(t, c.options())
	est := time.FixedZone("EST", -5*3600)
	as := []*alert.Alert{
		testAlert("1709942400.1", time.Date(2024, 3, 9, 12, 0, 0, 0, time.UTC)),
		// 23:30 in New York on the 9th is the 10th in UTC.
		testAlert("1710045000.2", time.Date(2024, 3, 9, 23, 30, 0, 0, est)),
		testAlert("1710115199.3", time.Date(2024, 3, 10, 23, 59, 59, 0, time.UTC)),
	}
	if err := writeFlush(t.Context(), o, as); err != nil {
		t.Fatalf("Flush: %v", err)
	}
	want := map[string][]string{
		"wazuh-alerts-4.x-2024.03.09": {"1709942400.1"},
		"wazuh-alerts-4.x-2024.03.10": {"1710045000.2", "1710115199.3"},
	}
	for index, ids := range want {
		for _, id := range ids {
			got, ok := c.docs[index][id]
			if !ok {
				t.Errorf("%s/%s not indexed; indices: %v", index, id, c.docs)
				continue
			}
			a := as[slices.IndexFunc(as, func(a *alert.Alert) bool { return a.ID == id })]
			exact, _ := json.Marshal(a)
			if !bytes.Equal(got, exact) {
				t.Errorf("%s/%s source is\n%s\nnot the alert's JSON\n%s", index, id, got, exact)
			}
		}
	}
	if n := c.count(); n != 3 {
		t.Errorf("the cluster holds %d documents, want 3", n)
	}
	if s := o.Stats(); s.Indexed != 3 || s.Requests != 1 || s.Retried != 0 || s.Rejected != 0 {
		t.Errorf("stats %+v", s)
	}
	if c.badAuth != 0 {
		t.Errorf("%d requests came without the right basic authentication", c.badAuth)
	}
}

func TestIndexPrefixIsConfigurable(t *testing.T) {
	c := newCluster(t)
	c.prefix = "tld-alerts-"
	opts := c.options()
	opts.IndexPrefix = "tld-alerts-"
	o := newOutput(t, opts)
	if err := writeFlush(t.Context(), o, alerts("p", 2, time.Date(2025, 12, 31, 23, 59, 0, 0, time.UTC))); err != nil {
		t.Fatalf("Flush: %v", err)
	}
	if len(c.docs["tld-alerts-2025.12.31"]) != 1 || len(c.docs["tld-alerts-2026.01.01"]) != 1 {
		t.Errorf("indices %v", c.docs)
	}
}

func TestAReplayedBatchOverwritesInsteadOfDuplicating(t *testing.T) {
	c := newCluster(t)
	o := newOutput(t, c.options())
	batch := alerts("r", 5, time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC))
	for range 3 {
		if err := writeFlush(t.Context(), o, batch); err != nil {
			t.Fatalf("Flush: %v", err)
		}
	}
	if n := c.count(); n != 5 {
		t.Errorf("after three deliveries of 5 alerts the cluster holds %d documents, want 5", n)
	}
	updated := 0
	for _, r := range c.results {
		if r == "updated" {
			updated++
		}
	}
	if updated != 10 {
		t.Errorf("%d items overwrote an earlier copy, want 10", updated)
	}
}

func TestFailedItemsAndRequestsAreRetried(t *testing.T) {
	ts := time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name  string
		setup func(c *cluster, opts *Options)
		// wantRequests lists the _ids of each bulk request (nil: refused whole).
		wantRequests [][]string
		wantRetried  int64
	}{
		{
			name: "items answered 429 once are the only ones sent again",
			setup: func(c *cluster, _ *Options) {
				c.itemFault = func(id string, seen int) (int, string, string) {
					if (id == "a-1" || id == "a-3") && seen == 1 {
						return http.StatusTooManyRequests, "rejected_execution_exception", "rejected execution of coordinating operation"
					}
					return 0, "", ""
				}
			},
			wantRequests: [][]string{{"a-0", "a-1", "a-2", "a-3"}, {"a-1", "a-3"}},
			wantRetried:  2,
		},
		{
			name: "an item failing with es_rejected_execution_exception is retried",
			setup: func(c *cluster, _ *Options) {
				c.itemFault = func(id string, seen int) (int, string, string) {
					if id == "a-2" && seen < 3 {
						return http.StatusTooManyRequests, "es_rejected_execution_exception", "queue full"
					}
					return 0, "", ""
				}
			},
			wantRequests: [][]string{{"a-0", "a-1", "a-2", "a-3"}, {"a-2"}, {"a-2"}},
			wantRetried:  2,
		},
		{
			name: "an item failing with a shard error (503) is retried",
			setup: func(c *cluster, _ *Options) {
				c.itemFault = func(id string, seen int) (int, string, string) {
					if id == "a-0" && seen == 1 {
						return http.StatusServiceUnavailable, "unavailable_shards_exception", "primary shard is not active"
					}
					return 0, "", ""
				}
			},
			wantRequests: [][]string{{"a-0", "a-1", "a-2", "a-3"}, {"a-0"}},
			wantRetried:  1,
		},
		{
			name: "a whole request answered 503 is sent again",
			setup: func(c *cluster, _ *Options) {
				c.requestFault = func(call int) (int, string) {
					if call == 1 {
						return http.StatusServiceUnavailable, ""
					}
					return 0, ""
				}
			},
			wantRequests: [][]string{nil, {"a-0", "a-1", "a-2", "a-3"}},
			wantRetried:  4,
		},
		{
			name: "a request refused mid-flush leaves it and the requests after it for the retry",
			setup: func(c *cluster, opts *Options) {
				opts.BatchSize = 2
				c.requestFault = func(call int) (int, string) {
					if call == 2 {
						return http.StatusBadGateway, ""
					}
					return 0, ""
				}
			},
			wantRequests: [][]string{{"a-0", "a-1"}, nil, {"a-2", "a-3"}},
			wantRetried:  2,
		},
		{
			name: "a request too large for the cluster is split in halves",
			setup: func(c *cluster, _ *Options) {
				one := len(encode([]doc{encodeForTest(testAlert("a-0", ts))}))
				c.maxBody = 2*one + one/2
			},
			wantRequests: [][]string{nil, {"a-0", "a-1"}, {"a-2", "a-3"}},
			wantRetried:  0,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCluster(t)
			opts := c.options()
			tt.setup(c, &opts)
			o := newOutput(t, opts)
			if err := writeFlush(t.Context(), o, alerts("a", 4, ts)); err != nil {
				t.Fatalf("Flush: %v", err)
			}
			if n := c.count(); n != 4 {
				t.Errorf("the cluster holds %d documents, want 4", n)
			}
			if got := c.bulkRequests(); !slices.EqualFunc(got, tt.wantRequests, slices.Equal) {
				t.Errorf("bulk requests carried %v, want %v", got, tt.wantRequests)
			}
			s := o.Stats()
			if s.Retried != tt.wantRetried || s.Indexed != 4 || s.Requests != int64(len(tt.wantRequests)) {
				t.Errorf("stats %+v, want Retried %d, Indexed 4, Requests %d", s, tt.wantRetried, len(tt.wantRequests))
			}
		})
	}
}

// encodeForTest is what Write makes of one alert.
func encodeForTest(a *alert.Alert) doc {
	src, _ := json.Marshal(a)
	index := IndexName(DefaultIndexPrefix, a.Timestamp)
	return doc{index: index, id: a.ID, action: actionLine(index, a.ID), source: src}
}

func TestRequestsStayWithinBatchSizeAndMaxBytes(t *testing.T) {
	ts := time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)
	one := encodeForTest(testAlert("b-0", ts)).size()
	tests := []struct {
		name      string
		batchSize int
		maxBytes  int
		want      []int // documents per request
	}{
		{"ten alerts in batches of three make four requests", 3, 0, []int{3, 3, 3, 1}},
		{"a byte limit of two and a half documents makes pairs", 0, 2*one + one/2, []int{2, 2, 2, 2, 2}},
		{"a byte limit below one document still sends each alone", 0, one / 2, []int{1, 1, 1, 1, 1, 1, 1, 1, 1, 1}},
		{"the defaults send ten alerts at once", 0, 0, []int{10}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCluster(t)
			opts := c.options()
			opts.BatchSize, opts.MaxBytes = tt.batchSize, tt.maxBytes
			o := newOutput(t, opts)
			if err := writeFlush(t.Context(), o, alerts("b", 10, ts)); err != nil {
				t.Fatalf("Flush: %v", err)
			}
			var got []int
			for _, r := range c.bulkRequests() {
				got = append(got, len(r))
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("documents per request %v, want %v", got, tt.want)
			}
			for i, n := range c.bodySizes {
				if tt.maxBytes > 0 && n > max(tt.maxBytes, one) {
					t.Errorf("request %d has %d bytes, over the limit of %d", i+1, n, tt.maxBytes)
				}
			}
		})
	}
}

func TestPersistentThrottlingFailsTheFlushAfterTheRetries(t *testing.T) {
	c := newCluster(t)
	c.itemFault = func(id string, _ int) (int, string, string) {
		if id == "t-1" {
			return http.StatusTooManyRequests, "rejected_execution_exception", "rejected execution of primary operation"
		}
		return 0, "", ""
	}
	opts := c.options()
	opts.MaxRetries = 3
	o := newOutput(t, opts)
	err := writeFlush(t.Context(), o, alerts("t", 3, time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)))
	if err == nil {
		t.Fatal("Flush succeeded while the cluster kept throttling an item")
	}
	for _, want := range []string{"1 of 3 documents not indexed after 3 retries", "t-1", "429", "rejected_execution_exception"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	if got := c.seen["t-1"]; got != 4 {
		t.Errorf("t-1 was sent %d times, want 1 + 3 retries", got)
	}
	if s := o.Stats(); s.FailedFlushes != 1 || s.Indexed != 2 || s.Retried != 3 {
		t.Errorf("stats %+v", s)
	}
	// The failed flush dropped its buffer: the pipeline replays the batch.
	if err := o.Flush(t.Context()); err != nil || len(c.bulkRequests()) != 4 {
		t.Errorf("a second Flush sent something again (err %v, %d requests)", err, len(c.bulkRequests()))
	}
}

func TestCancellingTheContextStopsTheWaitBeforeARetry(t *testing.T) {
	c := newCluster(t)
	c.requestFault = func(int) (int, string) { return http.StatusServiceUnavailable, "" }
	opts := c.options()
	opts.InitialBackoff, opts.MaxBackoff = time.Hour, time.Hour
	o := newOutput(t, opts)
	ctx, cancel := context.WithCancel(t.Context())
	if err := o.Write(ctx, pipeline.Records{Alerts: alerts("c", 2, time.Now())}); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- o.Flush(ctx) }()
	deadline := time.After(5 * time.Second)
	for len(c.bulkRequests()) == 0 {
		select {
		case <-deadline:
			t.Fatal("no bulk request came")
		case <-time.After(time.Millisecond):
		}
	}
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Flush returned %v, want context.Canceled", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Flush kept waiting after its context was cancelled")
	}
}

func TestRetryAfterIsHonoured(t *testing.T) {
	c := newCluster(t)
	c.requestFault = func(call int) (int, string) {
		if call == 1 {
			return http.StatusTooManyRequests, "1"
		}
		return 0, ""
	}
	o := newOutput(t, c.options()) // backoff of a few milliseconds
	start := time.Now()
	if err := writeFlush(t.Context(), o, alerts("ra", 1, time.Now())); err != nil {
		t.Fatalf("Flush: %v", err)
	}
	if waited := time.Since(start); waited < time.Second {
		t.Errorf("retried after %v, before the Retry-After of 1s", waited)
	}
}

func TestRetryAfterHeaderForms(t *testing.T) {
	now := time.Date(2024, 1, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name, value string
		want        time.Duration
	}{
		{"no header means no wait", "", 0},
		{"seconds are read", "7", 7 * time.Second},
		{"an HTTP date is read as the time until it", now.Add(30 * time.Second).Format(http.TimeFormat), 30 * time.Second},
		{"a date in the past means no wait", now.Add(-time.Minute).Format(http.TimeFormat), 0},
		{"an absurd wait is capped", "86400", maxRetryAfter},
		{"garbage is ignored", "soon", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			if tt.value != "" {
				h.Set("Retry-After", tt.value)
			}
			if got := retryAfter(h, now); got != tt.want {
				t.Errorf("retryAfter(%q) = %v, want %v", tt.value, got, tt.want)
			}
		})
	}
}

func TestMappingRejections(t *testing.T) {
	ts := time.Date(2024, 7, 1, 8, 0, 0, 0, time.UTC)
	reason := "failed to parse field [data.srcip] of type [ip] in document with id 'm-1'"
	tests := []struct {
		name       string
		deadLetter bool
		wantErr    bool
	}{
		{"with a dead-letter file the rejected document is kept there and the flush succeeds", true, false},
		{"without a dead-letter file the flush fails and names the document", false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCluster(t)
			c.itemFault = func(id string, _ int) (int, string, string) {
				if id == "m-1" {
					return http.StatusBadRequest, "mapper_parsing_exception", reason
				}
				return 0, "", ""
			}
			var logs bytes.Buffer
			opts := c.options()
			opts.Logger = slog.New(slog.NewJSONHandler(&logs, nil))
			dlq := filepath.Join(t.TempDir(), "queue", "opensearch-dead-letter.json")
			if tt.deadLetter {
				opts.DeadLetterPath = dlq
			}
			o := newOutput(t, opts)
			as := alerts("m", 3, ts)
			err := writeFlush(t.Context(), o, as)
			if (err != nil) != tt.wantErr {
				t.Fatalf("Flush error %v, want error: %v", err, tt.wantErr)
			}
			if err != nil {
				for _, want := range []string{"rejected 1 documents", "m-1", "mapper_parsing_exception", "wazuh-alerts-4.x-2024.07.01"} {
					if !strings.Contains(err.Error(), want) {
						t.Errorf("error %q does not say %q", err, want)
					}
				}
			}
			if c.seen["m-1"] != 1 {
				t.Errorf("the rejected document was sent %d times; a mapping error must not be retried", c.seen["m-1"])
			}
			if c.count() != 2 {
				t.Errorf("the cluster holds %d documents, want the 2 good ones", c.count())
			}
			if s := o.Stats(); s.Rejected != 1 || s.Indexed != 2 || s.Retried != 0 {
				t.Errorf("stats %+v", s)
			}
			// The log names the document and the reason but holds no body.
			if !strings.Contains(logs.String(), `"id":"m-1"`) || !strings.Contains(logs.String(), "mapper_parsing_exception") || !strings.Contains(logs.String(), `"index":"wazuh-alerts-4.x-2024.07.01"`) {
				t.Errorf("the rejection was not logged with index, id and reason:\n%s", logs.String())
			}
			if strings.Contains(logs.String(), "Invalid user admin") {
				t.Errorf("the log holds the document body:\n%s", logs.String())
			}
			lines := readLines(t, dlq)
			if !tt.deadLetter {
				if lines != nil {
					t.Errorf("a dead-letter file was written though none was configured")
				}
				return
			}
			if len(lines) != 1 {
				t.Fatalf("dead-letter file has %d lines, want 1", len(lines))
			}
			var rec struct {
				Index, ID string
				Status    int
				Error     struct{ Type, Reason string }
				Document  json.RawMessage
			}
			if err := json.Unmarshal([]byte(lines[0]), &rec); err != nil {
				t.Fatalf("dead-letter line: %v", err)
			}
			exact, _ := json.Marshal(as[1])
			if rec.Index != "wazuh-alerts-4.x-2024.07.01" || rec.ID != "m-1" || rec.Status != 400 ||
				rec.Error.Type != "mapper_parsing_exception" || rec.Error.Reason != reason || !bytes.Equal(rec.Document, exact) {
				t.Errorf("dead-letter record %+v (document %s)", rec, rec.Document)
			}
			if s := o.Stats(); s.DeadLettered != 1 {
				t.Errorf("stats %+v, want DeadLettered 1", s)
			}
		})
	}
}

func TestADocumentTooLargeForTheClusterAloneIsRejected(t *testing.T) {
	c := newCluster(t)
	c.maxBody = 100 // smaller than any alert
	opts := c.options()
	opts.DeadLetterPath = filepath.Join(t.TempDir(), "dl.json")
	o := newOutput(t, opts)
	if err := writeFlush(t.Context(), o, alerts("big", 2, time.Now())); err != nil {
		t.Fatalf("Flush: %v", err)
	}
	if s := o.Stats(); s.Rejected != 2 || s.DeadLettered != 2 {
		t.Errorf("stats %+v, want both documents rejected", s)
	}
	if lines := readLines(t, opts.DeadLetterPath); len(lines) != 2 || !strings.Contains(lines[0], "request_too_large") {
		t.Errorf("dead-letter lines %v", lines)
	}
}

func TestARefusedRequestFailsWithoutRetrying(t *testing.T) {
	c := newCluster(t)
	opts := c.options()
	opts.Username = "intruder"
	o := newOutput(t, opts)
	err := writeFlush(t.Context(), o, alerts("x", 1, time.Now()))
	if err == nil || !strings.Contains(err.Error(), "status 401") || !strings.Contains(err.Error(), "security_exception") {
		t.Errorf("Flush error %v, want the 401 and its reason", err)
	}
	if c.badAuth != 1 {
		t.Errorf("%d requests were made; a 401 must not be retried", c.badAuth)
	}
}

func TestFlushBlocksWhileTheClusterStalls(t *testing.T) {
	c := newCluster(t)
	c.stall, c.stalled = make(chan struct{}), make(chan struct{}, 1)
	o := newOutput(t, c.options())
	if err := o.Write(t.Context(), pipeline.Records{Alerts: alerts("s", 3, time.Now())}); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- o.Flush(t.Context()) }()
	select {
	case <-c.stalled:
	case <-time.After(5 * time.Second):
		t.Fatal("no bulk request reached the cluster")
	}
	select {
	case err := <-done:
		t.Fatalf("Flush returned (%v) while the cluster had not answered", err)
	case <-time.After(200 * time.Millisecond):
	}
	close(c.stall)
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Flush: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Flush did not return once the cluster answered")
	}
	if c.count() != 3 {
		t.Errorf("the cluster holds %d documents, want 3", c.count())
	}
}

func TestThePasswordIsNeverShown(t *testing.T) {
	const password = "s3cr3t-horse-battery"
	var (
		logs bytes.Buffer
		mu   sync.Mutex
	)
	logger := slog.New(slog.NewTextHandler(&lockedWriter{w: &logs, mu: &mu}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	var shown []string
	check := func(what string, err error) {
		if err != nil {
			shown = append(shown, what+": "+err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err))
		}
	}

	// A cluster that throttles, rejects a document and refuses the template.
	c := newCluster(t)
	c.itemFault = func(id string, _ int) (int, string, string) {
		switch id {
		case "p-0":
			return http.StatusTooManyRequests, "rejected_execution_exception", "busy"
		case "p-1":
			return http.StatusBadRequest, "mapper_parsing_exception", "bad field"
		}
		return 0, "", ""
	}
	opts := c.options()
	opts.Logger, opts.MaxRetries = logger, 1
	o := newOutput(t, opts)
	check("throttled flush", writeFlush(t.Context(), o, alerts("p", 3, time.Now())))
	shown = append(shown, fmt.Sprintf("%v %+v %#v", opts, opts, opts), fmt.Sprintf("%+v", o))

	c.templateStatus = http.StatusBadRequest
	topts := opts
	topts.TemplateInstall, topts.TemplateOverwrite = true, true
	_, err := New(t.Context(), topts)
	check("template", err)

	// A cluster that is gone.
	gone := newCluster(t)
	gone.srv.Close()
	gopts := gone.options()
	gopts.Logger, gopts.MaxRetries = logger, 1
	g := newOutput(t, gopts)
	check("connection refused", writeFlush(t.Context(), g, alerts("g", 1, time.Now())))

	// A password put in the URL by mistake.
	uopts := c.options()
	uopts.Addresses = []string{"https://admin:" + password + "@127.0.0.1:9200"}
	_, err = New(t.Context(), uopts)
	if err == nil {
		t.Error("an address holding a password was accepted")
	}
	check("password in URL", err)
	uopts.Addresses = []string{"https://admin:" + password + "@127.0.0.1:9200/%zz"}
	_, err = New(t.Context(), uopts)
	check("unparsable URL with a password", err)

	if len(shown) < 6 {
		t.Fatalf("only %d errors to look at; a scenario did not fail", len(shown))
	}
	mu.Lock()
	shown = append(shown, logs.String())
	mu.Unlock()
	for _, s := range shown {
		if strings.Contains(s, password) {
			t.Errorf("the password shows in:\n%s", s)
		}
	}
	if c.badAuth != 0 {
		t.Errorf("%d requests lacked the basic authentication", c.badAuth)
	}
}

type lockedWriter struct {
	w  *bytes.Buffer
	mu *sync.Mutex
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func TestCloseFlushesWhatIsBuffered(t *testing.T) {
	c := newCluster(t)
	o, err := New(t.Context(), c.options())
	if err != nil {
		t.Fatal(err)
	}
	if err := o.Write(t.Context(), pipeline.Records{Alerts: alerts("z", 2, time.Now())}); err != nil {
		t.Fatal(err)
	}
	if err := o.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if c.count() != 2 {
		t.Errorf("the cluster holds %d documents after Close, want 2", c.count())
	}
}

func TestOptionsAreValidated(t *testing.T) {
	tests := []struct {
		name string
		edit func(*Options)
		want []string
	}{
		{"no address is refused", func(o *Options) { o.Addresses = nil }, []string{"no address"}},
		{"an address of another scheme is refused", func(o *Options) { o.Addresses = []string{"ftp://127.0.0.1:9200"} }, []string{"scheme must be http or https"}},
		{"an address that is not a URL is refused", func(o *Options) { o.Addresses = []string{"https://[::1"} }, []string{"not a URL"}},
		{"an uppercase prefix is refused", func(o *Options) { o.IndexPrefix = "Wazuh-" }, []string{"lowercase"}},
		{"a prefix with a star is refused", func(o *Options) { o.IndexPrefix = "wazuh-*" }, []string{"must not contain"}},
		{"a certificate without its key is refused", func(o *Options) { o.CertFile = "c.pem" }, []string{"both a certificate file and a key file"}},
		{"a missing CA file is refused", func(o *Options) { o.CAFiles = []string{"/nonexistent/ca.pem"} }, []string{"read CA file"}},
		{"every problem is reported at once", func(o *Options) {
			o.Addresses = []string{"ftp://x"}
			o.IndexPrefix = "_x"
		}, []string{"scheme must be http or https", "must not start with"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := Options{Addresses: []string{"https://127.0.0.1:9200"}}
			tt.edit(&opts)
			_, err := New(t.Context(), opts)
			if err == nil {
				t.Fatal("New accepted the options")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
}

func TestACAFileWithoutACertificateIsRefused(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.pem")
	if err := os.WriteFile(bad, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := New(t.Context(), Options{Addresses: []string{"https://127.0.0.1:9200"}, CAFiles: []string{bad}})
	if err == nil || !strings.Contains(err.Error(), "no PEM certificate") {
		t.Errorf("New with a CA file holding no certificate: %v", err)
	}
}

func TestTheClusterIsTrustedThroughTheCAFile(t *testing.T) {
	c := newTLSCluster(t)
	caFile := filepath.Join(t.TempDir(), "root-ca.pem")
	ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.srv.Certificate().Raw})
	if err := os.WriteFile(caFile, ca, 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		edit    func(*Options)
		wantErr string
	}{
		{"with the CA file the cluster is trusted", func(o *Options) { o.CAFiles = []string{caFile} }, ""},
		{"without it the certificate is refused", func(*Options) {}, "certificate"},
		{"skipping verification trusts anything", func(o *Options) { o.InsecureSkipVerify = true }, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := c.options()
			opts.MaxRetries = -1
			tt.edit(&opts)
			o := newOutput(t, opts)
			err := writeFlush(t.Context(), o, alerts("tls", 1, time.Now()))
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("Flush: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("Flush error %v, want one about the %s", err, tt.wantErr)
			}
		})
	}
}

func readLines(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		out = append(out, sc.Text())
	}
	return out
}

func TestABareHostAndPortMeansHTTPS(t *testing.T) {
	o, err := New(t.Context(), Options{Addresses: []string{"192.0.2.1:9200", "http://192.0.2.2:9200"}})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	defer o.Close()
	if want := []string{"https://192.0.2.1:9200", "http://192.0.2.2:9200"}; !slices.Equal(o.opts.Addresses, want) {
		t.Errorf("addresses %v, want %v", o.opts.Addresses, want)
	}
}

// BenchmarkEncodeABulkRequest measures the per-alert cost on the way to
// the cluster: the alert JSON, the action line and the NDJSON body.
func BenchmarkEncodeABulkRequest(b *testing.B) {
	as := alerts("bench", DefaultBatchSize, time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC))
	b.ReportAllocs()
	for b.Loop() {
		docs := make([]doc, 0, len(as))
		for _, a := range as {
			docs = append(docs, encodeForTest(a))
		}
		_ = encode(docs)
	}
}
