package dashboard

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"time"

	"github.com/threatlockdown/tld/internal/store"
)

// topN is how many rows each "top" table of the overview shows.
const topN = 10

type overviewBody struct {
	Total      string // alerts in range
	Critical   string // level 12 and above in range
	Agents     string // distinct agents in range (up to the top size)
	Stored     string // all alerts in the store
	Newest     string
	Histogram  barChart
	Levels     barChart
	TopRules   []hbar
	TopGroups  []hbar
	TopAgents  []hbar
	TopTypes   []hbar
	TopRegions []hbar
	Empty      bool
}

func (d *Dashboard) overview(w http.ResponseWriter, r *http.Request) {
	l := d.newLayout(r, "overview", "Overview")
	q := formQuery(r)
	now := d.now()
	f, err := parseFilter(q, now)
	if err != nil {
		l.Error = "Bad filter: " + err.Error()
		l.Body = overviewBody{Empty: true, Histogram: barChart{Empty: true, ID: "chart-histogram", EmptyText: "No alerts in this range"}, Levels: barChart{Empty: true, ID: "chart-levels", EmptyText: "No alerts in this range"}}
		d.render(w, r, http.StatusBadRequest, "overview", l)
		return
	}
	ctx := r.Context()
	b, err := d.overviewBody(ctx, q, f, now)
	if err != nil {
		d.storeFailed(w, r, "overview", "load the overview", err)
		return
	}
	l.Body = b
	d.render(w, r, http.StatusOK, "overview", l)
}

func (d *Dashboard) overviewBody(ctx context.Context, q url.Values, f store.Filter, now time.Time) (overviewBody, error) {
	var b overviewBody
	st, err := d.store.Stats(ctx)
	if err != nil {
		return b, fmt.Errorf("store stats: %w", err)
	}
	b.Stored = fmtNum(st.Alerts)
	b.Newest = fmtTime(st.Newest)

	// Facet links keep the page's range and filters and add their own.
	base := keep(q, timeParams, filterParams)

	levels, err := d.store.Top(ctx, f, store.ByLevel, 32)
	if err != nil {
		return b, fmt.Errorf("count by level: %w", err)
	}
	total, critical := 0, 0
	byLevel := map[int]int{}
	for _, bk := range levels {
		n, err := strconv.Atoi(bk.Key)
		if err != nil {
			continue
		}
		byLevel[n] += bk.Count
		total += bk.Count
		if n >= 12 {
			critical += bk.Count
		}
	}
	b.Total, b.Critical = fmtNum(total), fmtNum(critical)
	b.Empty = total == 0
	b.Levels = levelChart(byLevel, base)

	hist, err := d.histogram(ctx, f, now, st, base)
	if err != nil {
		return b, err
	}
	b.Histogram = hist

	tops := []struct {
		dim   store.Dimension
		param string
		dst   *[]hbar
	}{
		{store.ByRule, "rule", &b.TopRules},
		{store.ByGroup, "group", &b.TopGroups},
		{store.ByAgent, "agent", &b.TopAgents},
		// Alerts have no resource-type or region filter; their values
		// occur in the alert data, which the free-text filter searches.
		{store.ByResourceType, "q", &b.TopTypes},
		{store.ByRegion, "q", &b.TopRegions},
	}
	for _, t := range tops {
		bks, err := d.store.Top(ctx, f, t.dim, topN)
		if err != nil {
			return b, fmt.Errorf("top %s: %w", t.dim, err)
		}
		*t.dst = facetBars(bks, "/events", base, t.param)
		if t.dim == store.ByAgent {
			b.Agents = fmtNum(len(bks))
			if len(bks) == topN {
				b.Agents += "+"
			}
		}
	}
	return b, nil
}

// facetBars turns top buckets into bar rows linking to path filtered by
// param=key.
func facetBars(bks []store.Bucket, path string, base url.Values, param string) []hbar {
	rows := make([]hbar, 0, len(bks))
	counts := make([]int, 0, len(bks))
	for _, bk := range bks {
		label := bk.Key
		if bk.Label != "" && bk.Label != bk.Key {
			label = bk.Key + " · " + bk.Label
		}
		row := hbar{Label: trunc(cellMax, label)}
		if isPrintableKey(bk.Key) {
			row.Href = href(path, with(base, param, bk.Key))
		}
		rows = append(rows, row)
		counts = append(counts, bk.Count)
	}
	return newHBars(rows, counts)
}

// levelChart draws one bar per level that has alerts, in level order,
// each linking to the events of that level.
func levelChart(byLevel map[int]int, base url.Values) barChart {
	lvls := make([]int, 0, len(byLevel))
	for n := range byLevel {
		lvls = append(lvls, n)
	}
	sort.Ints(lvls)
	pts := make([]point, 0, len(lvls))
	for _, n := range lvls {
		s := strconv.Itoa(n)
		pts = append(pts, point{
			Label: s,
			Title: "Level " + s + ": " + fmtNum(byLevel[n]) + " alerts",
			Value: byLevel[n],
			Class: levelClass(n),
			Href:  href("/events", with(base, "level_min", s, "level_max", s)),
		})
	}
	return newBarChart("chart-levels", "Alerts by rule level", "No alerts in this range", pts, 0, chartWSmall)
}

// histogram draws alerts over the filter's window. An open window ("all")
// runs from the oldest stored alert to now.
func (d *Dashboard) histogram(ctx context.Context, f store.Filter, now time.Time, st store.Stats, base url.Values) (barChart, error) {
	from, to := f.From, f.To
	if to.IsZero() || to.After(now) {
		to = now
	}
	if from.IsZero() {
		from = st.Oldest
	}
	empty := newBarChart("chart-histogram", "Alerts over time", "No alerts in this range", nil, 0, chartW)
	if from.IsZero() || !from.Before(to) {
		return empty, nil
	}
	interval := pickInterval(to.Sub(from))
	start := from.Truncate(interval)
	n := int(to.Sub(start)/interval) + 1
	if n > maxBuckets+1 {
		n = maxBuckets + 1
	}
	hf := f
	hf.From, hf.To = from, to
	bks, err := d.store.Histogram(ctx, hf, interval)
	if err != nil {
		return empty, fmt.Errorf("histogram: %w", err)
	}
	counts := make([]int, n)
	for _, bk := range bks {
		i := int(bk.Start.Sub(start) / interval)
		i = min(max(i, 0), n-1)
		counts[i] += bk.Count
	}
	layout := tickLayout(interval)
	pts := make([]point, n)
	for i := range pts {
		s := start.Add(time.Duration(i) * interval).UTC()
		e := s.Add(interval)
		v := with(base, "range", "", "from", s.Format(time.RFC3339), "to", e.Format(time.RFC3339))
		pts[i] = point{
			Label: s.Format(layout),
			Title: s.Format(timeLayout) + " – " + e.Format("15:04") + " UTC: " + fmtNum(counts[i]) + " alerts",
			Value: counts[i],
			Class: "bar-alerts",
			Href:  href("/events", v),
		}
	}
	return newBarChart("chart-histogram", "Alerts over time ("+interval.String()+" buckets)", "No alerts in this range", pts, 8, chartW), nil
}
