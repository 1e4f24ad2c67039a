package config

import (
	"strconv"
	"strings"
	"time"

	"github.com/threatlockdown/tld/internal/xmlw"
)

// Schedule says when a wodle runs: Wazuh's <interval>, <day>, <wday> and
// <time> (src/shared/schedule_scan.c).
//
//   - interval: a positive number with a unit, s, m, h, d, w or M (months);
//     a number alone is seconds. Default 1d.
//   - day: a day of the month, 1 to 31; the interval must then be in months
//     (otherwise 1M is used, with a warning). Not with wday.
//   - wday: a day of the week, sunday to saturday or sun to sat, any case;
//     the interval must be whole weeks (otherwise 1w).
//   - time: hh:mm, 24-hour clock; the interval must be whole days
//     (otherwise 1d). With day or wday it defaults to 00:00.
//   - an interval in months without day runs on the 1st at 00:00.
type Schedule struct {
	// Interval is the time between runs; zero when Months is set.
	Interval time.Duration
	// Months is the interval in months (the M unit).
	Months int
	// Day is the day of the month, 1 to 31; 0 when not set.
	Day int
	// WeekDay is the day of the week when HasWeekDay is set.
	WeekDay    time.Weekday
	HasWeekDay bool
	// Time is the time of day, "hh:mm"; empty when not set.
	Time string
}

// defaultInterval is Wazuh's WM_DEF_INTERVAL.
const defaultInterval = 24 * time.Hour

func defaultSchedule() Schedule { return Schedule{Interval: defaultInterval} }

// schedState remembers where the scheduling options were written.
type schedState struct {
	interval, day, wday, time Pos
}

// scheduleOption decodes one scheduling option; it reports whether n is one.
func (d *decoder) scheduleOption(n *xmlw.Node, s *Schedule, st *schedState) bool {
	switch n.Name {
	case "interval":
		// st.interval is set only for a valid interval, about which the
		// checks of finishSchedule may warn.
		d.attrs(n)
		v, ok := d.text(n)
		if !ok {
			return true
		}
		if num, rest, err := leadingNumber(v); err == nil && strings.HasPrefix(rest, "M") {
			if num > 1200 {
				d.c.errorf(pos(n), "<interval> %q: too many months", v)
				return true
			}
			s.Months, s.Interval, st.interval = int(num), 0, pos(n)
			if rest != "M" {
				d.c.warnf(pos(n), "<interval> %q: %q after the unit ignored", v, rest[1:])
			}
			return true
		}
		if d.duration(n, "smhdw", true, &s.Interval) {
			s.Months, st.interval = 0, pos(n)
		}
	case "day":
		d.attrs(n)
		st.day = pos(n)
		d.intRange(n, 1, 31, &s.Day)
	case "wday":
		d.attrs(n)
		st.wday = pos(n)
		v, ok := d.text(n)
		if !ok {
			return true
		}
		wd, ok := parseWeekday(v)
		if !ok {
			d.c.errorf(pos(n), "<wday> %q is not a day of the week (sunday to saturday, or sun to sat)", v)
			return true
		}
		s.WeekDay, s.HasWeekDay = wd, true
	case "time":
		d.attrs(n)
		st.time = pos(n)
		v, ok := d.text(n)
		if !ok {
			return true
		}
		t, ok := parseClock(v)
		if !ok {
			d.c.errorf(pos(n), "<time> %q is not a time of day as hh:mm (00:00 to 23:59)", v)
			return true
		}
		s.Time = t
	default:
		return false
	}
	return true
}

// finishSchedule ties the options together as Wazuh does. Unlike Wazuh, it
// warns about an interval only when the file sets one.
func (d *decoder) finishSchedule(s *Schedule, st *schedState) {
	switch {
	case s.Day != 0 && s.HasWeekDay:
		d.c.errorf(st.wday, "<day> and <wday> cannot be used together")
	case s.Day != 0:
		if s.Months == 0 {
			if st.interval.IsValid() {
				d.c.warnf(st.interval, "with <day>, the interval must be in months: 1M is used")
			}
			s.Months, s.Interval = 1, 0
		}
		if s.Time == "" {
			s.Time = "00:00"
		}
	case s.HasWeekDay:
		week := 7 * 24 * time.Hour
		if s.Months != 0 || s.Interval%week != 0 {
			if st.interval.IsValid() {
				d.c.warnf(st.interval, "with <wday>, the interval must be whole weeks: 1w is used")
			}
			s.Months, s.Interval = 0, week
		}
		if s.Time == "" {
			s.Time = "00:00"
		}
	case s.Time != "":
		if s.Months != 0 || s.Interval%(24*time.Hour) != 0 {
			if st.interval.IsValid() {
				d.c.warnf(st.interval, "with <time>, the interval must be whole days: 1d is used")
			}
			s.Months, s.Interval = 0, 24*time.Hour
		}
	case s.Months != 0:
		d.c.warnf(st.interval, "an interval in months runs on the first day of the month at 00:00")
		s.Day, s.Time = 1, "00:00"
	}
}

var weekdays = []struct {
	name string
	day  time.Weekday
}{
	{"sunday", time.Sunday}, {"sun", time.Sunday}, {"monday", time.Monday}, {"mon", time.Monday},
	{"tuesday", time.Tuesday}, {"tue", time.Tuesday}, {"wednesday", time.Wednesday}, {"wed", time.Wednesday},
	{"thursday", time.Thursday}, {"thu", time.Thursday}, {"friday", time.Friday}, {"fri", time.Friday},
	{"saturday", time.Saturday}, {"sat", time.Saturday},
}

// parseWeekday reads a day of the week as Wazuh does: the value must start
// with a day's name or abbreviation, in any case.
func parseWeekday(v string) (time.Weekday, bool) {
	v = strings.ToLower(v)
	for _, w := range weekdays {
		if strings.HasPrefix(v, w.name) {
			return w.day, true
		}
	}
	return 0, false
}

// parseClock reads h:mm or hh:mm and returns it as hh:mm.
func parseClock(v string) (string, bool) {
	hs, ms, ok := strings.Cut(v, ":")
	if !ok || len(hs) == 0 || len(hs) > 2 || len(ms) == 0 || len(ms) > 2 {
		return "", false
	}
	h, err1 := strconv.Atoi(hs)
	m, err2 := strconv.Atoi(ms)
	if err1 != nil || err2 != nil || h < 0 || h > 23 || m < 0 || m > 59 || hs[0] == '-' || hs[0] == '+' || ms[0] == '-' || ms[0] == '+' {
		return "", false
	}
	return strconv.Itoa(h/10) + strconv.Itoa(h%10) + ":" + strconv.Itoa(m/10) + strconv.Itoa(m%10), true
}
