package azuretest

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The Log Analytics query API (https://learn.microsoft.com/rest/api/loganalytics/dataaccess/query/execute):
//
//	POST /v1/workspaces/{workspaceId}/query   {"query": "...", "timespan": "start/end"}
//	GET  /v1/workspaces/{workspaceId}/query?query=...&timespan=...
//
// The bearer token must be for https://api.loganalytics.io and of the
// workspace's tenant. "Prefer: wait=N" bounds the time the service works
// on a query (504 GatewayTimeout after it; default 180 s). The answer is
// {"tables":[{"name":"PrimaryResult","columns":[{"name","type"}],"rows":[[...]]}]};
// a result over RowLimit rows or SizeLimit bytes is truncated and carries
// "error": {"code": "PartialError", ...} next to "tables"; other errors are
// OneAPI error objects. The timespan restricts TimeGenerated; the query is
// read as documented in kql.go. Datetimes are written as ISO 8601 UTC with
// up to seven fractional digits, dynamic values as JSON text in a string,
// as the service writes them.

// logAnalyticsAudience is the token audience of the query API.
const logAnalyticsAudience = "https://api.loganalytics.io"

func init() {
	registerRoutes(func(s *Server, mux *http.ServeMux) {
		mux.HandleFunc("POST /v1/workspaces/{workspace}/query", s.handleQuery)
		mux.HandleFunc("GET /v1/workspaces/{workspace}/query", s.handleQuery)
	})
}

// Workspace is a Log Analytics workspace of the double.
type Workspace struct {
	id, tenant string
	mu         sync.Mutex
	tables     map[string]*Table
}

// AddWorkspace creates a workspace readable with tokens of tenantID.
func (s *Server) AddWorkspace(id, tenantID string) *Workspace {
	s.mu.Lock()
	defer s.mu.Unlock()
	w := &Workspace{id: id, tenant: tenantID, tables: map[string]*Table{}}
	s.workspaces[strings.ToLower(id)] = w
	return w
}

// Column is a column of a table: a name and a Log Analytics type (string,
// datetime, int, long, real, bool, dynamic, guid, timespan).
type Column struct{ Name, Type string }

// Table is a table of a workspace. Rows are stored compactly: two times
// and either a pre-encoded row or nothing (a synthetic row, rendered from
// its index when served), so millions of rows stay cheap.
type Table struct {
	name    string
	columns []Column
	genCol  int // index of TimeGenerated, -1 if none

	mu        sync.Mutex
	ingest    []int64 // unix ns
	generated []int64 // unix ns
	rawIdx    []int32 // -1: synthetic
	raws      [][]byte
}

// Table returns the workspace's table name, creating it with columns.
func (w *Workspace) Table(name string, columns ...Column) *Table {
	w.mu.Lock()
	defer w.mu.Unlock()
	if t := w.tables[name]; t != nil {
		return t
	}
	t := &Table{name: name, columns: columns, genCol: -1}
	for i, c := range columns {
		if c.Name == "TimeGenerated" {
			t.genCol = i
		}
	}
	w.tables[name] = t
	return t
}

// Len is the number of rows of the table.
func (t *Table) Len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.ingest)
}

// Add appends a row ingested at ingested. values follow the columns: a
// time.Time for datetime columns, any JSON-encodable value for dynamic
// columns (sent as JSON text in a string), nil for null. The row's
// TimeGenerated is its TimeGenerated column, or ingested without one.
func (t *Table) Add(ingested time.Time, values ...any) {
	if len(values) != len(t.columns) {
		panic(fmt.Sprintf("azuretest: table %s has %d columns, got %d values", t.name, len(t.columns), len(values)))
	}
	gen := ingested
	var b []byte
	for i, v := range values {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendValue(b, t.columns[i].Type, v)
		if i == t.genCol {
			if tv, ok := v.(time.Time); ok {
				gen = tv
			}
		}
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.ingest = append(t.ingest, ingested.UnixNano())
	t.generated = append(t.generated, gen.UnixNano())
	t.rawIdx = append(t.rawIdx, int32(len(t.raws)))
	t.raws = append(t.raws, b)
}

// AddRecord appends a row given as column name → value; missing columns
// are null.
func (t *Table) AddRecord(ingested time.Time, rec map[string]any) {
	vals := make([]any, len(t.columns))
	for i, c := range t.columns {
		vals[i] = rec[c.Name]
	}
	t.Add(ingested, vals...)
}

// AddSynthetic appends n rows whose values are made up from their row
// number: row k (0-based among the table's rows) is ingested at
// firstIngested + k'·step (k' counting the rows of this call) and generated
// lag before that. Values: TimeGenerated and other datetimes the generated
// time, Type the table name, strings "<column>-<k>", numbers k, bools k
// even, dynamic {"k":k}.
func (t *Table) AddSynthetic(n int, firstIngested time.Time, step, lag time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	base := firstIngested.UnixNano()
	t.ingest = slices.Grow(t.ingest, n)
	t.generated = slices.Grow(t.generated, n)
	t.rawIdx = slices.Grow(t.rawIdx, n)
	for i := 0; i < n; i++ {
		in := base + int64(i)*int64(step)
		t.ingest = append(t.ingest, in)
		t.generated = append(t.generated, in-int64(lag))
		t.rawIdx = append(t.rawIdx, -1)
	}
}

// appendSynthetic renders the values of synthetic row k.
func (t *Table) appendSynthetic(b []byte, k int, gen int64) []byte {
	for i, c := range t.columns {
		if i > 0 {
			b = append(b, ',')
		}
		switch c.Type {
		case "datetime":
			b = append(b, '"')
			b = appendTime(b, gen)
			b = append(b, '"')
		case "string":
			if c.Name == "Type" {
				b = strconv.AppendQuote(b, t.name)
			} else {
				b = append(b, '"')
				b = append(b, c.Name...)
				b = append(b, '-')
				b = strconv.AppendInt(b, int64(k), 10)
				b = append(b, '"')
			}
		case "int", "long":
			b = strconv.AppendInt(b, int64(k), 10)
		case "real":
			b = strconv.AppendFloat(b, float64(k)+0.5, 'f', -1, 64)
		case "bool":
			b = strconv.AppendBool(b, k%2 == 0)
		case "dynamic":
			b = append(b, `"{\"k\":`...)
			b = strconv.AppendInt(b, int64(k), 10)
			b = append(b, `}"`...)
		default:
			b = append(b, "null"...)
		}
	}
	return b
}

// appendTime writes a datetime as the service does: ISO 8601 UTC, 100 ns
// precision, trailing zeros of the fraction dropped. It is written by hand:
// time.AppendFormat dominated the time to serve large results.
func appendTime(b []byte, ns int64) []byte {
	t := time.Unix(0, ns).UTC()
	y, mo, d := t.Date()
	h, mi, s := t.Clock()
	b = appendDigits(b, y, 4)
	b = append(b, '-')
	b = appendDigits(b, int(mo), 2)
	b = append(b, '-')
	b = appendDigits(b, d, 2)
	b = append(b, 'T')
	b = appendDigits(b, h, 2)
	b = append(b, ':')
	b = appendDigits(b, mi, 2)
	b = append(b, ':')
	b = appendDigits(b, s, 2)
	if frac := t.Nanosecond() / 100; frac != 0 {
		digits := 7
		for frac%10 == 0 {
			frac /= 10
			digits--
		}
		b = append(b, '.')
		b = appendDigits(b, frac, digits)
	}
	return append(b, 'Z')
}

// appendDigits writes v with at least n digits, zero-padded.
func appendDigits(b []byte, v, n int) []byte {
	var tmp [20]byte
	i := len(tmp)
	for v > 0 || n > 0 {
		i--
		tmp[i] = byte('0' + v%10)
		v /= 10
		n--
	}
	return append(b, tmp[i:]...)
}

func appendValue(b []byte, typ string, v any) []byte {
	if v == nil {
		return append(b, "null"...)
	}
	if tv, ok := v.(time.Time); ok {
		b = append(b, '"')
		b = appendTime(b, tv.UnixNano())
		return append(b, '"')
	}
	enc, err := json.Marshal(v)
	if err != nil {
		panic("azuretest: " + err.Error())
	}
	if typ == "dynamic" {
		if _, isString := v.(string); !isString {
			// dynamic values travel as JSON text in a string.
			enc, _ = json.Marshal(string(enc))
		}
	}
	return append(b, enc...)
}

// QueryRecord describes one query the double answered.
type QueryRecord struct {
	Workspace string
	Query     string
	Timespan  string
	Wait      int // seconds asked with Prefer: wait
	Status    int
	Rows      int // rows in the answer
	Partial   bool
}

// Queries returns the queries answered so far.
func (s *Server) Queries() []QueryRecord {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]QueryRecord(nil), s.queryLog...)
}

func (s *Server) logQuery(rec QueryRecord) {
	s.mu.Lock()
	s.queryLog = append(s.queryLog, rec)
	s.mu.Unlock()
}

func (s *Server) handleQuery(w http.ResponseWriter, r *http.Request) {
	s.count("query")
	rec := QueryRecord{Workspace: r.PathValue("workspace")}
	status, wait := s.serveQuery(w, r, &rec)
	rec.Status, rec.Wait = status, wait
	s.logQuery(rec)
}

// serveQuery answers a query and returns the status sent and the Prefer wait.
func (s *Server) serveQuery(w http.ResponseWriter, r *http.Request, rec *QueryRecord) (int, int) {
	wait := 180
	for _, p := range strings.Split(r.Header.Get("Prefer"), ",") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(p), "wait="); ok {
			if n, err := strconv.Atoi(v); err == nil && n > 0 {
				wait = min(n, 600)
			}
		}
	}
	fail := func(status int, body errorBody) (int, int) {
		if status == http.StatusUnauthorized {
			w.Header().Set("WWW-Authenticate", `Bearer authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", error="invalid_token", error_description="`+body.Error.Message+`"`)
		}
		writeJSON(w, status, body)
		return status, wait
	}
	tok, status, body := s.authorize(r, logAnalyticsAudience)
	if tok == nil {
		return fail(status, body)
	}
	s.mu.Lock()
	ws := s.workspaces[strings.ToLower(rec.Workspace)]
	s.mu.Unlock()
	if ws == nil {
		return fail(http.StatusNotFound, apiError("WorkspaceNotFoundError", fmt.Sprintf("The workspace %s could not be found", rec.Workspace), nil))
	}
	if !strings.EqualFold(ws.tenant, tok.tenant) {
		return fail(http.StatusForbidden, errorBody{Error: errorDetail{
			Code: "InsufficientAccessError", Message: "The provided credentials have insufficient access to perform the requested operation",
			InnerError: &innerError{Code: "UnauthorizedClient", Message: "The service principal does not have sufficient permissions to access this resource: " + rec.Workspace},
		}})
	}

	var req struct {
		Query    string `json:"query"`
		Timespan string `json:"timespan"`
	}
	if r.Method == http.MethodGet {
		req.Query, req.Timespan = r.URL.Query().Get("query"), r.URL.Query().Get("timespan")
	} else if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		return fail(http.StatusBadRequest, apiError("BadArgumentError", "The request had some invalid properties",
			&innerError{Code: "InvalidJsonBody", Message: err.Error()}))
	}
	rec.Query, rec.Timespan = req.Query, req.Timespan

	fault, faulty := s.nextFault("query")
	if faulty && fault.Delay > 0 {
		d := fault.Delay
		if !fault.Stall && d > time.Duration(wait)*time.Second {
			if !sleepCtx(r, time.Duration(wait)*time.Second) {
				return 0, wait
			}
			return fail(http.StatusGatewayTimeout, apiError("GatewayTimeout", "Gateway timeout", nil))
		}
		if !sleepCtx(r, d) {
			return 0, wait // the client gave up
		}
	}
	if faulty && fault.Status != 0 {
		if fault.RetryAfter > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(fault.RetryAfter.Seconds()))))
		}
		code, msg := "InternalServerError", "An internal error occurred"
		switch fault.Status {
		case http.StatusTooManyRequests:
			code, msg = "ThrottledError", "Your request has been throttled, please try again later"
		case http.StatusServiceUnavailable:
			code, msg = "ServiceUnavailableError", "The service is temporarily unavailable"
		case http.StatusGatewayTimeout:
			code, msg = "GatewayTimeout", "Gateway timeout"
		}
		return fail(fault.Status, apiError(code, msg, nil))
	}

	q, err := parseQuery(req.Query)
	if err != nil {
		return fail(http.StatusBadRequest, apiError("BadArgumentError", "The request had some invalid properties",
			&innerError{Code: "SyntaxError", Message: err.Error()}))
	}
	ws.mu.Lock()
	t := ws.tables[q.table]
	ws.mu.Unlock()
	if t == nil {
		return fail(http.StatusBadRequest, apiError("BadArgumentError", "The request had some invalid properties",
			&innerError{Code: "SemanticError", Message: fmt.Sprintf("'%s' could not be resolved to a table, function or variable", q.table)}))
	}
	spanFrom, spanTo := int64(math.MinInt64), int64(math.MaxInt64)
	if req.Timespan != "" {
		if spanFrom, spanTo, err = parseTimespan(req.Timespan, time.Now()); err != nil {
			return fail(http.StatusBadRequest, apiError("BadArgumentError", "The request had some invalid properties",
				&innerError{Code: "InvalidTimespan", Message: err.Error()}))
		}
	}
	body2, rows, partial := s.render(t, q, spanFrom, spanTo, faulty && fault.PartialError)
	rec.Rows, rec.Partial = rows, partial
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	w.Write(body2)
	return http.StatusOK, wait
}

// render evaluates q over t and writes the whole answer.
func (s *Server) render(t *Table, q *laQuery, spanFrom, spanTo int64, injectPartial bool) ([]byte, int, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	idx := make([]int, 0, len(t.ingest))
	for i := range t.ingest {
		if g := t.generated[i]; g >= spanFrom && g < spanTo {
			idx = append(idx, i)
		}
	}
	var extra []string // extended columns, all ingestion times
	for _, op := range q.ops {
		switch op.kind {
		case opWhere:
			kept := idx[:0]
			for _, i := range idx {
				ok := true
				for _, c := range op.conds {
					v := t.generated[i]
					if c.f == fieldIngestion {
						v = t.ingest[i]
					}
					if !c.match(v) {
						ok = false
						break
					}
				}
				if ok {
					kept = append(kept, i)
				}
			}
			idx = kept
		case opExtend:
			extra = append(extra, op.name)
		case opSort:
			key := t.generated
			if op.f == fieldIngestion {
				key = t.ingest
			}
			less := func(a, b int) bool { return key[idx[a]] < key[idx[b]] }
			if op.desc {
				less = func(a, b int) bool { return key[idx[a]] > key[idx[b]] }
			}
			if !sort.SliceIsSorted(idx, less) { // rows are mostly stored in ingestion order
				sort.SliceStable(idx, less)
			}
		case opTake:
			if len(idx) > op.n {
				idx = idx[:op.n]
			}
		}
	}

	b := make([]byte, 0, 64+len(idx)*128)
	b = append(b, `{"tables":[{"name":"PrimaryResult","columns":[`...)
	for i, c := range t.columns {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendColumn(b, c)
	}
	for _, name := range extra {
		b = append(b, ',')
		b = appendColumn(b, Column{Name: name, Type: "datetime"})
	}
	b = append(b, `],"rows":[`...)
	var tooLarge string
	n := 0
	limit := len(idx)
	if injectPartial {
		limit = len(idx) / 2
	}
	for k, i := range idx[:limit] {
		if n >= s.RowLimit {
			tooLarge = fmt.Sprintf("Query result set has exceeded the internal record count limit %d records (E_QUERY_RESULT_SET_TOO_LARGE).", s.RowLimit)
			break
		}
		mark := len(b)
		if k > 0 {
			b = append(b, ',')
		}
		b = append(b, '[')
		if ri := t.rawIdx[i]; ri >= 0 {
			b = append(b, t.raws[ri]...)
		} else {
			b = t.appendSynthetic(b, i, t.generated[i])
		}
		for range extra {
			b = append(b, ',', '"')
			b = appendTime(b, t.ingest[i])
			b = append(b, '"')
		}
		b = append(b, ']')
		if len(b) > s.SizeLimit {
			b = b[:mark]
			tooLarge = fmt.Sprintf("Query result set has exceeded the internal data size limit %d bytes (E_QUERY_RESULT_SET_TOO_LARGE).", s.SizeLimit)
			break
		}
		n++
	}
	b = append(b, `]}]`...)
	partial := false
	switch {
	case tooLarge != "":
		partial = true
		b = appendPartialError(b, "EngineError", "-2133196797", tooLarge)
	case injectPartial:
		partial = true
		b = appendPartialError(b, "EngineError", "-2133196798",
			"Query execution lacks memory resources to complete (E_LOW_MEMORY_CONDITION).")
	}
	b = append(b, '}')
	return b, n, partial
}

func appendColumn(b []byte, c Column) []byte {
	b = append(b, `{"name":`...)
	b = strconv.AppendQuote(b, c.Name)
	b = append(b, `,"type":`...)
	b = strconv.AppendQuote(b, c.Type)
	return append(b, '}')
}

// appendPartialError adds the "error" member of a 200 answer that holds
// partial results, as the service writes it.
func appendPartialError(b []byte, code, innerCode, msg string) []byte {
	e, _ := json.Marshal(errorDetail{
		Code:    "PartialError",
		Message: "There were some errors when processing your query.",
		Details: []errorDetail{{
			Code: code, Message: "Something went wrong processing your query on the server.",
			InnerError: &innerError{Code: innerCode, Message: msg, Severity: 2, SeverityName: "Error"},
		}},
	})
	b = append(b, `,"error":`...)
	return append(b, e...)
}
