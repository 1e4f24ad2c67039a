package analysis

import (
	"strings"
	"time"

	"github.com/threatlockdown/tld/internal/ruleset"
	"github.com/threatlockdown/tld/internal/ruleset/expr"
)

// checkRule tests r and, when it matches, its children depth first; it
// returns the rule that decides the event (the deepest matching one) or
// nil. This follows analysisd's OS_CheckIfRuleMatch, including its quirk
// that a matching noalert rule without a matching child counts as no match,
// so the search goes on with its siblings.
func (e *Engine) checkRule(ev *evaluation, r *ruleset.Rule) *ruleset.Rule {
	if !e.ruleConditions(ev, r) {
		return nil
	}
	if ev.trace != nil {
		ev.trace.Matched = append(ev.trace.Matched, r.ID)
	}
	for _, child := range r.Children {
		if res := e.checkRule(ev, child); res != nil {
			return res
		}
	}
	if r.NoAlert {
		return nil
	}
	return r
}

// evaluation is one event's pass through the rule tree.
type evaluation struct {
	d     *Decoded
	now   time.Time
	trace *Trace
	// cur is the event as correlation remembers it, made on first need.
	cur *pastEvent
	// previous holds, per correlation rule that matched, the earlier
	// events it counted (the alert's previous_output).
	previous map[*ruleset.Rule][]*pastEvent
}

func (ev *evaluation) current() *pastEvent {
	if ev.cur == nil {
		ev.cur = snapshot(ev.d, ev.now.Unix())
	}
	return ev.cur
}

func (e *Engine) ruleConditions(ev *evaluation, r *ruleset.Rule) bool {
	d, now := ev.d, ev.now
	if r.DecodedAs != "" && (d.Decoder == nil || d.Decoder.ReportedName != r.DecodedAs) {
		return false
	}
	if r.ProgramName != nil {
		if d.Header.ProgramName == "" || !e.matches(r.ProgramName, d.Header.ProgramName) {
			return false
		}
	}
	if r.Match != nil && !e.matches(r.Match, d.Log) {
		return false
	}
	if r.Regex != nil && !e.matches(r.Regex, d.Log) {
		return false
	}
	if r.Location != nil && !e.matches(r.Location, d.Event.Location) {
		return false
	}
	for i := range r.Fields {
		f := &r.Fields[i]
		v, ok := d.fieldRef(f)
		if !ok || !e.matches(f.Expr, v) {
			return false
		}
	}
	for i := range r.Static {
		s := &r.Static[i]
		var v string
		var ok bool
		if s.Option == "user" {
			v, ok = d.user()
		} else {
			v, ok = d.Static(s.Field)
		}
		if !ok || !e.matches(s.Expr, v) {
			return false
		}
	}
	if len(r.SrcIP) > 0 && !e.anyAddress(r.SrcIP, d, ruleset.FieldSrcIP) {
		return false
	}
	if len(r.DstIP) > 0 && !e.anyAddress(r.DstIP, d, ruleset.FieldDstIP) {
		return false
	}
	if r.Hostname != nil {
		if d.Header.Hostname == "" || !e.matches(r.Hostname, d.Header.Hostname) {
			return false
		}
	}
	if r.CompiledRule != "" && !compiledRules[r.CompiledRule](d) {
		return false
	}
	if r.SrcGeoIP != nil || r.DstGeoIP != nil {
		// No geolocation database is wired into analysis yet, so a rule
		// that requires a country cannot match.
		return false
	}
	if r.MaxSize > 0 && len(d.Log) < r.MaxSize {
		return false
	}
	if r.Time != nil && !r.Time.Contains(now) {
		return false
	}
	if r.Weekday != nil && !r.Weekday.Contains(now) {
		return false
	}
	if r.CheckDiff && !e.corr.checkDiff(r, d) {
		return false
	}
	if r.IfFTS && !e.corr.firstTime(d) {
		return false
	}
	for i := range r.Lists {
		if !e.listMatches(d, &r.Lists[i]) {
			return false
		}
	}
	if r.IfMatchedSID != 0 || r.IfMatchedGroup != "" {
		prev, ok := e.corr.search(r, ev.current())
		if !ok {
			return false
		}
		if ev.previous == nil {
			ev.previous = map[*ruleset.Rule][]*pastEvent{}
		}
		ev.previous[r] = prev
	}
	return true
}

func (e *Engine) listMatches(d *Decoded, l *ruleset.ListLookup) bool {
	var v string
	var ok bool
	switch {
	case l.Field == "user":
		v, ok = d.user()
	case l.Static != ruleset.NotStatic:
		v, ok = d.Static(l.Static)
	default:
		v, ok = d.Dynamic(l.Field)
	}
	if !ok {
		return false
	}
	list := e.set.Lists[listKeyOf(l.Path)]
	if list == nil {
		return false
	}
	val, found := list.Lookup(v)
	switch l.Lookup {
	case "match_key", "address_match_key":
		return found
	case "not_match_key", "not_address_match_key":
		return !found
	case "match_key_value", "address_match_key_value":
		return found && (l.CheckValue == nil || e.matches(l.CheckValue, val))
	case "not_match_key_value", "not_address_match_key_value":
		return !found || (l.CheckValue != nil && !e.matches(l.CheckValue, val))
	}
	return false
}

func listKeyOf(p string) string {
	return strings.TrimSuffix(strings.ReplaceAll(strings.TrimSpace(p), "\\", "/"), ".cdb")
}

// anyAddress is <srcip>/<dstip>: the field must be decoded and one of the
// listed addresses or networks must match it.
func (e *Engine) anyAddress(list []*expr.Expr, d *Decoded, f ruleset.StaticField) bool {
	v, ok := d.Static(f)
	if !ok {
		return false
	}
	for _, x := range list {
		if e.matches(x, v) {
			return true
		}
	}
	return false
}
