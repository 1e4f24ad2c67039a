package opensearch

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// deadLetter is the JSON-lines file of documents the cluster rejected for
// their content. Each line holds the document as it was sent, where it was
// going and why it was refused, so it can be fixed and indexed by hand.
// The file is opened at the first rejection, so a healthy setup never
// creates it.
type deadLetter struct {
	path string
	f    *os.File
}

// deadLetterRecord is one line of the dead-letter file.
type deadLetterRecord struct {
	Time     string          `json:"time"`
	Index    string          `json:"index"`
	ID       string          `json:"id"`
	Status   int             `json:"status"`
	Error    deadLetterError `json:"error"`
	Document json.RawMessage `json:"document"`
}

type deadLetterError struct {
	Type   string `json:"type"`
	Reason string `json:"reason"`
}

// write appends the rejections and syncs, since Flush reports them as
// handled (and the batch gets acknowledged) as soon as write returns.
func (dl *deadLetter) write(rs []rejection) error {
	if dl.f == nil {
		if err := os.MkdirAll(filepath.Dir(dl.path), 0o750); err != nil {
			return fmt.Errorf("create the dead-letter directory: %w", err)
		}
		f, err := os.OpenFile(dl.path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o640)
		if err != nil {
			return fmt.Errorf("open dead-letter file: %w", err)
		}
		dl.f = f
	}
	now := time.Now().UTC().Format(time.RFC3339Nano)
	var b []byte
	for _, r := range rs {
		line, err := json.Marshal(deadLetterRecord{
			Time: now, Index: r.doc.index, ID: r.doc.id, Status: r.status,
			Error:    deadLetterError{Type: r.typ, Reason: r.reason},
			Document: r.doc.source,
		})
		if err != nil {
			return fmt.Errorf("encode dead letter for id %s: %w", r.doc.id, err)
		}
		b = append(append(b, line...), '\n')
	}
	if _, err := dl.f.Write(b); err != nil {
		return fmt.Errorf("write dead-letter file %s: %w", dl.path, err)
	}
	if err := dl.f.Sync(); err != nil {
		return fmt.Errorf("sync dead-letter file %s: %w", dl.path, err)
	}
	return nil
}

func (dl *deadLetter) close() error {
	if dl.f == nil {
		return nil
	}
	err := dl.f.Close()
	dl.f = nil
	if err != nil && !errors.Is(err, os.ErrClosed) {
		return fmt.Errorf("close dead-letter file %s: %w", dl.path, err)
	}
	return nil
}
