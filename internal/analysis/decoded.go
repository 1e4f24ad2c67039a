// Package analysis runs Wazuh's analysis on events: pre-decoding, decoding,
// and the rule tree, producing Wazuh-shaped alerts.
package analysis

import (
	"strings"

	"github.com/threatlockdown/tld/internal/alert"
	"github.com/threatlockdown/tld/internal/event"
	"github.com/threatlockdown/tld/internal/predecode"
	"github.com/threatlockdown/tld/internal/ruleset"
)

// Decoded is an event after pre-decoding and decoding: what rules test.
type Decoded struct {
	Event event.Event
	// FullLog is the whole event text; Log is what follows the syslog
	// header (what decoders, <match> and <regex> see).
	FullLog string
	Log     string
	Header  predecode.Header
	// Decoder is the decoder that matched (a child decoder when one did),
	// nil when none did.
	Decoder *ruleset.Decoder

	// typeOverride is a decoder type a plugin set for this event.
	typeOverride string
	// generatedRule is the rule id a forwarded OSSEC alert names.
	generatedRule string

	static    [ruleset.NumStaticFields]string
	staticSet uint32
	dynamic   []alert.Field
	// index maps lower-cased dynamic field names to their first position;
	// built on first need once there are enough fields to pay for it.
	index   map[string]int32
	lookups int
}

// indexFrom is the number of dynamic fields from which lookups may use
// index; indexAfter is how many lookups an event takes before the index is
// worth building (most events meet only a few rules that name fields).
const (
	indexFrom  = 12
	indexAfter = 8
)

// SetStatic stores a static field.
func (d *Decoded) SetStatic(f ruleset.StaticField, v string) {
	d.static[f] = v
	d.staticSet |= 1 << uint(f)
}

// Static returns a static field and whether it was decoded.
func (d *Decoded) Static(f ruleset.StaticField) (string, bool) {
	if f < 0 || f >= ruleset.NumStaticFields || d.staticSet&(1<<uint(f)) == 0 {
		return "", false
	}
	return d.static[f], true
}

// AddDynamic stores a dynamic field. raw marks JSON text to be written
// as JSON in alerts.
func (d *Decoded) AddDynamic(key, value string, raw bool) {
	d.dynamic = append(d.dynamic, alert.Field{Key: key, Value: value, Raw: raw})
	d.index = nil
}

// Dynamic returns a dynamic field by name, ignoring case as analysisd's
// FindField does. The first field with that name wins.
func (d *Decoded) Dynamic(name string) (string, bool) {
	if d.index == nil && (len(d.dynamic) < indexFrom || d.lookups < indexAfter) {
		d.lookups++
		for i := range d.dynamic {
			if strings.EqualFold(d.dynamic[i].Key, name) {
				return d.dynamic[i].Value, true
			}
		}
		return "", false
	}
	return d.dynamicLower(strings.ToLower(name))
}

// dynamicLower is Dynamic for a name already in lower case.
func (d *Decoded) dynamicLower(lower string) (string, bool) {
	if d.index == nil && (len(d.dynamic) < indexFrom || d.lookups < indexAfter) {
		d.lookups++
		for i := range d.dynamic {
			if strings.EqualFold(d.dynamic[i].Key, lower) {
				return d.dynamic[i].Value, true
			}
		}
		return "", false
	}
	if d.index == nil {
		d.index = make(map[string]int32, len(d.dynamic))
		for i := range d.dynamic {
			k := strings.ToLower(d.dynamic[i].Key)
			if _, seen := d.index[k]; !seen {
				d.index[k] = int32(i)
			}
		}
	}
	if i, ok := d.index[lower]; ok {
		return d.dynamic[i].Value, true
	}
	return "", false
}

// fieldRef looks up a rule's <field>: the dynamic field, then the static
// one of that name (resolved when the rule was loaded).
func (d *Decoded) fieldRef(f *ruleset.FieldMatch) (string, bool) {
	if v, ok := d.dynamicLower(f.Lower); ok {
		return v, true
	}
	if f.Static != ruleset.NotStatic {
		return d.Static(f.Static)
	}
	switch f.Lower {
	case "program_name", "hostname", "location":
		return d.Field(f.Lower)
	}
	return "", false
}

// Field looks a name up as <field> and $(name) do: dynamic fields first,
// then the static field of that name, then pre-decoding's program_name
// and hostname.
func (d *Decoded) Field(name string) (string, bool) {
	if v, ok := d.Dynamic(name); ok {
		return v, true
	}
	if f := ruleset.LookupStatic(name); f != ruleset.NotStatic {
		if v, ok := d.Static(f); ok {
			return v, true
		}
	}
	switch name {
	case "program_name":
		if d.Header.ProgramName != "" {
			return d.Header.ProgramName, true
		}
	case "hostname":
		if d.Header.Hostname != "" {
			return d.Header.Hostname, true
		}
	case "location":
		return d.Event.Location, true
	}
	return "", false
}

// Fields returns every decoded field in Wazuh's alert order: static
// fields first, then dynamic ones in decoding order.
func (d *Decoded) Fields() alert.Fields {
	out := make(alert.Fields, 0, len(d.dynamic)+4)
	for f := ruleset.StaticField(0); f < ruleset.NumStaticFields; f++ {
		if v, ok := d.Static(f); ok {
			out = append(out, alert.Field{Key: f.Name(), Value: v})
		}
	}
	return append(out, d.dynamic...)
}

// user returns the user a rule's <user> tests: dstuser, else srcuser,
// else a decoded field named "user" (JSON events carry it under that name).
func (d *Decoded) user() (string, bool) {
	if v, ok := d.Static(ruleset.FieldDstUser); ok {
		return v, true
	}
	if v, ok := d.Static(ruleset.FieldSrcUser); ok {
		return v, true
	}
	return d.Dynamic("user")
}

const (
	staticSrcUser = ruleset.FieldSrcUser
	staticDstUser = ruleset.FieldDstUser
	staticID      = ruleset.FieldID
	staticURL     = ruleset.FieldURL
)
