package blob

import (
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/threatlockdown/tld/internal/checkpoint"
	"github.com/threatlockdown/tld/internal/config"
)

// stateVersion is written in every state file; a file of another version is
// an error, not silently misread.
const stateVersion = 1

// minHorizon is the least time a blob is remembered after a newer one was
// read (see containerState.commit): a margin for blobs that show up in
// listings late.
const minHorizon = time.Hour

// stateFile is what is saved for one container of one account (and one
// path and blobs filter, when the container block sets them).
type stateFile struct {
	Version int `json:"version"`
	// Since: a blob not in Blobs and last modified before Since is not
	// read. The first pass sets it to now - time_offset; it then follows
	// the newest blob read, less the horizon.
	Since time.Time `json:"since"`
	// Newest is the latest last-modified time of the blobs read.
	Newest time.Time `json:"newest,omitzero"`
	// Blobs are the blobs read (and acknowledged), by name.
	Blobs map[string]blobState `json:"blobs"`
}

// blobState is how far a blob was read.
type blobState struct {
	ETag     string    `json:"etag"`
	Modified time.Time `json:"modified"`
	// Size is the number of bytes read: the blob's size then.
	Size int64 `json:"size"`
	// Hash is the SHA-256 of those Size bytes (text and json_inline): a
	// grown blob whose first Size bytes still have this hash was appended
	// to, and is read on from Resume.
	Hash string `json:"hash,omitempty"`
	// Resume is where reading goes on when the blob grows: the start of an
	// unterminated last line or of a cut-short last JSON object, else Size.
	Resume int64 `json:"resume,omitempty"`
	// Problem notes why the blob gave no events (empty, binary), so that a
	// later pass does not report it again while it is unchanged.
	Problem string `json:"problem,omitempty"`
	// Retry marks a blob whose last read failed (or whose events the
	// pipeline refused): it is read again on the next pass, and never
	// forgotten for being old while it exists. Its ETag is then empty; the
	// other fields describe the last successful read, if any.
	Retry bool `json:"retry,omitempty"`
}

// containerState is the state of one container in memory: the acknowledged
// view, which only commit changes. The collector keeps it across passes so
// that an acknowledgement arriving after a pass ended lands in the same
// value the next pass reads.
type containerState struct {
	key     string
	store   *checkpoint.Store
	horizon time.Duration

	mu sync.Mutex
	f  stateFile
}

// stateKey names a container's checkpoint: account and container, plus the
// path and blobs filter when set, so that two blocks reading different
// parts of one container keep apart.
func stateKey(account, container string, cc config.AzureContainer) string {
	key := "azure-blob/" + account + "/" + container
	prefix := cleanPrefix(cc.Path)
	filter := newNameFilter(cc.Blobs)
	if prefix != "" || !filter.all() {
		key += "?" + url.Values{"path": {prefix}, "blobs": {strings.Join(filter.parts, "*")}}.Encode()
	}
	return key
}

// cleanPrefix turns <path> into a blob name prefix. Blob names do not start
// with '/', which users often write.
func cleanPrefix(p string) string { return strings.TrimLeft(strings.TrimSpace(p), "/") }

// loadState reads a container's state, or starts it: on the first pass,
// blobs last modified within timeOffset of now are read. The new state is
// saved at once, so that a restart before anything is acknowledged keeps
// the same starting point.
func loadState(st *checkpoint.Store, key string, now time.Time, timeOffset time.Duration) (*containerState, error) {
	cs := &containerState{key: key, store: st, horizon: max(timeOffset, minHorizon)}
	found, err := st.Load(key, &cs.f)
	if err != nil {
		return nil, err
	}
	if found {
		if cs.f.Version != stateVersion {
			return nil, fmt.Errorf("load checkpoint %q: %s: %w: version %d, want %d", key, st.Path(key), checkpoint.ErrCorrupt, cs.f.Version, stateVersion)
		}
		if cs.f.Blobs == nil {
			cs.f.Blobs = map[string]blobState{}
		}
		return cs, nil
	}
	cs.f = stateFile{Version: stateVersion, Since: now.Add(-timeOffset).UTC(), Blobs: map[string]blobState{}}
	if err := st.Save(key, cs.f); err != nil {
		return nil, err
	}
	return cs, nil
}

// lookup returns what is known of a blob, and the time before which unknown
// blobs are not read.
func (cs *containerState) lookup(name string) (blobState, bool, time.Time) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	b, ok := cs.f.Blobs[name]
	return b, ok, cs.f.Since
}

// commit records a blob as read and saves the state. It runs when the last
// batch of the blob is acknowledged (or at once when the blob gave no
// events). Blobs last modified more than the horizon before the newest one
// are forgotten, and Since moves up to match, so that the state does not
// grow with the container's history.
func (cs *containerState) commit(name string, b blobState, log *slog.Logger) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	cs.f.Blobs[name] = b
	if b.Modified.After(cs.f.Newest) {
		cs.f.Newest = b.Modified
	}
	if cut := cs.f.Newest.Add(-cs.horizon); cut.After(cs.f.Since) {
		cs.f.Since = cut
		for n, old := range cs.f.Blobs {
			if old.Modified.Before(cut) && !old.Retry {
				delete(cs.f.Blobs, n)
			}
		}
	}
	cs.save(log)
}

// retry marks a blob to be read again on the next pass, whatever its age:
// its read failed, or the pipeline refused its events.
func (cs *containerState) retry(name string, modified time.Time, log *slog.Logger) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	b := cs.f.Blobs[name]
	if b.Retry && b.Modified.Equal(modified) {
		return
	}
	b.ETag, b.Modified, b.Retry = "", modified, true
	cs.f.Blobs[name] = b
	cs.save(log)
}

// forget drops the blobs that a complete listing no longer shows.
func (cs *containerState) forget(listed map[string]bool, log *slog.Logger) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	changed := false
	for n := range cs.f.Blobs {
		if !listed[n] {
			delete(cs.f.Blobs, n)
			changed = true
		}
	}
	if changed {
		cs.save(log)
	}
}

// save writes the state; cs.mu is held. A failure is logged: the blobs
// since the last successful save are read again on the next start, and
// their events carry the same ids.
func (cs *containerState) save(log *slog.Logger) {
	if err := cs.store.Save(cs.key, cs.f); err != nil {
		log.Error("cannot save container state; its blobs may be read again after a restart", "err", err)
	}
}
