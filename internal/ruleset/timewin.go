package ruleset

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// TimeRange is a <time> condition: a window of the day, which may wrap
// past midnight ("6 pm - 8:30 am"). Start is inclusive, End exclusive, in
// minutes since midnight.
type TimeRange struct {
	Start, End int
	Negate     bool
}

// Contains reports whether t's time of day falls in the window.
func (tr *TimeRange) Contains(t time.Time) bool {
	m := t.Hour()*60 + t.Minute()
	var in bool
	if tr.Start <= tr.End {
		in = m >= tr.Start && m < tr.End
	} else {
		in = m >= tr.Start || m < tr.End
	}
	return in != tr.Negate
}

// parseTimeRange reads OSSEC's time syntax: "hh[:mm] [am|pm] - hh[:mm] [am|pm]",
// optionally preceded by "!" to negate.
func parseTimeRange(s string) (*TimeRange, error) {
	s = strings.TrimSpace(strings.ToLower(s))
	tr := &TimeRange{}
	if strings.HasPrefix(s, "!") {
		tr.Negate = true
		s = strings.TrimSpace(s[1:])
	}
	parts := strings.Split(s, "-")
	if len(parts) != 2 {
		return nil, fmt.Errorf("want a range like \"6 pm - 8:30 am\"")
	}
	var err error
	if tr.Start, err = parseClock(parts[0]); err != nil {
		return nil, err
	}
	if tr.End, err = parseClock(parts[1]); err != nil {
		return nil, err
	}
	return tr, nil
}

func parseClock(s string) (int, error) {
	s = strings.TrimSpace(s)
	pm, am := strings.HasSuffix(s, "pm"), strings.HasSuffix(s, "am")
	s = strings.TrimSpace(strings.TrimSuffix(strings.TrimSuffix(s, "pm"), "am"))
	h, m := s, "0"
	if i := strings.IndexByte(s, ':'); i >= 0 {
		h, m = s[:i], s[i+1:]
	}
	hh, err1 := strconv.Atoi(strings.TrimSpace(h))
	mm, err2 := strconv.Atoi(strings.TrimSpace(m))
	if err1 != nil || err2 != nil || hh < 0 || hh > 23 || mm < 0 || mm > 59 {
		return 0, fmt.Errorf("%q is not a time of day", s)
	}
	if (am || pm) && hh > 12 {
		return 0, fmt.Errorf("%q: hour over 12 with am/pm", s)
	}
	if pm && hh < 12 {
		hh += 12
	}
	if am && hh == 12 {
		hh = 0
	}
	return hh*60 + mm, nil
}

// Weekdays is a <weekday> condition.
type Weekdays struct {
	Days   [7]bool
	Negate bool
}

// Contains reports whether t falls on one of the days.
func (w *Weekdays) Contains(t time.Time) bool { return w.Days[t.Weekday()] != w.Negate }

func parseWeekdays(s string) (*Weekdays, error) {
	s = strings.TrimSpace(strings.ToLower(s))
	w := &Weekdays{}
	if strings.HasPrefix(s, "!") {
		w.Negate = true
		s = s[1:]
	}
	names := map[string][]time.Weekday{
		"sunday": {time.Sunday}, "sun": {time.Sunday}, "monday": {time.Monday}, "mon": {time.Monday},
		"tuesday": {time.Tuesday}, "tue": {time.Tuesday}, "wednesday": {time.Wednesday}, "wed": {time.Wednesday},
		"thursday": {time.Thursday}, "thu": {time.Thursday}, "friday": {time.Friday}, "fri": {time.Friday},
		"saturday": {time.Saturday}, "sat": {time.Saturday},
		"weekends": {time.Saturday, time.Sunday},
		"weekdays": {time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday},
	}
	any := false
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' }) {
		days, ok := names[f]
		if !ok {
			return nil, fmt.Errorf("%q is not a day name", f)
		}
		for _, d := range days {
			w.Days[d] = true
		}
		any = true
	}
	if !any {
		return nil, fmt.Errorf("no day given")
	}
	return w, nil
}
