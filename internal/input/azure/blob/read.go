package blob

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/bloberror"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"

	"github.com/threatlockdown/tld/internal/checkpoint"
	"github.com/threatlockdown/tld/internal/config"
	"github.com/threatlockdown/tld/internal/event"
	"github.com/threatlockdown/tld/internal/pipeline"
)

// pass is one Collect.
type pass struct {
	c      *Collector
	emit   pipeline.Emitter
	store  *checkpoint.Store
	report func(pipeline.Problem)
	log    *slog.Logger

	inFlight sync.WaitGroup // batches emitted and not yet acknowledged
}

// wait returns when every batch emitted was acknowledged, or ctx ended.
func (p *pass) wait(ctx context.Context) error {
	done := make(chan struct{})
	go func() {
		p.inFlight.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		p.log.Warn("stopping with batches not acknowledged; their blobs are read again on the next pass")
		return ctx.Err()
	}
}

// listed is a blob as a listing shows it.
type listed struct {
	name     string
	etag     string
	modified time.Time
	size     int64
}

// container reads one container. It returns an error when the container
// could not be listed (or its state not loaded); blobs that cannot be read
// are reported and skipped.
func (p *pass) container(ctx context.Context, cc config.AzureContainer, name, key string) error {
	log := p.log.With("container", name)
	source := name
	cs, err := p.c.state(p.store, key, cc.TimeOffset)
	if err != nil {
		log.Error("cannot load the container's state; container skipped", "err", err)
		return fmt.Errorf("container %s: %w", name, err)
	}
	if cc.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, cc.Timeout)
		defer cancel()
	}
	cont := p.c.svc.NewContainerClient(name)
	blobs, err := p.list(ctx, cont, cc)
	if err != nil {
		reason := "list blobs: " + describe(err)
		if bloberror.HasCode(err, bloberror.ContainerNotFound) {
			reason = "container does not exist"
		}
		p.report(pipeline.Problem{Source: source, Reason: reason})
		log.Error("cannot list the container's blobs", "err", reason)
		return fmt.Errorf("container %s: %s", name, reason)
	}
	present := make(map[string]bool, len(blobs))
	for _, b := range blobs {
		present[b.name] = true
	}
	cs.forget(present, log)

	type todo struct {
		listed
		prev blobState
		seen bool
	}
	var work []todo
	skipped := 0
	for _, b := range blobs {
		prev, seen, since := cs.lookup(b.name)
		switch {
		case seen && prev.ETag == b.etag:
			skipped++ // read already, unchanged
		case !seen && b.modified.Before(since):
			skipped++ // older than time_offset on the first pass, or forgotten
		default:
			work = append(work, todo{b, prev, seen})
		}
	}
	// Oldest first, as they were written.
	sort.Slice(work, func(i, j int) bool {
		if !work[i].modified.Equal(work[j].modified) {
			return work[i].modified.Before(work[j].modified)
		}
		return work[i].name < work[j].name
	})
	log.Debug("container listed", "blobs", len(blobs), "to_read", len(work), "skipped", skipped)
	events := 0
	for _, w := range work {
		if ctx.Err() != nil {
			break
		}
		r := &blobReader{p: p, cs: cs, cc: cc, cont: cont, container: name, item: w.listed, prev: w.prev, seen: w.seen,
			log: log.With("blob", w.name)}
		n, err := r.read(ctx)
		events += n
		if err != nil && ctx.Err() == nil {
			p.report(pipeline.Problem{Source: name + "/" + w.name, Reason: "read blob: " + describe(err)})
			r.log.Warn("cannot read blob; it is read again on the next pass", "err", describe(err))
			cs.retry(w.name, w.modified, r.log)
		}
	}
	if ctx.Err() != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) && cc.Timeout > 0 {
		log.Warn("container timeout reached; the remaining blobs are read on the next pass", "timeout", cc.Timeout)
	}
	level := slog.LevelDebug
	if len(work) > 0 {
		level = slog.LevelInfo
	}
	log.Log(ctx, level, "container read", "blobs_changed", len(work), "events", events)
	return nil
}

// list returns the blobs under the block's path (at any depth: the listing
// is flat) that its blobs filter selects.
func (p *pass) list(ctx context.Context, cont *container.Client, cc config.AzureContainer) ([]listed, error) {
	filter := newNameFilter(cc.Blobs)
	opts := &container.ListBlobsFlatOptions{}
	if prefix := cleanPrefix(cc.Path); prefix != "" {
		opts.Prefix = &prefix
	}
	var out []listed
	pager := cont.NewListBlobsFlatPager(opts)
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, it := range page.Segment.BlobItems {
			if it.Name == nil || it.Properties == nil {
				continue
			}
			pr := it.Properties
			if pr.ResourceType != nil && *pr.ResourceType == "directory" {
				continue // a folder of an account with a hierarchical namespace
			}
			if !filter.match(*it.Name) {
				continue
			}
			b := listed{name: *it.Name}
			if pr.ETag != nil {
				b.etag = string(*pr.ETag)
			}
			if pr.LastModified != nil {
				b.modified = pr.LastModified.UTC()
			}
			if pr.ContentLength != nil {
				b.size = *pr.ContentLength
			}
			out = append(out, b)
		}
	}
	return out, nil
}

// errChanged says that a blob believed appended to was rewritten.
var errChanged = errors.New("blob rewritten")

// blobReader reads one blob.
type blobReader struct {
	p         *pass
	cs        *containerState
	cc        config.AzureContainer
	cont      *container.Client
	container string
	item      listed
	prev      blobState
	seen      bool
	log       *slog.Logger

	// One attempt (read resets them).
	resume   bool // reading on from prev.Resume, once prev's bytes are verified
	verified bool
	held     []heldItem // records and problems waiting for the verification
	hr       *hashingReader
	ids      *occurrences
	out      *batcher
	badUTF8  int64 // offset of the first invalid UTF-8 emitted, or -1
	problems int
}

type heldItem struct {
	off    int64
	data   []byte // a record, or nil for a problem
	canon  []byte
	k      int
	reason string
}

// read reads the blob and emits its new records. It returns the number of
// events emitted, and an error when the blob could not be read (it is then
// not marked read, and the next pass tries again).
func (r *blobReader) read(ctx context.Context) (int, error) {
	if r.item.size == 0 {
		if !(r.seen && r.prev.Problem == problemEmpty) {
			r.p.report(pipeline.Problem{Source: r.source(), Reason: "empty blob: nothing to read"})
		}
		r.cs.commit(r.item.name, blobState{ETag: r.item.etag, Modified: r.item.modified, Problem: problemEmpty}, r.log)
		return 0, nil
	}
	resume := r.cc.ContentType != "json_file" && r.seen && r.prev.Hash != "" &&
		r.prev.Size > 0 && r.item.size >= r.prev.Size && r.prev.Problem == ""
	n, err := r.attempt(ctx, resume)
	if errors.Is(err, errChanged) {
		r.log.Debug("blob rewritten, not appended to: reading it whole")
		n, err = r.attempt(ctx, false)
	}
	if bloberror.HasCode(err, bloberror.ConditionNotMet, bloberror.BlobNotFound) {
		// Changed or deleted since it was listed: the next pass sees
		// what it has become.
		r.log.Debug("blob changed while being read; it is read on the next pass", "err", describe(err))
		return n, nil
	}
	return n, err
}

const (
	problemEmpty  = "empty"
	problemBinary = "binary"
)

func (r *blobReader) source() string { return r.container + "/" + r.item.name }

// attempt downloads the blob (as listed: If-Match its ETag) and parses it
// from its start. When resuming, the records before prev.Resume are skipped
// and the rest held until the first prev.Size bytes are known to be the
// ones read before; if they are not, attempt returns errChanged having
// emitted nothing.
func (r *blobReader) attempt(ctx context.Context, resume bool) (int, error) {
	r.resume, r.verified, r.held = resume, false, nil
	r.ids = newOccurrences()
	r.badUTF8, r.problems = -1, 0
	name, modified, cs, log := r.item.name, r.item.modified, r.cs, r.log
	r.out = &batcher{ctx: ctx, p: r.p, size: r.p.c.cfg.BatchSize, track: &blobTrack{},
		refused: func() { cs.retry(name, modified, log) }}

	etag := azcore.ETag(r.item.etag)
	resp, err := r.cont.NewBlobClient(r.item.name).DownloadStream(ctx, &blob.DownloadStreamOptions{
		AccessConditions: &blob.AccessConditions{ModifiedAccessConditions: &blob.ModifiedAccessConditions{IfMatch: &etag}},
	})
	if err != nil {
		return 0, err
	}
	body := resp.NewRetryReader(ctx, &blob.RetryReaderOptions{MaxRetries: int32(max(r.p.c.cfg.Retry.MaxRetries, DefaultMaxRetries))})
	defer body.Close()
	mark := int64(-1)
	if resume {
		mark = r.prev.Size
	}
	r.hr = newHashingReader(body, mark)
	br := bufio.NewReaderSize(r.hr, 64<<10)

	base, problem := sniff(br)
	if problem != "" {
		if r.hr.err != nil {
			return 0, r.hr.err
		}
		if !(r.seen && r.prev.Problem == problemBinary) {
			r.p.report(pipeline.Problem{Source: r.source(), Reason: problem})
		}
		r.cs.commit(r.item.name, blobState{ETag: r.item.etag, Modified: r.item.modified, Size: r.item.size, Problem: problemBinary}, r.log)
		return 0, nil
	}

	max := r.p.c.cfg.MaxRecordBytes
	var next int64
	switch r.cc.ContentType {
	case "json_file":
		err = parseFile(br, base, max, r.record, r.problem)
	case "json_inline":
		next, err = parseInline(br, base, max, r.record, r.problem)
	default:
		next, err = parseText(br, base, max, r.record, r.problem)
	}
	if err == nil && r.resume && !r.verified {
		err = r.verify()
	}
	if err == nil && r.hr.err != nil {
		err = r.hr.err
	}
	if err != nil {
		r.out.abandon()
		return r.out.events, err
	}
	if r.badUTF8 >= 0 {
		r.p.report(pipeline.Problem{Source: r.source(), Reason: fmt.Sprintf("byte %d: not valid UTF-8 (text in another encoding?): invalid bytes replaced with U+FFFD", r.badUTF8)})
	}
	st := blobState{ETag: r.item.etag, Modified: r.item.modified, Size: r.hr.n}
	if r.cc.ContentType != "json_file" {
		st.Hash, st.Resume = r.hr.sum(), next
	}
	if err := r.out.finish(func() { cs.commit(name, st, log) }); err != nil {
		return r.out.events, err
	}
	r.log.Debug("blob read", "size", st.Size, "events", r.out.events, "appended_to", resume)
	return r.out.events, nil
}

// record takes a record from the parser: skipped when it was delivered by
// an earlier read, held until verification, or emitted.
func (r *blobReader) record(off int64, data []byte) error {
	canon := data
	if r.cc.ContentType != "text" {
		canon = compact(data)
	}
	k := r.ids.next(canon)
	if r.resume && off < r.prev.Resume {
		return nil
	}
	if r.resume && !r.verified {
		if !r.hr.marked() {
			r.held = append(r.held, heldItem{off: off, data: append([]byte(nil), data...), canon: append([]byte(nil), canon...), k: k})
			return nil
		}
		if err := r.verify(); err != nil {
			return err
		}
	}
	return r.emitRecord(off, data, canon, k)
}

// verify compares the hash of the bytes read before with the one saved, and
// releases what was held.
func (r *blobReader) verify() error {
	if !r.hr.marked() || r.hr.markSum != r.prev.Hash {
		return errChanged
	}
	r.verified = true
	held := r.held
	r.held = nil
	for _, h := range held {
		if h.data == nil {
			r.problem(h.off, h.reason)
			continue
		}
		if err := r.emitRecord(h.off, h.data, h.canon, h.k); err != nil {
			return err
		}
	}
	return nil
}

func (r *blobReader) problem(off int64, reason string) {
	if r.resume && off < r.prev.Resume {
		return // reported by the read that delivered that part
	}
	if r.resume && !r.verified {
		r.held = append(r.held, heldItem{off: off, reason: reason})
		return
	}
	r.problems++
	r.p.report(pipeline.Problem{Source: r.source(), Reason: fmt.Sprintf("byte %d: %s", off, reason)})
}

// emitRecord turns a record into an event and adds it to the batch.
func (r *blobReader) emitRecord(off int64, data, canon []byte, k int) error {
	if !validUTF8(data) {
		if r.badUTF8 < 0 {
			r.badUTF8 = off + int64(firstInvalidUTF8(data))
		}
		data = toValidUTF8(data)
		canon = toValidUTF8(canon)
	}
	tag := r.p.c.tag
	ev := event.Event{
		ID:       event.NewID("azure-storage", r.p.c.account, r.container, r.item.name, string(canon), fmt.Sprint(k)),
		Location: "Azure",
	}
	switch r.cc.ContentType {
	case "json_file":
		text, err := fileEvent(tag, data)
		if err != nil {
			r.problem(off, "record is not a valid JSON object: skipped")
			return nil
		}
		ev.Log, ev.Format = text, event.FormatJSON
	case "json_inline":
		ev.Log, ev.Format = inlineEvent(tag, data), event.FormatJSON
	default:
		ev.Log, ev.Format = textEvent(tag, data), event.FormatSyslog
	}
	return r.out.add(ev)
}
