package logfile

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"

	"github.com/threatlockdown/tld/internal/event"
)

// readBufSize is the read buffer of one file; a line longer than this is
// assembled from several reads, up to Options.MaxLineBytes.
const readBufSize = 64 << 10

// tail is one open file being read. The reader goroutine owns every field
// except those marked as guarded by run.mu, which acks update.
type tail struct {
	path string // where the file was found; Location of its events
	spec *Spec
	f    *os.File
	rd   *bufio.Reader
	dev  uint64
	ino  uint64
	gen  uint64

	readPos   int64 // bytes consumed from f
	lineStart int64 // offset of the line being assembled
	lines     int64 // newlines before lineStart; -1 until counted
	pending   []byte
	skipping  bool  // in a line longer than MaxLineBytes
	skipLen   int64 // its length so far
	head      []byte
	headSum   string // hash of head once it is headSize long
	ident     string // identity part of event ids, once it cannot change
	lastEnd   int64  // where the last emitted batch (or advance) ended

	partialMark  int64     // readPos when an unterminated last line was seen
	partialSince time.Time // and since when it has not grown
	retryAt      time.Time // when to read again after a refused batch
	retiredAt    time.Time // when the path stopped naming this file

	// Guarded by run.mu.
	key      string // checkpoint key; "" once retired (nothing to save)
	inFlight int
	failed   bool
	failErr  error
	backoff  time.Duration
	acked    fileState  // the position every line before which is acked
	advance  *fileState // position to save once inFlight drops to zero
}

// seek positions the reader at off, knowing lines newlines before it.
func (t *tail) seek(off, lines int64) error {
	if _, err := t.f.Seek(off, io.SeekStart); err != nil {
		return err
	}
	if t.rd == nil {
		t.rd = bufio.NewReaderSize(t.f, readBufSize)
	} else {
		t.rd.Reset(t.f)
	}
	t.readPos, t.lineStart, t.lastEnd, t.lines = off, off, off, lines
	t.pending = t.pending[:0]
	t.skipping, t.skipLen = false, 0
	t.partialMark = -1
	return nil
}

// restart reads the file again from its start as new content (after a
// truncation): a new generation, so new event ids.
func (t *tail) restart() error {
	t.gen++
	t.head, t.headSum, t.ident = t.head[:0], "", ""
	return t.seek(0, 0)
}

// noteHead keeps the first headSize bytes of the file as they are read.
func (t *tail) noteHead(pos int64, b []byte) {
	have := int64(len(t.head))
	if have >= headSize || pos > have || pos+int64(len(b)) <= have {
		return
	}
	b = b[have-pos:]
	if room := headSize - int(have); len(b) > room {
		b = b[:room]
	}
	t.head = append(t.head, b...)
}

// stateAt is the checkpoint for a position the reader has passed.
func (t *tail) stateAt(off, lines int64) fileState {
	n := int(min(off, headSize))
	n = min(n, len(t.head))
	var sum string
	if n == headSize && t.headSum != "" {
		sum = t.headSum
	} else {
		sum = hashHex(t.head[:n])
		if n == headSize {
			t.headSum = sum
		}
	}
	return fileState{
		Path: t.path, Dev: t.dev, Ino: t.ino, Gen: t.gen,
		Offset: off, Lines: lines, HeadLen: n, HeadHash: sum,
	}
}

// identity is the part of event ids that names the file: device and inode
// (stable across renames), a hash of the first line (so that a new file that
// reuses a deleted file's inode gets other ids) and the generation.
func (t *tail) identity() string {
	if t.ident != "" {
		return t.ident
	}
	first, stable := t.head, len(t.head) == headSize
	if i := bytes.IndexByte(first, '\n'); i >= 0 {
		first, stable = first[:i], true
	} else if !stable {
		first = readHead(t.f, headSize)
		stable = len(first) == headSize
		if i := bytes.IndexByte(first, '\n'); i >= 0 {
			first, stable = first[:i], true
		}
	}
	sum := sha256.Sum256(first)
	id := strconv.FormatUint(t.dev, 10) + ":" + strconv.FormatUint(t.ino, 10) + ":" + fmt.Sprintf("%x", sum[:8])
	if t.gen > 0 {
		id += ":" + strconv.FormatUint(t.gen, 10)
	}
	if stable {
		// An unterminated first line shorter than headSize can still grow;
		// anything else before the lines we emit is fixed.
		t.ident = id
	}
	return id
}

// lineNumber is the 1-based number of the line starting at lineStart,
// counting the newlines before it if the file was first read mid-way.
func (t *tail) lineNumber() int64 {
	if t.lines < 0 {
		var n int64
		buf := make([]byte, readBufSize)
		for off := int64(0); off < t.lineStart; {
			chunk := buf[:min(int64(len(buf)), t.lineStart-off)]
			got, err := t.f.ReadAt(chunk, off)
			n += int64(bytes.Count(chunk[:got], []byte{'\n'}))
			off += int64(got)
			if err != nil {
				break
			}
		}
		t.lines = n
	}
	return t.lines + 1
}

// fill reads lines into a batch of at most r.opts.BatchSize events. It
// returns at the end of the batch or of the data (eof). With final, an
// unterminated last line counts as complete at EOF.
func (r *run) fill(t *tail, final bool) (evs []event.Event, eof bool, err error) {
	for len(evs) < r.opts.BatchSize {
		frag, err := t.rd.ReadSlice('\n')
		if len(frag) > 0 {
			t.noteHead(t.readPos, frag)
			t.readPos += int64(len(frag))
		}
		switch {
		case err == nil:
			evs = r.endLine(t, frag, evs)
		case errors.Is(err, bufio.ErrBufferFull):
			r.accumulate(t, frag)
		case err == io.EOF:
			r.accumulate(t, frag)
			if (len(t.pending) > 0 || t.skipping) && (final || r.partialExpired(t)) {
				evs = r.endLine(t, nil, evs)
			}
			return evs, true, nil
		default:
			r.accumulate(t, frag)
			return evs, false, err
		}
	}
	return evs, false, nil
}

// accumulate adds part of a line, dropping what it holds once the line is
// longer than allowed so that memory stays bounded.
func (r *run) accumulate(t *tail, frag []byte) {
	if t.skipping {
		t.skipLen += int64(len(frag))
		return
	}
	// +1 leaves room for the CR of a CRLF line of exactly the limit.
	if len(t.pending)+len(frag) > r.opts.MaxLineBytes+1 {
		t.skipping, t.skipLen = true, int64(len(t.pending)+len(frag))
		if cap(t.pending) > 2*readBufSize {
			t.pending = nil
		} else {
			t.pending = t.pending[:0]
		}
		return
	}
	t.pending = append(t.pending, frag...)
}

// partialExpired reports whether an unterminated last line has waited long
// enough (two polls without growing) to be emitted as it is: logcollector
// too gives up waiting for the newline eventually.
func (r *run) partialExpired(t *tail) bool {
	now := time.Now()
	if t.partialMark != t.readPos {
		t.partialMark, t.partialSince = t.readPos, now
		return false
	}
	return now.Sub(t.partialSince) >= r.in.partialWait
}

// endLine completes the line made of t.pending and frag (which ends with the
// newline, or is nil for an unterminated last line) and appends its event.
func (r *run) endLine(t *tail, frag []byte, evs []event.Event) []event.Event {
	terminated := len(frag) > 0
	if t.skipping {
		n := t.skipLen + int64(len(frag))
		if terminated {
			n--
		}
		r.oversized(t, n)
	} else {
		line := frag
		if len(t.pending) > 0 {
			t.pending = append(t.pending, frag...)
			line = t.pending
		}
		if terminated {
			line = line[:len(line)-1]
		}
		line = bytes.TrimSuffix(line, []byte{'\r'})
		switch {
		case len(line) > r.opts.MaxLineBytes:
			r.oversized(t, int64(len(line)))
		case len(line) == 0:
			// logcollector skips empty lines too.
		default:
			if evs == nil {
				// Size the batch from what is buffered (guessing lines
				// of 64 bytes) to spare both regrowth and big empty slices.
				evs = make([]event.Event, 0, min(r.opts.BatchSize, max(16, t.rd.Buffered()/64)))
			}
			evs = append(evs, r.newEvent(t, line))
		}
	}
	t.lineStart = t.readPos
	if terminated && t.lines >= 0 {
		t.lines++
	}
	t.pending = t.pending[:0]
	t.skipping, t.skipLen = false, 0
	return evs
}

func (r *run) newEvent(t *tail, line []byte) event.Event {
	if t.spec.Format == event.FormatJSON {
		if reason := jsonProblem(line); reason != "" {
			// Kept as text: analysis decides what it is, nothing is lost.
			r.problem(t, "malformed JSON: "+reason)
		}
	}
	return event.Event{
		ID:       event.NewID("logfile", t.identity(), strconv.FormatInt(t.lineStart, 10)),
		Location: t.path,
		Log:      string(line),
		Format:   t.spec.Format,
		Agent:    r.agent,
	}
}

// jsonProblem says why line is not one JSON object, or "" if it is one.
func jsonProblem(line []byte) string {
	if json.Valid(line) {
		if b := bytes.TrimLeft(line, " \t\r\n"); len(b) > 0 && b[0] == '{' {
			return ""
		}
		return "not a JSON object"
	}
	var v any
	if err := json.Unmarshal(line, &v); err != nil {
		return err.Error()
	}
	return "invalid JSON"
}

func (r *run) oversized(t *tail, n int64) {
	no := t.lineNumber()
	r.log.Warn("line too long; skipped", "path", t.path, "line", no, "bytes", n, "limit", r.opts.MaxLineBytes)
	r.report(problemAt(t.path, no, fmt.Sprintf("line of %d bytes exceeds the %d-byte limit; skipped", n, r.opts.MaxLineBytes)))
}

func (r *run) problem(t *tail, reason string) {
	no := t.lineNumber()
	r.log.Debug("problem in file", "path", t.path, "line", no, "reason", reason)
	r.report(problemAt(t.path, no, reason))
}
