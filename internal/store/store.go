// Package store is tld's embedded alert store: every alert in a single
// SQLite file (pure Go, modernc.org/sqlite), searchable by the REST API and
// the dashboard without an OpenSearch cluster.
//
// Alerts are written once, in batches, in one durable transaction each,
// and are deduplicated by their deterministic id so that a pipeline replay
// after a crash stores nothing twice. Counting queries read hourly rollup
// tables kept in the same transaction, so dashboards stay fast with
// millions of alerts; free text goes through an FTS5 index.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
)

// pageSize is the page size of new stores.
const pageSize = 4096

// Options tune a Store.
type Options struct {
	// Logger receives retention and migration messages; nil discards.
	Logger *slog.Logger
}

// Store is an open alert store. Its methods are safe for concurrent use:
// writes are serialised on one connection while reads use a pool of
// their own and see the last committed transaction (WAL).
type Store struct {
	path    string
	auxPath string // the index file (see aux.go)
	log     *slog.Logger
	w       *sql.DB    // the one writer connection of the main file
	wa      *sql.DB    // the one writer connection of the index file (main attached, read only)
	ws      *stmtCache // w's statements
	was     *stmtCache // wa's statements
	r       *sql.DB    // readers: main file, index file attached
	ck      *sql.DB    // the checkpointer's connection

	// mu serialises writers; it guards the fields below.
	mu sync.Mutex
	// lastSeq is the highest seq ever given, in either file, so that a
	// seq is never reused even when pruning removed the newest alerts.
	lastSeq int64
	// auxBehind is set when an index write failed after its alerts were
	// committed: the next write or query reconciles first. Written under
	// mu; Flush reads it without.
	auxBehind atomic.Bool
	// pending is the index write the last Insert left running, if any
	// (see Insert); Flush reads it without mu.
	pending atomic.Pointer[auxWrite]
	// auxFault, when set (by tests), is called by every index write
	// (Insert's and a rebuild's) after its statements ran, before its
	// commit, and fails it with the error it returns.
	auxFault func() error
	// idSizes are how many ids the runs ids0 and ids1 hold (ids.go).
	idSizes [2]int64
	// labels are the labels this Store committed, so that a batch
	// writes only those that changed.
	labels map[labelKey]string
	// created is set by migrate for a new alerts file.
	created bool

	writes   atomic.Int64  // commits, for the checkpointer
	kick     chan struct{} // a write happened: checkpoint soon
	stopCk   context.CancelFunc
	ckExited chan struct{}
}

// Open opens the store at path, creating it or migrating it to the current
// schema. It refuses a file that is not a tld store, is corrupt, or was
// written by a newer tld.
func Open(ctx context.Context, path string, opts Options) (*Store, error) {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		return nil, fmt.Errorf("open alert store %s: is a directory", path)
	}
	// The writer leaves checkpoints to the checkpointer (see checkpointer)
	// until the WAL is ~200 MB, when it does one itself as a safety net.
	// Cache sizes trade speed for memory, measured on 100,000 alerting
	// events with `tld run --once`: 64 MB per writer stored ~12 % faster
	// than 16 MB but took the process from ~240 to ~310 MB resident;
	// readers keep 32 MB per file, below which a filtered search at 1M
	// alerts goes from ~60 ms to over a second.
	const writeQ = "_pragma=busy_timeout(10000)&_pragma=synchronous(FULL)&_pragma=cache_size(-16384)&_pragma=temp_store(MEMORY)" +
		"&_pragma=wal_autocheckpoint(50000)&_pragma=journal_size_limit(67108864)"
	w := openDB(path, writeQ+"&_txlock=immediate", "", "")
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	s := &Store{path: path, auxPath: path + auxSuffix, log: log, w: w, ws: newStmtCache(w), labels: make(map[labelKey]string)}
	if err := s.migrate(ctx); err != nil {
		w.Close()
		return nil, err
	}
	sizes, err := idRunSizes(ctx, s.w)
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("open alert store %s: %w", path, err)
	}
	s.idSizes = sizes
	if s.created {
		// An index file left beside a new alerts file indexes alerts
		// that are gone.
		for _, suffix := range []string{"", "-wal", "-shm"} {
			if err := os.Remove(s.auxPath + suffix); err != nil && !errors.Is(err, os.ErrNotExist) {
				w.Close()
				return nil, fmt.Errorf("open alert store %s: remove stale index file: %w", path, err)
			}
		}
	}
	// The index writer attaches the main file to read alerts when it
	// rebuilds or prunes; its transactions are deferred so that they
	// never take the main file's write lock.
	// The index file holds nothing that cannot be rebuilt from the
	// alerts: its commits need not wait for the disk. WAL with
	// synchronous=NORMAL never corrupts it; a power cut may take its last
	// commits, and Open rebuilds what the alerts hold and it lacks. Only a
	// prune's commit, which the alerts' deletion relies on, is synced.
	auxQ := strings.Replace(writeQ, "synchronous(FULL)", "synchronous(NORMAL)", 1)
	wa := openDB(s.auxPath, auxQ, path, "m")
	wa.SetMaxOpenConns(1)
	wa.SetMaxIdleConns(1)
	wa.SetConnMaxLifetime(0)
	s.wa, s.was = wa, newStmtCache(wa)
	if err := s.migrateAux(ctx); err != nil {
		wa.Close()
		w.Close()
		return nil, err
	}
	s.mu.Lock()
	err = s.reconcile(ctx)
	s.mu.Unlock()
	if err != nil {
		wa.Close()
		w.Close()
		return nil, fmt.Errorf("open alert store %s: %w", path, err)
	}
	r := openDB(path, "_pragma=busy_timeout(10000)&_pragma=query_only(1)&_pragma=cache_size(-32768)&_pragma=temp_store(MEMORY)", s.auxPath, "aux",
		"PRAGMA aux.cache_size = -32768")
	n := max(2, runtime.GOMAXPROCS(0))
	r.SetMaxOpenConns(n)
	r.SetMaxIdleConns(n)
	s.r = r
	// Without a schema name, wal_checkpoint checkpoints every attached file.
	ck := openDB(path, "_pragma=busy_timeout(10000)&_pragma=synchronous(FULL)", s.auxPath, "aux")
	ck.SetMaxOpenConns(1)
	s.ck = ck
	s.kick = make(chan struct{}, 1)
	s.ckExited = make(chan struct{})
	ckCtx, stop := context.WithCancel(context.WithoutCancel(ctx))
	s.stopCk = stop
	go s.checkpointer(ckCtx)
	return s, nil
}

// checkpointer copies committed WAL frames into the database file on its
// own connection, so inserts do not pay for it (SQLite's automatic
// checkpoint runs inside the committing writer). PASSIVE never blocks
// the writer or readers.
func (s *Store) checkpointer(ctx context.Context) {
	defer close(s.ckExited)
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.kick:
		}
		if _, err := s.ck.ExecContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)"); err != nil && ctx.Err() == nil {
			s.log.Warn("alert store checkpoint failed", "path", s.path, "err", err)
		}
	}
}

// ckEvery is how many commits the checkpointer lets pass between
// checkpoints: the pages at the newest end of every index, and the
// rollup and full text pages, are rewritten by every batch, and copying
// them into the file once per ckEvery batches instead of once per batch
// saves most of the checkpointing work. Readers pay a little for the
// longer WAL.
const ckEvery = 8

// wrote counts a commit and tells the checkpointer every ckEvery.
func (s *Store) wrote() {
	if s.writes.Add(1)%ckEvery != 0 {
		return
	}
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// Close releases the store's connections.
func (s *Store) Close() error {
	s.mu.Lock()
	if err := s.settleLocked(context.Background()); err != nil {
		// Open rebuilds what is missing.
		s.log.Warn("alert store index left behind the alerts", "path", s.auxPath, "err", err)
	}
	s.mu.Unlock()
	s.stopCk()
	<-s.ckExited
	s.ws.close()
	s.was.close()
	err := s.ck.Close()
	if rerr := s.r.Close(); rerr != nil && err == nil {
		err = rerr
	}
	if werr := s.wa.Close(); werr != nil && err == nil {
		err = werr
	}
	if werr := s.w.Close(); werr != nil && err == nil {
		err = werr
	}
	if err != nil {
		return fmt.Errorf("close alert store %s: %w", s.path, err)
	}
	return nil
}

// migrate checks the file is ours and brings its schema up to date, each
// step in its own transaction so a crash leaves a consistent version.
func (s *Store) migrate(ctx context.Context) error {
	var appID, version int
	if err := s.w.QueryRowContext(ctx, "PRAGMA application_id").Scan(&appID); err != nil {
		return s.openErr(err)
	}
	if err := s.w.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
		return s.openErr(err)
	}
	var tables int
	if err := s.w.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_schema").Scan(&tables); err != nil {
		return s.openErr(err)
	}
	switch {
	case appID == 0 && version == 0 && tables == 0:
		s.created = true
		// A new, empty file: big pages mean fewer writes per batch and
		// shallower indexes. Only a new file can change its page size.
		if _, err := s.w.ExecContext(ctx, fmt.Sprintf("PRAGMA page_size = %d", pageSize)); err != nil {
			return s.openErr(err)
		}
	case appID != applicationID:
		return fmt.Errorf("open alert store %s: not a tld alert store (application id %#x)", s.path, appID)
	case version > len(migrations):
		return fmt.Errorf("open alert store %s: schema version %d is newer than this tld supports (%d): upgrade tld", s.path, version, len(migrations))
	}
	// WAL lets readers run during a write; the mode is kept in the file.
	var mode string
	if err := s.w.QueryRowContext(ctx, "PRAGMA journal_mode = WAL").Scan(&mode); err != nil {
		return s.openErr(err)
	}
	if !strings.EqualFold(mode, "wal") {
		return fmt.Errorf("open alert store %s: cannot use WAL journal (got %q)", s.path, mode)
	}
	for v := version; v < len(migrations); v++ {
		if err := s.applyMigration(ctx, v); err != nil {
			return fmt.Errorf("open alert store %s: migrate schema to version %d: %w", s.path, v+1, err)
		}
		s.log.Info("alert store schema migrated", "path", s.path, "version", v+1)
	}
	return nil
}

func (s *Store) applyMigration(ctx context.Context, from int) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, migrations[from]); err != nil {
		return err
	}
	if step := migrationSteps[from+1]; step != nil {
		if err := step(ctx, tx); err != nil {
			return err
		}
	}
	// PRAGMAs take no bound parameters; both values are our constants.
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA application_id = %d", applicationID)); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", from+1)); err != nil {
		return err
	}
	return tx.Commit()
}

func (s *Store) openErr(err error) error {
	msg := err.Error()
	if strings.Contains(msg, "not a database") || strings.Contains(msg, "malformed") || strings.Contains(msg, "corrupt") {
		return fmt.Errorf("open alert store %s: file is corrupt or not a SQLite database: %w", s.path, err)
	}
	return fmt.Errorf("open alert store %s: %w", s.path, err)
}

// Stats reports what the store holds.
func (s *Store) Stats(ctx context.Context) (Stats, error) {
	var st Stats
	if err := s.Flush(ctx); err != nil {
		return st, fmt.Errorf("store stats: %w", err)
	}
	var oldest, newest sql.NullInt64
	// The minute rollup counts every alert, and is far smaller than alerts.
	if err := s.r.QueryRowContext(ctx, "SELECT coalesce(sum(n), 0) FROM rollups WHERE dim = ?", dimMinute).Scan(&st.Alerts); err != nil {
		return st, fmt.Errorf("alert store stats: %w", err)
	}
	if err := s.r.QueryRowContext(ctx, "SELECT (SELECT min(ts) FROM alerts), (SELECT max(ts) FROM alerts)").Scan(&oldest, &newest); err != nil {
		return st, fmt.Errorf("alert store stats: %w", err)
	}
	if oldest.Valid {
		st.Oldest, st.Newest = fromMillis(oldest.Int64), fromMillis(newest.Int64)
	}
	if err := s.r.QueryRowContext(ctx, "SELECT count(*) FROM posture").Scan(&st.Recommendations); err != nil {
		return st, fmt.Errorf("alert store stats: %w", err)
	}
	var pages, pageSize int64
	if err := s.r.QueryRowContext(ctx, "PRAGMA page_count").Scan(&pages); err != nil {
		return st, fmt.Errorf("alert store stats: %w", err)
	}
	if err := s.r.QueryRowContext(ctx, "PRAGMA page_size").Scan(&pageSize); err != nil {
		return st, fmt.Errorf("alert store stats: %w", err)
	}
	st.SizeBytes = pages * pageSize
	if err := s.r.QueryRowContext(ctx, "PRAGMA aux.page_count").Scan(&pages); err != nil {
		return st, fmt.Errorf("alert store stats: %w", err)
	}
	if err := s.r.QueryRowContext(ctx, "PRAGMA aux.page_size").Scan(&pageSize); err != nil {
		return st, fmt.Errorf("alert store stats: %w", err)
	}
	st.SizeBytes += pages * pageSize
	for _, wal := range []string{s.path + "-wal", s.auxPath + "-wal"} {
		if fi, err := os.Stat(wal); err == nil {
			st.SizeBytes += fi.Size()
		}
	}
	return st, nil
}
