package schedule

import (
	"testing"
	"time"

	"github.com/threatlockdown/tld/internal/config"
)

func TestNextRunFollowsWazuhScheduling(t *testing.T) {
	at := func(s string) time.Time {
		v, err := time.Parse("2006-01-02 15:04", s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	cases := []struct {
		name string
		s    config.Schedule
		from string
		want string
	}{
		{"an interval adds to the last run", config.Schedule{Interval: 5 * time.Minute}, "2026-11-26 10:00", "2026-11-26 10:05"},
		{"a time of day runs today when still ahead", config.Schedule{Interval: 24 * time.Hour, Time: "14:30"}, "2026-11-26 10:00", "2026-11-26 14:30"},
		{"a time of day already past runs tomorrow", config.Schedule{Interval: 24 * time.Hour, Time: "02:00"}, "2026-11-26 10:00", "2026-11-27 02:00"},
		{"a weekday runs on its next occurrence", config.Schedule{Interval: 7 * 24 * time.Hour, WeekDay: time.Monday, HasWeekDay: true, Time: "02:00"}, "2026-11-26 10:00", "2026-11-30 02:00"},
		{"the weekday itself, later in the day, is today", config.Schedule{WeekDay: time.Thursday, HasWeekDay: true, Time: "20:00"}, "2026-11-26 10:00", "2026-11-26 20:00"},
		{"a day of the month runs this month when ahead", config.Schedule{Months: 1, Day: 28}, "2026-11-26 10:00", "2026-11-28 00:00"},
		{"a day past runs next month", config.Schedule{Months: 1, Day: 3, Time: "06:00"}, "2026-11-26 10:00", "2026-12-03 06:00"},
		{"day 31 in a short month runs on its last day", config.Schedule{Months: 1, Day: 31}, "2027-02-01 00:00", "2027-02-28 00:00"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := Next(c.s, at(c.from))
			if err != nil {
				t.Fatal(err)
			}
			if !got.Equal(at(c.want)) {
				t.Errorf("Next = %s, want %s", got.Format("2006-01-02 15:04"), c.want)
			}
		})
	}
}
