package dashboard

// SVG chart geometry. The charts are drawn by the server as inline SVG so
// the pages need no script and no chart library; this file computes
// coordinates and labels, and templates/charts.html writes the elements,
// so every label goes through html/template's escaping like any other
// text on the page.

import (
	"math"
	"strconv"
	"time"

	"github.com/threatlockdown/tld/internal/store"
)

// px is an SVG coordinate, printed with one decimal so the markup stays
// short and stable.
type px float64

func (p px) String() string { return strconv.FormatFloat(float64(p), 'f', 1, 64) }

// Bar is one bar of a vertical bar chart.
type bar struct {
	X, Y, W, H px
	Class      string
	Title      string // shown on hover (SVG <title>)
	Href       string // empty: not a link
}

// tick is an axis label and, for the y axis, its grid line.
type tick struct {
	X, Y px
	Text string
}

// barChart is a vertical bar chart with a y axis scaled to its data.
type barChart struct {
	ID        string
	Label     string // accessible name of the chart
	W, H      px
	Left      px // plot area left edge (after the y labels)
	Bottom    px // plot area bottom edge (above the x labels)
	Right     px
	Bars      []bar
	YTicks    []tick
	XTicks    []tick
	Empty     bool
	EmptyText string
}

// series is one line of a line chart.
type series struct {
	Name   string
	Class  string
	Points string // SVG polyline points
	Dots   []bar  // one per point, carrying the hover title (X, Y = centre)
}

// lineChart is a chart of one or more lines over a shared x axis.
type lineChart struct {
	ID        string
	Label     string
	W, H      px
	Left      px
	Bottom    px
	Right     px
	Series    []series
	YTicks    []tick
	XTicks    []tick
	Empty     bool
	EmptyText string
}

// hbar is one row of a horizontal bar list.
type hbar struct {
	Label string
	Count string
	Pct   px // of the widest bar, 0–100
	Class string
	Href  string
}

// Layout of the vertical charts, in SVG user units (the SVG scales to the
// width of its card).
const (
	chartW      = 800 // a chart across most of the page
	chartWSmall = 400 // a chart in a third of the page
	chartH      = 220
	chartLeft   = 48
	chartRight  = 8
	chartTop    = 10
	chartBottom = 190
)

// point is one value of a chart along its x axis.
type point struct {
	Label string // x axis label
	Title string // hover text
	Value int
	Class string
	Href  string
}

// newBarChart lays out points as bars. Labels are shown for at most
// maxLabels evenly spaced bars so they never overlap.
// width is the SVG's width in user units: a chart in a narrow card gets a
// smaller one so its text is not scaled down to nothing.
func newBarChart(id, label, emptyText string, pts []point, maxLabels int, width float64) barChart {
	c := barChart{ID: id, Label: label, W: px(width), H: chartH, Left: chartLeft, Bottom: chartBottom, Right: px(width - chartRight), EmptyText: emptyText}
	max := 0
	for _, p := range pts {
		max = maxInt(max, p.Value)
	}
	if max == 0 {
		c.Empty = true
		return c
	}
	top := niceCeil(max)
	c.YTicks = yTicks(top)
	plotW := width - chartLeft - chartRight
	slot := plotW / float64(len(pts))
	gap := math.Min(slot*0.2, 4)
	step := labelStep(len(pts), maxLabels)
	for i, p := range pts {
		h := float64(p.Value) / float64(top) * (chartBottom - chartTop)
		if p.Value > 0 && h < 1 {
			h = 1 // a non-zero count stays visible
		}
		x := chartLeft + float64(i)*slot
		c.Bars = append(c.Bars, bar{
			X: px(x + gap/2), Y: px(chartBottom - h), W: px(slot - gap), H: px(h),
			Class: p.Class, Title: p.Title, Href: p.Href,
		})
		if i%step == 0 && p.Label != "" {
			c.XTicks = append(c.XTicks, tick{X: px(x + slot/2), Y: chartBottom + 18, Text: p.Label})
		}
	}
	return c
}

// newLineChart lays out several series of the same length.
func newLineChart(id, label, emptyText string, labels []string, titles []string, names []string, classes []string, values [][]int, maxLabels int) lineChart {
	c := lineChart{ID: id, Label: label, W: chartW, H: chartH, Left: chartLeft, Bottom: chartBottom, Right: chartW - chartRight, EmptyText: emptyText}
	max := 0
	for _, vs := range values {
		for _, v := range vs {
			max = maxInt(max, v)
		}
	}
	if len(labels) == 0 || max == 0 {
		c.Empty = true
		return c
	}
	top := niceCeil(max)
	c.YTicks = yTicks(top)
	plotW := float64(chartW - chartLeft - chartRight)
	xAt := func(i int) float64 {
		if len(labels) == 1 {
			return chartLeft + plotW/2
		}
		return chartLeft + float64(i)*plotW/float64(len(labels)-1)
	}
	step := labelStep(len(labels), maxLabels)
	for i, l := range labels {
		if i%step == 0 {
			c.XTicks = append(c.XTicks, tick{X: px(xAt(i)), Y: chartBottom + 18, Text: l})
		}
	}
	for s, vs := range values {
		sr := series{Name: names[s], Class: classes[s]}
		var pts []byte
		for i, v := range vs {
			x := xAt(i)
			y := chartBottom - float64(v)/float64(top)*(chartBottom-chartTop)
			if i > 0 {
				pts = append(pts, ' ')
			}
			pts = append(pts, px(x).String()...)
			pts = append(pts, ',')
			pts = append(pts, px(y).String()...)
			sr.Dots = append(sr.Dots, bar{X: px(x), Y: px(y), Title: titles[i] + " — " + names[s] + ": " + fmtNum(v)})
		}
		sr.Points = string(pts)
		c.Series = append(c.Series, sr)
	}
	return c
}

// newHBars turns buckets into horizontal bars scaled to the largest.
func newHBars(rows []hbar, counts []int) []hbar {
	max := 0
	for _, n := range counts {
		max = maxInt(max, n)
	}
	for i := range rows {
		if max > 0 {
			rows[i].Pct = px(float64(counts[i]) / float64(max) * 100)
		}
		rows[i].Count = fmtNum(counts[i])
	}
	return rows
}

// yTicks labels 0, half and the top of the y axis.
func yTicks(top int) []tick {
	var ts []tick
	for _, v := range []int{0, top / 2, top} {
		y := chartBottom - float64(v)/float64(top)*(chartBottom-chartTop)
		ts = append(ts, tick{X: chartLeft - 6, Y: px(y), Text: fmtNum(v)})
	}
	return ts
}

// niceCeil rounds n up to a round number (1, 2, 4, 5, 6 or 8 times a power
// of ten) that is even, so the half-way tick is whole.
func niceCeil(n int) int {
	if n <= 2 {
		return 2
	}
	mag := int(math.Pow(10, math.Floor(math.Log10(float64(n)))))
	for _, m := range []int{1, 2, 4, 5, 6, 8, 10} {
		if v := m * mag; v >= n && v%2 == 0 {
			return v
		}
	}
	return 10 * mag
}

func labelStep(n, maxLabels int) int {
	if maxLabels <= 0 || n <= maxLabels {
		return 1
	}
	return (n + maxLabels - 1) / maxLabels
}

func maxInt(a, b int) int {
	if a > b {
		return a
	}
	return b
}

// maxBuckets bounds the bars of a histogram: enough to see a shape, few
// enough that each bar stays wide enough to hover.
const maxBuckets = 60

// pickInterval is the smallest round bucket size that covers span in at
// most maxBuckets buckets.
func pickInterval(span time.Duration) time.Duration {
	return store.RoundInterval(span, maxBuckets)
}

// tickLayout is how an x axis labels a bucket start of that interval.
func tickLayout(interval time.Duration) string {
	switch {
	case interval >= 24*time.Hour:
		return "Jan 02"
	case interval >= time.Hour:
		return "Jan 02 15:04"
	default:
		return "15:04"
	}
}
