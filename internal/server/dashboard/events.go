package dashboard

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/threatlockdown/tld/internal/mitre"
	"github.com/threatlockdown/tld/internal/store"
)

// defaultLimit is the page size when the request names none (the store's
// own default).
const defaultLimit = 50

// listMax is how many groups or techniques a table row shows.
const listMax = 4

type eventsBody struct {
	Form    filterForm
	Columns []column
	Rows    []eventRow
	Pager   pager
	Empty   bool
}

// filterForm holds the values the filter inputs show: what the user
// typed, so a bad value can be corrected in place.
type filterForm struct {
	Range    string
	Ranges   []string
	From, To string
	Group    string
	Rule     string
	LevelMin string
	LevelMax string
	Agent    string
	Location string
	Tech     string
	Tactic   string
	Q        string
	Limit    string
	Sort     string
	Order    string
	Reset    string // the page without filters, keeping the range
}

// column is a table header, a link that sorts by it when sortable.
type column struct {
	Label string
	Class string
	Href  string // empty: not sortable
	Arrow string // ▲ or ▼ on the current sort column
}

type eventRow struct {
	Href        string
	ID          string
	Time        string
	Agent       string
	AgentHref   string
	Location    string
	RuleID      string
	RuleHref    string
	Level       int
	Description string
	Groups      []link
	Techniques  []link
	More        string // "+3" when lists were cut
}

type link struct {
	Text  string
	Href  string
	Title string
}

// pager is the paging bar of a table.
type pager struct {
	From, To, Total string
	Prev, Next      string // empty when there is none
}

func (d *Dashboard) events(w http.ResponseWriter, r *http.Request) {
	l := d.newLayout(r, "events", "Security events")
	q := formQuery(r)
	b := eventsBody{Form: newFilterForm(q)}
	f, ferr := parseFilter(q, d.now())
	p, perr := parsePage(q)
	if err := errors.Join(ferr, perr); err != nil {
		l.Error = "Bad filter: " + err.Error()
		b.Empty = true
		b.Columns = eventColumns(q, store.Page{})
		l.Body = b
		d.render(w, r, http.StatusBadRequest, "events", l)
		return
	}
	res, err := d.store.Search(r.Context(), f, p)
	if err != nil {
		d.storeFailed(w, r, "events", "search the alerts", err)
		return
	}
	b.Columns = eventColumns(q, p)
	base := keep(q, timeParams, filterParams)
	for _, a := range res.Alerts {
		b.Rows = append(b.Rows, newEventRow(a, base))
	}
	b.Empty = len(b.Rows) == 0
	b.Pager = newPager(q, p, len(res.Alerts), res.Total, res.TotalIsLowerBound, "/events")
	l.Body = b
	d.render(w, r, http.StatusOK, "events", l)
}

func newFilterForm(q url.Values) filterForm {
	return filterForm{
		Range: activeRange(q), Ranges: ranges,
		From: q.Get("from"), To: q.Get("to"),
		Group: formValue(q, "group"), Rule: formValue(q, "rule"),
		LevelMin: q.Get("level_min"), LevelMax: q.Get("level_max"),
		Agent: formValue(q, "agent"), Location: formValue(q, "location"),
		Tech: formValue(q, "technique"), Tactic: formValue(q, "tactic"),
		Q: q.Get("q"), Limit: q.Get("limit"), Sort: q.Get("sort"), Order: q.Get("order"),
		Reset: href("/events", keep(q, timeParams)),
	}
}

func newEventRow(a store.AlertSummary, base url.Values) eventRow {
	agent := a.AgentName
	if agent == "" {
		agent = a.AgentID
	}
	row := eventRow{
		Href: alertHref(a.ID), ID: trunc(labelMax, a.ID),
		Time:  fmtTime(a.Timestamp),
		Agent: trunc(labelMax, agent), Location: cell(a.Location),
		RuleID: trunc(labelMax, a.RuleID), Level: a.Level,
		Description: cell(a.Description),
	}
	if isPrintableKey(agent) {
		row.AgentHref = href("/events", with(base, "agent", agent))
	}
	if isPrintableKey(a.RuleID) {
		row.RuleHref = href("/events", with(base, "rule", a.RuleID))
	}
	more := 0
	row.Groups, more = facetLinks(a.Groups, base, "group", nil)
	var moreT int
	row.Techniques, moreT = facetLinks(a.Techniques, base, "technique", techniqueName)
	if more+moreT > 0 {
		row.More = "+" + strconv.Itoa(more+moreT)
	}
	return row
}

// facetLinks links up to listMax values to the list filtered by each, and
// says how many it left out.
func facetLinks(vals []string, base url.Values, param string, title func(string) string) ([]link, int) {
	var out []link
	for i, v := range vals {
		if i == listMax {
			return out, len(vals) - listMax
		}
		lk := link{Text: trunc(labelMax, v)}
		if isPrintableKey(v) {
			lk.Href = href("/events", with(base, param, v))
		}
		if title != nil {
			lk.Title = title(v)
		}
		out = append(out, lk)
	}
	return out, 0
}

// techniqueName is the ATT&CK name of a technique id, for hover titles.
func techniqueName(id string) string {
	if t, ok := mitre.Default().Lookup(id); ok {
		return t.Name
	}
	return ""
}

// eventColumns are the headers of the alerts table; a sortable one links
// to the same list sorted by it, toggling the order on the current column.
func eventColumns(q url.Values, p store.Page) []column {
	cur := p.Sort
	if cur == "" {
		cur = store.SortTimestamp
	}
	var cols []column
	for _, c := range []struct {
		label, class string
		sort         store.SortField
	}{
		{"Time", "col-time", store.SortTimestamp},
		{"Agent", "col-agent", store.SortAgent},
		{"Location", "col-location", store.SortLocation},
		{"Rule", "col-rule", store.SortRule},
		{"Level", "col-level", store.SortLevel},
		{"Description", "col-desc", ""},
		{"Groups", "col-groups", ""},
		{"MITRE", "col-mitre", ""},
	} {
		col := column{Label: c.label, Class: c.class}
		if c.sort != "" {
			order := "desc"
			if c.sort == cur {
				if p.Asc {
					col.Arrow = "▲"
				} else {
					col.Arrow = "▼"
					order = "asc"
				}
			}
			col.Href = href("/events", with(q, "sort", string(c.sort), "order", order))
		}
		cols = append(cols, col)
	}
	return cols
}

// newPager describes the page shown and links to its neighbours. A total
// that is only a lower bound is shown as "N+", and "next" stays available
// while the page was full.
func newPager(q url.Values, p store.Page, shown, total int, lowerBound bool, path string) pager {
	limit := p.Limit
	if limit <= 0 {
		limit = defaultLimit
	}
	var pg pager
	t := fmtNum(total)
	if lowerBound {
		t += "+"
	}
	pg.Total = t
	if shown > 0 {
		pg.From, pg.To = fmtNum(p.Offset+1), fmtNum(p.Offset+shown)
	}
	if p.Offset > 0 {
		prev := max(p.Offset-limit, 0)
		v := with(q)
		if prev > 0 {
			v.Set("offset", strconv.Itoa(prev))
		}
		pg.Prev = href(path, v)
	}
	if p.Offset+shown < total || (lowerBound && shown == limit) {
		v := with(q)
		v.Set("offset", strconv.Itoa(p.Offset+limit))
		pg.Next = href(path, v)
	}
	return pg
}

type eventBody struct {
	ID          string
	Time        string
	RuleID      string
	RuleHref    string
	Level       int
	Description string
	Agent       string
	AgentHref   string
	AgentIP     string
	Location    string
	LocHref     string
	Decoder     string
	Groups      []link
	Techniques  []link
	Tactics     []link
	FullLog     string
	JSON        string
	Back        string // the alert list, keeping the time range
}

// detailFields are the parts of the alert JSON the summary shows that the
// store's summary does not carry.
type detailFields struct {
	FullLog string `json:"full_log"`
	Agent   struct {
		IP string `json:"ip"`
	} `json:"agent"`
	Decoder struct {
		Name string `json:"name"`
	} `json:"decoder"`
}

func (d *Dashboard) event(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	a, err := d.store.Get(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		d.fail(w, r, http.StatusNotFound, "events", "There is no alert with this id", nil)
		return
	}
	if err != nil {
		d.storeFailed(w, r, "events", "read the alert", err)
		return
	}
	l := d.newLayout(r, "events", "Alert "+trunc(labelMax, a.ID))
	base := keep(formQuery(r), timeParams)

	var extra detailFields
	_ = json.Unmarshal(a.JSON, &extra) // best effort: the summary has the essentials
	agent := a.AgentName
	if a.AgentID != "" {
		agent += " (" + a.AgentID + ")"
	}
	b := eventBody{
		ID: trunc(detailMax, a.ID), Time: fmtTime(a.Timestamp),
		RuleID: trunc(detailMax, a.RuleID), Level: a.Level,
		Description: trunc(detailMax, a.Description),
		Agent:       trunc(detailMax, agent), AgentIP: trunc(labelMax, extra.Agent.IP),
		Location: trunc(detailMax, a.Location),
		Decoder:  trunc(labelMax, extra.Decoder.Name),
		FullLog:  clean(extra.FullLog),
		JSON:     prettyJSON(a.JSON),
		Back:     href("/events", base),
	}
	if isPrintableKey(a.RuleID) {
		b.RuleHref = href("/events", with(base, "rule", a.RuleID))
	}
	if name := a.AgentName; isPrintableKey(name) {
		b.AgentHref = href("/events", with(base, "agent", name))
	}
	if isPrintableKey(a.Location) {
		b.LocHref = href("/events", with(base, "location", a.Location))
	}
	for _, g := range a.Groups {
		b.Groups = append(b.Groups, link{Text: trunc(labelMax, g), Href: href("/events", with(base, "group", g))})
	}
	for _, t := range a.Techniques {
		text := t
		if name := techniqueName(t); name != "" {
			text += " " + name
		}
		b.Techniques = append(b.Techniques, link{Text: trunc(labelMax*2, text), Href: href("/events", with(base, "technique", t))})
	}
	for _, t := range a.Tactics {
		b.Tactics = append(b.Tactics, link{Text: trunc(labelMax, t), Href: href("/events", with(base, "tactic", t))})
	}
	l.Body = b
	d.render(w, r, http.StatusOK, "event", l)
}

// prettyJSON indents the stored alert for reading. JSON that does not
// parse is shown as it is: the page must still show what was stored.
func prettyJSON(raw []byte) string {
	var buf bytes.Buffer
	if err := json.Indent(&buf, raw, "", "  "); err != nil {
		return clean(string(raw))
	}
	return cleanJSON(strings.TrimSpace(buf.String()))
}
