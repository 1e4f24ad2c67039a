// Package checkpoint keeps an input's durable position: small JSON values,
// one file per key, replaced atomically so that a crash leaves either the old
// value or the new one, never a mix.
//
// An input saves a checkpoint only after the pipeline has acknowledged the
// events up to that position (see DESIGN.md §2), so a value read back after a
// crash is always safe to resume from.
package checkpoint

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
)

// ErrCorrupt marks a state file that exists but cannot be decoded. The store
// never replaces such a file on Load: the operator decides whether to delete
// it (and re-read the source) or to repair it.
var ErrCorrupt = errors.New("corrupt state file")

// tempPrefix starts the name of every temporary file. State file names never
// start with a dot (see fileName), so the two cannot be confused.
const tempPrefix = ".tmp-"

// maxReadable bounds the readable part of a state file name; the hash suffix
// keeps long keys distinct.
const maxReadable = 64

// Store is a directory of checkpoints. It is safe for concurrent use by the
// goroutines of one process; two processes must not share a directory.
type Store struct {
	dir string
	mu  sync.Mutex // serialises writers so that the last Save of a key wins
}

// Open returns the store kept in dir, creating the directory if needed. It
// removes temporary files left behind by a crash in the middle of a Save.
func Open(dir string) (*Store, error) {
	if dir == "" {
		return nil, errors.New("open checkpoint store: empty directory name")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("open checkpoint store: %w", err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("open checkpoint store: %w", err)
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), tempPrefix) {
			// A leftover of an interrupted Save: the rename never happened,
			// so the state file still holds the previous value.
			if err := os.Remove(filepath.Join(dir, e.Name())); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return nil, fmt.Errorf("open checkpoint store: remove leftover: %w", err)
			}
		}
	}
	return &Store{dir: dir}, nil
}

// Dir returns the directory holding the state files.
func (s *Store) Dir() string { return s.dir }

// Path returns the file that holds key's value.
func (s *Store) Path(key string) string { return filepath.Join(s.dir, fileName(key)) }

// Load decodes key's value into v. It returns found == false, and leaves v
// alone, when nothing was saved for key. A file that exists but does not
// decode is an error wrapping ErrCorrupt and naming the file.
func (s *Store) Load(key string, v any) (found bool, err error) {
	if key == "" {
		return false, errors.New("load checkpoint: empty key")
	}
	path := s.Path(key)
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("load checkpoint %q: %w", key, err)
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return false, fmt.Errorf("load checkpoint %q: %s: %w: empty file", key, path, ErrCorrupt)
	}
	if err := json.Unmarshal(data, v); err != nil {
		return false, fmt.Errorf("load checkpoint %q: %s: %w: %v", key, path, ErrCorrupt, err)
	}
	return true, nil
}

// Save replaces key's value with v, durably: the JSON is written to a
// temporary file in the same directory, synced, renamed over the state file,
// and the directory is synced so that the rename itself survives a crash.
func (s *Store) Save(key string, v any) error {
	if key == "" {
		return errors.New("save checkpoint: empty key")
	}
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("save checkpoint %q: %w", key, err)
	}
	data = append(data, '\n')

	s.mu.Lock()
	defer s.mu.Unlock()
	name := fileName(key)
	tmp, err := os.CreateTemp(s.dir, tempPrefix+name+"-*")
	if err != nil {
		return fmt.Errorf("save checkpoint %q: %w", key, err)
	}
	committed := false
	defer func() {
		if !committed {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if _, err := tmp.Write(data); err != nil {
		return fmt.Errorf("save checkpoint %q: %w", key, err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("save checkpoint %q: %w", key, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("save checkpoint %q: %w", key, err)
	}
	if err := os.Rename(tmp.Name(), filepath.Join(s.dir, name)); err != nil {
		return fmt.Errorf("save checkpoint %q: %w", key, err)
	}
	committed = true
	if err := syncDir(s.dir); err != nil {
		return fmt.Errorf("save checkpoint %q: %w", key, err)
	}
	return nil
}

// syncDir makes a rename in dir durable. Windows cannot flush a directory
// handle; there the rename is as durable as the file system makes it.
func syncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync directory %s: %w", dir, err)
	}
	return nil
}

// fileName maps a key to a safe, collision-free file name: a readable part
// (letters, digits, '.', '-', '_'; anything else becomes '_') followed by a
// hash of the whole key, so "a/b" and "a_b" get different files.
func fileName(key string) string {
	var b strings.Builder
	for _, r := range key {
		if b.Len() >= maxReadable {
			break
		}
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_':
			b.WriteRune(r)
		case r == '.' && b.Len() > 0:
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	sum := sha256.Sum256([]byte(key))
	return b.String() + "-" + hex.EncodeToString(sum[:8]) + ".json"
}
