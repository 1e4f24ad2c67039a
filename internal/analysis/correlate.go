package analysis

import (
	"strings"
	"sync"

	"github.com/threatlockdown/tld/internal/ruleset"
	"github.com/threatlockdown/tld/internal/ruleset/osmatch"
)

// maxRemembered bounds each list of past events, whatever the timeframes:
// enough for the largest frequencies in practice, while a flood cannot
// grow memory without bound.
const maxRemembered = 512

// pastEvent is what correlation keeps of an event whose deciding rule
// others correlate with (if_matched_sid / if_matched_group).
type pastEvent struct {
	unix     int64
	agent    string
	location string
	fullLog  string
	// values holds the fields correlation rules compare (same_*,
	// different_*), keyed by lower-case name; only what the ruleset's
	// correlation rules name is kept, so memory stays small.
	values map[string]string
	// d is the live event while it is analysed; nil once remembered.
	d *Decoded
	// matched is the level of the correlation rule that consumed the
	// event, so one burst does not fire the same rule twice (analysisd's
	// lf->matched).
	matched int
}

// snapshot is the current event as correlation sees it.
func snapshot(d *Decoded, unix int64) *pastEvent {
	return &pastEvent{unix: unix, agent: d.Event.Agent.ID, location: d.Event.Location, fullLog: d.FullLog, d: d}
}

// freeze keeps only the compared fields of an event about to be
// remembered, and lets the rest of it go.
func (p *pastEvent) freeze(names []string) {
	if p.d == nil {
		return
	}
	// Copies: the strings may be slices of a large buffer (an input's read
	// block) that a remembered event must not keep alive.
	p.values = make(map[string]string, len(names))
	for _, n := range names {
		if v, ok := p.live(n); ok {
			p.values[n] = strings.Clone(v)
		}
	}
	p.fullLog = strings.Clone(p.fullLog)
	p.location = strings.Clone(p.location)
	p.agent = strings.Clone(p.agent)
	p.d = nil
}

func (p *pastEvent) live(name string) (string, bool) {
	if f := ruleset.LookupStatic(name); f != ruleset.NotStatic {
		return p.d.Static(f)
	}
	return p.d.Dynamic(name)
}

// value returns a field of a past or current event for same_*/different_*.
func (p *pastEvent) value(name string) (string, bool) {
	if name == "location" {
		return p.location, true
	}
	if p.d != nil {
		return p.live(name)
	}
	v, ok := p.values[name]
	return v, ok
}

// eventList is a newest-last list of past events, pruned by age and size.
type eventList struct {
	mu        sync.Mutex
	events    []*pastEvent
	maxWindow int64 // the longest timeframe of the rules that read it
}

func (l *eventList) add(p *pastEvent) {
	l.mu.Lock()
	defer l.mu.Unlock()
	drop := 0
	for drop < len(l.events) && (p.unix-l.events[drop].unix > l.maxWindow || len(l.events)-drop >= maxRemembered) {
		drop++
	}
	if drop > 0 {
		l.events = append(l.events[:0], l.events[drop:]...)
	}
	l.events = append(l.events, p)
}

// correlation holds the state of rules that look at earlier events.
type correlation struct {
	// feeds lists, for each rule, the event lists an event it decides
	// goes into.
	feeds map[*ruleset.Rule][]*eventList
	// source is the list a correlating rule searches.
	source map[*ruleset.Rule]*eventList

	// compared are the lower-case names of every field a correlation
	// rule compares; remembered events keep only these.
	compared []string

	mu   sync.Mutex
	diff map[diffKey]string
	fts  map[string]bool
}

type diffKey struct {
	rule  int
	agent string
}

func newCorrelation(set *ruleset.Set) *correlation {
	c := &correlation{feeds: map[*ruleset.Rule][]*eventList{}, source: map[*ruleset.Rule]*eventList{},
		diff: map[diffKey]string{}, fts: map[string]bool{}}
	sidLists := map[int]*eventList{}
	var groups map[*ruleset.Rule]string // built on first need
	seen := map[string]bool{}
	for _, r := range set.AllRules {
		for _, list := range [][]string{r.Same, r.Different, r.NotSame} {
			for _, n := range list {
				if !seen[n] {
					seen[n] = true
					c.compared = append(c.compared, n)
				}
			}
		}
	}
	for _, r := range set.AllRules {
		switch {
		case r.IfMatchedSID != 0:
			target, ok := set.ByID[r.IfMatchedSID]
			if !ok {
				continue
			}
			l := sidLists[r.IfMatchedSID]
			if l == nil {
				l = &eventList{}
				sidLists[r.IfMatchedSID] = l
				c.feeds[target] = append(c.feeds[target], l)
			}
			l.maxWindow = max(l.maxWindow, int64(r.Timeframe))
			c.source[r] = l
		case r.IfMatchedGroup != "":
			m, err := osmatch.Compile(r.IfMatchedGroup)
			if err != nil {
				continue
			}
			l := &eventList{maxWindow: int64(r.Timeframe)}
			c.source[r] = l
			if groups == nil {
				groups = make(map[*ruleset.Rule]string, len(set.AllRules))
				for _, x := range set.AllRules {
					groups[x] = groupString(x)
				}
			}
			for _, x := range set.AllRules {
				if m.Match(groups[x]) {
					c.feeds[x] = append(c.feeds[x], l)
				}
			}
		}
	}
	return c
}

// groupString is a rule's groups as analysisd holds them: one
// comma-separated string, compliance groups included.
func groupString(r *ruleset.Rule) string {
	var b strings.Builder
	for _, g := range r.Groups {
		b.WriteString(g)
		b.WriteByte(',')
	}
	c := r.Compliance
	for _, x := range []struct {
		prefix string
		vals   []string
	}{{"pci_dss_", c.PCIDSS}, {"gdpr_", c.GDPR}, {"hipaa_", c.HIPAA}, {"nist_800_53_", c.NIST80053}, {"tsc_", c.TSC}, {"gpg13_", c.GPG13}, {"cis_", c.CIS}} {
		for _, v := range x.vals {
			b.WriteString(x.prefix + v + ",")
		}
	}
	return b.String()
}

// remember files an event whose deciding rule is r where correlating rules
// will look for it.
func (c *correlation) remember(r *ruleset.Rule, cur *pastEvent) {
	cur.freeze(c.compared)
	for _, l := range c.feeds[r] {
		l.add(cur)
	}
}

// search is analysisd's Search_LastSids / Search_LastGroups: walking back
// from the newest remembered event within the rule's timeframe, it skips
// events of other agents (unless global_frequency) and events that fail
// the rule's same_*/different_* conditions, stops at an event already
// consumed by a rule of this level or higher, and matches when
// frequency-1 events were counted (one, without frequency). On a match the
// current event and the newest counted one are marked as consumed. It
// returns the events counted, newest first.
func (c *correlation) search(r *ruleset.Rule, cur *pastEvent) ([]*pastEvent, bool) {
	l := c.source[r]
	if l == nil {
		return nil, false
	}
	need := 0
	if r.Frequency > 0 {
		need = r.Frequency - 2
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	var counted []*pastEvent
	for i := len(l.events) - 1; i >= 0; i-- {
		ev := l.events[i]
		if cur.unix-ev.unix > int64(r.Timeframe) {
			return nil, false
		}
		if !r.GlobalFreq && ev.agent != cur.agent {
			continue
		}
		if !sameFields(r.Same, ev, cur) || !differentFields(r.Different, ev, cur) || !differentFields(r.NotSame, ev, cur) {
			continue
		}
		if ev.matched >= r.Level {
			return nil, false
		}
		counted = append(counted, ev)
		if len(counted) <= need {
			continue
		}
		cur.matched = r.Level
		if need > 0 {
			counted[0].matched = r.Level
		}
		return counted, true
	}
	return nil, false
}

// sameFields requires each named field in both events, equal.
func sameFields(names []string, a, b *pastEvent) bool {
	for _, n := range names {
		va, oka := a.value(n)
		vb, okb := b.value(n)
		if !oka || !okb || va != vb {
			return false
		}
	}
	return true
}

// differentFields fails only when a named field is in both events with
// the same value.
func differentFields(names []string, a, b *pastEvent) bool {
	for _, n := range names {
		va, oka := a.value(n)
		vb, okb := b.value(n)
		if oka && okb && va == vb {
			return false
		}
	}
	return true
}

// checkDiff is <check_diff>: the rule matches when the event's text
// differs from the previous event the rule saw for the same agent; the
// first one is only remembered.
func (c *correlation) checkDiff(r *ruleset.Rule, d *Decoded) bool {
	k := diffKey{rule: r.ID, agent: d.Event.Agent.ID}
	c.mu.Lock()
	defer c.mu.Unlock()
	prev, seen := c.diff[k]
	c.diff[k] = d.FullLog
	return seen && prev != d.FullLog
}

// firstTime is <if_fts>: the decoder's <fts> fields take a combination of
// values never seen before. The combination is remembered either way.
func (c *correlation) firstTime(d *Decoded) bool {
	if d.Decoder == nil || len(d.Decoder.FTS) == 0 {
		return false
	}
	var b strings.Builder
	b.WriteString(d.Decoder.ReportedName)
	for _, f := range d.Decoder.FTS {
		var v string
		switch f {
		case "name":
			v = d.Decoder.ReportedName
		case "location":
			v = d.Event.Location
		case "user":
			v, _ = d.user()
		default:
			v, _ = d.Field(f)
		}
		b.WriteByte(0)
		b.WriteString(v)
	}
	key := b.String()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.fts[key] {
		return false
	}
	c.fts[key] = true
	return true
}
