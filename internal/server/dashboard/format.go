package dashboard

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Display lengths, in runes. Alerts carry attacker-controlled text of any
// length; tables show a prefix and the detail page the whole value.
const (
	cellMax   = 120 // a table cell
	labelMax  = 48  // a chart label or short cell
	detailMax = 600 // a summary field on the detail page
)

// clean makes s safe to look at: control characters and the Unicode
// bidirectional controls are shown as \uXXXX, so a log line cannot hide
// or reorder the text around it (an RTL override turning "exe.txt" into
// "txt.exe"). Escaping for HTML is html/template's job, not this one's.
func clean(s string) string {
	if !strings.ContainsFunc(s, needsQuoting) && utf8.ValidString(s) {
		return s
	}
	var b strings.Builder
	for _, r := range strings.ToValidUTF8(s, "\uFFFD") {
		if needsQuoting(r) {
			fmt.Fprintf(&b, `\u%04x`, r)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

func needsQuoting(r rune) bool {
	switch {
	case r == '\t' || r == '\n':
		return false
	case r < 0x20 || (r >= 0x7f && r < 0xa0):
		return true
	case r == 0x061c || r == 0x200e || r == 0x200f,
		r >= 0x202a && r <= 0x202e,
		r >= 0x2066 && r <= 0x2069:
		return true
	}
	return false
}

// trunc cleans s and cuts it to at most n runes, marking the cut.
func trunc(n int, s string) string {
	if utf8.RuneCountInString(s) > n {
		i, c := 0, 0
		for i = range s {
			if c == n {
				break
			}
			c++
		}
		s = s[:i] + "…"
	}
	return clean(s)
}

// cell is trunc for a table cell, with newlines flattened.
func cell(s string) string {
	s = strings.Map(func(r rune) rune {
		if r == '\n' || r == '\r' || r == '\t' {
			return ' '
		}
		return r
	}, s)
	return trunc(cellMax, s)
}

// cleanJSON escapes the bidirectional controls inside JSON text as \uXXXX.
// They can only occur inside strings, where the escape means the same
// character, so the JSON is unchanged in meaning but cannot be reordered
// on screen.
func cleanJSON(s string) string {
	if !strings.ContainsFunc(s, needsQuoting) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if needsQuoting(r) {
			fmt.Fprintf(&b, `\u%04x`, r)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// levelClass names the colour band of a rule level, as Wazuh groups them.
func levelClass(level int) string {
	switch {
	case level >= 12:
		return "lvl-critical"
	case level >= 8:
		return "lvl-high"
	case level >= 4:
		return "lvl-medium"
	default:
		return "lvl-low"
	}
}

// severityClass names the colour of a Defender severity or state.
func severityClass(s string) string {
	switch strings.ToLower(s) {
	case "high", "unhealthy":
		return "sev-high"
	case "medium":
		return "sev-medium"
	case "low":
		return "sev-low"
	case "healthy":
		return "sev-ok"
	default:
		return "sev-none"
	}
}

// timeLayout is how pages show times: UTC, to the second, sortable.
const timeLayout = "2006-01-02 15:04:05"

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format(timeLayout)
}

// fmtNum writes n with thousands separators.
func fmtNum(n int) string {
	s := strconv.Itoa(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// alertHref is the detail page of an alert. The id is path-escaped: ids
// are ours, but a stored one could still hold anything.
func alertHref(id string) string {
	return "/events/" + url.PathEscape(id)
}

// isPrintableKey tells whether a facet key is worth linking: an empty or
// all-space key would make a filter that matches everything.
func isPrintableKey(s string) bool {
	return strings.IndexFunc(s, func(r rune) bool { return !unicode.IsSpace(r) }) >= 0
}
