package dashboard

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/threatlockdown/tld/internal/store"
)

type postureBody struct {
	Form           postureForm
	Unhealthy      string
	Healthy        string
	BySeverity     []hbar
	ByState        []hbar
	ByResourceType []hbar
	BySubscription []hbar
	Trend          lineChart
	Rows           []postureRow
	Pager          pager
	Empty          bool
}

type postureForm struct {
	Range         string
	Ranges        []string
	From, To      string
	Subscription  string
	ResourceGroup string
	ResourceType  string
	Severity      string
	State         string
	Q             string
	Severities    []string
	States        []string
	Reset         string
}

type postureRow struct {
	Severity      string
	State         string
	Name          string
	NameTitle     string
	Resource      string
	ResourceID    string
	ResourceType  string
	ResourceGroup string
	Subscription  string
	Region        string
	StateSince    string
	LastSeen      string
	AlertHref     string
}

func (d *Dashboard) posture(w http.ResponseWriter, r *http.Request) {
	l := d.newLayout(r, "posture", "Cloud posture")
	q := formQuery(r)
	now := d.now()
	b := postureBody{Form: postureForm{
		Range: activeRange(q), Ranges: ranges, From: q.Get("from"), To: q.Get("to"),
		Subscription: formValue(q, "subscription"), ResourceGroup: formValue(q, "resource_group"),
		ResourceType: formValue(q, "resource_type"), Severity: q.Get("severity"), State: q.Get("state"),
		Q:          q.Get("q"),
		Severities: []string{"High", "Medium", "Low"},
		States:     []string{"Unhealthy", "Healthy", "NotApplicable"},
		Reset:      href("/posture", keep(q, timeParams)),
	}}
	pf, perr := parsePostureFilter(q)
	tf, terr := parseFilter(keep(q, timeParams), now)
	pg, gerr := parsePage(keep(q, []string{"limit", "offset"}))
	for _, err := range []error{perr, terr, gerr} {
		if err != nil {
			l.Error = "Bad filter: " + err.Error()
			b.Empty = true
			b.Trend = lineChart{ID: "chart-posture-trend", Empty: true, EmptyText: "No posture data in this range"}
			l.Body = b
			d.render(w, r, http.StatusBadRequest, "posture", l)
			return
		}
	}
	if err := d.fillPosture(r.Context(), &b, q, pf, tf, pg, now); err != nil {
		d.storeFailed(w, r, "posture", "load the cloud posture", err)
		return
	}
	l.Body = b
	d.render(w, r, http.StatusOK, "posture", l)
}

func (d *Dashboard) fillPosture(ctx context.Context, b *postureBody, q url.Values, pf store.PostureFilter, tf store.Filter, pg store.Page, now time.Time) error {
	base := keep(q, timeParams, postureParams)
	counts, err := d.store.PostureCounts(ctx, pf)
	if err != nil {
		return fmt.Errorf("posture counts: %w", err)
	}
	for _, bk := range counts.ByState {
		switch bk.Key {
		case "Unhealthy":
			b.Unhealthy = fmtNum(bk.Count)
		case "Healthy":
			b.Healthy = fmtNum(bk.Count)
		}
	}
	if b.Unhealthy == "" {
		b.Unhealthy = "0"
	}
	if b.Healthy == "" {
		b.Healthy = "0"
	}
	b.BySeverity = postureBars(counts.BySeverity, base, "severity")
	b.ByState = postureBars(counts.ByState, base, "state")
	b.ByResourceType = postureBars(counts.ByResourceType, base, "resource_type")
	b.BySubscription = postureBars(counts.BySubscription, base, "subscription")

	trend, err := d.postureTrend(ctx, pf, tf, now)
	if err != nil {
		return err
	}
	b.Trend = trend

	res, err := d.store.Posture(ctx, pf, pg)
	if err != nil {
		return fmt.Errorf("posture list: %w", err)
	}
	for _, it := range res.Items {
		row := postureRow{
			Severity: trunc(labelMax, it.Severity), State: trunc(labelMax, it.State),
			Name: cell(it.Name), NameTitle: trunc(detailMax, it.RecommendationID),
			Resource: trunc(labelMax, it.ResourceName), ResourceID: trunc(detailMax, it.ResourceID),
			ResourceType: trunc(labelMax, it.ResourceType), ResourceGroup: trunc(labelMax, it.ResourceGroup),
			Subscription: trunc(labelMax, it.Subscription), Region: trunc(labelMax, it.Region),
			StateSince: fmtTime(it.StateSince), LastSeen: fmtTime(it.LastSeen),
		}
		if it.AlertID != "" {
			row.AlertHref = alertHref(it.AlertID)
		}
		b.Rows = append(b.Rows, row)
	}
	b.Empty = len(b.Rows) == 0
	b.Pager = newPager(q, pg, len(res.Items), res.Total, false, "/posture")
	return nil
}

// postureBars links each bucket to the posture list filtered by it.
// Severity and state bars take their colour from their key.
func postureBars(bks []store.Bucket, base url.Values, param string) []hbar {
	coloured := param == "severity" || param == "state"
	rows := make([]hbar, 0, len(bks))
	counts := make([]int, 0, len(bks))
	for _, bk := range bks {
		row := hbar{Label: trunc(labelMax, bk.Key)}
		if coloured {
			row.Class = severityClass(bk.Key)
		}
		if isPrintableKey(bk.Key) {
			row.Href = href("/posture", with(base, param, bk.Key))
		}
		rows = append(rows, row)
		counts = append(counts, bk.Count)
	}
	return newHBars(rows, counts)
}

// postureTrend draws unhealthy and healthy pairs over the page's time
// range. An open range ("all") covers the last 30 days: posture history
// older than that is rarely what a reader of this chart wants.
func (d *Dashboard) postureTrend(ctx context.Context, pf store.PostureFilter, tf store.Filter, now time.Time) (lineChart, error) {
	from, to := tf.From, tf.To
	if to.IsZero() || to.After(now) {
		to = now
	}
	if from.IsZero() {
		from = to.Add(-30 * 24 * time.Hour)
	}
	const emptyText = "No posture data in this range"
	if !from.Before(to) {
		return lineChart{ID: "chart-posture-trend", Empty: true, EmptyText: emptyText}, nil
	}
	interval := pickInterval(to.Sub(from))
	pts, err := d.store.PostureTrend(ctx, pf, from.Truncate(interval), to, interval)
	if err != nil {
		return lineChart{}, fmt.Errorf("posture trend: %w", err)
	}
	layout := tickLayout(interval)
	labels := make([]string, len(pts))
	titles := make([]string, len(pts))
	unhealthy := make([]int, len(pts))
	healthy := make([]int, len(pts))
	for i, p := range pts {
		labels[i] = p.Start.UTC().Format(layout)
		titles[i] = p.Start.UTC().Format(timeLayout) + " UTC"
		unhealthy[i], healthy[i] = p.Unhealthy, p.Healthy
	}
	return newLineChart("chart-posture-trend", "Unhealthy and healthy recommendations over time", emptyText,
		labels, titles, []string{"Unhealthy", "Healthy"}, []string{"line-unhealthy", "line-healthy"},
		[][]int{unhealthy, healthy}, 8), nil
}
