package blob

import (
	"context"
	"encoding/pem"
	"errors"
	"io"
	stdlog "log"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/threatlockdown/tld/internal/checkpoint"
	"github.com/threatlockdown/tld/internal/config"
	"github.com/threatlockdown/tld/internal/event"
	"github.com/threatlockdown/tld/internal/pipeline"
)

func TestChangedBlobsAreReadAgain(t *testing.T) {
	type write struct {
		name   string
		data   string
		append bool // to an append blob; else the blob is replaced
	}
	cases := []struct {
		name        string
		contentType string
		first       []write
		want1       []string // logs of the first pass (any order)
		problems1   []string
		then        []write
		want2       []string // logs of the pass after the change
		problems2   []string
		// keep lists the logs of the first pass that must keep their
		// ids when the second pass sends them again.
		keep []string
	}{
		{
			name:        "a json_file rewritten with new records is read whole; unchanged records keep their ids",
			contentType: "json_file",
			first:       []write{{name: "PT1H.json", data: `{"records": [{"n":1},{"n":2}]}`}},
			want1:       []string{`{"n": 1, "azure_tag": "azure-storage", "azure_storage_tag": "t"}`, `{"n": 2, "azure_tag": "azure-storage", "azure_storage_tag": "t"}`},
			then:        []write{{name: "PT1H.json", data: "{\"records\": [\n  {\"n\": 1},\n  {\"n\":2},\n  {\"n\":3}\n]}"}},
			want2: []string{
				`{"n": 1, "azure_tag": "azure-storage", "azure_storage_tag": "t"}`,
				`{"n": 2, "azure_tag": "azure-storage", "azure_storage_tag": "t"}`,
				`{"n": 3, "azure_tag": "azure-storage", "azure_storage_tag": "t"}`,
			},
			keep: []string{`{"n": 1, "azure_tag": "azure-storage", "azure_storage_tag": "t"}`, `{"n": 2, "azure_tag": "azure-storage", "azure_storage_tag": "t"}`},
		},
		{
			name:        "a text blob appended to is read from where the last read stopped",
			contentType: "text",
			first:       []write{{name: "app.log", data: "one\ntwo\n", append: true}},
			want1:       []string{wazuhText("t", "one"), wazuhText("t", "two")},
			then:        []write{{name: "app.log", data: "three\n", append: true}},
			want2:       []string{wazuhText("t", "three")},
		},
		{
			name:        "an unterminated last line is read again whole once the blob grows",
			contentType: "text",
			first:       []write{{name: "app.log", data: "one\npart", append: true}},
			want1:       []string{wazuhText("t", "one"), wazuhText("t", "part")},
			then:        []write{{name: "app.log", data: "ial\ntwo\n", append: true}},
			want2:       []string{wazuhText("t", "partial"), wazuhText("t", "two")},
		},
		{
			name:        "a text blob rewritten with other content is read whole; unchanged lines keep their ids",
			contentType: "text",
			first:       []write{{name: "app.log", data: "alpha\nbeta\n"}},
			want1:       []string{wazuhText("t", "alpha"), wazuhText("t", "beta")},
			then:        []write{{name: "app.log", data: "gamma\nbeta\n"}},
			want2:       []string{wazuhText("t", "gamma"), wazuhText("t", "beta")},
			keep:        []string{wazuhText("t", "beta")},
		},
		{
			name:        "a json_inline object cut short is read when the blob grows, and reported once",
			contentType: "json_inline",
			first:       []write{{name: "x.json", data: "{\"a\":1}\n{\"b\":", append: true}},
			want1:       []string{`{"azure_tag": "azure-storage", "azure_storage_tag": "t", "a":1}`},
			problems1:   []string{"x.json: byte 8: JSON object cut short"},
			then:        []write{{name: "x.json", data: "2}\n{\"c\":3}\n", append: true}},
			want2:       []string{`{"azure_tag": "azure-storage", "azure_storage_tag": "t", "b":2}`, `{"azure_tag": "azure-storage", "azure_storage_tag": "t", "c":3}`},
		},
		{
			name:        "identical lines of one blob are distinct events",
			contentType: "text",
			first:       []write{{name: "app.log", data: "same\nsame\n", append: true}},
			want1:       []string{wazuhText("t", "same"), wazuhText("t", "same")},
			then:        []write{{name: "app.log", data: "same\n", append: true}},
			want2:       []string{wazuhText("t", "same")},
		},
		{
			name:        "a blob that became empty is reported, then read when it has content again",
			contentType: "text",
			first:       []write{{name: "app.log", data: "one\n"}},
			want1:       []string{wazuhText("t", "one")},
			then:        []write{{name: "app.log", data: ""}},
			problems2:   []string{"app.log: empty blob"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			cont := e.container("c")
			do := func(ws []write) {
				for _, w := range ws {
					if w.append {
						e.appendTo(cont, w.name, []byte(w.data))
					} else {
						e.put(cont, w.name, []byte(w.data))
					}
				}
			}
			c := e.collector(e.config("t", config.AzureContainer{Name: cont, ContentType: tc.contentType}))
			do(tc.first)
			evs1, probs1 := e.collect(c)
			checkLogs(t, "first pass", evs1, tc.want1)
			checkProblems(t, probs1, tc.problems1)

			do(tc.then)
			evs2, probs2 := e.collect(c)
			checkLogs(t, "after the change", evs2, tc.want2)
			checkProblems(t, probs2, tc.problems2)
			checkEvents(t, "t", evs2)
			for _, log := range tc.keep {
				a, b := eventsContaining(evs1, log), eventsContaining(evs2, log)
				if len(a) != 1 || len(b) != 1 || a[0].ID != b[0].ID {
					t.Errorf("%s: ids %v then %v, want one and the same", log, idsOf(a), idsOf(b))
				}
			}
			ids1 := idsOf(evs1)
			for _, ev := range evs2 {
				if ids1[ev.ID] && !slices.Contains(tc.keep, ev.Log) {
					t.Errorf("new record %s has the id of a record read before", ev.Log)
				}
			}
			if evs, probs := e.collect(c); len(evs) > 0 || len(probs) > 0 {
				t.Errorf("a third pass read %q and reported %v; want nothing", logsOf(evs), probs)
			}
		})
	}
}

func checkLogs(t *testing.T, when string, evs []event.Event, want []string) {
	t.Helper()
	got := logsOf(evs)
	want = slices.Clone(want)
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("%s: events\n got %q\nwant %q", when, got, want)
	}
}

// A crash (here: batches that are never acknowledged, then a new collector
// on the same state directory) loses nothing: a blob whose last batch was
// not acknowledged is read again, with the same event ids.
func TestCrashBeforeAcknowledgementLosesNothing(t *testing.T) {
	e := newEnv(t)
	cont := e.container("c")
	var all []string
	for _, b := range []string{"a", "b", "c"} {
		var lines []string
		for i := range 3 {
			lines = append(lines, b+string(rune('0'+i)))
			all = append(all, wazuhText("t", b+string(rune('0'+i))))
		}
		e.put(cont, b+".log", []byte(strings.Join(lines, "\n")+"\n"))
	}
	cfg := e.config("t", config.AzureContainer{Name: cont})
	cfg.BatchSize = 2 // blob a: [a0 a1] [a2], ...

	// First run: batch 0 is acknowledged, batch 1 (which completes blob a)
	// and all later ones never are; the run is stopped after batch 3.
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	em := newEmitter(t, func(n int) bool {
		if n == 3 {
			cancel()
		}
		return n >= 1
	})
	err := e.collector(cfg).Collect(ctx, em, e.store, nil, e.logger())
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Collect = %v, want context.Canceled", err)
	}
	first := em.events()
	if len(first) < 3 {
		t.Fatalf("first run emitted %d events before stopping", len(first))
	}

	// The new process: a new store on the same directory, a new collector.
	st, err := checkpoint.Open(e.store.Dir())
	if err != nil {
		t.Fatal(err)
	}
	e.store = st
	second, probs := e.collect(e.collector(cfg))
	checkProblems(t, probs, nil)

	delivered := append(em.ackedEvents(), second...)
	got := map[string]bool{}
	for _, l := range logsOf(delivered) {
		got[l] = true
	}
	for _, l := range all {
		if !got[l] {
			t.Errorf("lost %q", l)
		}
	}
	// Everything the first run emitted is emitted again with the same id
	// (none of its blobs was completely acknowledged).
	ids := idsOf(second)
	for _, ev := range first {
		if !ids[ev.ID] {
			t.Errorf("%q was not read again with its id after the crash", ev.Log)
		}
	}
	if len(second) != len(all) {
		t.Errorf("second run emitted %d events, want %d", len(second), len(all))
	}
}

// A batch the pipeline gives up on (Ack with an error) leaves its blob
// unread: the next pass reads it again.
func TestRefusedBatchIsReadAgain(t *testing.T) {
	e := newEnv(t)
	cont := e.container("c")
	e.put(cont, "a.log", []byte("one\ntwo\n"))
	c := e.collector(e.config("t", config.AzureContainer{Name: cont}))
	refusing := &refuser{}
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	if err := c.Collect(ctx, refusing, e.store, nil, e.logger()); err != nil {
		t.Fatal(err)
	}
	evs, _ := e.collect(c)
	checkLogs(t, "after a refused batch", evs, []string{wazuhText("t", "one"), wazuhText("t", "two")})
}

type refuser struct{}

func (refuser) Emit(_ context.Context, b pipeline.Batch) error {
	go b.Ack(errors.New("output down"))
	return nil
}

func TestAllContainers(t *testing.T) {
	e := newEnv(t)
	// "*" lists every container of the account: start from none.
	ctx := context.Background()
	pager := e.svc.NewListContainersPager(nil)
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range page.ContainerItems {
			if _, err := e.svc.DeleteContainer(ctx, *it.Name, nil); err != nil {
				t.Fatal(err)
			}
		}
	}
	a, b := e.container("a"), e.container("b")
	e.put(a, "x/1.log", []byte("from a\n"))
	e.put(b, "2.log", []byte("from b\n"))
	c := e.collector(e.config("t", config.AzureContainer{Name: "*"}))
	evs, probs := e.collect(c)
	checkLogs(t, "all containers", evs, []string{wazuhText("t", "from a"), wazuhText("t", "from b")})
	checkProblems(t, probs, nil)

	// A container created later is found by the next pass.
	later := e.container("later")
	e.put(later, "3.log", []byte("from later\n"))
	evs, _ = e.collect(c)
	checkLogs(t, "second pass", evs, []string{wazuhText("t", "from later")})
}

func TestTimeOffsetBoundsTheFirstPass(t *testing.T) {
	cases := []struct {
		name  string
		clock time.Duration // added to now for the first pass
		want  int
	}{
		{"blobs modified within time_offset are read", 0, 1},
		{"blobs modified before time_offset are not", 25 * time.Hour, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			cont := e.container("c")
			e.put(cont, "a.log", []byte("line\n"))
			cfg := e.config("t", config.AzureContainer{Name: cont, TimeOffset: 24 * time.Hour})
			cfg.Now = func() time.Time { return time.Now().Add(tc.clock) }
			if evs, _ := e.collect(e.collector(cfg)); len(evs) != tc.want {
				t.Errorf("got %d events, want %d", len(evs), tc.want)
			}
		})
	}
}

func TestContainersThatCannotBeListed(t *testing.T) {
	t.Run("with no container listed, Collect fails and reports it", func(t *testing.T) {
		e := newEnv(t)
		c := e.collector(e.config("t", config.AzureContainer{Name: e.prefix + "-missing"}))
		var pr problems
		em := newEmitter(t, nil)
		err := c.Collect(context.Background(), em, e.store, pr.report, e.logger())
		if err == nil || !strings.Contains(err.Error(), "nothing could be listed") {
			t.Errorf("Collect = %v, want an error saying nothing could be listed", err)
		}
		checkProblems(t, pr.all(), []string{"-missing: container does not exist"})
	})
	t.Run("a missing container is reported and the others are read", func(t *testing.T) {
		e := newEnv(t)
		ok := e.container("ok")
		e.put(ok, "a.log", []byte("line\n"))
		c := e.collector(e.config("t", config.AzureContainer{Name: e.prefix + "-missing"}, config.AzureContainer{Name: ok}))
		evs, probs := e.collect(c)
		checkLogs(t, "pass", evs, []string{wazuhText("t", "line")})
		checkProblems(t, probs, []string{"-missing: container does not exist"})
	})
}

// faultProxy stands between the collector and Azurite and fails requests
// for chosen blobs: "flaky" ones once with 503, "broken" ones always with
// 500.
type faultProxy struct {
	mu    sync.Mutex
	tries map[string]int
}

func (f *faultProxy) start(t *testing.T, target string) string {
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	rp := httputil.NewSingleHostReverseProxy(u)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && r.URL.Query().Get("comp") == "" {
			f.mu.Lock()
			f.tries[r.URL.Path]++
			n := f.tries[r.URL.Path]
			f.mu.Unlock()
			switch {
			case strings.Contains(r.URL.Path, "broken"):
				http.Error(w, "injected", http.StatusInternalServerError)
				return
			case strings.Contains(r.URL.Path, "flaky") && n == 1:
				http.Error(w, "injected", http.StatusServiceUnavailable)
				return
			}
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestServerErrorsAreRetriedThenReported(t *testing.T) {
	e := newEnv(t)
	cont := e.container("c")
	e.put(cont, "flaky.log", []byte("after a retry\n"))
	e.put(cont, "broken.log", []byte("never read\n"))
	e.put(cont, "fine.log", []byte("fine\n"))
	fp := &faultProxy{tries: map[string]int{}}
	base := strings.TrimSuffix(e.az.endpoint, "/{account}")
	proxy := fp.start(t, base)
	cfg := e.config("t", config.AzureContainer{Name: cont})
	cfg.Endpoint = proxy + "/{account}"
	c := e.collector(cfg)
	evs, probs := e.collect(c)
	checkLogs(t, "pass", evs, []string{wazuhText("t", "after a retry"), wazuhText("t", "fine")})
	checkProblems(t, probs, []string{"c/broken.log: read blob: HTTP 500"})
	fp.mu.Lock()
	for path, n := range fp.tries {
		if strings.Contains(path, "broken") && n != 2 { // MaxRetries 1
			t.Errorf("%s tried %d times, want 2", path, n)
		}
	}
	fp.mu.Unlock()
	// The broken blob is tried again on the next pass, and reported again.
	evs, probs = e.collect(c)
	checkLogs(t, "second pass", evs, nil)
	checkProblems(t, probs, []string{"c/broken.log: read blob: HTTP 500"})
}

// The account key is a secret: no log line, problem or error shows it, with
// the right key or a wrong one.
func TestAccountKeyIsNeverShown(t *testing.T) {
	const wrongKey = "V3JvbmdLZXlXcm9uZ0tleVdyb25nS2V5V3JvbmdLZXlXcm9uZ0tleVdyb25nS2V5V3JvbmdLZXk="
	for _, key := range []string{devKey, wrongKey} {
		t.Run(map[string]string{devKey: "right key", wrongKey: "wrong key"}[key], func(t *testing.T) {
			e := newEnv(t)
			cont := e.container("c")
			e.put(cont, "empty.log", nil)
			e.put(cont, "a.log", []byte("line\n"))
			cfg := e.config("t", config.AzureContainer{Name: cont}, config.AzureContainer{Name: e.prefix + "-missing"})
			cfg.Storage.AccountKey = config.NewSecret(key)
			c := e.collector(cfg)
			var pr problems
			err := c.Collect(context.Background(), newEmitter(t, nil), e.store, pr.report, e.logger())
			shown := e.logs.String()
			if err != nil {
				shown += err.Error()
			}
			for _, p := range pr.all() {
				shown += p.Source + p.Reason
			}
			if key == wrongKey && err == nil {
				t.Errorf("Collect with a wrong key succeeded")
			}
			if !strings.Contains(shown, "level=") {
				t.Errorf("nothing was logged: %q", shown)
			}
			for _, k := range []string{devKey, wrongKey, devKey[:20], wrongKey[:20]} {
				if strings.Contains(shown, k) {
					t.Errorf("the account key appears in what was shown:\n%s", shown)
				}
			}
		})
	}
	t.Run("a key that is not base64 is refused without being shown", func(t *testing.T) {
		cfg := Config{Storage: config.AzureStorage{AccountName: "acct", AccountKey: config.NewSecret("not*base64*secret"),
			Containers: []config.AzureContainer{{Name: "c", ContentType: "text"}}}}
		_, err := New(cfg)
		if err == nil || strings.Contains(err.Error(), "not*base64*secret") {
			t.Errorf("New = %v; want an error that does not show the key", err)
		}
	})
}

func TestCredentialsFileAndCAFile(t *testing.T) {
	e := newEnv(t)
	cont := e.container("c")
	e.put(cont, "a.log", []byte("over TLS\n"))

	// Azurite behind a TLS proxy whose certificate only ca_file trusts.
	target, err := url.Parse(strings.TrimSuffix(e.az.endpoint, "/{account}"))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(httputil.NewSingleHostReverseProxy(target))
	srv.Config.ErrorLog = stdlog.New(io.Discard, "", 0) // the refused handshakes
	srv.StartTLS()
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	caFile := filepath.Join(dir, "ca.pem")
	pemCert := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	if err := os.WriteFile(caFile, pemCert, 0o600); err != nil {
		t.Fatal(err)
	}
	authFile := filepath.Join(dir, "storage")
	if err := os.WriteFile(authFile, []byte("account_name = "+devAccount+"\naccount_key = "+devKey+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	cfg := e.config("t", config.AzureContainer{Name: cont})
	cfg.Storage.AccountName, cfg.Storage.AccountKey, cfg.Storage.AuthPath = "", config.Secret{}, authFile
	cfg.Endpoint = srv.URL + "/{account}"

	t.Run("without ca_file the proxy's certificate is refused", func(t *testing.T) {
		err := e.collector(cfg).Collect(context.Background(), newEmitter(t, nil), e.store, nil, e.logger())
		if err == nil || !strings.Contains(err.Error(), "certificate") {
			t.Errorf("Collect = %v, want a certificate error", err)
		}
	})
	t.Run("with ca_file, and the key from auth_path, the blobs are read", func(t *testing.T) {
		cfg := cfg
		cfg.CAFile = caFile
		evs, probs := e.collect(e.collector(cfg))
		checkLogs(t, "pass", evs, []string{wazuhText("t", "over TLS")})
		checkProblems(t, probs, nil)
	})
}
