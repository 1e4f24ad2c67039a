package store

import (
	"context"
	"database/sql"
)

// applicationID marks a SQLite file as a tld alert store ("tld1" in
// ASCII), so Open can refuse some other program's database instead of
// writing tables into it.
const applicationID = 0x746c6431

// migrationSteps run after the SQL of the migration to the version they
// are keyed by, in its transaction: what SQL alone cannot do.
var migrationSteps = map[int]func(context.Context, *sql.Tx) error{
	3: countStoredAlerts,
}

// migrations are applied in order; migrations[i] takes the schema from
// version i to i+1. Never edit a released migration: append a new one.
var migrations = []string{
	// v1: alerts, index side tables, full text, rollups, posture.
	`
-- seq is the rowid: alerts_fts and the side tables point at it.
CREATE TABLE alerts (
	seq           INTEGER PRIMARY KEY,
	id            TEXT    NOT NULL,
	ts            INTEGER NOT NULL,  -- Unix milliseconds, UTC
	rule_id       TEXT    NOT NULL,
	level         INTEGER NOT NULL,
	description   TEXT    NOT NULL,
	agent_id      TEXT    NOT NULL,
	agent_name    TEXT    NOT NULL,
	location      TEXT    NOT NULL,
	groups        TEXT,              -- JSON arrays, NULL when empty
	techniques    TEXT,
	tactics       TEXT,
	cells         TEXT,              -- JSON array of "tactic|technique id"
	resource_type TEXT    NOT NULL,
	region        TEXT    NOT NULL,
	json          BLOB    NOT NULL   -- the alert exactly as alerts.json has it
);
CREATE UNIQUE INDEX alerts_id ON alerts(id);
CREATE INDEX alerts_ts ON alerts(ts);
CREATE INDEX alerts_level ON alerts(level, ts);
CREATE INDEX alerts_rule ON alerts(rule_id, ts);
CREATE INDEX alerts_agent_name ON alerts(agent_name, ts);
CREATE INDEX alerts_agent_id ON alerts(agent_id, ts);
CREATE INDEX alerts_location ON alerts(location, ts);

-- Multi-valued fields, one row per value, ordered for "newest first
-- within a value" scans.
CREATE TABLE alert_groups (grp TEXT NOT NULL, ts INTEGER NOT NULL, seq INTEGER NOT NULL, PRIMARY KEY (grp, ts, seq)) WITHOUT ROWID;
CREATE TABLE alert_techniques (technique TEXT NOT NULL, ts INTEGER NOT NULL, seq INTEGER NOT NULL, PRIMARY KEY (technique, ts, seq)) WITHOUT ROWID;
CREATE TABLE alert_tactics (tactic TEXT NOT NULL, ts INTEGER NOT NULL, seq INTEGER NOT NULL, PRIMARY KEY (tactic, ts, seq)) WITHOUT ROWID;

-- Contentless: the text lives in alerts.json already; rowid = alerts.seq.
CREATE VIRTUAL TABLE alerts_fts USING fts5(body, content='', contentless_delete=1);

-- Rollups: counts per bucket (an hour, or a minute for dim 0) and key,
-- kept in the insert transaction so dashboards never scan raw rows.
CREATE TABLE rollups (
	dim    INTEGER NOT NULL,
	bucket INTEGER NOT NULL,
	k1     TEXT    NOT NULL,
	k2     TEXT    NOT NULL,
	n      INTEGER NOT NULL,
	PRIMARY KEY (dim, bucket, k1, k2)
) WITHOUT ROWID;

-- The seq range each minute's alerts got, so full text (which knows
-- rowids, not time) can be bounded to a time range.
CREATE TABLE minute_seq (minute INTEGER PRIMARY KEY, min_seq INTEGER NOT NULL, max_seq INTEGER NOT NULL);

-- Display labels: rule descriptions, technique names.
CREATE TABLE labels (dim INTEGER NOT NULL, key TEXT NOT NULL, label TEXT NOT NULL, PRIMARY KEY (dim, key)) WITHOUT ROWID;

-- Latest Defender for Cloud recommendation state per (recommendation, resource).
CREATE TABLE posture (
	pair_id           INTEGER PRIMARY KEY,
	rec_key           TEXT    NOT NULL,
	resource_key      TEXT    NOT NULL,
	recommendation_id TEXT    NOT NULL,
	name              TEXT    NOT NULL,
	severity          TEXT    NOT NULL,
	state             TEXT    NOT NULL,
	resource_id       TEXT    NOT NULL,
	subscription      TEXT    NOT NULL,
	resource_group    TEXT    NOT NULL,
	resource_type     TEXT    NOT NULL,
	resource_name     TEXT    NOT NULL,
	region            TEXT    NOT NULL,
	first_seen        INTEGER NOT NULL,
	state_since       INTEGER NOT NULL,
	last_seen         INTEGER NOT NULL,
	status_changed    INTEGER NOT NULL, -- StatusChangeDate of the newest row, -1 if none
	alert_id          TEXT    NOT NULL
);
CREATE UNIQUE INDEX posture_pair ON posture(rec_key, resource_key);

-- Every row's state per pair, in row time, so late rows find their place.
CREATE TABLE posture_obs (
	pair_id INTEGER NOT NULL,
	ts      INTEGER NOT NULL,
	state   TEXT    NOT NULL,
	PRIMARY KEY (pair_id, ts)
) WITHOUT ROWID;

-- The transitions of posture_obs (and each pair's first row), which the
-- trend replays.
CREATE TABLE posture_changes (
	pair_id INTEGER NOT NULL,
	ts      INTEGER NOT NULL,
	state   TEXT    NOT NULL,
	PRIMARY KEY (pair_id, ts)
) WITHOUT ROWID;
CREATE INDEX posture_changes_ts ON posture_changes(ts);
`,
	// v2: the index entries move to the index file beside the store
	// (aux.go), which Open rebuilds from the alerts.
	`
DROP TABLE alert_groups;
DROP TABLE alert_techniques;
DROP TABLE alert_tactics;
DROP TABLE alerts_fts;
DROP TABLE rollups;
DROP TABLE minute_seq;
`,
	// v3: the keyword columns are found through hashed terms in the
	// index file's full text table (aux.go); their B-tree indexes cost
	// more than half of every insert. Ids are looked up by their 64-bit
	// hash (idHash) in three runs of a merge tree (ids.go) rather than in a
	// unique index, where every new id dirtied a page at a random place.
	`
ALTER TABLE alerts ADD COLUMN idh INTEGER NOT NULL DEFAULT 0;
UPDATE alerts SET idh = tld_id_hash(id);
CREATE TABLE ids0 (idh INTEGER NOT NULL, seq INTEGER NOT NULL, PRIMARY KEY (idh, seq)) WITHOUT ROWID;
CREATE TABLE ids1 (idh INTEGER NOT NULL, seq INTEGER NOT NULL, PRIMARY KEY (idh, seq)) WITHOUT ROWID;
CREATE TABLE ids2 (idh INTEGER NOT NULL, seq INTEGER NOT NULL, PRIMARY KEY (idh, seq)) WITHOUT ROWID;
INSERT INTO ids2(idh, seq) SELECT idh, seq FROM alerts ORDER BY idh, seq;
DROP INDEX alerts_id;
DROP INDEX alerts_level;
DROP INDEX alerts_rule;
DROP INDEX alerts_agent_name;
DROP INDEX alerts_agent_id;
DROP INDEX alerts_location;
-- Counts move here from the index file: written in the alerts'
-- transaction, they always agree with the alerts (filled by
-- countStoredAlerts when a store is migrated).
CREATE TABLE rollups (
	dim    INTEGER NOT NULL,
	bucket INTEGER NOT NULL,
	k1     TEXT    NOT NULL,
	k2     TEXT    NOT NULL,
	n      INTEGER NOT NULL,
	PRIMARY KEY (dim, bucket, k1, k2)
) WITHOUT ROWID;
CREATE TABLE minute_seq (minute INTEGER PRIMARY KEY, min_seq INTEGER NOT NULL, max_seq INTEGER NOT NULL);
`,
}
