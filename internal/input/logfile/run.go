package logfile

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/threatlockdown/tld/internal/checkpoint"
	"github.com/threatlockdown/tld/internal/event"
	"github.com/threatlockdown/tld/internal/pipeline"
)

const (
	// visitBatches is the most batches read from one file before the
	// others get their turn.
	visitBatches = 8
	// maxBackoff caps the wait before a file whose batch was refused is
	// read again.
	maxBackoff = time.Minute
	// retireLinger counts the polls a rotated file stays open, read to
	// its end, for a writer that has not yet reopened its log.
	retireLinger = 5
)

// run is the state of one Input.Run.
type run struct {
	in     *Input
	opts   Options
	emit   pipeline.Emitter
	store  *checkpoint.Store
	log    *slog.Logger
	report func(pipeline.Problem)
	agent  event.Agent
	slots  chan struct{} // one token per batch in flight
	commit *committer

	mu sync.Mutex // guards the ack-side fields of every tail

	tails    map[string]*tail // files being followed, by path
	order    []*tail          // the same, in configuration order
	retired  []*tail          // rotated or removed files read to their end
	lastScan time.Time
	noted    map[string]string // what was last logged about a path or location
	corrupt  map[string]error  // paths whose checkpoint cannot be read
}

func newRun(in *Input, emit pipeline.Emitter, store *checkpoint.Store, opts pipeline.RunOptions) *run {
	r := &run{
		in:      in,
		opts:    in.opts,
		emit:    emit,
		store:   store,
		log:     opts.Logger,
		report:  opts.Report,
		slots:   make(chan struct{}, in.opts.MaxInFlight),
		tails:   map[string]*tail{},
		noted:   map[string]string{},
		corrupt: map[string]error{},
	}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	if r.report == nil {
		r.report = func(pipeline.Problem) {}
	}
	if in.opts.AgentName != "" {
		r.agent = event.Agent{ID: "000", Name: in.opts.AgentName}
	}
	r.commit = newCommitter(store, r.log)
	return r
}

// close stops the committer (saving what acks recorded) and closes files.
func (r *run) close() {
	r.commit.close()
	for _, t := range r.order {
		t.f.Close()
	}
	for _, t := range r.retired {
		t.f.Close()
	}
}

func problemAt(path string, line int64, reason string) pipeline.Problem {
	return pipeline.Problem{Source: fmt.Sprintf("%s:%d", path, line), Reason: reason}
}

// once reads every file to its current end and waits for the acks.
func (r *run) once(ctx context.Context) error {
	r.scan(true)
	for _, t := range r.order {
		for !r.isFailed(t) {
			evs, eof, err := r.fill(t, true)
			if len(evs) > 0 {
				if err := r.send(ctx, t, evs); errors.Is(err, errRefused) {
					break
				} else if err != nil {
					r.finish(ctx)
					return fmt.Errorf("logfile: %w", err)
				}
			} else if t.lineStart > t.lastEnd {
				r.advanceTo(t)
			}
			if err != nil {
				r.log.Error("cannot read file", "path", t.path, "err", err)
				break
			}
			if eof {
				break
			}
		}
	}
	var errs []error
	if err := r.finish(ctx); err != nil {
		errs = append(errs, err)
	}
	for _, t := range r.order {
		r.mu.Lock()
		failed, ferr, off := t.failed, t.failErr, t.acked.Offset
		r.mu.Unlock()
		if failed {
			errs = append(errs, fmt.Errorf("%s: batch not delivered (%w); the next run reads again from offset %d", t.path, ferr, off))
		}
	}
	for path, err := range r.corrupt {
		errs = append(errs, fmt.Errorf("%s: not read: %w", path, err))
	}
	if len(errs) > 0 {
		return fmt.Errorf("logfile: %w", errors.Join(errs...))
	}
	return nil
}

// follow reads the files and their successors until ctx ends.
func (r *run) follow(ctx context.Context) error {
	timer := time.NewTimer(0)
	defer timer.Stop()
	<-timer.C
	first := true
	for ctx.Err() == nil {
		if first || time.Since(r.lastScan) >= r.opts.PollInterval {
			r.scan(first)
			first = false
		}
		busy, err := r.serviceAll(ctx)
		if err != nil {
			break
		}
		if !busy {
			timer.Reset(r.opts.PollInterval)
			select {
			case <-ctx.Done():
			case <-timer.C:
			}
		}
	}
	r.finish(ctx)
	return nil
}

// finish waits for the batches in flight to be acked, so that their
// positions are saved and the next run does not read them again, and saves
// the checkpoints. Once ctx has ended, the wait is bounded by the grace
// period; lines of batches still unacked then are read again next time.
func (r *run) finish(ctx context.Context) error {
	if ctx.Err() != nil {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(context.WithoutCancel(ctx), r.opts.ShutdownGrace)
		defer cancel()
	}
	var errs []error
	if err := r.waitAcks(ctx); err != nil {
		r.log.Warn("stopping with batches not acked; their lines will be read again on the next run")
		errs = append(errs, fmt.Errorf("waiting for acks: %w", err))
	}
	if err := r.commit.sync(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

func (r *run) isFailed(t *tail) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return t.failed
}

// found is a file a location names now.
type found struct {
	path     string
	spec     *Spec
	dev, ino uint64
}

// scan expands the locations and reconciles the files found with the files
// being read: new files are opened, renamed ones followed under their new
// name, and replaced or removed ones retired (read to their end, then
// closed). At startup a file without checkpoint honours OnlyFutureEvents;
// later it is new, and read from its start.
func (r *run) scan(startup bool) {
	r.lastScan = time.Now()
	now := r.in.now()
	seen := map[string]*found{}
	var list []*found
	for i := range r.in.specs {
		s := &r.in.specs[i]
		paths, err := expand(s.Location, now)
		if err != nil {
			r.note("loc:"+s.Location, "error", "bad location", "source", sourceOf(*s), "err", err)
			continue
		}
		matched := false
		for _, p := range paths {
			fi, err := os.Stat(p)
			switch {
			case errors.Is(err, fs.ErrNotExist):
				if !hasGlob(s.Location) {
					r.note(p, "warn", "file not found; it is read when it appears", "path", p, "source", sourceOf(*s))
				}
				continue
			case err != nil:
				r.note(p, "error", "cannot read file", "path", p, "err", err)
				continue
			case !fi.Mode().IsRegular():
				if !hasGlob(s.Location) {
					r.note(p, "warn", "not a regular file; ignored", "path", p, "source", sourceOf(*s))
				}
				continue
			}
			matched = true
			if prev := seen[p]; prev != nil {
				if prev.spec != s {
					r.note("dup:"+p, "warn", "file named by two <localfile> blocks; the first one applies",
						"path", p, "first", sourceOf(*prev.spec), "second", sourceOf(*s))
				}
				continue
			}
			dev, ino := fileID(fi)
			f := &found{path: p, spec: s, dev: dev, ino: ino}
			seen[p] = f
			list = append(list, f)
		}
		if hasGlob(s.Location) {
			if matched {
				r.clearNote("glob:" + s.Location)
			} else {
				r.note("glob:"+s.Location, "warn", "no file matches location", "location", s.Location, "source", sourceOf(*s))
			}
		}
	}

	// Files that moved away from their path or vanished.
	type fileKey struct{ dev, ino uint64 }
	var gone []*tail
	for p, t := range r.tails {
		if f := seen[p]; f != nil && f.dev == t.dev && f.ino == t.ino {
			continue
		}
		delete(r.tails, p)
		gone = append(gone, t)
	}
	byID := map[fileKey]*found{}
	for _, f := range list {
		if r.tails[f.path] == nil && f.ino != 0 {
			byID[fileKey{f.dev, f.ino}] = f
		}
	}
	for _, t := range gone {
		if f := byID[fileKey{t.dev, t.ino}]; f != nil && t.ino != 0 {
			// Renamed to a name the locations also match: keep reading
			// it where we are, under its new name.
			delete(byID, fileKey{t.dev, t.ino})
			r.log.Info("file renamed; following it", "from", t.path, "to", f.path)
			t.path, t.spec = f.path, f.spec
			r.tails[f.path] = t
			r.mu.Lock()
			t.key = f.path
			if t.acked.sameFile(t.dev, t.ino, t.gen) {
				r.commit.put(t.key, t.acked)
			}
			r.mu.Unlock()
			continue
		}
		// Rotated away or deleted: read what is left, then close. Its
		// position no longer matters, since the path names another file
		// (or none), so nothing more is saved for it.
		r.log.Info("file rotated or removed; reading the rest of it", "path", t.path)
		r.mu.Lock()
		t.key = ""
		r.mu.Unlock()
		t.retiredAt = time.Now()
		r.retired = append(r.retired, t)
	}

	for _, f := range list {
		if r.tails[f.path] != nil {
			continue
		}
		t, err := r.open(f, startup)
		if err != nil {
			if errors.Is(err, checkpoint.ErrCorrupt) {
				r.corrupt[f.path] = err
				r.note(f.path, "error", "cannot read the file's checkpoint; the file is not read until the state file is repaired or removed", "path", f.path, "err", err)
			} else {
				r.note(f.path, "error", "cannot read file", "path", f.path, "err", err)
			}
			continue
		}
		if t != nil {
			delete(r.corrupt, f.path)
			r.clearNote(f.path)
			r.tails[f.path] = t
		}
	}
	r.order = r.order[:0]
	for _, f := range list {
		if t := r.tails[f.path]; t != nil {
			r.order = append(r.order, t)
		}
	}
}

// open opens a file and decides where to start reading it.
func (r *run) open(fd *found, startup bool) (*tail, error) {
	f, err := os.Open(fd.path)
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, nil
	}
	dev, ino := fileID(fi)
	var st fileState
	have, err := r.store.Load(fd.path, &st)
	if err != nil {
		f.Close()
		return nil, err
	}
	var (
		start, lines int64
		gen          uint64
		how          string
		fromEnd      bool
	)
	switch {
	case have && st.Dev == dev && st.Ino == ino && fi.Size() >= st.Offset && headMatches(f, st):
		start, lines, gen, how = st.Offset, st.Lines, st.Gen, "resuming from checkpoint"
	case have && st.Dev == dev && st.Ino == ino:
		gen, how = st.Gen+1, "truncated or rewritten since the checkpoint; from the start"
	case have:
		how = "another file than the checkpoint's (rotated); from the start"
	case startup && fd.spec.OnlyFutureEvents:
		start, lines, fromEnd, how = fi.Size(), -1, true, "only future events; from the end"
	default:
		how = "from the start"
	}
	head := readHead(f, min(start, headSize))
	if int64(len(head)) < min(start, headSize) {
		// The file shrank under us: it is being rewritten; start over.
		start, lines, head, fromEnd = 0, 0, head[:0], false
	}
	t := &tail{path: fd.path, key: fd.path, spec: fd.spec, f: f, dev: dev, ino: ino, gen: gen, head: head}
	if err := t.seek(start, lines); err != nil {
		f.Close()
		return nil, err
	}
	t.acked = t.stateAt(start, lines)
	if fromEnd {
		// Starting at the end: save it now, so that lines written from now
		// on are read after a restart even if none comes before it.
		r.commit.put(t.key, t.acked)
	}
	r.log.Info("reading file", "path", fd.path, "offset", start, "how", how, "source", sourceOf(*fd.spec))
	return t, nil
}

// status is what servicing a file left it at.
type status int

const (
	atEOF   status = iota // read to the end of its data
	hasMore               // stopped after visitBatches batches
	waiting               // not read: a refused batch or a read error
)

// serviceAll gives every file a turn. busy means data is left to read now.
// It returns an error only when ctx ended.
func (r *run) serviceAll(ctx context.Context) (busy bool, err error) {
	kept := r.retired[:0]
	for _, t := range r.retired {
		st, err := r.service(ctx, t, true)
		if err != nil {
			return busy, err
		}
		busy = busy || st == hasMore
		r.mu.Lock()
		idle := t.inFlight == 0 && !t.failed
		r.mu.Unlock()
		if st == atEOF && idle && time.Since(t.retiredAt) >= retireLinger*r.opts.PollInterval {
			t.f.Close()
			continue
		}
		kept = append(kept, t)
	}
	clear(r.retired[len(kept):])
	r.retired = kept
	for _, t := range r.order {
		st, err := r.service(ctx, t, false)
		if err != nil {
			return busy, err
		}
		busy = busy || st == hasMore
	}
	return busy, nil
}

// service reads new lines of t, after dealing with a refused batch or a
// truncation.
func (r *run) service(ctx context.Context, t *tail, final bool) (status, error) {
	r.mu.Lock()
	failed, inFlight, acked := t.failed, t.inFlight, t.acked
	if failed && inFlight == 0 && t.retryAt.IsZero() {
		t.backoff = min(max(2*t.backoff, r.opts.PollInterval), maxBackoff)
		t.retryAt = time.Now().Add(t.backoff)
	}
	r.mu.Unlock()
	if failed {
		if inFlight > 0 || time.Now().Before(t.retryAt) {
			return waiting, nil
		}
		t.retryAt = time.Time{}
		off, lines := int64(0), int64(0)
		if acked.sameFile(t.dev, t.ino, t.gen) {
			off, lines = acked.Offset, acked.Lines
		}
		if err := t.seek(off, lines); err != nil {
			r.note(t.path, "error", "cannot read file", "path", t.path, "err", err)
			return waiting, nil
		}
		r.log.Info("reading again after a refused batch", "path", t.path, "offset", off)
		r.mu.Lock()
		t.failed, t.failErr, t.advance = false, nil, nil
		r.mu.Unlock()
	}
	if fi, err := t.f.Stat(); err == nil && fi.Size() < t.readPos {
		r.log.Warn("file truncated; reading it again from the start", "path", t.path, "size", fi.Size(), "offset", t.readPos)
		r.mu.Lock()
		t.advance = nil
		r.mu.Unlock()
		if err := t.restart(); err != nil {
			r.note(t.path, "error", "cannot read file", "path", t.path, "err", err)
			return waiting, nil
		}
	}
	for range visitBatches {
		evs, eof, err := r.fill(t, final)
		if len(evs) > 0 {
			if err := r.send(ctx, t, evs); errors.Is(err, errRefused) {
				return waiting, nil
			} else if err != nil {
				return waiting, err
			}
		} else if t.lineStart > t.lastEnd {
			r.advanceTo(t)
		}
		if err != nil {
			r.note(t.path, "error", "cannot read file", "path", t.path, "err", err)
			return waiting, nil
		}
		r.clearNote(t.path)
		if eof {
			return atEOF, nil
		}
		if r.isFailed(t) {
			return waiting, nil
		}
	}
	return hasMore, nil
}

// note logs a condition about key once, until it changes or is cleared:
// a missing file is reported when it goes missing, not on every poll.
func (r *run) note(key, level, msg string, args ...any) {
	text := msg + fmt.Sprint(args...)
	if r.noted[key] == text {
		return
	}
	r.noted[key] = text
	switch level {
	case "error":
		r.log.Error(msg, args...)
	default:
		r.log.Warn(msg, args...)
	}
}

func (r *run) clearNote(key string) { delete(r.noted, key) }
