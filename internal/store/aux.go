package store

import (
	"bytes"
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"

	"github.com/threatlockdown/tld/internal/alert"
)

// The store is two SQLite files, written in parallel by two connections so
// an insert uses both cores: the main file holds the alerts (and posture
// and labels); the index file beside it holds what can be derived from
// them again — full text, side tables, rollups, minute seq ranges. Readers
// open the main file with the index file attached as "aux"; table names
// are unique across both, so queries name them unqualified.
//
// The two commits run at the same time and are not atomic together. The
// index file records the last seq it holds (applied_seq) and what the
// last batch covered in the same transaction as its data. reconcile,
// run by Open and after any failed write before the next one, repairs
// either way: when the index lags the alerts (a crash between the
// commits, a failed index write) it rebuilds the missing entries from the
// stored alerts; when it holds a batch whose alerts were never committed,
// it takes that batch out again and recounts the rollups of its days
// from the stored alerts.

// auxApplicationID marks the index file ("tldx").
const auxApplicationID = 0x746c6478

// auxSuffix names the index file: alerts.db → alerts.db.index.
const auxSuffix = ".index"

// auxMigrations are the index file's schema versions, as migrations are
// the main file's.
var auxMigrations = []string{
	`
CREATE TABLE alert_groups (grp TEXT NOT NULL, ts INTEGER NOT NULL, seq INTEGER NOT NULL, PRIMARY KEY (grp, ts, seq)) WITHOUT ROWID;
CREATE TABLE alert_techniques (technique TEXT NOT NULL, ts INTEGER NOT NULL, seq INTEGER NOT NULL, PRIMARY KEY (technique, ts, seq)) WITHOUT ROWID;
CREATE TABLE alert_tactics (tactic TEXT NOT NULL, ts INTEGER NOT NULL, seq INTEGER NOT NULL, PRIMARY KEY (tactic, ts, seq)) WITHOUT ROWID;
CREATE VIRTUAL TABLE alerts_fts USING fts5(body, content='', contentless_delete=1);
INSERT INTO alerts_fts(alerts_fts, rank) VALUES ('automerge', 16);
INSERT INTO alerts_fts(alerts_fts, rank) VALUES ('crisismerge', 64);
CREATE TABLE rollups (
	dim    INTEGER NOT NULL,
	bucket INTEGER NOT NULL,
	k1     TEXT    NOT NULL,
	k2     TEXT    NOT NULL,
	n      INTEGER NOT NULL,
	PRIMARY KEY (dim, bucket, k1, k2)
) WITHOUT ROWID;
CREATE TABLE minute_seq (minute INTEGER PRIMARY KEY, min_seq INTEGER NOT NULL, max_seq INTEGER NOT NULL);
-- applied_seq: the highest alerts.seq indexed here. prune_lo/prune_hi: a
-- time range whose index entries are gone while its alerts may not be
-- yet (a prune interrupted between its two commits).
CREATE TABLE aux_state (k TEXT PRIMARY KEY, v INTEGER NOT NULL) WITHOUT ROWID;
-- batch_*: the first seq and the time range of the last batch written,
-- to take it out again if its alerts were never committed.
INSERT INTO aux_state(k, v) VALUES ('applied_seq', 0), ('prune_lo', 0), ('prune_hi', 0),
	('batch_first_seq', 0), ('batch_lo_ts', 0), ('batch_hi_ts', 0);
`,
	// v2: the side tables become hashed terms in a second full text
	// column, which costs a fraction of their B-tree inserts; rollups and
	// minute ranges move to the alerts file (schema v3), written with the
	// alerts. The index is emptied and rebuilt from the alerts by
	// reconcile.
	`
DROP TABLE alert_groups;
DROP TABLE alert_techniques;
DROP TABLE alert_tactics;
DROP TABLE alerts_fts;
DROP TABLE rollups;
DROP TABLE minute_seq;
CREATE VIRTUAL TABLE alerts_fts USING fts5(body, terms, content='', contentless_delete=1);
-- Fewer, larger merges: at a million alerts, merging with the default
-- of 16 segments a level was a fifth of every insert's work. Queries
-- then read more segments, and still answer in tens of milliseconds.
INSERT INTO alerts_fts(alerts_fts, rank) VALUES ('automerge', 64);
INSERT INTO alerts_fts(alerts_fts, rank) VALUES ('crisismerge', 128);
DELETE FROM aux_state WHERE k IN ('batch_lo_ts', 'batch_hi_ts');
UPDATE aux_state SET v = 0;
`,
}

// storeDriver is modernc's sqlite driver, the instance its package-level
// functions (RegisterDeterministicScalarFunction) configure: connections
// are made through it directly so that they can attach the other file.
var storeDriver = func() driver.Driver {
	db, err := sql.Open("sqlite", "")
	if err != nil {
		panic(err) // only for a driver name that is not registered
	}
	defer db.Close()
	return db.Driver()
}()

// attachConnector opens dsn, attaches file as schema name and runs then.
type attachConnector struct {
	dsn, file, name string
	then            []string
}

func (c attachConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := storeDriver.Open(c.dsn)
	if err != nil {
		return nil, err
	}
	if c.file == "" {
		return conn, nil
	}
	ex, ok := conn.(driver.ExecerContext)
	if !ok {
		conn.Close()
		return nil, errors.New("sqlite connection cannot execute statements")
	}
	if _, err := ex.ExecContext(ctx, "ATTACH DATABASE ? AS "+c.name, []driver.NamedValue{{Ordinal: 1, Value: c.file}}); err != nil {
		conn.Close()
		return nil, fmt.Errorf("attach %s: %w", c.file, err)
	}
	for _, q := range c.then {
		if _, err := ex.ExecContext(ctx, q, nil); err != nil {
			conn.Close()
			return nil, fmt.Errorf("%s: %w", q, err)
		}
	}
	return conn, nil
}

func (c attachConnector) Driver() driver.Driver { return storeDriver }

// openDB opens path with the query string q, attaching other as name
// when other is not empty and then running then.
func openDB(path, q, other, name string, then ...string) *sql.DB {
	dsn := "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + q
	return sql.OpenDB(attachConnector{dsn: dsn, file: other, name: name, then: then})
}

// migrateAux checks the index file is ours and brings it up to date.
func (s *Store) migrateAux(ctx context.Context) error {
	fail := func(err error) error { return fmt.Errorf("open alert store index %s: %w", s.auxPath, err) }
	var appID, version, tables int
	if err := s.wa.QueryRowContext(ctx, "PRAGMA application_id").Scan(&appID); err != nil {
		return fail(err)
	}
	if err := s.wa.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
		return fail(err)
	}
	if err := s.wa.QueryRowContext(ctx, "SELECT count(*) FROM main.sqlite_schema").Scan(&tables); err != nil {
		return fail(err)
	}
	switch {
	case appID == 0 && version == 0 && tables == 0:
		if _, err := s.wa.ExecContext(ctx, fmt.Sprintf("PRAGMA main.page_size = %d", pageSize)); err != nil {
			return fail(err)
		}
	case appID != auxApplicationID:
		return fail(fmt.Errorf("not a tld alert store index (application id %#x)", appID))
	case version > len(auxMigrations):
		return fail(fmt.Errorf("schema version %d is newer than this tld supports (%d): upgrade tld", version, len(auxMigrations)))
	}
	var mode string
	if err := s.wa.QueryRowContext(ctx, "PRAGMA main.journal_mode = WAL").Scan(&mode); err != nil {
		return fail(err)
	}
	if !strings.EqualFold(mode, "wal") {
		return fail(fmt.Errorf("cannot use WAL journal (got %q)", mode))
	}
	for v := version; v < len(auxMigrations); v++ {
		err := func() error {
			tx, err := s.wa.BeginTx(ctx, nil)
			if err != nil {
				return err
			}
			defer tx.Rollback()
			if _, err := tx.ExecContext(ctx, auxMigrations[v]); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA main.application_id = %d", auxApplicationID)); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA main.user_version = %d", v+1)); err != nil {
				return err
			}
			return tx.Commit()
		}()
		if err != nil {
			return fail(fmt.Errorf("migrate schema to version %d: %w", v+1, err))
		}
	}
	return nil
}

// auxState reads one aux_state value.
func auxState(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, k string) (int64, error) {
	var v int64
	err := q.QueryRowContext(ctx, "SELECT v FROM aux_state WHERE k = ?", k).Scan(&v)
	return v, err
}

// reconcile brings the index file level with the main file: it finishes
// an interrupted prune, then indexes the alerts the index file lacks.
// The caller holds s.mu.
func (s *Store) reconcile(ctx context.Context) error {
	lo, err := auxState(ctx, s.wa, "prune_lo")
	if err != nil {
		return fmt.Errorf("reconcile index: %w", err)
	}
	hi, err := auxState(ctx, s.wa, "prune_hi")
	if err != nil {
		return fmt.Errorf("reconcile index: %w", err)
	}
	if hi > lo {
		if _, err := s.finishPrune(ctx, lo, hi); err != nil {
			return fmt.Errorf("reconcile index: finish prune: %w", err)
		}
	}
	applied, err := auxState(ctx, s.wa, "applied_seq")
	if err != nil {
		return fmt.Errorf("reconcile index: %w", err)
	}
	var mainMax int64
	if err := s.w.QueryRowContext(ctx, "SELECT coalesce(max(seq), 0) FROM alerts").Scan(&mainMax); err != nil {
		return fmt.Errorf("reconcile index: %w", err)
	}
	s.lastSeq = max(s.lastSeq, mainMax, applied)
	if first, err := auxState(ctx, s.wa, "batch_first_seq"); err != nil {
		return fmt.Errorf("reconcile index: %w", err)
	} else if applied > mainMax && mainMax < first {
		if err := s.undoBatch(ctx, first, applied, mainMax); err != nil {
			return fmt.Errorf("reconcile index: %w", err)
		}
		applied = mainMax
	}
	if applied >= mainMax {
		s.auxBehind.Store(false)
		return nil
	}
	s.log.Info("alert store index behind the alerts: rebuilding", "path", s.auxPath, "from_seq", applied+1, "to_seq", mainMax)
	total := 0
	for applied < mainMax {
		rows, err := s.storedRows(ctx, applied, 2000)
		if err != nil {
			return fmt.Errorf("reconcile index: %w", err)
		}
		if len(rows) == 0 {
			break
		}
		last := rows[len(rows)-1].seq
		tx, err := s.wa.BeginTx(ctx, nil)
		if err != nil {
			return fmt.Errorf("reconcile index: %w", err)
		}
		err = writeAux(ctx, tx, s.was, rows)
		if err == nil && s.auxFault != nil {
			err = s.auxFault()
		}
		if err != nil {
			tx.Rollback()
			return fmt.Errorf("reconcile index: %w", err)
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("reconcile index: commit: %w", err)
		}
		applied = last
		total += len(rows)
	}
	s.auxBehind.Store(false)
	s.log.Info("alert store index rebuilt", "path", s.auxPath, "alerts", total)
	// With statistics for the alerts' indexes and none for the side
	// tables the planner misjudges filters by group or technique (a
	// v1 store that was analysed, say): analyse the index file too,
	// once.
	var stats bool
	if err := s.wa.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM m.sqlite_schema WHERE name = 'sqlite_stat1')
		AND NOT EXISTS (SELECT 1 FROM main.sqlite_schema WHERE name = 'sqlite_stat1')`).Scan(&stats); err != nil {
		return fmt.Errorf("reconcile index: %w", err)
	}
	if stats {
		if _, err := s.wa.ExecContext(ctx, "ANALYZE main"); err != nil {
			return fmt.Errorf("reconcile index: analyze: %w", err)
		}
	}
	return nil
}

// undoBatch takes the index entries of seqs [first, last], the last batch
// written, out of the index file: its alerts are not stored.
func (s *Store) undoBatch(ctx context.Context, first, last, mainMax int64) error {
	// Also reached, harmlessly, when pruning removed the newest alerts.
	s.log.Info("alert store index holds a last batch the alerts file does not: removing it", "path", s.auxPath,
		"from_seq", first, "to_seq", last)
	tx, err := s.wa.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, "DELETE FROM alerts_fts WHERE rowid >= ? AND rowid <= ?", first, last); err != nil {
		return fmt.Errorf("undo full text: %w", err)
	}
	if _, err := tx.ExecContext(ctx, "UPDATE aux_state SET v = ? WHERE k = 'applied_seq'", mainMax); err != nil {
		return err
	}
	return tx.Commit()
}

// storedRows reads up to n stored alerts with seq > after, as rows
// holding what the index file needs.
func (s *Store) storedRows(ctx context.Context, after int64, n int) ([]*row, error) {
	q, err := s.w.QueryContext(ctx, `SELECT seq, ts, rule_id, level, agent_name, agent_id, location, groups, techniques, tactics, cells,
		resource_type, region, json FROM alerts WHERE seq > ? ORDER BY seq LIMIT ?`, after, n)
	if err != nil {
		return nil, fmt.Errorf("read stored alerts: %w", err)
	}
	defer q.Close()
	var out []*row
	for q.Next() {
		r := &row{a: &alert.Alert{}}
		var groups, techs, tactics, cells sql.NullString
		if err := q.Scan(&r.seq, &r.ts, &r.ruleID, &r.level, &r.a.Agent.Name, &r.a.Agent.ID, &r.a.Location, &groups, &techs, &tactics, &cells,
			&r.rtype, &r.region, &r.json); err != nil {
			return nil, fmt.Errorf("read stored alerts: %w", err)
		}
		r.groups, r.techniques, r.tactics, r.cells = decodeList(groups), decodeList(techs), decodeList(tactics), decodeList(cells)
		body, err := bodyFromJSON(r.json)
		if err != nil {
			return nil, fmt.Errorf("read stored alert seq %d: %w", r.seq, err)
		}
		r.body = body
		r.terms = termsOf(r)
		out = append(out, r)
	}
	return out, q.Err()
}

// bodyFromJSON recomputes searchBody from an alert as stored.
func bodyFromJSON(raw []byte) (string, error) {
	var v struct {
		Rule *struct {
			Description string `json:"description"`
		} `json:"rule"`
		FullLog string          `json:"full_log"`
		Data    json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		return "", err
	}
	a := &alert.Alert{FullLog: v.FullLog}
	if v.Rule != nil {
		a.Rule = &alert.Rule{Description: v.Rule.Description}
	}
	if len(v.Data) > 0 {
		dec := json.NewDecoder(bytes.NewReader(v.Data))
		dec.UseNumber()
		if err := flatten(dec, "", &a.Data); err != nil {
			return "", fmt.Errorf("decode data: %w", err)
		}
	}
	return searchBody(a), nil
}

// flatten reads one JSON value from dec into fields with dotted keys, as
// alert.Fields are before encoding; an array is kept as its JSON text.
func flatten(dec *json.Decoder, key string, out *alert.Fields) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return err
				}
				k, _ := kt.(string)
				if key != "" {
					k = key + "." + k
				}
				if err := flatten(dec, k, out); err != nil {
					return err
				}
			}
			_, err := dec.Token() // '}'
			return err
		case '[':
			var parts []string
			depth := 1
			for depth > 0 {
				t, err := dec.Token()
				if err == io.EOF {
					return io.ErrUnexpectedEOF
				}
				if err != nil {
					return err
				}
				switch t := t.(type) {
				case json.Delim:
					if t == '[' || t == '{' {
						depth++
					} else {
						depth--
					}
				case string:
					parts = append(parts, t)
				case json.Number:
					parts = append(parts, t.String())
				}
			}
			*out = append(*out, alert.Field{Key: key, Value: strings.Join(parts, " "), Raw: true})
			return nil
		}
	case string:
		*out = append(*out, alert.Field{Key: key, Value: t})
	case json.Number:
		*out = append(*out, alert.Field{Key: key, Value: t.String()})
	case bool:
		*out = append(*out, alert.Field{Key: key, Value: fmt.Sprint(t)})
	}
	return nil
}

// writeAux writes the index entries of rows (whose seqs are set) and
// records the last seq as applied_seq, in the index file's transaction tx.
func writeAux(ctx context.Context, tx *sql.Tx, stmts *stmtCache, rows []*row) error {
	return writeAuxFunc(ctx, tx, stmts, len(rows), func(k int) *row { return rows[k] })
}

// writeAuxFunc is writeAux over n rows that next returns in seq order
// (waiting for each as it is prepared).
func writeAuxFunc(ctx context.Context, tx *sql.Tx, stmts *stmtCache, n int, next func(k int) *row) error {
	// FTS5 flushes its pending terms to disk at the end of every
	// statement, so the whole batch goes in as few statements as possible.
	bFTS := newBulk(ctx, tx, stmts, "INSERT INTO alerts_fts(rowid, body, terms) VALUES ", 3)
	bFTS.rows, bFTS.whole = 5000, true
	var first, last int64
	for k := 0; k < n; k++ {
		r := next(k)
		seq := r.seq
		if k == 0 {
			first = seq
		}
		last = seq
		bFTS.add(seq, r.body, r.terms)
	}
	if err := bFTS.flush(); err != nil {
		return err
	}
	if n == 0 {
		return nil
	}
	if _, err := stmts.exec(ctx, tx, `UPDATE aux_state SET v = CASE k WHEN 'applied_seq' THEN ? ELSE ? END
		WHERE k IN ('applied_seq', 'batch_first_seq')`, last, first); err != nil {
		return fmt.Errorf("record applied seq: %w", err)
	}
	return nil
}
