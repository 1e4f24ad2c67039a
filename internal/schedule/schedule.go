// Package schedule computes when a Wazuh-style module runs next, from the
// scheduling options of its configuration block (<interval>, <day>,
// <wday>, <time>), as Wazuh's wm_scheduling does.
package schedule

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/threatlockdown/tld/internal/config"
)

// Next returns the first run time strictly after from.
//
//   - <day> (with <interval> in months, default 1): that day of the month,
//     every Months months, at <time> (default 00:00).
//   - <wday>: that weekday, every <interval> weeks (default 1), at <time>.
//   - <time> alone: every day at that time (every <interval> days).
//   - <interval> alone: from + interval.
//
// A day past the end of a month (31 in April) runs on the month's last day.
func Next(s config.Schedule, from time.Time) (time.Time, error) {
	hh, mm, err := clock(s.Time)
	if err != nil {
		return time.Time{}, err
	}
	loc := from.Location()
	switch {
	case s.Day > 0:
		months := s.Months
		if months <= 0 {
			months = 1
		}
		y, m, _ := from.Date()
		for i := 0; ; i += months {
			first := time.Date(y, m+time.Month(i), 1, hh, mm, 0, 0, loc)
			last := first.AddDate(0, 1, -1).Day()
			t := time.Date(first.Year(), first.Month(), min(s.Day, last), hh, mm, 0, 0, loc)
			if t.After(from) {
				return t, nil
			}
		}
	case s.HasWeekDay:
		weeks := int(s.Interval / (7 * 24 * time.Hour))
		if weeks <= 0 {
			weeks = 1
		}
		t := time.Date(from.Year(), from.Month(), from.Day(), hh, mm, 0, 0, loc)
		t = t.AddDate(0, 0, (int(s.WeekDay)-int(t.Weekday())+7)%7)
		for !t.After(from) {
			t = t.AddDate(0, 0, 7*weeks)
		}
		return t, nil
	case s.Time != "":
		days := int(s.Interval / (24 * time.Hour))
		if days <= 0 {
			days = 1
		}
		t := time.Date(from.Year(), from.Month(), from.Day(), hh, mm, 0, 0, loc)
		for !t.After(from) {
			t = t.AddDate(0, 0, days)
		}
		return t, nil
	}
	if s.Interval <= 0 {
		return time.Time{}, fmt.Errorf("schedule has no interval")
	}
	return from.Add(s.Interval), nil
}

func clock(s string) (int, int, error) {
	if s == "" {
		return 0, 0, nil
	}
	h, m, ok := strings.Cut(s, ":")
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if !ok || err1 != nil || err2 != nil || hh < 0 || hh > 23 || mm < 0 || mm > 59 {
		return 0, 0, fmt.Errorf("time %q is not hh:mm", s)
	}
	return hh, mm, nil
}
