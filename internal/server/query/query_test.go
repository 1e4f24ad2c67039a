package query

import (
	"errors"
	"net/url"
	"reflect"
	"testing"
	"time"

	"github.com/threatlockdown/tld/internal/store"
)

var now = time.Date(2025, 3, 10, 12, 0, 0, 0, time.UTC)

func TestParseFilter(t *testing.T) {
	tests := []struct {
		name  string
		query string
		want  store.Filter
		param string // the parameter the error names, when an error is expected
	}{
		{
			name:  "no parameters mean the last 24 hours",
			query: "",
			want:  store.Filter{From: now.Add(-24 * time.Hour)},
		},
		{
			name:  "to alone means the 24 hours before it",
			query: "to=2025-03-01T00:00:00Z",
			want:  store.Filter{From: time.Date(2025, 2, 28, 0, 0, 0, 0, time.UTC), To: time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)},
		},
		{
			name:  "range all has no lower bound",
			query: "range=all",
			want:  store.Filter{},
		},
		{
			name:  "a range in days counts back from now",
			query: "range=7d",
			want:  store.Filter{From: now.Add(-7 * 24 * time.Hour)},
		},
		{
			name:  "a relative from counts back from now",
			query: "from=30m",
			want:  store.Filter{From: now.Add(-30 * time.Minute)},
		},
		{
			name:  "an RFC 3339 from with an offset comes back in UTC",
			query: "from=2025-03-10T13:00:00%2B02:00",
			want:  store.Filter{From: time.Date(2025, 3, 10, 11, 0, 0, 0, time.UTC)},
		},
		{
			name:  "a date is UTC midnight",
			query: "from=2025-03-01&to=2025-03-02",
			want:  store.Filter{From: time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2025, 3, 2, 0, 0, 0, 0, time.UTC)},
		},
		{
			name:  "groups may be repeated or comma-separated",
			query: "range=all&group=sshd,authentication_failed&group=+pam+&group=",
			want:  store.Filter{Groups: []string{"sshd", "authentication_failed", "pam"}},
		},
		{
			name:  "agents and locations are not split on commas",
			query: "range=all&agent=web,01&location=/var/log/a,b&location=x",
			want:  store.Filter{Agents: []string{"web,01"}, Locations: []string{"/var/log/a,b", "x"}},
		},
		{
			name:  "every filter field is read",
			query: "range=all&rule=5710,5712&level_min=5&level_max=12&technique=T1098&tactic=Persistence&q=+failed+password+",
			want: store.Filter{RuleIDs: []string{"5710", "5712"}, MinLevel: 5, MaxLevel: 12,
				Techniques: []string{"T1098"}, Tactics: []string{"Persistence"}, Text: "failed password"},
		},
		{name: "from and range together are refused", query: "from=1h&range=24h", param: "range"},
		{name: "an unknown range is refused", query: "range=yesterday", param: "range"},
		{name: "a negative range is refused", query: "range=-5h", param: "range"},
		{name: "a malformed from is refused", query: "from=2025-13-01T00:00:00Z", param: "from"},
		{name: "a malformed to is refused", query: "to=soon", param: "to"},
		{name: "to before from is refused", query: "from=2025-03-02&to=2025-03-01", param: "to"},
		{name: "a level above 16 is refused", query: "level_min=17", param: "level_min"},
		{name: "a non-numeric level is refused", query: "level_max=high", param: "level_max"},
		{name: "level_max below level_min is refused", query: "level_min=10&level_max=3", param: "level_max"},
		{name: "a repeated single-valued parameter is refused", query: "q=a&q=b", param: "q"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := url.ParseQuery(tt.query)
			if err != nil {
				t.Fatal(err)
			}
			got, err := ParseFilter(v, now)
			if tt.param != "" {
				var pe *Error
				if !errors.As(err, &pe) || pe.Param != tt.param {
					t.Fatalf("err = %v, want an error naming %s", err, tt.param)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestEncodeFilterRoundTrips(t *testing.T) {
	filters := []struct {
		name string
		f    store.Filter
	}{
		{"an empty filter", store.Filter{}},
		{"a filter with only an upper bound", store.Filter{To: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}},
		{"a full filter", store.Filter{
			From: time.Date(2025, 1, 1, 0, 0, 0, 123456789, time.UTC), To: time.Date(2025, 2, 1, 0, 0, 0, 0, time.UTC),
			Groups: []string{"a", "b"}, RuleIDs: []string{"1"}, MinLevel: 3, MaxLevel: 9,
			Agents: []string{"x,y"}, Locations: []string{"/l"}, Techniques: []string{"T1"}, Tactics: []string{"Execution"},
			Text: "hello world",
		}},
	}
	for _, tt := range filters {
		t.Run(tt.name+" reads back the same", func(t *testing.T) {
			// Another "now" shows the encoding does not depend on the time.
			got, err := ParseFilter(EncodeFilter(tt.f), now.Add(1000*time.Hour))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.f) {
				t.Fatalf("got  %+v\nwant %+v", got, tt.f)
			}
		})
	}
}

func TestParsePage(t *testing.T) {
	tests := []struct {
		name  string
		query string
		want  store.Page
		param string
	}{
		{name: "no parameters give the store's defaults", query: "", want: store.Page{}},
		{name: "every field is read", query: "limit=20&offset=40&sort=level&order=asc", want: store.Page{Limit: 20, Offset: 40, Sort: store.SortLevel, Asc: true}},
		{name: "desc is the default order", query: "sort=agent&order=desc", want: store.Page{Sort: store.SortAgent}},
		{name: "a zero limit is refused", query: "limit=0", param: "limit"},
		{name: "a limit above 1000 is refused", query: "limit=1001", param: "limit"},
		{name: "a negative offset is refused", query: "offset=-1", param: "offset"},
		{name: "an unknown sort is refused", query: "sort=description", param: "sort"},
		{name: "an unknown order is refused", query: "order=up", param: "order"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, _ := url.ParseQuery(tt.query)
			got, err := ParsePage(v)
			if tt.param != "" {
				var pe *Error
				if !errors.As(err, &pe) || pe.Param != tt.param {
					t.Fatalf("err = %v, want an error naming %s", err, tt.param)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
			back, err := ParsePage(EncodePage(got))
			if err != nil || back != got {
				t.Fatalf("EncodePage does not round-trip: %+v, %v", back, err)
			}
		})
	}
}

func TestParsePostureFilter(t *testing.T) {
	tests := []struct {
		name  string
		query string
		want  store.PostureFilter
		param string
	}{
		{name: "no parameters select everything", query: "", want: store.PostureFilter{}},
		{
			name:  "severities and states are matched case-insensitively",
			query: "severity=high,LOW&state=unhealthy&state=notapplicable",
			want:  store.PostureFilter{Severities: []string{"High", "Low"}, States: []string{"Unhealthy", "NotApplicable"}},
		},
		{
			name:  "resource fields are read",
			query: "subscription=s1,s2&resource_group=rg&resource_type=Microsoft.Compute/virtualMachines&q=tls",
			want: store.PostureFilter{Subscriptions: []string{"s1", "s2"}, ResourceGroups: []string{"rg"},
				ResourceTypes: []string{"Microsoft.Compute/virtualMachines"}, Text: "tls"},
		},
		{name: "an unknown severity is refused", query: "severity=critical", param: "severity"},
		{name: "an unknown state is refused", query: "state=broken", param: "state"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, _ := url.ParseQuery(tt.query)
			got, err := ParsePostureFilter(v)
			if tt.param != "" {
				var pe *Error
				if !errors.As(err, &pe) || pe.Param != tt.param {
					t.Fatalf("err = %v, want an error naming %s", err, tt.param)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
			back, err := ParsePostureFilter(EncodePostureFilter(got))
			if err != nil || !reflect.DeepEqual(back, got) {
				t.Fatalf("EncodePostureFilter does not round-trip: %+v, %v", back, err)
			}
		})
	}
}

func TestParseInterval(t *testing.T) {
	from := now.Add(-24 * time.Hour)
	tests := []struct {
		name  string
		query string
		want  time.Duration
		fails bool
	}{
		{"no interval picks one for about 100 buckets", "", 15 * time.Minute, false},
		{"auto picks one too", "interval=auto", 15 * time.Minute, false},
		{"an hour is read", "interval=1h", time.Hour, false},
		{"a day is read", "interval=1d", 24 * time.Hour, false},
		{"less than a minute is refused", "interval=30s", 0, true},
		{"one-minute buckets over a day are within the cap", "interval=1m", time.Minute, false},
		{"garbage is refused", "interval=often", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, _ := url.ParseQuery(tt.query)
			got, err := ParseInterval(v, "interval", from, now)
			if tt.fails {
				if err == nil {
					t.Fatalf("got %v, want an error", got)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("got %v, %v; want %v", got, err, tt.want)
			}
		})
	}
	v := url.Values{"interval": {"1m"}}
	if _, err := ParseInterval(v, "interval", now.Add(-30*24*time.Hour), now); err == nil {
		t.Error("43,200 one-minute buckets are accepted")
	}
}

func TestFormatDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		time.Hour: "1h", 90 * time.Minute: "1h30m", 48 * time.Hour: "2d", 15 * time.Minute: "15m", 30 * time.Second: "30s",
	} {
		if got := FormatDuration(d); got != want {
			t.Errorf("FormatDuration(%v) = %q, want %q", d, got, want)
		}
		if back, err := ParseDuration(FormatDuration(d)); err != nil || back != d {
			t.Errorf("ParseDuration(FormatDuration(%v)) = %v, %v", d, back, err)
		}
	}
}

func TestParseDuration(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"30m", 30 * time.Minute, true},
		{"1h30m", 90 * time.Minute, true},
		{"7d", 7 * 24 * time.Hour, true},
		{"2w", 14 * 24 * time.Hour, true},
		{"36525d", 36525 * 24 * time.Hour, true},
		{"36526d", 0, false},
		{"100000w", 0, false},
		{"0d", 0, false},
		{"-1h", 0, false},
		{"d", 0, false},
		{"1.5d", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseDuration(tt.in)
			if (err == nil) != tt.ok || got != tt.want {
				t.Fatalf("ParseDuration(%q) = %v, %v", tt.in, got, err)
			}
		})
	}
}
