package dashboard

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/threatlockdown/tld/internal/store"
)

func TestClean(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"plain text is kept", "sshd: failed", "sshd: failed"},
		{"an RTL override is made visible", "a\u202egpj.exe", `a\u202egpj.exe`},
		{"isolates and marks are made visible", "\u2066x\u2069\u200f", `\u2066x\u2069\u200f`},
		{"control characters are made visible", "a\x00b\x1bc\x7f", `a\u0000b\u001bc\u007f`},
		{"tabs and newlines are kept", "a\tb\nc", "a\tb\nc"},
		{"invalid UTF-8 is replaced", "a\xffb", "a\uFFFDb"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := clean(tt.in); got != tt.want {
				t.Errorf("clean(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestTrunc(t *testing.T) {
	tests := []struct {
		name string
		n    int
		in   string
		want string
	}{
		{"a short value is kept", 5, "abc", "abc"},
		{"a value of exactly n runes is kept", 3, "abc", "abc"},
		{"a long value is cut and marked", 3, "abcdef", "abc…"},
		{"multibyte runes are not split", 2, "éàü", "éà…"},
		{"the cut value is cleaned", 4, "ab\u202ecdef", `ab\u202ec…`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := trunc(tt.n, tt.in); got != tt.want {
				t.Errorf("trunc(%d, %q) = %q, want %q", tt.n, tt.in, got, tt.want)
			}
		})
	}
	t.Run("a cell flattens newlines", func(t *testing.T) {
		if got := cell("a\nb\r\tc"); got != "a b  c" {
			t.Errorf("cell = %q", got)
		}
	})
}

func TestCleanJSONKeepsMeaning(t *testing.T) {
	in := "{\"a\": \"x\u202ey\"}"
	if got, want := cleanJSON(in), `{"a": "x\u202ey"}`; got != want {
		t.Errorf("cleanJSON = %q, want %q", got, want)
	}
	if got := prettyJSON([]byte(`{"a":"\u202e","b":[1,2]}`)); !strings.Contains(got, "\"b\": [\n") {
		t.Errorf("prettyJSON did not indent: %q", got)
	}
	if got := prettyJSON([]byte("not json \u202e")); got != `not json \u202e` {
		t.Errorf("prettyJSON of bad JSON = %q", got)
	}
}

func TestLevelClass(t *testing.T) {
	for _, tt := range []struct {
		level int
		want  string
	}{{0, "lvl-low"}, {3, "lvl-low"}, {4, "lvl-medium"}, {7, "lvl-medium"}, {8, "lvl-high"}, {11, "lvl-high"}, {12, "lvl-critical"}, {16, "lvl-critical"}} {
		if got := levelClass(tt.level); got != tt.want {
			t.Errorf("levelClass(%d) = %q, want %q", tt.level, got, tt.want)
		}
	}
}

func TestFmtNum(t *testing.T) {
	for in, want := range map[int]string{0: "0", 999: "999", 1000: "1,000", 1234567: "1,234,567", -1234: "-1,234"} {
		if got := fmtNum(in); got != want {
			t.Errorf("fmtNum(%d) = %q, want %q", in, got, want)
		}
	}
}

func TestNiceCeil(t *testing.T) {
	for in, want := range map[int]int{1: 2, 2: 2, 3: 4, 5: 6, 7: 8, 9: 10, 11: 20, 45: 50, 51: 60, 990: 1000} {
		if got := niceCeil(in); got != want {
			t.Errorf("niceCeil(%d) = %d, want %d", in, got, want)
		}
	}
}

func TestPickInterval(t *testing.T) {
	for _, tt := range []struct {
		span time.Duration
		want time.Duration
	}{
		{15 * time.Minute, time.Minute},
		{time.Hour, time.Minute},
		{24 * time.Hour, 30 * time.Minute},
		{7 * 24 * time.Hour, 3 * time.Hour},
		{30 * 24 * time.Hour, 12 * time.Hour},
		{4 * 365 * 24 * time.Hour, 30 * 24 * time.Hour},
		{10 * 365 * 24 * time.Hour, 365 * 24 * time.Hour},
	} {
		got := pickInterval(tt.span)
		if got != tt.want {
			t.Errorf("pickInterval(%s) = %s, want %s", tt.span, got, tt.want)
		}
	}
}

func TestBarChart(t *testing.T) {
	t.Run("no data is the empty state", func(t *testing.T) {
		c := newBarChart("c", "l", "nothing", []point{{Value: 0}, {Value: 0}}, 0, chartW)
		if !c.Empty || len(c.Bars) != 0 {
			t.Errorf("chart of zeros is not empty: %+v", c)
		}
	})
	t.Run("bars fit the plot and a small count stays visible", func(t *testing.T) {
		c := newBarChart("c", "l", "", []point{{Value: 1000}, {Value: 1}, {Value: 0}}, 0, chartW)
		if len(c.Bars) != 3 {
			t.Fatalf("%d bars", len(c.Bars))
		}
		for i, b := range c.Bars {
			if b.Y < chartTop || b.Y+b.H > chartBottom+0.01 || b.X < chartLeft || b.X+b.W > chartW-chartRight+0.01 {
				t.Errorf("bar %d outside the plot: %+v", i, b)
			}
		}
		if c.Bars[1].H < 1 {
			t.Errorf("a count of 1 next to 1000 is invisible")
		}
	})
	t.Run("labels are thinned to the maximum", func(t *testing.T) {
		pts := make([]point, 48)
		for i := range pts {
			pts[i] = point{Label: "x", Value: 1}
		}
		if c := newBarChart("c", "l", "", pts, 8, chartW); len(c.XTicks) > 8 {
			t.Errorf("%d labels, want at most 8", len(c.XTicks))
		}
	})
}

func TestPager(t *testing.T) {
	q := url.Values{"group": {"sshd"}}
	tests := []struct {
		name             string
		p                store.Page
		shown, total     int
		lower            bool
		wantInfo         string
		wantPrev, wantNx bool
	}{
		{"the first page of many links only forward", store.Page{Limit: 10}, 10, 25, false, "1–10 of 25", false, true},
		{"a middle page links both ways", store.Page{Limit: 10, Offset: 10}, 10, 25, false, "11–20 of 25", true, true},
		{"the last page links only back", store.Page{Limit: 10, Offset: 20}, 5, 25, false, "21–25 of 25", true, false},
		{"a lower-bound total is N+ and keeps next", store.Page{Limit: 10, Offset: 10}, 10, 20, true, "11–20 of 20+", true, true},
		{"the default limit is the store's", store.Page{}, 50, 120, false, "1–50 of 120", false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pg := newPager(q, tt.p, tt.shown, tt.total, tt.lower, "/events")
			if info := pg.From + "–" + pg.To + " of " + pg.Total; info != tt.wantInfo {
				t.Errorf("info %q, want %q", info, tt.wantInfo)
			}
			if (pg.Prev != "") != tt.wantPrev || (pg.Next != "") != tt.wantNx {
				t.Errorf("prev %q next %q", pg.Prev, pg.Next)
			}
			if pg.Next != "" && !strings.Contains(pg.Next, "group=sshd") {
				t.Errorf("next link %q drops the filter", pg.Next)
			}
		})
	}
}

func TestHeatClass(t *testing.T) {
	for _, tt := range []struct {
		n, max int
		want   string
	}{{100, 100, "heat-5"}, {60, 100, "heat-4"}, {30, 100, "heat-3"}, {15, 100, "heat-2"}, {1, 100, "heat-1"}, {1, 0, "heat-1"}} {
		if got := heatClass(tt.n, tt.max); got != tt.want {
			t.Errorf("heatClass(%d, %d) = %q, want %q", tt.n, tt.max, got, tt.want)
		}
	}
}
