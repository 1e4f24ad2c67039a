package opensearch

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// cluster is an HTTP double of the parts of OpenSearch the output uses:
// the legacy template API and _bulk. It parses real NDJSON bulk bodies,
// checks index names, ids and documents, stores what it indexed, and can
// be told to fail in the ways a real cluster does.
type cluster struct {
	t      *testing.T
	srv    *httptest.Server
	user   string
	pass   string
	prefix string

	mu        sync.Mutex
	docs      map[string]map[string]json.RawMessage // index → _id → source
	requests  [][]string                            // _ids of each bulk request, in order
	bodySizes []int
	seen      map[string]int // _id → times it came in a bulk request
	results   []string       // "created"/"updated" of every indexed item
	badAuth   int
	templates map[string]json.RawMessage
	tmplPuts  int
	tmplHeads int

	// itemFault, when set, decides the fate of one item: a zero status
	// indexes it.
	itemFault func(id string, seen int) (status int, typ, reason string)
	// requestFault, when set, can refuse a whole bulk request.
	requestFault func(call int) (status int, retryAfter string)
	// maxBody answers 413 to larger bulk bodies, as
	// http.max_content_length does.
	maxBody int
	// stall, when set, holds each bulk request until it is closed;
	// stalled receives a value when a request starts waiting.
	stall   chan struct{}
	stalled chan struct{}
	// templateStatus, when set, answers template puts with that status.
	templateStatus int
}

var indexName = regexp.MustCompile(`^(.*)(\d{4})\.(\d{2})\.(\d{2})$`)

func newCluster(t *testing.T) *cluster {
	t.Helper()
	c := &cluster{
		t: t, user: "tld", pass: "s3cr3t-horse-battery", prefix: DefaultIndexPrefix,
		docs: map[string]map[string]json.RawMessage{}, seen: map[string]int{}, templates: map[string]json.RawMessage{},
	}
	c.srv = httptest.NewServer(http.HandlerFunc(c.serve))
	t.Cleanup(c.srv.Close)
	return c
}

// newTLSCluster is newCluster served over HTTPS with a certificate of its
// own, which the output must be told to trust.
func newTLSCluster(t *testing.T) *cluster {
	t.Helper()
	c := newCluster(t)
	c.srv.Close()
	c.srv = httptest.NewTLSServer(http.HandlerFunc(c.serve))
	t.Cleanup(c.srv.Close)
	return c
}

// options are output options pointing at the double, with quick retries.
func (c *cluster) options() Options {
	return Options{
		Addresses:      []string{c.srv.URL},
		Username:       c.user,
		Password:       secret(c.pass),
		InitialBackoff: time.Millisecond,
		MaxBackoff:     5 * time.Millisecond,
		Logger:         slog.New(slog.DiscardHandler),
	}
}

func (c *cluster) serve(w http.ResponseWriter, r *http.Request) {
	if u, p, ok := r.BasicAuth(); !ok || u != c.user || p != c.pass {
		c.mu.Lock()
		c.badAuth++
		c.mu.Unlock()
		writeJSON(w, http.StatusUnauthorized, `{"error":{"type":"security_exception","reason":"missing authentication credentials"},"status":401}`)
		return
	}
	switch {
	case r.URL.Path == "/_bulk" && r.Method == http.MethodPost:
		c.bulk(w, r)
	case strings.HasPrefix(r.URL.Path, "/_template/") && r.Method == http.MethodPut:
		c.putTemplate(w, r)
	case strings.HasPrefix(r.URL.Path, "/_template/") && r.Method == http.MethodHead:
		c.mu.Lock()
		c.tmplHeads++
		_, ok := c.templates[strings.TrimPrefix(r.URL.Path, "/_template/")]
		c.mu.Unlock()
		if ok {
			w.WriteHeader(http.StatusOK)
		} else {
			w.WriteHeader(http.StatusNotFound)
		}
	default:
		c.t.Errorf("double: unexpected request %s %s", r.Method, r.URL)
		writeJSON(w, http.StatusNotFound, `{"error":{"type":"no_handler","reason":"not in the double"},"status":404}`)
	}
}

func (c *cluster) putTemplate(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil || !json.Valid(body) {
		c.t.Errorf("double: template body is not JSON: %v", err)
		writeJSON(w, http.StatusBadRequest, `{"error":{"type":"parse_exception","reason":"bad body"},"status":400}`)
		return
	}
	c.mu.Lock()
	c.tmplPuts++
	status := c.templateStatus
	if status == 0 {
		c.templates[strings.TrimPrefix(r.URL.Path, "/_template/")] = body
	}
	c.mu.Unlock()
	if status != 0 {
		writeJSON(w, status, fmt.Sprintf(`{"error":{"type":"illegal_argument_exception","reason":"template rejected by the double"},"status":%d}`, status))
		return
	}
	writeJSON(w, http.StatusOK, `{"acknowledged":true}`)
}

type bulkItem struct {
	Index  string     `json:"_index"`
	ID     string     `json:"_id"`
	Status int        `json:"status"`
	Result string     `json:"result,omitempty"`
	Error  *itemError `json:"error,omitempty"`
}

type itemError struct {
	Type   string `json:"type"`
	Reason string `json:"reason"`
}

func (c *cluster) bulk(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/x-ndjson") && !strings.HasPrefix(ct, "application/json") {
		c.t.Errorf("double: bulk content type %q", ct)
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		c.t.Errorf("double: read bulk body: %v", err)
		return
	}
	if c.stall != nil {
		c.stalled <- struct{}{}
		<-c.stall
	}
	c.mu.Lock()
	call := len(c.requests) + 1
	c.bodySizes = append(c.bodySizes, len(body))
	c.mu.Unlock()
	if c.requestFault != nil {
		if status, after := c.requestFault(call); status != 0 {
			c.mu.Lock()
			c.requests = append(c.requests, nil)
			c.mu.Unlock()
			if after != "" {
				w.Header().Set("Retry-After", after)
			}
			writeJSON(w, status, fmt.Sprintf(`{"error":{"type":"cluster_busy","reason":"injected by the double"},"status":%d}`, status))
			return
		}
	}
	if c.maxBody > 0 && len(body) > c.maxBody {
		c.mu.Lock()
		c.requests = append(c.requests, nil)
		c.mu.Unlock()
		w.WriteHeader(http.StatusRequestEntityTooLarge) // OpenSearch sends no body here
		return
	}
	if len(body) == 0 || body[len(body)-1] != '\n' {
		c.t.Errorf("double: a bulk body must end with a newline")
	}
	var (
		items []map[string]bulkItem
		ids   []string
		lines [][]byte
	)
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(make([]byte, 0, 64<<10), 64<<20)
	for sc.Scan() {
		lines = append(lines, bytes.Clone(sc.Bytes()))
	}
	if len(lines)%2 != 0 {
		c.t.Errorf("double: bulk body has %d lines, not action/source pairs", len(lines))
		writeJSON(w, http.StatusBadRequest, `{"error":{"type":"illegal_argument_exception","reason":"odd line count"},"status":400}`)
		return
	}
	anyErr := false
	for i := 0; i < len(lines); i += 2 {
		var action map[string]struct {
			Index string `json:"_index"`
			ID    string `json:"_id"`
		}
		if err := json.Unmarshal(lines[i], &action); err != nil || len(action) != 1 {
			c.t.Errorf("double: action line %q: %v", lines[i], err)
			continue
		}
		meta, ok := action["index"]
		if !ok {
			c.t.Errorf("double: action line %q is not an index action", lines[i])
			continue
		}
		ids = append(ids, meta.ID)
		item := bulkItem{Index: meta.Index, ID: meta.ID}
		if problem := c.check(meta.Index, meta.ID, lines[i+1]); problem != "" {
			c.t.Errorf("double: %s", problem)
			item.Status, item.Error = http.StatusBadRequest, &itemError{"double_check_failed", problem}
		} else {
			c.mu.Lock()
			c.seen[meta.ID]++
			seen := c.seen[meta.ID]
			c.mu.Unlock()
			if c.itemFault != nil {
				if status, typ, reason := c.itemFault(meta.ID, seen); status != 0 {
					item.Status, item.Error = status, &itemError{typ, reason}
				}
			}
		}
		if item.Error == nil {
			c.mu.Lock()
			if c.docs[meta.Index] == nil {
				c.docs[meta.Index] = map[string]json.RawMessage{}
			}
			_, existed := c.docs[meta.Index][meta.ID]
			c.docs[meta.Index][meta.ID] = lines[i+1]
			item.Status, item.Result = http.StatusCreated, "created"
			if existed {
				item.Status, item.Result = http.StatusOK, "updated"
			}
			c.results = append(c.results, item.Result)
			c.mu.Unlock()
		} else {
			anyErr = true
		}
		items = append(items, map[string]bulkItem{"index": item})
	}
	c.mu.Lock()
	c.requests = append(c.requests, ids)
	c.mu.Unlock()
	resp, err := json.Marshal(map[string]any{"took": time.Since(start).Milliseconds(), "errors": anyErr, "items": items})
	if err != nil {
		c.t.Errorf("double: encode response: %v", err)
	}
	writeJSON(w, http.StatusOK, string(resp))
}

// check validates one action/source pair the way the real indices would
// need it: a daily index under the prefix, the event id as _id, and a
// source whose own id and UTC day agree with them.
func (c *cluster) check(index, id string, source []byte) string {
	m := indexName.FindStringSubmatch(index)
	if m == nil || m[1] != c.prefix {
		return fmt.Sprintf("index %q is not %sYYYY.MM.DD", index, c.prefix)
	}
	if id == "" {
		return fmt.Sprintf("no _id for a document in %s", index)
	}
	var src struct {
		Timestamp string `json:"timestamp"`
		ID        string `json:"id"`
	}
	if err := json.Unmarshal(source, &src); err != nil {
		return fmt.Sprintf("source of %s is not JSON: %v", id, err)
	}
	if src.ID != id {
		return fmt.Sprintf("_id %q but the alert's id is %q", id, src.ID)
	}
	ts, err := time.Parse("2006-01-02T15:04:05.000-0700", src.Timestamp)
	if err != nil {
		return fmt.Sprintf("timestamp %q of %s: %v", src.Timestamp, id, err)
	}
	if day := ts.UTC().Format("2006.01.02"); day != m[2]+"."+m[3]+"."+m[4] {
		return fmt.Sprintf("document %s of UTC day %s went to %s", id, day, index)
	}
	return ""
}

func writeJSON(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	io.WriteString(w, body)
}

// count returns how many documents the double holds.
func (c *cluster) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, ids := range c.docs {
		n += len(ids)
	}
	return n
}

func (c *cluster) bulkRequests() [][]string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([][]string(nil), c.requests...)
}
