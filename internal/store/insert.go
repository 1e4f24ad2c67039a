package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"math/bits"
	"modernc.org/sqlite"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/threatlockdown/tld/internal/alert"
	"github.com/threatlockdown/tld/internal/enrich/azureid"
	"github.com/threatlockdown/tld/internal/mitre"
)

// row is an alert taken apart into the columns and index entries it is
// stored under.
type row struct {
	a          *alert.Alert
	seq        int64 // set for the index file's writer
	ts         int64
	ruleID     string
	level      int
	desc       string
	groups     []string
	techniques []string
	techNames  []string // parallel to techniques
	tactics    []string
	cells      []string // "tactic|technique id"
	lists      [4]any   // groups, techniques, tactics, cells as stored
	rtype      string
	region     string
	json       []byte
	body       string
	terms      string // the keyword fields as hashed terms (termsOf)
}

func newRow(a *alert.Alert) row {
	r := row{a: a, ts: a.Timestamp.UnixMilli()}
	if a.Rule != nil {
		r.ruleID, r.level, r.desc = a.Rule.ID, a.Rule.Level, a.Rule.Description
		r.groups = dedupe(a.Rule.Groups)
		if m := a.Rule.Mitre; m != nil {
			r.techniques, r.techNames, r.tactics, r.cells = mitreCells(m)
		}
	}
	// The same bytes the other outputs write, encoded once.
	r.json = a.JSON()
	r.rtype, r.region = azureResource(a.Data)
	r.body = searchBody(a)
	r.lists = [4]any{jsonList(r.groups), jsonList(r.techniques), jsonList(r.tactics), jsonList(r.cells)}
	r.terms = termsOf(&r)
	return r
}

// mitreCells pairs each technique with its tactics. An alert lists
// tactics once for all its techniques, so the ATT&CK table says which of
// them belong to which technique; a technique the table does not know
// keeps all the alert's tactics.
func mitreCells(m *alert.Mitre) (techs, names, tactics, cells []string) {
	tactics = dedupe(m.Tactic)
	table := mitre.Default()
	seen := make(map[string]bool, len(m.ID))
	for i, id := range m.ID {
		id = strings.ToUpper(strings.TrimSpace(id))
		if id == "" || seen[id] {
			continue
		}
		seen[id] = true
		name := ""
		if i < len(m.Technique) {
			name = m.Technique[i]
		}
		techs = append(techs, id)
		var own []string
		if te, ok := table.Lookup(id); ok {
			if name == "" {
				name = te.Name
			}
			for _, ta := range tactics {
				for _, tt := range te.Tactics {
					if strings.EqualFold(ta, tt) {
						own = append(own, ta)
						break
					}
				}
			}
		}
		if len(own) == 0 {
			own = tactics
		}
		names = append(names, name)
		for _, ta := range own {
			cells = append(cells, ta+"|"+id)
		}
	}
	return techs, names, tactics, cells
}

func dedupe(in []string) []string {
	if len(in) < 2 {
		return in
	}
	out := make([]string, 0, len(in))
	for i, v := range in {
		dup := false
		for _, w := range in[:i] {
			if w == v {
				dup = true
				break
			}
		}
		if !dup {
			out = append(out, v)
		}
	}
	return out
}

// searchBody is the text the FTS index holds for an alert: description,
// full log, and the decoded values the full log does not already contain
// (for JSON events it holds them all, so indexing them twice would only
// cost time and space).
func searchBody(a *alert.Alert) string {
	// A JSON event's full log is its decoded fields plus their names;
	// indexing the values alone finds the same alerts for half the cost.
	jsonLog := len(a.Data) > 0 && strings.HasPrefix(strings.TrimSpace(a.FullLog), "{")
	// Sized once: growing the builder was most of this function's cost.
	size := len(a.FullLog) + 1
	if a.Rule != nil {
		size += len(a.Rule.Description) + 1
	}
	for _, f := range a.Data {
		size += len(f.Value) + 1
	}
	var b strings.Builder
	b.Grow(size)
	if a.Rule != nil {
		b.WriteString(a.Rule.Description)
		b.WriteByte('\n')
	}
	if !jsonLog {
		b.WriteString(a.FullLog)
	}
	for _, f := range a.Data {
		if f.Value == "" || !jsonLog && strings.Contains(a.FullLog, f.Value) {
			continue
		}
		b.WriteByte('\n')
		b.WriteString(f.Value)
	}
	return b.String()
}

// lastKey is the last element of a dotted field name.
func lastKey(k string) string {
	if i := strings.LastIndexByte(k, '.'); i >= 0 {
		return k[i+1:]
	}
	return k
}

// field finds the first field whose last key element equals one of names
// (case-insensitive), trying names in order of preference.
func field(data alert.Fields, names ...string) string {
	for _, n := range names {
		for _, f := range data {
			if f.Value != "" && strings.EqualFold(lastKey(f.Key), n) {
				return f.Value
			}
		}
	}
	return ""
}

// azureResource finds the Azure resource type and region an alert is
// about, when its data names one.
func azureResource(data alert.Fields) (rtype, region string) {
	if len(data) == 0 {
		return "", ""
	}
	if id := field(data, "AssessedResourceId", "ResourceId", "_ResourceId"); id != "" {
		if p, err := azureid.Parse(id); err == nil {
			rtype = azureid.CanonicalType(p.Type)
		}
	}
	region = normRegion(field(data, "ResourceRegion"))
	if region == "" && rtype != "" {
		region = normRegion(field(data, "region", "location"))
	}
	return rtype, region
}

// normRegion turns "West Europe" into "westeurope" and rejects values
// that are not region names (a "location" field can be anything).
func normRegion(v string) string {
	if v == "" || len(v) > 40 {
		return ""
	}
	v = strings.ToLower(strings.ReplaceAll(v, " ", ""))
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9') {
			return ""
		}
	}
	return v
}

// Insert stores alerts durably: when it returns without error the batch
// survives a power cut. Alerts whose id is already stored are skipped, so
// replaying a batch after a crash stores nothing twice; inserted counts the
// new ones.
//
// The alerts file is written on this goroutine while their full text
// entries go into the index file on another (see aux.go). Insert returns
// once the alerts are committed and leaves the index write running: the
// next batch's alerts are written meanwhile, and its index write follows
// this one. Every query waits for the index writes of the inserts that
// returned (Flush). An index write that fails is rebuilt from the stored
// alerts by whatever comes next.
func (s *Store) Insert(ctx context.Context, alerts []*alert.Alert) (inserted int, err error) {
	alerts = slices.DeleteFunc(slices.Clone(alerts), func(a *alert.Alert) bool { return a == nil })
	if len(alerts) == 0 {
		return 0, nil
	}
	// Encoding runs on the other cores while this one writes.
	prep := startPreparing(alerts)
	defer prep.wait()
	s.mu.Lock()
	defer s.mu.Unlock()
	// The previous batch's index write may still be running: this one's
	// follows it. One that failed is rebuilt first.
	prev := s.pending.Load()
	if prev != nil && prev.failed() || s.auxBehind.Load() {
		if err := s.settleLocked(ctx); err != nil {
			return 0, fmt.Errorf("insert alerts: %w", err)
		}
		prev = nil
	}
	if err := s.ws.fill(ctx); err != nil {
		return 0, fmt.Errorf("insert alerts: prepare: %w", err)
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("insert alerts: begin: %w", err)
	}
	defer tx.Rollback()
	fresh, err := newOnly(ctx, tx, s.ws, alerts)
	if err != nil {
		return 0, fmt.Errorf("insert alerts: %w", err)
	}
	if len(fresh) == 0 {
		return 0, nil
	}
	first := s.lastSeq + 1
	aw := &auxWrite{done: make(chan struct{})}
	s.pending.Store(aw)
	// The index write outlives this call: the caller's context ending
	// afterwards must not fail it.
	auxCtx := context.WithoutCancel(ctx)
	go func() {
		defer close(aw.done)
		if prev != nil {
			if <-prev.done; prev.err != nil {
				aw.err = fmt.Errorf("not written after the failed index write before it: %w", prev.err)
				return
			}
		}
		aw.err = s.insertAux(auxCtx, prep, fresh, first)
	}()
	labels, idSizes, err := s.insertMain(ctx, tx, prep, fresh, first)
	if err != nil {
		// The index file may hold the batch the alerts file does not:
		// put them level before anything else is written.
		<-aw.done
		s.pending.Store(nil)
		s.auxBehind.Store(true)
		if rerr := s.reconcile(ctx); rerr != nil {
			return 0, fmt.Errorf("insert alerts: %w (then reconciling the index: %v)", err, rerr)
		}
		return 0, fmt.Errorf("insert alerts: %w", err)
	}
	s.lastSeq = first + int64(len(fresh)) - 1
	s.idSizes = idSizes
	for k, l := range labels {
		s.labels[k] = l
	}
	s.wrote()
	return len(fresh), nil
}

// auxWrite is an index write Insert left running.
type auxWrite struct {
	done chan struct{}
	err  error // set before done is closed
}

// wait waits for the write to end.
func (aw *auxWrite) wait(ctx context.Context) error {
	select {
	case <-aw.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// failed reports whether the write is over and failed.
func (aw *auxWrite) failed() bool {
	select {
	case <-aw.done:
		return aw.err != nil
	default:
		return false
	}
}

// Flush waits until the index entries of every alert Insert stored are
// committed, so that queries find them; queries call it themselves. An
// index write that failed is rebuilt first.
func (s *Store) Flush(ctx context.Context) error {
	if aw := s.pending.Load(); aw != nil {
		if err := aw.wait(ctx); err != nil {
			return err
		}
		if aw.err == nil && !s.auxBehind.Load() {
			return nil
		}
	} else if !s.auxBehind.Load() {
		// Nothing to wait for: do not queue behind an Insert for mu.
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.settleLocked(ctx)
}

// settleLocked waits for the running index write, if any, and rebuilds the
// index when it (or an earlier one) failed. The caller holds s.mu.
func (s *Store) settleLocked(ctx context.Context) error {
	if aw := s.pending.Load(); aw != nil {
		if err := aw.wait(ctx); err != nil {
			return err
		}
		s.pending.Store(nil)
		if aw.err != nil {
			s.log.Warn("alert store index write failed: rebuilding it", "path", s.auxPath, "err", aw.err)
			s.auxBehind.Store(true)
		}
	}
	if !s.auxBehind.Load() {
		return nil
	}
	if err := s.reconcile(ctx); err != nil {
		return fmt.Errorf("rebuild the index: %w", err)
	}
	return nil
}

// insertMain writes the alerts rows, their ids, counts, labels and posture
// and commits. It returns the labels it wrote and the id runs' sizes,
// which the caller keeps once committed.
func (s *Store) insertMain(ctx context.Context, tx *sql.Tx, prep *preparing, fresh []int, first int64) (map[labelKey]string, [2]int64, error) {
	bAlerts := newBulk(ctx, tx, s.ws, `INSERT INTO alerts(seq, id, idh, ts, rule_id, level, description, agent_id, agent_name, location,
		groups, techniques, tactics, cells, resource_type, region, json) VALUES `, 17)
	labels := make(map[labelKey]string)
	counts := newBatchCounts()
	bIDs := newBulk(ctx, tx, s.ws, "INSERT INTO ids0(idh, seq) VALUES ", 2)
	var post []*row
	seq := first - 1
	for _, i := range fresh {
		r := prep.row(i)
		a := r.a
		seq++
		counts.add(r, seq)
		h := idHash(a.ID)
		bIDs.add(h, seq)
		bAlerts.add(seq, a.ID, h, r.ts, r.ruleID, r.level, r.desc, a.Agent.ID, a.Agent.Name, a.Location,
			r.lists[0], r.lists[1], r.lists[2], r.lists[3], r.rtype, r.region, r.json)
		// Labels rarely change: write only those that differ from
		// what this Store last committed.
		if r.ruleID != "" {
			if k := (labelKey{dimRule, r.ruleID}); s.labels[k] != r.desc {
				labels[k] = r.desc
			}
		}
		for j, t := range r.techniques {
			if k := (labelKey{dimTechnique, t}); r.techNames[j] != "" && s.labels[k] != r.techNames[j] {
				labels[k] = r.techNames[j]
			}
		}
		if isPostureRow(a.Data) {
			post = append(post, r)
		}
	}
	if err := bAlerts.flush(); err != nil {
		return nil, s.idSizes, err
	}
	if err := bIDs.flush(); err != nil {
		return nil, s.idSizes, err
	}
	idSizes := s.idSizes
	idSizes[0] += int64(len(fresh))
	idSizes, err := mergeIDs(ctx, tx, idSizes)
	if err != nil {
		return nil, s.idSizes, err
	}
	if err := counts.write(ctx, tx, s.ws); err != nil {
		return nil, s.idSizes, err
	}
	if err := writeLabels(ctx, tx, labels); err != nil {
		return nil, s.idSizes, err
	}
	for _, r := range post {
		if err := updatePosture(ctx, tx, r); err != nil {
			return nil, s.idSizes, fmt.Errorf("posture of alert %s: %w", r.a.ID, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, s.idSizes, fmt.Errorf("commit: %w", err)
	}
	return labels, idSizes, nil
}

// insertAux writes and commits the index entries of the fresh alerts,
// seqs from first, in the index file.
func (s *Store) insertAux(ctx context.Context, prep *preparing, fresh []int, first int64) error {
	if err := s.was.fill(ctx); err != nil {
		return fmt.Errorf("prepare: %w", err)
	}
	tx, err := s.wa.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback()
	err = writeAuxFunc(ctx, tx, s.was, len(fresh), func(k int) *row {
		r := prep.row(fresh[k])
		r.seq = first + int64(k)
		return r
	})
	if err == nil && s.auxFault != nil {
		err = s.auxFault()
	}
	if err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// preparing encodes alerts into rows on every core, chunk by chunk, so
// the writer can start on the first chunk while later ones are encoded.
type preparing struct {
	alerts []*alert.Alert
	rows   []row
	done   []chan struct{}
	wg     sync.WaitGroup
}

const prepChunk = 32

func startPreparing(alerts []*alert.Alert) *preparing {
	n := (len(alerts) + prepChunk - 1) / prepChunk
	p := &preparing{alerts: alerts, rows: make([]row, len(alerts)), done: make([]chan struct{}, n)}
	for c := range p.done {
		p.done[c] = make(chan struct{})
	}
	var next atomic.Int64
	for w := min(runtime.GOMAXPROCS(0), n); w > 0; w-- {
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			for {
				c := int(next.Add(1) - 1)
				if c >= n {
					return
				}
				for i := c * prepChunk; i < min((c+1)*prepChunk, len(alerts)); i++ {
					p.rows[i] = newRow(alerts[i])
				}
				close(p.done[c])
			}
		}()
	}
	return p
}

// row waits for alert i's row.
func (p *preparing) row(i int) *row {
	<-p.done[i/prepChunk]
	return &p.rows[i]
}

func (p *preparing) wait() { p.wg.Wait() }

// bulk batches rows into multi-row INSERT statements: one statement per
// 50 rows costs far less than 50 statements. Statements come from the
// writer's cache, so the rows left over at the end go in statements of
// 32, 16, … 1 rows, of which there are few, rather than one of any size.
type bulk struct {
	ctx    context.Context
	tx     *sql.Tx
	stmts  *stmtCache
	prefix string
	suffix string // after the VALUES list (ON CONFLICT …)
	cols   int
	rows   int // rows per statement
	// whole makes flush write what is left in one statement: full
	// text flushes its pending terms at the end of every statement.
	whole bool
	args  []any
	full  *sql.Stmt
	err   error
}

const bulkRows = 50

func newBulk(ctx context.Context, tx *sql.Tx, stmts *stmtCache, prefix string, cols int) *bulk {
	return &bulk{ctx: ctx, tx: tx, stmts: stmts, prefix: prefix, cols: cols, rows: bulkRows}
}

func (b *bulk) add(vals ...any) {
	if b.err != nil {
		return
	}
	b.args = append(b.args, vals...)
	if len(b.args) == b.cols*b.rows {
		if b.full == nil {
			b.full, b.err = b.stmts.prepare(b.ctx, b.tx, b.sql(b.rows))
			if b.err != nil {
				return
			}
		}
		_, b.err = b.full.ExecContext(b.ctx, b.args...)
		b.args = b.args[:0]
	}
}

func (b *bulk) sql(rows int) string {
	one := "(" + placeholders(b.cols) + ")"
	return b.prefix + strings.Repeat(one+", ", rows-1) + one + b.suffix
}

// flush writes what is left and releases the statement.
func (b *bulk) flush() error {
	for b.err == nil && len(b.args) > 0 {
		n := len(b.args) / b.cols
		if !b.whole {
			n = 1 << (bits.Len(uint(n)) - 1) // the largest power of two ≤ n
		}
		_, b.err = b.stmts.exec(b.ctx, b.tx, b.sql(n), b.args[:n*b.cols]...)
		b.args = b.args[n*b.cols:]
	}
	b.args = b.args[:0]
	if b.full != nil {
		b.full.Close()
		b.full = nil
	}
	if b.err != nil {
		return fmt.Errorf("%s…: %w", b.prefix[:min(len(b.prefix), 40)], b.err)
	}
	return nil
}

func writeLabels(ctx context.Context, tx *sql.Tx, labels map[labelKey]string) error {
	if len(labels) == 0 {
		return nil
	}
	st, err := tx.PrepareContext(ctx, `INSERT INTO labels(dim, key, label) VALUES (?, ?, ?)
		ON CONFLICT(dim, key) DO UPDATE SET label = excluded.label WHERE label != excluded.label`)
	if err != nil {
		return fmt.Errorf("update labels: %w", err)
	}
	defer st.Close()
	for k, l := range labels {
		if _, err := st.ExecContext(ctx, k.dim, k.key, l); err != nil {
			return fmt.Errorf("update labels: %w", err)
		}
	}
	return nil
}

// jsonList encodes a list column; NULL for an empty list keeps rows small.
func jsonList(v []string) any {
	if len(v) == 0 {
		return nil
	}
	// Values are mostly plain ASCII, which json.Marshal writes as is;
	// anything else goes through it, so the text is the same.
	var b strings.Builder
	b.WriteByte('[')
	for i, s := range v {
		if i > 0 {
			b.WriteByte(',')
		}
		if !plainJSON(s) {
			enc, _ := json.Marshal(v) // cannot fail for strings
			return string(enc)
		}
		b.WriteByte('"')
		b.WriteString(s)
		b.WriteByte('"')
	}
	b.WriteByte(']')
	return b.String()
}

// plainJSON reports whether encoding/json writes s unchanged between
// quotes.
func plainJSON(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x80 || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			return false
		}
	}
	return true
}

// idHash is the 64-bit FNV-1a hash of an alert id, which alerts.idh
// holds and its index looks up.
func idHash(id string) int64 {
	const prime = 1099511628211
	h := uint64(14695981039346656037)
	for i := 0; i < len(id); i++ {
		h = (h ^ uint64(id[i])) * prime
	}
	return int64(h)
}

func init() {
	// For migration v3, which fills alerts.idh.
	sqlite.MustRegisterDeterministicScalarFunction("tld_id_hash", 1, func(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
		switch v := args[0].(type) {
		case string:
			return idHash(v), nil
		case []byte:
			return idHash(string(v)), nil
		}
		return nil, fmt.Errorf("tld_id_hash: want text, got %T", args[0])
	})
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

func fromMillis(ms int64) time.Time { return time.UnixMilli(ms).UTC() }
