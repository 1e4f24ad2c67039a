// Package alert is the Wazuh-shaped alert: what analysis produces and every
// output writes. Its JSON encoding follows Wazuh 4.x alerts.json field by
// field, so existing dashboards, index templates and tools keep working.
package alert

import (
	"bytes"
	"encoding/json"
	"strconv"
	"sync/atomic"
	"time"
	"unicode/utf8"
)

// TimeLayout is Wazuh's alert timestamp layout.
const TimeLayout = "2006-01-02T15:04:05.000-0700"

// Alert is one alert (or, for archives, one analysed event without a rule).
type Alert struct {
	Timestamp time.Time
	Rule      *Rule // nil for an archived event that matched no rule
	Agent     Agent
	Manager   string
	// ID is the event's deterministic id, so replays can be recognised.
	ID         string
	FullLog    string // empty when the rule says no_full_log
	Predecoder Predecoder
	Decoder    Decoder
	// Data holds the decoded fields: static ones (srcip, dstuser…) and
	// dynamic ones, nested by their dotted names.
	Data     Fields
	Location string
	// PreviousOutput carries the events a correlation rule matched before
	// this one, as Wazuh's previous_output.
	PreviousOutput string

	// encoded caches JSON(): every output writes the same bytes.
	encoded atomic.Pointer[[]byte]
}

// JSON returns the alert's Wazuh JSON, encoded once and shared by every
// output (they run side by side, hence the atomic). The alert must not
// change after the first call. The result is full to capacity, so an
// append copies it instead of writing into bytes another output reads.
func (a *Alert) JSON() []byte {
	if p := a.encoded.Load(); p != nil {
		return *p
	}
	b, _ := a.MarshalJSON() // it cannot fail
	b = b[:len(b):len(b)]
	a.encoded.Store(&b)
	return b
}

// Rule is the part of an alert that describes the rule that fired.
type Rule struct {
	Level       int
	Description string
	ID          string
	Mitre       *Mitre
	Info        string
	FiredTimes  int
	Mail        bool
	Groups      []string
	Frequency   int
	PCIDSS      []string
	GDPR        []string
	HIPAA       []string
	NIST80053   []string
	TSC         []string
	GPG13       []string
	CIS         []string
}

// Mitre lists ATT&CK techniques as Wazuh does: parallel id / tactic /
// technique arrays (tactics deduplicated, in table order).
type Mitre struct {
	ID        []string
	Tactic    []string
	Technique []string
}

// Agent is the host the event came from.
type Agent struct {
	ID   string
	Name string
	IP   string
}

// Predecoder is what syslog pre-decoding found in the header.
type Predecoder struct {
	ProgramName string
	Timestamp   string
	Hostname    string
}

// Decoder names the decoder that decoded the event.
type Decoder struct {
	Name   string
	Parent string
}

// Field is one decoded field.
type Field struct {
	Key   string
	Value string
	// Raw marks a value that is JSON text (an array from the JSON decoder)
	// to be written as JSON rather than as a string.
	Raw bool
}

// Fields keeps decoded fields in the order they were decoded.
type Fields []Field

// MarshalJSON writes the alert exactly in Wazuh's key order.
func (a *Alert) MarshalJSON() ([]byte, error) {
	// Sized once: the full log and the data are most of an alert.
	size := 512 + len(a.FullLog)
	for _, f := range a.Data {
		size += len(f.Key) + len(f.Value) + 8
	}
	var b bytes.Buffer
	b.Grow(size)
	b.WriteString(`{"timestamp":`)
	writeString(&b, a.Timestamp.Format(TimeLayout))
	if a.Rule != nil {
		b.WriteString(`,"rule":`)
		a.Rule.write(&b)
	}
	b.WriteString(`,"agent":{"id":`)
	writeString(&b, a.Agent.ID)
	b.WriteString(`,"name":`)
	writeString(&b, a.Agent.Name)
	if a.Agent.IP != "" {
		b.WriteString(`,"ip":`)
		writeString(&b, a.Agent.IP)
	}
	b.WriteString(`},"manager":{"name":`)
	writeString(&b, a.Manager)
	b.WriteString(`},"id":`)
	writeString(&b, a.ID)
	if a.FullLog != "" {
		b.WriteString(`,"full_log":`)
		writeString(&b, a.FullLog)
	}
	if a.PreviousOutput != "" {
		b.WriteString(`,"previous_output":`)
		writeString(&b, a.PreviousOutput)
	}
	if p := a.Predecoder; p != (Predecoder{}) {
		b.WriteString(`,"predecoder":{`)
		sep := objectWriter{b: &b}
		sep.str("program_name", p.ProgramName)
		sep.str("timestamp", p.Timestamp)
		sep.str("hostname", p.Hostname)
		b.WriteByte('}')
	}
	if a.Decoder.Name != "" {
		b.WriteString(`,"decoder":{`)
		sep := objectWriter{b: &b}
		sep.str("parent", a.Decoder.Parent)
		sep.str("name", a.Decoder.Name)
		b.WriteByte('}')
	}
	if len(a.Data) > 0 {
		b.WriteString(`,"data":`)
		a.Data.write(&b)
	}
	b.WriteString(`,"location":`)
	writeString(&b, a.Location)
	b.WriteByte('}')
	return b.Bytes(), nil
}

func (r *Rule) write(b *bytes.Buffer) {
	b.WriteString(`{"level":`)
	b.WriteString(strconv.Itoa(r.Level))
	b.WriteString(`,"description":`)
	writeString(b, r.Description)
	b.WriteString(`,"id":`)
	writeString(b, r.ID)
	if r.Mitre != nil && len(r.Mitre.ID) > 0 {
		b.WriteString(`,"mitre":{"id":`)
		writeStrings(b, r.Mitre.ID)
		b.WriteString(`,"tactic":`)
		writeStrings(b, r.Mitre.Tactic)
		b.WriteString(`,"technique":`)
		writeStrings(b, r.Mitre.Technique)
		b.WriteByte('}')
	}
	if r.Info != "" {
		b.WriteString(`,"info":`)
		writeString(b, r.Info)
	}
	if r.Frequency > 0 {
		b.WriteString(`,"frequency":`)
		b.WriteString(strconv.Itoa(r.Frequency))
	}
	b.WriteString(`,"firedtimes":`)
	b.WriteString(strconv.Itoa(r.FiredTimes))
	b.WriteString(`,"mail":`)
	b.WriteString(strconv.FormatBool(r.Mail))
	if len(r.Groups) > 0 {
		b.WriteString(`,"groups":`)
		writeStrings(b, r.Groups)
	}
	for _, c := range []struct {
		key  string
		vals []string
	}{{"pci_dss", r.PCIDSS}, {"gdpr", r.GDPR}, {"hipaa", r.HIPAA}, {"nist_800_53", r.NIST80053}, {"tsc", r.TSC}, {"gpg13", r.GPG13}, {"cis", r.CIS}} {
		if len(c.vals) > 0 {
			b.WriteString(`,"` + c.key + `":`)
			writeStrings(b, c.vals)
		}
	}
	b.WriteByte('}')
}

// Get returns the value of the field with that key.
func (f Fields) Get(key string) (string, bool) {
	for _, x := range f {
		if x.Key == key {
			return x.Value, true
		}
	}
	return "", false
}

// write nests dotted keys into objects, keeping first-seen order, as Wazuh
// does for dynamic fields ("aws.source" → {"aws":{"source":…}}).
func (f Fields) write(b *bytes.Buffer) {
	t := fieldTree{nodes: make([]fieldNode, 1, 1+len(f)+len(f)/2)}
	for _, x := range f {
		t.insert(x)
	}
	t.write(b, 0)
}

// fieldTree is the object the dotted keys of Fields describe, its nodes
// in one slice (node 0 is the root) so that building it costs one
// allocation per alert rather than one per key.
type fieldTree struct {
	nodes []fieldNode
}

type fieldNode struct {
	name string
	// Children, in the order their keys first appeared: a list through
	// next. 0 is "none": the root is nobody's child.
	first, last, next int32
	value             string
	raw               bool
	hasValue          bool
}

// child returns parent's child called name, adding it last when missing.
// Objects have few keys: a linear scan is cheaper than a map.
func (t *fieldTree) child(parent int32, name string) int32 {
	for c := t.nodes[parent].first; c != 0; c = t.nodes[c].next {
		if t.nodes[c].name == name {
			return c
		}
	}
	t.nodes = append(t.nodes, fieldNode{name: name})
	c := int32(len(t.nodes) - 1)
	if p := &t.nodes[parent]; p.last == 0 {
		p.first, p.last = c, c
	} else {
		t.nodes[p.last].next, p.last = c, c
	}
	return c
}

func (t *fieldTree) set(n int32, f Field) {
	t.nodes[n].value, t.nodes[n].raw, t.nodes[n].hasValue = f.Value, f.Raw, true
}

func (t *fieldTree) insert(f Field) {
	cur := int32(0)
	key := f.Key
	for {
		i := indexDot(key)
		if i < 0 {
			// A later value for the same key replaces the earlier one, as
			// Wazuh's JSON output keeps one value per key.
			t.set(t.child(cur, key), f)
			return
		}
		next := t.child(cur, key[:i])
		if t.nodes[next].hasValue {
			// "a" already holds a value and now "a.b" arrives: keep the
			// value and store the nested field under its full name.
			t.set(t.child(cur, key), f)
			return
		}
		cur = next
		key = key[i+1:]
	}
}

func (t *fieldTree) write(b *bytes.Buffer, n int32) {
	nd := &t.nodes[n]
	if nd.hasValue && nd.first == 0 {
		if nd.raw && json.Valid([]byte(nd.value)) {
			b.WriteString(nd.value)
		} else {
			writeString(b, nd.value)
		}
		return
	}
	b.WriteByte('{')
	for c := nd.first; c != 0; c = t.nodes[c].next {
		if c != nd.first {
			b.WriteByte(',')
		}
		writeString(b, t.nodes[c].name)
		b.WriteByte(':')
		t.write(b, c)
	}
	b.WriteByte('}')
}

func indexDot(s string) int {
	for i := 0; i < len(s); i++ {
		if s[i] == '.' {
			return i
		}
	}
	return -1
}

type objectWriter struct {
	b     *bytes.Buffer
	wrote bool
}

func (w *objectWriter) str(key, val string) {
	if val == "" {
		return
	}
	if w.wrote {
		w.b.WriteByte(',')
	}
	w.wrote = true
	writeString(w.b, key)
	w.b.WriteByte(':')
	writeString(w.b, val)
}

func writeStrings(b *bytes.Buffer, vals []string) {
	b.WriteByte('[')
	for i, v := range vals {
		if i > 0 {
			b.WriteByte(',')
		}
		writeString(b, v)
	}
	b.WriteByte(']')
}

// writeString writes s as a JSON string, byte for byte as encoding/json
// does (HTML characters, U+2028 and U+2029 escaped). Invalid UTF-8 is
// replaced, so a hostile log line can never make an alert unreadable.
func writeString(b *bytes.Buffer, s string) {
	b.WriteByte('"')
	start := 0 // s[start:i] is still to be written as is
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b.WriteString(s[start:i])
			switch c {
			case '"', '\\':
				b.WriteByte('\\')
				b.WriteByte(c)
			case '\n':
				b.WriteString(`\n`)
			case '\r':
				b.WriteString(`\r`)
			case '\t':
				b.WriteString(`\t`)
			case '\b':
				b.WriteString(`\b`)
			case '\f':
				b.WriteString(`\f`)
			default:
				b.WriteString(`\u00`)
				b.WriteByte(hexDigits[c>>4])
				b.WriteByte(hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b.WriteString(s[start:i])
			b.WriteString(`\ufffd`)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b.WriteString(s[start:i])
			b.WriteString(`\u202`)
			b.WriteByte(hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b.WriteString(s[start:])
	b.WriteByte('"')
}

const hexDigits = "0123456789abcdef"
