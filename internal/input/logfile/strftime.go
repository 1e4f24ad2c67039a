package logfile

import (
	"strconv"
	"strings"
	"time"
)

// strftime expands C strftime conversions in pattern the way glibc does in
// the "C" locale, which is how logcollector turns a <location> such as
// /var/log/app-%Y-%m-%d.log into today's file name. The E and O modifiers are
// accepted and ignored; an unknown conversion is copied as is.
func strftime(pattern string, t time.Time) string {
	if !strings.Contains(pattern, "%") {
		return pattern
	}
	var b strings.Builder
	for i := 0; i < len(pattern); i++ {
		c := pattern[i]
		if c != '%' || i+1 == len(pattern) {
			b.WriteByte(c)
			continue
		}
		i++
		if (pattern[i] == 'E' || pattern[i] == 'O') && i+1 < len(pattern) {
			i++
		}
		if !conv(&b, pattern[i], t) {
			b.WriteByte('%')
			b.WriteByte(pattern[i])
		}
	}
	return b.String()
}

func conv(b *strings.Builder, c byte, t time.Time) bool {
	pad := func(n, width int, fill byte) {
		s := strconv.Itoa(n)
		for i := len(s); i < width; i++ {
			b.WriteByte(fill)
		}
		b.WriteString(s)
	}
	hour12 := t.Hour() % 12
	if hour12 == 0 {
		hour12 = 12
	}
	switch c {
	case 'a':
		b.WriteString(t.Weekday().String()[:3])
	case 'A':
		b.WriteString(t.Weekday().String())
	case 'b', 'h':
		b.WriteString(t.Month().String()[:3])
	case 'B':
		b.WriteString(t.Month().String())
	case 'c':
		b.WriteString(strftime("%a %b %e %H:%M:%S %Y", t))
	case 'C':
		pad(t.Year()/100, 2, '0')
	case 'd':
		pad(t.Day(), 2, '0')
	case 'D', 'x':
		b.WriteString(strftime("%m/%d/%y", t))
	case 'e':
		pad(t.Day(), 2, ' ')
	case 'F':
		b.WriteString(strftime("%Y-%m-%d", t))
	case 'g':
		y, _ := t.ISOWeek()
		pad(y%100, 2, '0')
	case 'G':
		y, _ := t.ISOWeek()
		b.WriteString(strconv.Itoa(y))
	case 'H':
		pad(t.Hour(), 2, '0')
	case 'I':
		pad(hour12, 2, '0')
	case 'j':
		pad(t.YearDay(), 3, '0')
	case 'k':
		pad(t.Hour(), 2, ' ')
	case 'l':
		pad(hour12, 2, ' ')
	case 'm':
		pad(int(t.Month()), 2, '0')
	case 'M':
		pad(t.Minute(), 2, '0')
	case 'n':
		b.WriteByte('\n')
	case 'p':
		if t.Hour() < 12 {
			b.WriteString("AM")
		} else {
			b.WriteString("PM")
		}
	case 'P':
		if t.Hour() < 12 {
			b.WriteString("am")
		} else {
			b.WriteString("pm")
		}
	case 'r':
		b.WriteString(strftime("%I:%M:%S %p", t))
	case 'R':
		b.WriteString(strftime("%H:%M", t))
	case 's':
		b.WriteString(strconv.FormatInt(t.Unix(), 10))
	case 'S':
		pad(t.Second(), 2, '0')
	case 't':
		b.WriteByte('\t')
	case 'T', 'X':
		b.WriteString(strftime("%H:%M:%S", t))
	case 'u':
		wd := int(t.Weekday())
		if wd == 0 {
			wd = 7
		}
		b.WriteString(strconv.Itoa(wd))
	case 'U':
		pad((t.YearDay()-1+7-int(t.Weekday()))/7, 2, '0')
	case 'V':
		_, w := t.ISOWeek()
		pad(w, 2, '0')
	case 'w':
		b.WriteString(strconv.Itoa(int(t.Weekday())))
	case 'W':
		pad((t.YearDay()-1+7-(int(t.Weekday())+6)%7)/7, 2, '0')
	case 'y':
		pad(t.Year()%100, 2, '0')
	case 'Y':
		b.WriteString(strconv.Itoa(t.Year()))
	case 'z':
		b.WriteString(t.Format("-0700"))
	case 'Z':
		b.WriteString(t.Format("MST"))
	case '%':
		b.WriteByte('%')
	default:
		return false
	}
	return true
}
