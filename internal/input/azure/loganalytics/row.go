package loganalytics

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"github.com/threatlockdown/tld/internal/event"
)

// ingestColumn is the column the collector adds to every result: the
// row's ingestion time. It is used for windows and dropped from events.
const ingestColumn = "TldIngestionTime"

// column is a result column, with its JSON key pre-encoded.
type column struct {
	name, typ string
	key       []byte // `"name":`
}

// layout is what a result's columns mean to the collector.
type layout struct {
	cols      []column
	ingestIdx int // index of ingestColumn
	genIdx    int // index of TimeGenerated, -1 if none
}

func newLayout(cols []resultColumn) (*layout, error) {
	l := &layout{ingestIdx: -1, genIdx: -1}
	for i, c := range cols {
		k, _ := json.Marshal(c.Name)
		l.cols = append(l.cols, column{name: c.Name, typ: c.Type, key: append(k, ':')})
		switch c.Name {
		case ingestColumn:
			l.ingestIdx = i
		case "TimeGenerated":
			l.genIdx = i
		}
	}
	if l.ingestIdx < 0 {
		return nil, fmt.Errorf("the result has no %s column: the query must return records of a table (no summarize or project after it), so that their ingestion time is known", ingestColumn)
	}
	return l, nil
}

// row is one decoded result row.
type row struct {
	ingest int64  // unix ns
	id     uint64 // first 8 bytes of the identity, for the seen set
	ident  string // hex identity: sha256 of ingestion time and row JSON
	log    string // the event's JSON, tags included
	gen    time.Time
}

// renderer turns result rows into event text; it reuses its buffers.
type renderer struct {
	tag     []byte // `,"azure_tag":"azure-log-analytics"` and the request's tag
	scratch bytes.Buffer
	buf     []byte
}

func newRenderer(tag string) *renderer {
	t := []byte(`"azure_tag":"azure-log-analytics"`)
	if tag != "" {
		// Wazuh's module adds log_analytics_tag only when a tag is set.
		q, _ := json.Marshal(tag)
		t = append(append(t, `,"log_analytics_tag":`...), q...)
	}
	return &renderer{tag: t}
}

// render builds the event of one row: an object of the row's columns in
// result order, dynamic columns decoded, then azure_tag and
// log_analytics_tag, as Wazuh's module builds it (a dict of column name to
// value, the tags appended as extra columns).
// vals are the row's values (indexRows checked their number) and ingest
// its ingestion time.
func (r *renderer) render(l *layout, vals [][]byte, ingest int64) row {
	out := row{ingest: ingest}
	rawIngest := vals[l.ingestIdx]
	if l.genIdx >= 0 {
		out.gen, _ = parseDatetime(vals[l.genIdx])
	}
	b := append(r.buf[:0], '{')
	first := true
	for i, v := range vals {
		if i == l.ingestIdx {
			continue
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		b = append(b, l.cols[i].key...)
		b = r.appendValue(b, l.cols[i].typ, v)
	}
	// The identity covers the row and its ingestion time: the same record
	// read twice has it, two records that only look alike do not.
	h := sha256.New()
	h.Write(rawIngest)
	h.Write([]byte{0})
	h.Write(b)
	var sum [sha256.Size]byte
	h.Sum(sum[:0])
	out.id = binary.BigEndian.Uint64(sum[:8])
	out.ident = hex.EncodeToString(sum[:16])
	if !first {
		b = append(b, ',')
	}
	b = append(b, r.tag...)
	b = append(b, '}')
	out.log = string(b)
	r.buf = b[:0]
	return out
}

// appendValue writes a value as JSON: dynamic values, which the API sends
// as JSON text in a string, become the object or array they hold; every
// other value is written as the API sent it.
func (r *renderer) appendValue(b []byte, typ string, v []byte) []byte {
	if len(v) == 0 {
		return append(b, "null"...)
	}
	if typ == "dynamic" {
		src := []byte(v)
		if v[0] == '"' {
			var s string
			if json.Unmarshal(v, &s) == nil {
				src = []byte(s)
			}
		}
		if t := bytes.TrimSpace(src); len(t) > 0 && (t[0] == '{' || t[0] == '[') {
			r.scratch.Reset()
			if json.Compact(&r.scratch, t) == nil {
				return append(b, r.scratch.Bytes()...)
			}
		}
		return append(b, v...)
	}
	if v[0] == '{' || v[0] == '[' {
		r.scratch.Reset()
		if json.Compact(&r.scratch, v) == nil {
			return append(b, r.scratch.Bytes()...)
		}
	}
	return append(b, v...)
}

// parseDatetime reads a datetime value of a result (a JSON string).
func parseDatetime(v []byte) (time.Time, error) {
	if len(v) < 2 || v[0] != '"' || v[len(v)-1] != '"' {
		return time.Time{}, fmt.Errorf("not a datetime string")
	}
	return time.Parse(time.RFC3339Nano, string(v[1:len(v)-1]))
}

// event makes the pipeline event of a row of r.
func (rw row) event(r *request) event.Event {
	return event.Event{
		ID:       event.NewID("azure-log-analytics", r.Workspace, r.queryHash, rw.ident),
		Location: "Azure",
		Log:      rw.log,
		Format:   event.FormatJSON,
		Time:     rw.gen,
	}
}
