// Package plugindecoders reproduces the plugin decoders of Wazuh's
// analysisd other than JSON_Decoder: PF_Decoder (OpenBSD pf), SonicWall_Decoder,
// SymantecWS_Decoder (Symantec Web Security) and OSSECAlert_Decoder (alerts
// forwarded from another OSSEC/Wazuh server). A decoder names one with
// <plugin_decoder>.
//
// Each plugin is a hand-written scanner that follows the C code step by step,
// including where it stops half way: fields set before a failed check stay
// set, as they do in analysisd. Only SonicWall_Decoder uses OSRegex patterns,
// which run on this module's osregex package so that they match exactly as
// Wazuh's do.
//
// The C plugins read lf->log directly: unlike JSON_Decoder they ignore the
// decoder's plugin offset. Callers that reproduce analysisd therefore pass the
// whole log (what follows the syslog header) as input.
package plugindecoders

import "strings"

// Fields receives what a plugin extracts. Static names are Wazuh's static
// fields ("srcip", "dstip", "srcport", "dstport", "protocol", "action",
// "srcuser", "dstuser", "id", "status", "url", "data", "extra_data",
// "system_name", "command"); anything else is a dynamic field. A second
// SetStatic of the same name replaces the first, as the C plugins overwrite
// the Eventinfo pointer.
type Fields interface {
	SetStatic(name, value string)
	AddDynamic(name, value string)
}

// RuleIndex is implemented by a Fields value that knows the loaded rules.
// OSSECAlert_Decoder looks the forwarded alert's rule id up the way analysisd
// looks it up in its rules hash: HasRule receives the id exactly as written
// in the alert and must compare it with the decimal form of each rule's id
// (analysisd's keys are "%d" of the sigid, so "0500" does not find rule 500).
// Without a RuleIndex no rule is known, and OSSECAlert_Decoder stops where
// analysisd stops for an unknown id.
type RuleIndex interface {
	HasRule(id string) bool
}

// Decoder types a plugin can give an event. They are the spellings of
// <type> and <category>, except TypeOSSECAlert, which analysisd only sets
// internally and no rule can name.
const (
	TypeSyslog   = "syslog"
	TypeFirewall = "firewall"
	TypeIDS      = "ids"
	TypeSquid    = "squid"
	// TypeOSSECAlert is analysisd's OSSEC_ALERT. An event of this type is
	// not matched against the rule tree: when Result.GeneratedRule is set,
	// that rule is the one the event fires; when it is not, the event
	// fires no rule at all.
	TypeOSSECAlert = "ossec_alert"
)

// Result carries what a plugin changes besides fields.
//
// In analysisd the plugins write the decoder type into the decoder itself
// (lf->decoder_info->type), so it stays until the next event that runs the
// same plugin. Both plugins that do it set it on every run, so applying Type
// to the current event only gives the same results.
type Result struct {
	// Type is the decoder type the plugin gave the event, "" when it left
	// the decoder's own type alone (PF_Decoder, SymantecWS_Decoder).
	// SonicWall_Decoder always sets it, OSSECAlert_Decoder always sets
	// TypeOSSECAlert, even when the rest of the log does not parse.
	Type string

	// Relocated reports that OSSECAlert_Decoder replaced the event's
	// location and its hostname, both with NewLocation(previous location).
	Relocated bool
	// AlertLocation is the "Location:" of the forwarded alert, set with
	// Relocated.
	AlertLocation string

	// LogReplaced reports that OSSECAlert_Decoder replaced the event's full
	// log and its log (what rules match) with Log: the original message of
	// the forwarded alert.
	LogReplaced bool
	Log         string

	// GeneratedRule is the id of the rule the forwarded alert reports, as
	// written in it, set only when OSSECAlert_Decoder parsed the whole
	// alert. See TypeOSSECAlert.
	GeneratedRule string
}

// maxLocation is the longest location OSSECAlert_Decoder writes: it formats
// it into a 256-byte buffer with snprintf(…, 255, …).
const maxLocation = 254

// NewLocation returns the location (and hostname) analysisd gives an event
// that OSSECAlert_Decoder relocated: the previous location, "|", and the
// alert's location, cut to 254 bytes.
func (r Result) NewLocation(previous string) string {
	s := previous + "|" + r.AlertLocation
	if len(s) > maxLocation {
		s = s[:maxLocation]
	}
	return s
}

// Plugin names, as written in <plugin_decoder>.
const (
	PF         = "PF_Decoder"
	SonicWall  = "SonicWall_Decoder"
	SymantecWS = "SymantecWS_Decoder"
	OSSECAlert = "OSSECAlert_Decoder"
)

// Known reports whether name is one of the plugins this package runs. It is
// false for JSON_Decoder, which lives with the analysis engine.
func Known(name string) bool {
	switch name {
	case PF, SonicWall, SymantecWS, OSSECAlert:
		return true
	}
	return false
}

// Decode runs the named plugin on input (the log text at the plugin's
// offset) and sends the fields it extracts to f. ok is false for an unknown
// name. The plugins never fail: a log they do not recognise yields whatever
// they set before giving up, often nothing.
func Decode(name, input string, f Fields) (res Result, ok bool) {
	if f == nil {
		f = discard{}
	}
	// The C plugins see a C string: nothing past a NUL byte.
	if i := strings.IndexByte(input, 0); i >= 0 {
		input = input[:i]
	}
	switch name {
	case PF:
		decodePF(input, f)
	case SonicWall:
		res = decodeSonicWall(input, f)
	case SymantecWS:
		decodeSymantecWS(input, f)
	case OSSECAlert:
		res = decodeOSSECAlert(input, f)
	default:
		return Result{}, false
	}
	return res, true
}

type discard struct{}

func (discard) SetStatic(string, string)  {}
func (discard) AddDynamic(string, string) {}

// at reads s like a C string: the NUL terminator past its end.
func at(s string, i int) byte {
	if i < len(s) {
		return s[i]
	}
	return 0
}

// indexFrom is strchr(s+from, c) as an offset in s, -1 for NULL. from may
// be len(s) (the terminator), never more.
func indexFrom(s string, from int, c byte) int {
	if i := strings.IndexByte(s[from:], c); i >= 0 {
		return from + i
	}
	return -1
}
