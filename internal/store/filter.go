package store

import (
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
func timeOnly(f Filter) bool {
	return len(f.Groups) == 0 && len(f.RuleIDs) == 0 && f.MinLevel == 0 && f.MaxLevel == 0 && len(f.Agents) == 0 &&
		len(f.Locations) == 0 && len(f.Techniques) == 0 && len(f.Tactics) == 0 && ftsQuery(f.Text) == ""
}

// buildFilter translates f for the time range [from, to) in Unix
// milliseconds (from < 0 or to < 0: unbounded), which callers pass
// separately so edge ranges can reuse the rest of the filter.
func buildFilter(f Filter, from, to int64) sqlFilter {
	return buildFilterSeq(f, from, to, -1, -1)
}

// buildFilterSeq is buildFilter with the full text match bounded to
// alerts.seq in [minSeq, maxSeq] (-1: unbounded).
func buildFilterSeq(f Filter, from, to, minSeq, maxSeq int64) sqlFilter {
	var conds []string
	var args []any
	if from >= 0 {
		conds = append(conds, "a.ts >= ?")
		args = append(args, from)
	}
	if to >= 0 {
		conds = append(conds, "a.ts < ?")
		args = append(args, to)
	}
	// Side tables hold ts too, so their subqueries scan only the range.
	side := func(table, col string, keyCond string, keyArgs []any) {
		q := "a.seq IN (SELECT seq FROM " + table + " WHERE (" + keyCond + ")"
		args = append(args, keyArgs...)
		if from >= 0 {
			q += " AND ts >= ?"
			args = append(args, from)
		}
		if to >= 0 {
			q += " AND ts < ?"
			args = append(args, to)
		}
		conds = append(conds, q+")")
	}
	strs := func(vals []string, norm func(string) string) []any {
		out := make([]any, len(vals))
		for i, v := range vals {
			if norm != nil {
				v = norm(v)
			}
			out[i] = v
		}
		return out
	}
	if len(f.Groups) > 0 {
		side("alert_groups", "grp", "grp IN ("+placeholders(len(f.Groups))+")", strs(f.Groups, nil))
	}
	if len(f.RuleIDs) > 0 {
		conds = append(conds, "a.rule_id IN ("+placeholders(len(f.RuleIDs))+")")
		args = append(args, strs(f.RuleIDs, nil)...)
	}
	if f.MinLevel > 0 {
		conds = append(conds, "a.level >= ?")
		args = append(args, f.MinLevel)
	}
	if f.MaxLevel > 0 {
		conds = append(conds, "a.level <= ?")
		args = append(args, f.MaxLevel)
	}
	if len(f.Agents) > 0 {
		p := placeholders(len(f.Agents))
		conds = append(conds, "(a.agent_name IN ("+p+") OR a.agent_id IN ("+p+"))")
		args = append(args, strs(f.Agents, nil)...)
		args = append(args, strs(f.Agents, nil)...)
	}
	if len(f.Locations) > 0 {
		conds = append(conds, "a.location IN ("+placeholders(len(f.Locations))+")")
		args = append(args, strs(f.Locations, nil)...)
	}
	if len(f.Techniques) > 0 {
		// "T1098" also matches "T1098.001": the sub-techniques sort
		// between "T1098." and "T1098/" ('/' follows '.').
		var parts []string
		var targs []any
		for _, t := range f.Techniques {
			t = strings.ToUpper(strings.TrimSpace(t))
			parts = append(parts, "technique = ? OR (technique > ? AND technique < ?)")
			targs = append(targs, t, t+".", t+"/")
		}
		side("alert_techniques", "technique", strings.Join(parts, " OR "), targs)
	}
	if len(f.Tactics) > 0 {
		side("alert_tactics", "tactic", "tactic IN ("+placeholders(len(f.Tactics))+")",
			strs(f.Tactics, func(s string) string { return strings.ToLower(strings.TrimSpace(s)) }))
	}
	if q := ftsQuery(f.Text); q != "" {
		c := "a.seq IN (SELECT rowid FROM alerts_fts WHERE alerts_fts MATCH ?"
		args = append(args, q)
		if minSeq >= 0 {
			c += " AND rowid >= ? AND rowid <= ?"
			args = append(args, minSeq, maxSeq)
		}
		conds = append(conds, c+")")
	}
	if len(conds) == 0 {
		return sqlFilter{where: "1"}
	}
	return sqlFilter{where: strings.Join(conds, " AND "), args: args, matchNone: from >= 0 && to >= 0 && from >= to}
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
