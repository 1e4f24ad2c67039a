package config

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/threatlockdown/tld/internal/xmlw"
)

// placeholderRE finds guide placeholders such as <PRIMARY_DOMAIN>, which the
// XML reader keeps as text for this package (xmlw.Options.Placeholders).
var placeholderRE = regexp.MustCompile(`<[A-Z][A-Z0-9_]*>`)

// placeholderHints says what to put instead of the placeholders of the guides
// that users follow (the Azure walkthrough among them).
var placeholderHints = map[string]string{
	"<PRIMARY_DOMAIN>": "the primary domain of your Microsoft Entra tenant " +
		"(Microsoft Entra ID > Overview > Primary domain, such as contoso.onmicrosoft.com)",
	"<LOG_ANALYTICS_WORKSPACE_ID>": "the Workspace ID of your Log Analytics workspace " +
		"(Log Analytics workspaces > your workspace > Overview > Workspace ID, a GUID)",
	"<SERVICE_PRINCIPAL_APPLICATION_ID>": "the Application (client) ID of your app registration " +
		"(Microsoft Entra ID > App registrations > your app > Overview)",
	"<CLIENT_SECRET_VALUE>": "the value of a client secret of your app registration " +
		"(App registrations > your app > Certificates & secrets)",
}

func placeholderMsg(setting, ph string) string {
	hint, ok := placeholderHints[ph]
	if !ok {
		hint = "the real value"
	}
	return fmt.Sprintf("%s still holds the placeholder %s: replace it with %s", setting, ph, hint)
}

// text returns the trimmed text of a setting. It reports a placeholder left
// in it (and returns ok false) and child elements, which a setting does not
// have.
func (d *decoder) text(n *xmlw.Node) (string, bool) {
	for _, ch := range n.Children {
		d.c.warnf(pos(ch), "unexpected <%s> inside <%s> ignored", ch.Name, n.Name)
	}
	v := strings.TrimSpace(n.Text)
	if ph := placeholderRE.FindString(v); ph != "" {
		d.c.errorf(pos(n), "%s", placeholderMsg(n.Name, ph))
		return v, false
	}
	return v, true
}

// str stores the text of n in dst.
func (d *decoder) str(n *xmlw.Node, dst *string) bool {
	v, ok := d.text(n)
	if ok {
		*dst = v
	}
	return ok
}

// path stores the text of n in dst as a path, relative ones taken from
// the installation's home; an empty setting leaves dst as it was.
func (d *decoder) path(n *xmlw.Node, dst *string) bool {
	v, ok := d.text(n)
	if ok && v != "" {
		*dst = d.cfg.resolve(v)
	}
	return ok
}

// yesNo stores a yes/no setting in dst.
func (d *decoder) yesNo(n *xmlw.Node, dst *bool) bool {
	v, ok := d.text(n)
	if !ok {
		return false
	}
	switch v {
	case "yes":
		*dst = true
	case "no":
		*dst = false
	default:
		d.c.errorf(pos(n), "<%s> must be yes or no, not %q", n.Name, v)
		return false
	}
	return true
}

// intRange stores a whole number from min to max in dst.
func (d *decoder) intRange(n *xmlw.Node, min, max int, dst *int) bool {
	v, ok := d.text(n)
	if !ok {
		return false
	}
	i, err := strconv.Atoi(v)
	if err != nil || i < min || i > max {
		d.c.errorf(pos(n), "<%s> must be a whole number from %d to %d, not %q", n.Name, min, max, v)
		return false
	}
	*dst = i
	return true
}

// seconds stores a timeout: a positive whole number of seconds (an "s"
// suffix is accepted).
func (d *decoder) seconds(n *xmlw.Node, dst *time.Duration) bool {
	v, ok := d.text(n)
	if !ok {
		return false
	}
	dur, rest, err := parseDuration(v, "s", true)
	if err == nil && rest != "" {
		err = fmt.Errorf("unexpected %q after the number", rest)
	}
	if err != nil {
		d.c.errorf(pos(n), "<%s> must be a positive whole number of seconds, not %q", n.Name, v)
		return false
	}
	*dst = dur
	return true
}

// duration stores a duration written as a number and a unit letter from
// units; bare allows a number alone, meaning seconds. Text after the unit is
// ignored with a warning, as Wazuh ignores it.
func (d *decoder) duration(n *xmlw.Node, units string, bare bool, dst *time.Duration) bool {
	v, ok := d.text(n)
	if !ok {
		return false
	}
	dur, rest, err := parseDuration(v, units, bare)
	if err != nil {
		d.c.errorf(pos(n), "<%s> %q: %v", n.Name, v, err)
		return false
	}
	if rest != "" {
		d.c.warnf(pos(n), "<%s> %q: %q after the unit ignored", n.Name, v, rest)
	}
	*dst = dur
	return true
}

var unitDurations = map[byte]time.Duration{
	's': time.Second, 'm': time.Minute, 'h': time.Hour, 'd': 24 * time.Hour, 'w': 7 * 24 * time.Hour,
}

var unitNames = map[byte]string{
	's': "s (seconds)", 'm': "m (minutes)", 'h': "h (hours)", 'd': "d (days)", 'w': "w (weeks)", 'M': "M (months)",
}

// describeUnits lists unit letters for a message: "m (minutes), h (hours) or d (days)".
func describeUnits(units string) string {
	var parts []string
	for i := 0; i < len(units); i++ {
		parts = append(parts, unitNames[units[i]])
	}
	if len(parts) == 1 {
		return parts[0]
	}
	return strings.Join(parts[:len(parts)-1], ", ") + " or " + parts[len(parts)-1]
}

// leadingNumber splits a positive decimal number off the front of s.
func leadingNumber(s string) (uint64, string, error) {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i == 0 {
		return 0, s, fmt.Errorf("not a number")
	}
	n, err := strconv.ParseUint(s[:i], 10, 63)
	if err != nil {
		return 0, s, fmt.Errorf("number too large")
	}
	if n == 0 {
		return 0, s, fmt.Errorf("0 is not positive")
	}
	return n, s[i:], nil
}

// parseDuration reads "<number><unit>" with a unit from units, or a bare
// number of seconds when bare is set. It returns what follows the unit.
func parseDuration(s string, units string, bare bool) (time.Duration, string, error) {
	want := "want a positive whole number followed by " + describeUnits(units)
	if bare {
		want += ", or a number of seconds"
	}
	n, rest, err := leadingNumber(s)
	if err != nil {
		return 0, "", fmt.Errorf("%v: %s", err, want)
	}
	if rest == "" {
		if !bare {
			return 0, "", fmt.Errorf("no unit: %s", want)
		}
		rest = "s"
	}
	u := rest[0]
	if strings.IndexByte(units, u) < 0 {
		return 0, "", fmt.Errorf("unknown unit %q: %s", rest[:1], want)
	}
	mult := unitDurations[u]
	if n > uint64(math.MaxInt64/int64(mult)) {
		return 0, "", fmt.Errorf("too long")
	}
	return time.Duration(n) * mult, rest[1:], nil
}

// attrs reports attributes of n other than those named in known.
func (d *decoder) attrs(n *xmlw.Node, known ...string) {
	for _, a := range n.Attrs {
		ok := false
		for _, k := range known {
			if a.Name == k {
				ok = true
			}
		}
		if !ok {
			d.c.warnf(pos(n), "unknown attribute %s of <%s> ignored", a.Name, n.Name)
		}
	}
}

func (d *decoder) unknown(n, parent *xmlw.Node) {
	if isVar(n) {
		return
	}
	where := "<" + parent.Name + ">"
	if name, ok := parent.Attr("name"); ok && parent.Name == "wodle" {
		where = `<wodle name="` + name + `">`
	}
	d.c.warnf(pos(n), "unknown option <%s> in %s ignored", n.Name, where)
}
