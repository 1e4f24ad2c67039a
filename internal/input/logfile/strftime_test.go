package logfile

import (
	"testing"
	"time"
)

func TestStrftime(t *testing.T) {
	// A Sunday in ISO week 1 of 2025, in the afternoon.
	sun := time.Date(2024, 12, 29, 15, 4, 5, 0, time.FixedZone("CET", 3600))
	// A Monday morning early in the year.
	mon := time.Date(2025, 1, 6, 9, 7, 8, 0, time.UTC)
	tests := []struct {
		pattern string
		at      time.Time
		want    string
	}{
		{"/var/log/app-%Y-%m-%d.log", mon, "/var/log/app-2025-01-06.log"},
		{"%y%m%d%H%M%S", sun, "241229150405"},
		{"%a %A %b %B %h", sun, "Sun Sunday Dec December Dec"},
		{"%e|%k|%l|%I|%p|%P", mon, " 6| 9| 9|09|AM|am"},
		{"%I %p", sun, "03 PM"},
		{"%j %U %W %V %G %g %u %w", sun, "364 52 52 52 2024 24 7 0"},
		{"%j %U %W %V %G %g %u %w", time.Date(2024, 12, 30, 0, 0, 0, 0, time.UTC), "365 52 53 01 2025 25 1 1"},
		{"%j %U %W %V %u %w", mon, "006 01 01 02 1 1"},
		{"%F %T %D %R %r", mon, "2025-01-06 09:07:08 01/06/25 09:07 09:07:08 AM"},
		{"%c", mon, "Mon Jan  6 09:07:08 2025"},
		{"%x %X", mon, "01/06/25 09:07:08"},
		{"%C %s", mon, "20 1736154428"},
		{"%z %Z", sun, "+0100 CET"},
		{"%Ey %Od", mon, "25 06"},
		{"100%% %q %", mon, "100% %q %"},
		{"no conversions", mon, "no conversions"},
	}
	for _, tt := range tests {
		t.Run(tt.pattern, func(t *testing.T) {
			if got := strftime(tt.pattern, tt.at); got != tt.want {
				t.Errorf("strftime(%q) = %q, want %q", tt.pattern, got, tt.want)
			}
		})
	}
}
