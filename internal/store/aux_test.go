package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/threatlockdown/tld/internal/alert"
)

// batchA and batchB are two batches with full text, groups, MITRE and
// rollups to check after a crash between the two files' commits.
var (
	batchA = []spec{
		{id: "a1", at: time.Minute, rule: "5712", level: 10, groups: []string{"sshd", "authentication_failures"},
			mitreIDs: []string{"T1110"}, tactics: []string{"Credential Access"}, fullLog: "sshd: failed password for alpha"},
		{id: "a2", at: 2 * time.Minute, rule: "5501", level: 3, groups: []string{"pam"}, fullLog: "pam: session opened for alpha"},
	}
	batchB = []spec{
		{id: "b1", at: 25 * time.Hour, rule: "5712", level: 10, groups: []string{"sshd"}, agent: "db-02", agentID: "002",
			mitreIDs: []string{"T1110"}, tactics: []string{"Credential Access"}, fullLog: "sshd: failed password for bravo"},
		{id: "b2", at: 26 * time.Hour, rule: "2902", level: 7, groups: []string{"dpkg"},
			data: alert.Fields{{Key: "package", Value: "bravopkg"}}, fullLog: "dpkg: installed bravopkg"},
	}
)

// copyStoreFile copies a closed store file (and its WAL, when one is left).
func copyStoreFile(t *testing.T, from, to string) {
	t.Helper()
	for _, suffix := range []string{"", "-wal"} {
		os.Remove(to + suffix)
		src, err := os.Open(from + suffix)
		if errors.Is(err, os.ErrNotExist) && suffix != "" {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		dst, err := os.Create(to + suffix)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(dst, src); err != nil {
			t.Fatal(err)
		}
		src.Close()
		if err := dst.Close(); err != nil {
			t.Fatal(err)
		}
	}
	os.Remove(to + "-shm")
}

// checkConsistent checks every rollup answer against raw rows and the
// full text against the stored alerts.
func checkConsistent(t *testing.T, s *Store, wantIDs []string, words map[string][]string) {
	t.Helper()
	ctx := context.Background()
	st, err := s.Stats(ctx)
	if err != nil || st.Alerts != len(wantIDs) {
		t.Fatalf("Stats = %+v, %v; want %d alerts", st, err, len(wantIDs))
	}
	for _, d := range []Dimension{ByRule, ByGroup, ByLevel, ByAgent, ByTactic, ByTechnique} {
		roll, err1 := s.Top(ctx, Filter{}, d, 100)
		raw, err2 := s.Top(ctx, Filter{MinLevel: 1}, d, 100)
		if err1 != nil || err2 != nil || !reflect.DeepEqual(roll, raw) {
			t.Fatalf("rollups by %s %v (%v) != raw %v (%v)", d, roll, err1, raw, err2)
		}
	}
	for w, want := range words {
		res, err := s.Search(ctx, Filter{Text: w}, Page{})
		if err != nil || !reflect.DeepEqual(ids(res), want) {
			t.Fatalf("text %q finds %v (%v), want %v", w, ids(res), err, want)
		}
	}
	res, err := s.Search(ctx, Filter{Groups: []string{"sshd"}}, Page{})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range ids(res) {
		if _, err := s.Get(ctx, id); err != nil {
			t.Fatalf("group search finds %s, which is not stored: %v", id, err)
		}
	}
}

func TestIndexFileRecovery(t *testing.T) {
	ctx := context.Background()
	both := map[string][]string{"alpha": {"a2", "a1"}, "bravo": {"b1"}, "bravopkg": {"b2"}}
	onlyA := map[string][]string{"alpha": {"a2", "a1"}, "bravo": {}, "bravopkg": {}}

	// rolledBack stores batch A, then batch B, and reopens the store with
	// one of its files (the alerts file, or the index file) as it was
	// after batch A: a crash between the two files' commits of batch B.
	rolledBack := func(t *testing.T, file func(path string) string) *Store {
		dir := t.TempDir()
		path := filepath.Join(dir, "alerts.db")
		saved := filepath.Join(dir, "after-a")
		open := func() *Store {
			s, err := Open(ctx, path, Options{})
			if err != nil {
				t.Fatalf("open: %v", err)
			}
			return s
		}
		s := open()
		insert(t, s, batchA...)
		s.Close()
		copyStoreFile(t, file(path), saved)
		s = open()
		insert(t, s, batchB...)
		s.Close()
		copyStoreFile(t, saved, file(path))
		s = open()
		t.Cleanup(func() { s.Close() })
		return s
	}

	t.Run("alerts committed without their index entries are indexed on open", func(t *testing.T) {
		// A crash after the alerts' commit, before the index file's.
		s := rolledBack(t, func(path string) string { return path + auxSuffix })
		checkConsistent(t, s, []string{"a1", "a2", "b1", "b2"}, both)
		insert(t, s, spec{id: "c1", at: 27 * time.Hour, fullLog: "charlie"})
		checkConsistent(t, s, []string{"a1", "a2", "b1", "b2", "c1"}, map[string][]string{"charlie": {"c1"}, "bravo": {"b1"}})
	})

	t.Run("index entries of alerts never committed are removed on open", func(t *testing.T) {
		// A crash after the index file's commit, before the alerts'.
		s := rolledBack(t, func(path string) string { return path })
		checkConsistent(t, s, []string{"a1", "a2"}, onlyA)
		// The pipeline replays the batch that was not acknowledged.
		insert(t, s, batchB...)
		checkConsistent(t, s, []string{"a1", "a2", "b1", "b2"}, both)
	})

	// failIndex makes the next n index writes fail.
	failIndex := func(s *Store, n int32) {
		// Not the index write of an earlier Insert, still running.
		if err := s.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		var left atomic.Int32
		left.Store(n)
		s.auxFault = func() error {
			if left.Add(-1) >= 0 {
				return errors.New("injected index failure")
			}
			return nil
		}
	}

	t.Run("a failed index write is rebuilt from the stored alerts", func(t *testing.T) {
		s := openTest(t)
		insert(t, s, batchA...)
		failIndex(s, 1)
		alerts := []*alert.Alert{batchB[0].alert(), batchB[1].alert()}
		n, err := s.Insert(ctx, alerts)
		if err != nil || n != 2 {
			t.Fatalf("Insert = %d, %v; want 2 stored, the index rebuilt", n, err)
		}
		checkConsistent(t, s, []string{"a1", "a2", "b1", "b2"}, both)
		if n, err := s.Insert(ctx, alerts); err != nil || n != 0 {
			t.Fatalf("replay = %d, %v; want 0", n, err)
		}
		checkConsistent(t, s, []string{"a1", "a2", "b1", "b2"}, both)
	})

	t.Run("while the index cannot be rebuilt, queries and inserts fail; then it is repaired", func(t *testing.T) {
		s := openTest(t)
		insert(t, s, batchA...)
		// Insert's own index write, then the rebuilds the query and the
		// next insert try.
		failIndex(s, 3)
		alerts := []*alert.Alert{batchB[0].alert(), batchB[1].alert()}
		if n, err := s.Insert(ctx, alerts); err != nil || n != 2 {
			t.Fatalf("Insert = %d, %v; want 2 stored: the alerts file holds them", n, err)
		}
		if _, err := s.Search(ctx, Filter{}, Page{}); err == nil || !strings.Contains(err.Error(), "injected index failure") {
			t.Fatalf("query on an index that cannot be rebuilt: err = %v", err)
		}
		if _, err := s.Insert(ctx, alerts); err == nil {
			t.Fatal("Insert succeeded although the index could not be rebuilt")
		}
		if n, err := s.Insert(ctx, alerts); err != nil || n != 0 {
			t.Fatalf("replay = %d, %v; want 0: the first call stored them", n, err)
		}
		checkConsistent(t, s, []string{"a1", "a2", "b1", "b2"}, both)
	})

	t.Run("an interrupted prune is finished on open without counting twice", func(t *testing.T) {
		dir := t.TempDir()
		path := filepath.Join(dir, "alerts.db")
		s, err := Open(ctx, path, Options{})
		if err != nil {
			t.Fatal(err)
		}
		insert(t, s, batchA...)
		insert(t, s, batchB...)
		// The index half of pruning the first hour, then a crash.
		if err := s.pruneIndex(ctx, base.UnixMilli(), base.Add(time.Hour).UnixMilli()); err != nil {
			t.Fatal(err)
		}
		s.Close()
		s, err = Open(ctx, path, Options{})
		if err != nil {
			t.Fatalf("reopen: %v", err)
		}
		defer s.Close()
		checkConsistent(t, s, []string{"b1", "b2"}, map[string][]string{"alpha": {}, "bravo": {"b1"}})
		if n, err := s.Prune(ctx, base.Add(time.Hour)); err != nil || n != 0 {
			t.Fatalf("Prune again = %d, %v", n, err)
		}
		checkConsistent(t, s, []string{"b1", "b2"}, map[string][]string{"alpha": {}, "bravo": {"b1"}})
	})
}

func TestStaleIndexFile(t *testing.T) {
	ctx := context.Background()
	t.Run("an index file beside a new alerts file is discarded", func(t *testing.T) {
		dir := t.TempDir()
		path := filepath.Join(dir, "alerts.db")
		s, err := Open(ctx, path, Options{})
		if err != nil {
			t.Fatal(err)
		}
		insert(t, s, batchA...)
		s.Close()
		for _, suffix := range []string{"", "-wal", "-shm"} {
			os.Remove(path + suffix)
		}
		s, err = Open(ctx, path, Options{})
		if err != nil {
			t.Fatalf("reopen: %v", err)
		}
		defer s.Close()
		checkConsistent(t, s, nil, map[string][]string{"alpha": {}})
	})
}

func TestMigrateFromOneFile(t *testing.T) {
	ctx := context.Background()
	t.Run("a version 1 store gets an index file built from its alerts", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "alerts.db")
		db, err := sql.Open("sqlite", path)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.ExecContext(ctx, migrations[0]); err != nil {
			t.Fatal(err)
		}
		if _, err := db.ExecContext(ctx, fmt.Sprintf("PRAGMA application_id = %d; PRAGMA user_version = 1", applicationID)); err != nil {
			t.Fatal(err)
		}
		for i, sp := range append(slices.Clone(batchA), batchB...) {
			r := newRow(sp.alert())
			a := r.a
			if _, err := db.ExecContext(ctx, `INSERT INTO alerts(seq, id, ts, rule_id, level, description, agent_id, agent_name, location,
				groups, techniques, tactics, cells, resource_type, region, json) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
				i+1, a.ID, r.ts, r.ruleID, r.level, r.desc, a.Agent.ID, a.Agent.Name, a.Location,
				r.lists[0], r.lists[1], r.lists[2], r.lists[3], r.rtype, r.region, r.json); err != nil {
				t.Fatal(err)
			}
		}
		db.Close()
		s, err := Open(ctx, path, Options{})
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		defer s.Close()
		checkConsistent(t, s, []string{"a1", "a2", "b1", "b2"}, map[string][]string{"alpha": {"a2", "a1"}, "bravo": {"b1"}, "bravopkg": {"b2"}})
		// The migrated alerts' ids are found again: a replay stores nothing.
		var replay []*alert.Alert
		for _, sp := range batchA {
			replay = append(replay, sp.alert())
		}
		if n, err := s.Insert(ctx, replay); err != nil || n != 0 {
			t.Fatalf("replay of migrated alerts = %d, %v; want 0", n, err)
		}
		insert(t, s, spec{id: "c1", at: 27 * time.Hour, fullLog: "charlie"})
		checkConsistent(t, s, []string{"a1", "a2", "b1", "b2", "c1"}, map[string][]string{"charlie": {"c1"}})
	})

	t.Run("an index file of version 1 (side tables) is rebuilt without counting twice", func(t *testing.T) {
		dir := t.TempDir()
		path := filepath.Join(dir, "alerts.db")
		s, err := Open(ctx, path, Options{})
		if err != nil {
			t.Fatal(err)
		}
		insert(t, s, batchA...)
		insert(t, s, batchB...)
		s.Close()
		// The index file as the previous release left it: side tables,
		// rollups counting the four alerts, everything applied.
		if err := os.Remove(path + auxSuffix); err != nil {
			t.Fatal(err)
		}
		db, err := sql.Open("sqlite", path+auxSuffix)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.ExecContext(ctx, auxMigrations[0]); err != nil {
			t.Fatal(err)
		}
		if _, err := db.ExecContext(ctx, fmt.Sprintf(`PRAGMA application_id = %d; PRAGMA user_version = 1; PRAGMA journal_mode = WAL;
			INSERT INTO rollups(dim, bucket, k1, k2, n) VALUES (%d, 0, '', '', 4);
			UPDATE aux_state SET v = 4 WHERE k = 'applied_seq'`, auxApplicationID, dimMinute)); err != nil {
			t.Fatal(err)
		}
		db.Close()
		s, err = Open(ctx, path, Options{})
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		defer s.Close()
		st, err := s.Stats(ctx)
		if err != nil || st.Alerts != 4 {
			t.Fatalf("Stats = %+v, %v; want 4 alerts", st, err)
		}
		checkConsistent(t, s, []string{"a1", "a2", "b1", "b2"}, map[string][]string{"alpha": {"a2", "a1"}, "bravo": {"b1"}, "bravopkg": {"b2"}})
	})
}

func TestJSONList(t *testing.T) {
	for _, v := range [][]string{{"sshd"}, {"a", "b c"}, {`q"uote`, "x"}, {"<html>&"}, {"héllo"}, {"bad \xff"}, {"tab\t"}} {
		want, _ := json.Marshal(v)
		if got := jsonList(v); got != string(want) {
			t.Errorf("jsonList(%q) = %v, want %s", v, got, want)
		}
	}
	if jsonList(nil) != nil {
		t.Error("an empty list is not NULL")
	}
}

func TestReopenAfterPruningEverything(t *testing.T) {
	ctx := context.Background()
	t.Run("a store pruned of its newest alerts reopens consistent and takes new ones", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "alerts.db")
		s, err := Open(ctx, path, Options{})
		if err != nil {
			t.Fatal(err)
		}
		insert(t, s, batchA...)
		insert(t, s, batchB...)
		if n, err := s.Prune(ctx, base.Add(48*time.Hour)); err != nil || n != 4 {
			t.Fatalf("Prune = %d, %v", n, err)
		}
		s.Close()
		s, err = Open(ctx, path, Options{})
		if err != nil {
			t.Fatalf("reopen: %v", err)
		}
		defer s.Close()
		checkConsistent(t, s, nil, map[string][]string{"alpha": {}, "bravo": {}})
		insert(t, s, spec{id: "c1", at: 49 * time.Hour, fullLog: "charlie"})
		checkConsistent(t, s, []string{"c1"}, map[string][]string{"charlie": {"c1"}, "bravo": {}})
	})
}
