package dashboard

import (
	"net/http"
	"net/url"
	"sort"
	"strings"

	"github.com/threatlockdown/tld/internal/mitre"
	"github.com/threatlockdown/tld/internal/store"
)

type mitreBody struct {
	Tactics []mitreColumn
	Empty   bool
	Total   string
}

// mitreColumn is one tactic of the matrix with its techniques, most
// frequent first.
type mitreColumn struct {
	ID    string
	Name  string
	Count string
	Cells []mitreCell
}

type mitreCell struct {
	ID    string
	Name  string
	Count string
	Heat  string // heat-1 (few) … heat-5 (most), relative to the busiest cell
	Href  string
	Title string
}

func (d *Dashboard) mitre(w http.ResponseWriter, r *http.Request) {
	l := d.newLayout(r, "mitre", "MITRE ATT&CK")
	table := mitre.Default()
	l.Footer = table.Attribution
	q := formQuery(r)
	f, err := parseFilter(q, d.now())
	if err != nil {
		l.Error = "Bad filter: " + err.Error()
		l.Body = mitreBody{Empty: true}
		d.render(w, r, http.StatusBadRequest, "mitre", l)
		return
	}
	cells, err := d.store.Mitre(r.Context(), f)
	if err != nil {
		d.storeFailed(w, r, "mitre", "count the ATT&CK techniques", err)
		return
	}
	l.Body = newMitreBody(table, cells, keep(q, timeParams, filterParams))
	d.render(w, r, http.StatusOK, "mitre", l)
}

// newMitreBody arranges cells by tactic. Only tactics with alerts get a
// column, in ATT&CK matrix order, so the matrix stays readable on a
// laptop; tactics the table does not know (older or custom rules) follow
// in name order.
func newMitreBody(table *mitre.Table, cells []store.MitreCell, base url.Values) mitreBody {
	byTactic := map[string][]store.MitreCell{}
	maxCount, total := 0, 0
	for _, c := range cells {
		if c.Count <= 0 {
			continue
		}
		key := strings.ToLower(c.Tactic)
		byTactic[key] = append(byTactic[key], c)
		maxCount = max(maxCount, c.Count)
		total += c.Count
	}
	var b mitreBody
	b.Total = fmtNum(total)
	add := func(id, name string, cs []store.MitreCell) {
		sort.SliceStable(cs, func(i, j int) bool {
			if cs[i].Count != cs[j].Count {
				return cs[i].Count > cs[j].Count
			}
			return cs[i].TechniqueID < cs[j].TechniqueID
		})
		col := mitreColumn{ID: id, Name: trunc(labelMax, name)}
		sum := 0
		for _, c := range cs {
			sum += c.Count
			tname := c.Technique
			if t, ok := table.Lookup(c.TechniqueID); ok {
				tname = t.Name
			}
			col.Cells = append(col.Cells, mitreCell{
				ID: trunc(labelMax, c.TechniqueID), Name: trunc(labelMax*2, tname),
				Count: fmtNum(c.Count), Heat: heatClass(c.Count, maxCount),
				Href:  href("/events", with(base, "technique", c.TechniqueID, "tactic", name)),
				Title: trunc(cellMax, c.TechniqueID+" "+tname+" — "+fmtNum(c.Count)+" alerts"),
			})
		}
		col.Count = fmtNum(sum)
		b.Tactics = append(b.Tactics, col)
	}
	for _, t := range table.Tactics {
		key := strings.ToLower(t.Name)
		if cs, ok := byTactic[key]; ok {
			add(t.ID, t.Name, cs)
			delete(byTactic, key)
		}
	}
	var rest []string
	for k := range byTactic {
		rest = append(rest, k)
	}
	sort.Strings(rest)
	for _, k := range rest {
		cs := byTactic[k]
		add("", cs[0].Tactic, cs)
	}
	b.Empty = len(b.Tactics) == 0
	return b
}

// heatClass buckets a count into five shades relative to the largest, so
// one noisy technique does not wash the others out entirely.
func heatClass(n, maxCount int) string {
	if maxCount <= 0 {
		return "heat-1"
	}
	f := float64(n) / float64(maxCount)
	switch {
	case f > 0.8:
		return "heat-5"
	case f > 0.5:
		return "heat-4"
	case f > 0.25:
		return "heat-3"
	case f > 0.1:
		return "heat-2"
	default:
		return "heat-1"
	}
}
