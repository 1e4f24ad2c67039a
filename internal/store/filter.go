package store

import (
	"context"
	"strconv"
	"strings"
	"unicode"
)

// countCap is where counting a broad, non-rollup filter stops: beyond it
// Search reports a lower bound rather than scanning every match.
const countCap = 10000

// sqlFilter is a Filter as a WHERE clause over alerts a. Every value is a
// bound parameter; only our own column names are spliced into the SQL.
type sqlFilter struct {
	where string
	args  []any
	// matchNone is set when the filter can match nothing.
	matchNone bool
}

func placeholders(n int) string {
	if n <= 0 {
		return ""
	}
	return strings.Repeat("?, ", n-1) + "?"
}

// timeOnly reports whether f constrains nothing but time, the case the
// rollups answer.
func timeOnly(f Filter) bool { return ftsMatch(f) == "" && f.MinLevel <= 0 && f.MaxLevel <= 0 }

// filter translates f for the time range [from, to) in Unix milliseconds
// (from < 0 or to < 0: unbounded), which callers pass separately so edge
// ranges can reuse the rest of the filter. Keyword fields and text go
// through the full text index, bounded to the seqs the range can hold.
func (s *Store) filter(ctx context.Context, f Filter, from, to int64) (sqlFilter, error) {
	sf := residualFilter(f, from, to)
	q := ftsMatch(f)
	if sf.matchNone || q == "" {
		return sf, nil
	}
	c := "a.seq IN (SELECT rowid FROM alerts_fts WHERE alerts_fts MATCH ?"
	sf.args = append(sf.args, q)
	if from >= 0 || to >= 0 {
		minSeq, maxSeq, ok, err := s.seqBounds(ctx, from, to)
		if err != nil {
			return sqlFilter{}, err
		}
		if !ok {
			return sqlFilter{where: "0", matchNone: true}, nil
		}
		c += " AND rowid >= ? AND rowid <= ?"
		sf.args = append(sf.args, minSeq, maxSeq)
	}
	sf.where += " AND " + c + ")"
	return sf, nil
}

// residualFilter is the part of f the alerts row itself can check: time,
// and the single-valued keyword fields, which the full text match already
// narrowed down (it matches their hashes).
func residualFilter(f Filter, from, to int64) sqlFilter {
	conds := []string{"1"}
	var args []any
	if from >= 0 {
		conds = append(conds, "a.ts >= ?")
		args = append(args, from)
	}
	if to >= 0 {
		conds = append(conds, "a.ts < ?")
		args = append(args, to)
	}
	in := func(col string, vals []string) {
		conds = append(conds, col+" IN ("+placeholders(len(vals))+")")
		for _, v := range vals {
			args = append(args, v)
		}
	}
	if len(f.RuleIDs) > 0 {
		in("a.rule_id", f.RuleIDs)
	}
	lo, hi, levels := levelRange(f)
	if levels {
		conds = append(conds, "a.level >= ? AND a.level <= ?")
		args = append(args, lo, hi)
	}
	if len(f.Agents) > 0 {
		p := placeholders(len(f.Agents))
		conds = append(conds, "(a.agent_name IN ("+p+") OR a.agent_id IN ("+p+"))")
		for range 2 {
			for _, v := range f.Agents {
				args = append(args, v)
			}
		}
	}
	if len(f.Locations) > 0 {
		in("a.location", f.Locations)
	}
	switch f.key.field {
	case SortLevel:
		conds = append(conds, "a.level = ?")
		args = append(args, f.key.level)
	case SortRule:
		in("a.rule_id", []string{f.key.value})
	case SortAgent:
		in("a.agent_name", []string{f.key.value})
	case SortLocation:
		in("a.location", []string{f.key.value})
	}
	empty := from >= 0 && to >= 0 && from >= to || (f.MinLevel > 0 || f.MaxLevel > 0) && !levels
	return sqlFilter{where: strings.Join(conds, " AND "), args: args, matchNone: empty}
}

// levelRange is the range of levels f admits; ok is false when f does not
// constrain levels, or admits none.
func levelRange(f Filter) (lo, hi int, ok bool) {
	if f.MinLevel <= 0 && f.MaxLevel <= 0 {
		return 0, 0, false
	}
	lo, hi = max(f.MinLevel, 0), maxLevel
	if f.MaxLevel > 0 {
		hi = min(f.MaxLevel, maxLevel)
	}
	return lo, hi, lo <= hi
}

// maxLevel is the highest rule level (Wazuh's levels are 0 to 16).
const maxLevel = 16

// ftsMatch is the full text query f needs: its words in the body column
// and its keyword fields as hashed terms in the terms column; "" when f
// constrains nothing but time.
func ftsMatch(f Filter) string {
	var parts []string
	anyOf := func(field byte, vals []string, norm func(string) string) {
		if len(vals) == 0 {
			return
		}
		ts := make([]string, len(vals))
		for i, v := range vals {
			if norm != nil {
				v = norm(v)
			}
			ts[i] = string(appendTerm(nil, field, v))
		}
		parts = append(parts, "terms : ("+strings.Join(ts, " OR ")+")")
	}
	anyOf(termGroup, f.Groups, nil)
	anyOf(termRule, f.RuleIDs, nil)
	if lo, hi, ok := levelRange(f); ok {
		var ls []string
		for l := lo; l <= hi; l++ {
			ls = append(ls, strconv.Itoa(l))
		}
		anyOf(termLevel, ls, nil)
	}
	if len(f.Agents) > 0 {
		var ts []string
		for _, a := range f.Agents {
			ts = append(ts, string(appendTerm(nil, termAgentName, a)), string(appendTerm(nil, termAgentID, a)))
		}
		parts = append(parts, "terms : ("+strings.Join(ts, " OR ")+")")
	}
	anyOf(termLocation, f.Locations, nil)
	anyOf(termTechnique, f.Techniques, func(s string) string { return strings.ToUpper(strings.TrimSpace(s)) })
	anyOf(termTactic, f.Tactics, func(s string) string { return strings.ToLower(strings.TrimSpace(s)) })
	switch f.key.field {
	case SortLevel:
		anyOf(termLevel, []string{strconv.Itoa(f.key.level)}, nil)
	case SortRule:
		anyOf(termRule, []string{f.key.value}, nil)
	case SortAgent:
		anyOf(termAgentName, []string{f.key.value}, nil)
	case SortLocation:
		anyOf(termLocation, []string{f.key.value}, nil)
	}
	if q := ftsQuery(f.Text); q != "" {
		parts = append(parts, "body : ("+q+")")
	}
	return strings.Join(parts, " AND ")
}

// The keyword fields the terms column holds, as the first byte hashed.
const (
	termGroup     = 'g'
	termRule      = 'r'
	termLevel     = 'v'
	termAgentName = 'n'
	termAgentID   = 'i'
	termLocation  = 'l'
	termTechnique = 't' // a sub-technique also holds its parent's term
	termTactic    = 'c' // lower case
)

// appendTerm appends the terms column's token for value v of field: "x"
// and a 64-bit FNV-1a hash in base 36, so that any value (spaces,
// slashes, case) is one token of letters and digits. Filters on rule,
// level, agent and location check the column as well, so a collision
// cannot select a wrong alert; for groups, techniques and tactics one
// would take two of an installation's values sharing a 64-bit hash.
func appendTerm(dst []byte, field byte, v string) []byte {
	const prime = 1099511628211
	h := uint64(14695981039346656037)
	h = (h ^ uint64(field)) * prime
	for i := 0; i < len(v); i++ {
		h = (h ^ uint64(v[i])) * prime
	}
	return strconv.AppendUint(append(dst, 'x'), h, 36)
}

// termsOf is the terms column of an alert.
func termsOf(r *row) string {
	b := make([]byte, 0, 16*(6+len(r.groups)+2*len(r.techniques)+len(r.tactics)))
	add := func(field byte, v string) {
		if len(b) > 0 {
			b = append(b, ' ')
		}
		b = appendTerm(b, field, v)
	}
	for _, g := range r.groups {
		add(termGroup, g)
	}
	add(termRule, r.ruleID)
	add(termLevel, strconv.Itoa(r.level))
	add(termAgentName, r.a.Agent.Name)
	add(termAgentID, r.a.Agent.ID)
	add(termLocation, r.a.Location)
	for _, t := range r.techniques {
		add(termTechnique, t)
		if parent, _, sub := strings.Cut(t, "."); sub {
			add(termTechnique, parent)
		}
	}
	for _, t := range r.tactics {
		add(termTactic, strings.ToLower(t))
	}
	return string(b)
}

// ftsQuery turns user text into an FTS5 query that treats it as plain
// words: each whitespace-separated word becomes a quoted phrase (so
// "10.0.0.5" must appear as one run of tokens) and all must match. No FTS
// operator, column filter or prefix syntax survives the quoting. Words
// without a letter or digit cannot be indexed and are ignored.
func ftsQuery(text string) string {
	var b strings.Builder
	for _, w := range strings.FieldsFunc(text, func(r rune) bool { return unicode.IsSpace(r) || r == 0 || unicode.IsControl(r) }) {
		if !strings.ContainsFunc(w, func(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }) {
			continue
		}
		if b.Len() > 0 {
			b.WriteString(" AND ")
		}
		b.WriteByte('"')
		b.WriteString(strings.ReplaceAll(w, `"`, `""`))
		b.WriteByte('"')
	}
	return b.String()
}
