package loganalytics

import (
	"bytes"
	"errors"
	"fmt"
	"sort"
)

// A page's rows array is cut into values without decoding it: half a
// million rows decoded into Go values cost more than the rest of a pass.
// The array was validated as JSON when the answer was decoded, so the scan
// trusts its shape.

// rowRef locates a row of a page and gives its ingestion time.
type rowRef struct {
	off    int   // where the row's '[' is in the rows array
	ingest int64 // unix ns
}

// indexRows lists the rows of raw in ingestion order (the order the query
// asks for; a stable sort restores it if something reordered them).
func indexRows(raw []byte, l *layout, capHint int) ([]rowRef, error) {
	refs := make([]rowRef, 0, capHint)
	var vals [][]byte
	i := skipSpace(raw, 0)
	if i >= len(raw) || raw[i] != '[' {
		if i < len(raw) && string(raw[i:]) == "null" {
			return nil, nil
		}
		return nil, errors.New("rows is not an array")
	}
	for i++; ; {
		i = skipSpace(raw, i)
		if i >= len(raw) {
			return nil, errors.New("rows: unexpected end")
		}
		switch raw[i] {
		case ']':
			if !sort.SliceIsSorted(refs, func(a, b int) bool { return refs[a].ingest < refs[b].ingest }) {
				sort.SliceStable(refs, func(a, b int) bool { return refs[a].ingest < refs[b].ingest })
			}
			return refs, nil
		case ',':
			i++
			continue
		case '[':
		default:
			return nil, errors.New("rows: a row is not an array")
		}
		off := i
		var end int
		vals, end = rowAt(raw, i, vals)
		if len(vals) != len(l.cols) {
			return nil, fmt.Errorf("row %d has %d values for %d columns", len(refs), len(vals), len(l.cols))
		}
		t, err := parseDatetime(vals[l.ingestIdx])
		if err != nil {
			return nil, fmt.Errorf("row %d: ingestion time %s: %w", len(refs), vals[l.ingestIdx], err)
		}
		refs = append(refs, rowRef{off: off, ingest: t.UnixNano()})
		i = end
	}
}

// rowAt cuts the row whose '[' is at i into vals (reused) and returns the
// index after its ']'.
func rowAt(raw []byte, i int, vals [][]byte) ([][]byte, int) {
	vals = vals[:0]
	for i++; i < len(raw); {
		i = skipSpace(raw, i)
		if i >= len(raw) {
			break
		}
		switch raw[i] {
		case ']':
			return vals, i + 1
		case ',':
			i++
			continue
		}
		end := valueEnd(raw, i)
		vals = append(vals, raw[i:end])
		i = end
	}
	return vals, len(raw)
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\n' || b[i] == '\r' || b[i] == '\t') {
		i++
	}
	return i
}

// valueEnd returns the index just after the JSON value starting at i.
func valueEnd(b []byte, i int) int {
	switch b[i] {
	case '"':
		return stringEnd(b, i)
	case '{', '[':
		depth := 0
		for ; i < len(b); i++ {
			switch b[i] {
			case '"':
				i = stringEnd(b, i) - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
		}
		return i
	}
	for i < len(b) {
		switch b[i] {
		case ',', ']', '}', ' ', '\n', '\r', '\t':
			return i
		}
		i++
	}
	return i
}

// stringEnd returns the index just after the string starting at i. It
// jumps from quote to quote (IndexByte is vectorised); a quote preceded
// by an odd run of backslashes is escaped.
func stringEnd(b []byte, i int) int {
	for i++; ; {
		j := bytes.IndexByte(b[i:], '"')
		if j < 0 {
			return len(b)
		}
		k := i + j
		n := 0
		for m := k - 1; m >= i && b[m] == '\\'; m-- {
			n++
		}
		if n%2 == 0 {
			return k + 1
		}
		i = k + 1
	}
}
