package azuretest

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// The double understands the subset of KQL that the collectors send and
// that Wazuh's module sends, and answers 400 SyntaxError to anything else,
// so that a test never passes on a query the double silently misread:
//
//	Table
//	| where COND [and COND]...     COND: FIELD OP datetime(T), OP one of >= > <= < ==,
//	                               or FIELD between (datetime(T1) .. datetime(T2))
//	| extend NAME = ingestion_time()
//	| order by FIELD [asc|desc]    (sort by too; desc is the default, as in KQL)
//	| top N by FIELD [asc|desc]
//	| take N                       (limit N too)
//
// FIELD is TimeGenerated, ingestion_time() or a NAME made by extend. Each
// row of a table has a TimeGenerated and an ingestion time; other columns
// cannot be filtered on.

type field int

const (
	fieldGenerated field = iota
	fieldIngestion
)

type cond struct {
	f      field
	op     string // ">=", ">", "<=", "<", "==", "between"
	t1, t2 int64  // unix nanoseconds
}

type opKind int

const (
	opWhere opKind = iota
	opExtend
	opSort
	opTake
)

type queryOp struct {
	kind  opKind
	conds []cond
	name  string // extend: the new column
	f     field  // sort, top: the key
	desc  bool
	n     int // take, top
}

type laQuery struct {
	table string
	ops   []queryOp
}

var (
	identRE   = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	cmpRE     = regexp.MustCompile(`^(\S+)\s*(>=|<=|==|>|<)\s*datetime\(\s*([^)]+?)\s*\)$`)
	betweenRE = regexp.MustCompile(`^(\S+)\s+between\s*\(\s*datetime\(\s*([^)]+?)\s*\)\s*\.\.\s*datetime\(\s*([^)]+?)\s*\)\s*\)$`)
	extendRE  = regexp.MustCompile(`^extend\s+([A-Za-z_][A-Za-z0-9_]*)\s*=\s*ingestion_time\(\)$`)
	sortRE    = regexp.MustCompile(`^(?:order|sort)\s+by\s+(\S+?)(?:\s+(asc|desc))?$`)
	topRE     = regexp.MustCompile(`^top\s+(\d+)\s+by\s+(\S+?)(?:\s+(asc|desc))?$`)
	takeRE    = regexp.MustCompile(`^(?:take|limit)\s+(\d+)$`)
	andRE     = regexp.MustCompile(`\s+and\s+`)
)

// parseQuery reads a query of the subset above.
func parseQuery(q string) (*laQuery, error) {
	parts := strings.Split(q, "|")
	out := &laQuery{table: strings.TrimSpace(parts[0])}
	if !identRE.MatchString(out.table) {
		return nil, fmt.Errorf("the test double reads only a table name before the first '|', not %q", out.table)
	}
	extended := map[string]bool{}
	resolve := func(name string) (field, error) {
		switch {
		case name == "TimeGenerated":
			return fieldGenerated, nil
		case name == "ingestion_time()" || extended[name]:
			return fieldIngestion, nil
		}
		return 0, fmt.Errorf("the test double cannot use %q here (only TimeGenerated, ingestion_time() or an extended ingestion time)", name)
	}
	for _, raw := range parts[1:] {
		p := strings.Join(strings.Fields(raw), " ")
		switch {
		case strings.HasPrefix(p, "where "):
			var conds []cond
			for _, c := range andRE.Split(strings.TrimPrefix(p, "where "), -1) {
				c = strings.TrimSpace(c)
				if m := betweenRE.FindStringSubmatch(c); m != nil {
					f, err := resolve(m[1])
					if err != nil {
						return nil, err
					}
					t1, err1 := parseDatetime(m[2])
					t2, err2 := parseDatetime(m[3])
					if err1 != nil || err2 != nil {
						return nil, fmt.Errorf("bad datetime in %q", c)
					}
					conds = append(conds, cond{f: f, op: "between", t1: t1, t2: t2})
					continue
				}
				m := cmpRE.FindStringSubmatch(c)
				if m == nil {
					return nil, fmt.Errorf("the test double cannot read the condition %q", c)
				}
				f, err := resolve(m[1])
				if err != nil {
					return nil, err
				}
				t, err := parseDatetime(m[3])
				if err != nil {
					return nil, fmt.Errorf("bad datetime in %q", c)
				}
				conds = append(conds, cond{f: f, op: m[2], t1: t})
			}
			out.ops = append(out.ops, queryOp{kind: opWhere, conds: conds})
		case extendRE.MatchString(p):
			name := extendRE.FindStringSubmatch(p)[1]
			extended[name] = true
			out.ops = append(out.ops, queryOp{kind: opExtend, name: name})
		case sortRE.MatchString(p):
			m := sortRE.FindStringSubmatch(p)
			f, err := resolve(m[1])
			if err != nil {
				return nil, err
			}
			out.ops = append(out.ops, queryOp{kind: opSort, f: f, desc: m[2] != "asc"})
		case topRE.MatchString(p):
			m := topRE.FindStringSubmatch(p)
			n, _ := strconv.Atoi(m[1])
			f, err := resolve(m[2])
			if err != nil {
				return nil, err
			}
			// top sorts, then takes.
			out.ops = append(out.ops, queryOp{kind: opSort, f: f, desc: m[3] != "asc"}, queryOp{kind: opTake, n: n})
		case takeRE.MatchString(p):
			n, _ := strconv.Atoi(takeRE.FindStringSubmatch(p)[1])
			out.ops = append(out.ops, queryOp{kind: opTake, n: n})
		default:
			return nil, fmt.Errorf("the test double cannot read the operator %q", p)
		}
	}
	return out, nil
}

// parseDatetime reads a KQL datetime literal in ISO 8601 form.
func parseDatetime(s string) (int64, error) {
	s = strings.TrimSpace(s)
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.9999999", "2006-01-02 15:04:05.9999999", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UnixNano(), nil
		}
	}
	return 0, fmt.Errorf("bad datetime %q", s)
}

func (c cond) match(v int64) bool {
	switch c.op {
	case ">=":
		return v >= c.t1
	case ">":
		return v > c.t1
	case "<=":
		return v <= c.t1
	case "<":
		return v < c.t1
	case "==":
		return v == c.t1
	case "between":
		return v >= c.t1 && v <= c.t2
	}
	return false
}

// parseTimespan reads the timespan of a query request, an ISO 8601 interval:
// "start/end", "start/duration", "duration/end" or "duration" (ending now).
func parseTimespan(s string, now time.Time) (from, to int64, err error) {
	a, b, two := strings.Cut(s, "/")
	if !two {
		d, err := parseISODuration(a)
		if err != nil {
			return 0, 0, err
		}
		return now.Add(-d).UnixNano(), now.UnixNano(), nil
	}
	ta, errA := parseDatetime(a)
	tb, errB := parseDatetime(b)
	switch {
	case errA == nil && errB == nil:
		return ta, tb, nil
	case errA == nil:
		d, err := parseISODuration(b)
		if err != nil {
			return 0, 0, err
		}
		return ta, ta + int64(d), nil
	case errB == nil:
		d, err := parseISODuration(a)
		if err != nil {
			return 0, 0, err
		}
		return tb - int64(d), tb, nil
	}
	return 0, 0, fmt.Errorf("bad timespan %q", s)
}

var isoDurRE = regexp.MustCompile(`^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$`)

func parseISODuration(s string) (time.Duration, error) {
	m := isoDurRE.FindStringSubmatch(s)
	if m == nil || s == "P" || s == "PT" {
		return 0, fmt.Errorf("bad ISO 8601 duration %q", s)
	}
	var d time.Duration
	units := []time.Duration{24 * time.Hour, time.Hour, time.Minute}
	for i, u := range units {
		if m[i+1] != "" {
			n, _ := strconv.Atoi(m[i+1])
			d += time.Duration(n) * u
		}
	}
	if m[4] != "" {
		f, _ := strconv.ParseFloat(m[4], 64)
		d += time.Duration(f * float64(time.Second))
	}
	return d, nil
}
