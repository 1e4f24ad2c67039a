package loganalytics

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
)

// The Log Analytics query API (api.loganalytics.io/v1/workspaces/{id}/query):
// a POST of {"query", "timespan"} with "Prefer: wait=N" answers
// {"tables":[{"name","columns":[{"name","type"}],"rows":[[...]]}]}; a result
// the engine could only partly compute is a 200 that also carries "error"
// (code PartialError, the cause in details/innererror); any other failure
// is a status with a OneAPI error object {"error":{"code","message",
// "details"|"innererror"}}.

// resultColumn is a column of a result table.
type resultColumn struct {
	Name string `json:"name"`
	Type string `json:"type"`
}

type resultTable struct {
	Name    string         `json:"name"`
	Columns []resultColumn `json:"columns"`
	// Rows stays raw: splitRows cuts it into values without copying, far
	// cheaper than decoding half a million rows into interfaces.
	Rows json.RawMessage `json:"rows"`
}

type queryResult struct {
	Tables []resultTable `json:"tables"`
	Error  *apiError     `json:"error"`
}

// apiError is a OneAPI error object.
type apiError struct {
	Code    string     `json:"code"`
	Message string     `json:"message"`
	Details []apiError `json:"details"`
	Inner   *apiError  `json:"innererror"`
}

// String flattens the error and its causes into one line.
func (e *apiError) String() string {
	if e == nil {
		return ""
	}
	var parts []string
	var walk func(e *apiError)
	walk = func(e *apiError) {
		if e.Message != "" || e.Code != "" {
			parts = append(parts, strings.TrimSpace(e.Code+": "+e.Message))
		}
		for i := range e.Details {
			walk(&e.Details[i])
		}
		if e.Inner != nil {
			walk(e.Inner)
		}
	}
	walk(e)
	return strings.Join(parts, "; ")
}

// tooLarge reports whether a partial result was cut at the service's
// record count or size limit (E_QUERY_RESULT_SET_TOO_LARGE).
func (e *apiError) tooLarge() bool {
	s := e.String()
	return strings.Contains(s, "E_QUERY_RESULT_SET_TOO_LARGE") || strings.Contains(s, "LimitsExceeded") ||
		strings.Contains(s, "has exceeded the internal")
}

// QueryError is a query the service refused or failed.
type QueryError struct {
	Workspace string
	Status    int
	Code      string // the service's error code: BadArgumentError, ThrottledError...
	Message   string // the error and its causes on one line
}

func (e *QueryError) Error() string {
	hint := ""
	switch {
	case e.Code == "InsufficientAccessError" || e.Status == http.StatusForbidden:
		hint = ": give the application the Log Analytics Reader role on the workspace"
	case e.Status == http.StatusNotFound:
		hint = ": check <workspace> (the Workspace ID from the workspace's Overview)"
	case e.Code == "BadArgumentError":
		hint = ": check <query>"
	}
	return fmt.Sprintf("workspace %s: HTTP %d %s%s", e.Workspace, e.Status, e.Message, hint)
}

// timedOut reports whether err is a query the service or the client gave
// up on for time: a smaller window may pass.
func timedOut(ctx context.Context, err error) bool {
	var qe *QueryError
	if errors.As(err, &qe) {
		return qe.Status == http.StatusGatewayTimeout || qe.Status == http.StatusRequestTimeout
	}
	return ctx.Err() == nil && errors.Is(err, context.DeadlineExceeded)
}

// kqlTime writes a time as a KQL datetime literal, at the engine's 100 ns
// precision.
func kqlTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.0000000Z") }

// buildQuery appends to the user's query the window on ingestion time
// (lo inclusive, hi exclusive), the ingestion time as a column, and the
// first top rows in ingestion order. Rows are thereby paged by ingestion
// time, and a page never exceeds the service's record limit.
func buildQuery(user string, lo, hi time.Time, top int) string {
	q := strings.TrimRight(strings.TrimSpace(user), ";")
	return q +
		"\n| where ingestion_time() >= datetime(" + kqlTime(lo) + ") and ingestion_time() < datetime(" + kqlTime(hi) + ")" +
		"\n| extend " + ingestColumn + " = ingestion_time()" +
		"\n| top " + strconv.Itoa(top) + " by " + ingestColumn + " asc"
}

// page is the answer to one windowed query.
type page struct {
	layout  *layout
	rows    json.RawMessage // the rows array, as sent
	partial *apiError       // set when the answer carried a PartialError
}

// query asks for the first top rows ingested in [lo, hi).
func (c *Collector) query(ctx context.Context, r *request, lo, hi time.Time, top int) (*page, error) {
	body := map[string]string{
		"query": buildQuery(r.Query, lo, hi, top),
		// The timespan filters TimeGenerated: wide enough for rows that
		// arrive late (generated long before their ingestion) or from a
		// clock that runs fast.
		"timespan": kqlTime(lo.Add(-c.cfg.MaxLateness)) + "/" + kqlTime(hi.Add(c.cfg.MaxFuture)),
	}
	u := c.cfg.Endpoint + "/v1/workspaces/" + url.PathEscape(r.Workspace) + "/query"
	req, err := c.pl.NewRequest(ctx, http.MethodPost, u, r.Timeout+c.cfg.TrySlack)
	if err != nil {
		return nil, err
	}
	req.Raw().Header.Set("Prefer", "wait="+strconv.Itoa(max(1, int(r.Timeout/time.Second))))
	if err := runtime.MarshalAsJSON(req, body); err != nil {
		return nil, err
	}
	resp, err := c.pl.Do(req)
	if err != nil {
		return nil, err
	}
	payload, err := runtime.Payload(resp)
	if err != nil {
		return nil, fmt.Errorf("read the answer: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		qe := &QueryError{Workspace: r.Workspace, Status: resp.StatusCode, Message: http.StatusText(resp.StatusCode)}
		var eb struct {
			Error *apiError `json:"error"`
		}
		if json.Unmarshal(payload, &eb) == nil && eb.Error != nil {
			qe.Code, qe.Message = eb.Error.Code, eb.Error.String()
		}
		return nil, qe
	}
	res, err := parseResult(payload)
	if err != nil {
		return nil, fmt.Errorf("workspace %s: the answer is not a query result: %w", r.Workspace, err)
	}
	p := &page{partial: res.Error}
	if len(res.Tables) == 0 {
		if p.partial != nil {
			return p, nil
		}
		return nil, fmt.Errorf("workspace %s: the answer holds no table", r.Workspace)
	}
	// Wazuh's module reads the first table; so do we.
	t := res.Tables[0]
	if p.layout, err = newLayout(t.Columns); err != nil {
		return nil, fmt.Errorf("workspace %s: %w", r.Workspace, err)
	}
	p.rows = t.Rows
	return p, nil
}

// parseResult reads a query answer. The small members are decoded with
// encoding/json; each table's rows are only delimited (rows.go cuts them
// up): validating and copying tens of megabytes of rows as JSON cost more
// than the rest of a pass.
func parseResult(b []byte) (*queryResult, error) {
	res := &queryResult{}
	err := eachMember(b, func(key string, v []byte) error {
		switch key {
		case "tables":
			return eachElement(v, func(tv []byte) error {
				var t resultTable
				err := eachMember(tv, func(k string, v []byte) error {
					switch k {
					case "name":
						return json.Unmarshal(v, &t.Name)
					case "columns":
						return json.Unmarshal(v, &t.Columns)
					case "rows":
						t.Rows = v
					}
					return nil
				})
				res.Tables = append(res.Tables, t)
				return err
			})
		case "error":
			return json.Unmarshal(v, &res.Error)
		}
		return nil
	})
	return res, err
}

// eachMember calls fn with each member of the JSON object b.
func eachMember(b []byte, fn func(key string, v []byte) error) error {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return errors.New("not an object")
	}
	for i++; ; {
		i = skipSpace(b, i)
		if i >= len(b) {
			return errors.New("unexpected end of object")
		}
		switch b[i] {
		case '}':
			return nil
		case ',':
			i++
			continue
		case '"':
		default:
			return fmt.Errorf("unexpected %q in object", b[i])
		}
		end := stringEnd(b, i)
		var key string
		if err := json.Unmarshal(b[i:end], &key); err != nil {
			return err
		}
		i = skipSpace(b, end)
		if i >= len(b) || b[i] != ':' {
			return errors.New("object member without ':'")
		}
		i = skipSpace(b, i+1)
		if i >= len(b) {
			return errors.New("unexpected end of object")
		}
		end = valueEnd(b, i)
		if err := fn(key, b[i:end]); err != nil {
			return err
		}
		i = end
	}
}

// eachElement calls fn with each element of the JSON array b.
func eachElement(b []byte, fn func(v []byte) error) error {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '[' {
		return errors.New("not an array")
	}
	for i++; ; {
		i = skipSpace(b, i)
		if i >= len(b) {
			return errors.New("unexpected end of array")
		}
		switch b[i] {
		case ']':
			return nil
		case ',':
			i++
			continue
		}
		end := valueEnd(b, i)
		if err := fn(b[i:end]); err != nil {
			return err
		}
		i = end
	}
}
