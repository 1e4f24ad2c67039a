package store

import (
	"context"
	"database/sql"
	"sync"
)

// stmtCache keeps the insert path's statements prepared on a writer's
// one connection from batch to batch. Preparing a 50-row INSERT (800
// parameters for the alerts) costs about as much as running it a few
// times, and every batch ran the same dozen statements again.
//
// A writer has one connection, which its transaction holds, so a
// statement can only be prepared on the DB between transactions: one
// the cache lacks is prepared for the transaction alone and remembered,
// and fill prepares the remembered ones before the next transaction.
type stmtCache struct {
	db     *sql.DB
	mu     sync.Mutex
	m      map[string]*sql.Stmt
	wanted map[string]bool
}

// stmtCacheMax bounds the cache: statements of odd sizes (the full text
// insert of an unusual batch size) must not accumulate.
const stmtCacheMax = 64

func newStmtCache(db *sql.DB) *stmtCache {
	return &stmtCache{db: db, m: make(map[string]*sql.Stmt), wanted: make(map[string]bool)}
}

// fill prepares the statements transactions asked for since the last
// fill. The caller holds no transaction on c.db.
func (c *stmtCache) fill(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.wanted) == 0 {
		return nil
	}
	if len(c.m)+len(c.wanted) > stmtCacheMax {
		c.closeLocked()
	}
	for q := range c.wanted {
		delete(c.wanted, q)
		st, err := c.db.PrepareContext(ctx, q)
		if err != nil {
			return err
		}
		c.m[q] = st
	}
	return nil
}

// prepare returns q prepared for tx; the caller closes it, which leaves
// the cached statement open. A nil cache prepares q afresh.
func (c *stmtCache) prepare(ctx context.Context, tx *sql.Tx, q string) (*sql.Stmt, error) {
	if c == nil {
		return tx.PrepareContext(ctx, q)
	}
	c.mu.Lock()
	st, ok := c.m[q]
	if !ok {
		c.wanted[q] = true
	}
	c.mu.Unlock()
	if !ok {
		return tx.PrepareContext(ctx, q)
	}
	// The DB's one connection is tx's, on which st is prepared: the
	// statement StmtContext returns reuses it.
	return tx.StmtContext(ctx, st), nil
}

// exec runs q once in tx through the cache.
func (c *stmtCache) exec(ctx context.Context, tx *sql.Tx, q string, args ...any) (sql.Result, error) {
	st, err := c.prepare(ctx, tx, q)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	return st.ExecContext(ctx, args...)
}

// query runs q in tx through the cache; closing the rows releases the
// statement.
func (c *stmtCache) query(ctx context.Context, tx *sql.Tx, q string, args ...any) (*sql.Rows, *sql.Stmt, error) {
	st, err := c.prepare(ctx, tx, q)
	if err != nil {
		return nil, nil, err
	}
	rows, err := st.QueryContext(ctx, args...)
	if err != nil {
		st.Close()
		return nil, nil, err
	}
	return rows, st, nil
}

func (c *stmtCache) close() {
	if c == nil {
		return
	}
	c.mu.Lock()
	c.closeLocked()
	c.mu.Unlock()
}

func (c *stmtCache) closeLocked() {
	for q, st := range c.m {
		st.Close()
		delete(c.m, q)
	}
}
