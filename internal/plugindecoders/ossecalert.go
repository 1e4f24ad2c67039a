package plugindecoders

import "strings"

// maxAlertLog is the longest original log OSSECAlert_Decoder keeps: it
// copies it with strncpy(…, 4094) into a 4097-byte buffer.
const maxAlertLog = 4094

// decodeOSSECAlert is OSSECAlert_Decoder, for alerts another OSSEC or Wazuh
// server forwards through a "ossecalert" localfile, which logcollector
// writes as
//
//	ossec: Alert Level: 5; Rule: 5716 - SSHD authentication failed.; Location: (web1) 10.0.0.5->/var/log/secure; srcip: 10.1.1.1; user: root;  <original log>
//
// It makes the event an OSSEC alert (see TypeOSSECAlert), then, if the log
// starts "Alert Level:" or "ossec: Alert Level" and the rule id after the
// first ';' and ": " is a loaded rule (see RuleIndex): relocates the event
// to "<location>|<alert location>", sets srcip and dstuser from the
// optional "srcip: " and "user: " items, replaces the log by the original
// one and reports the rule as GeneratedRule. It stops at the first thing it
// does not find, keeping what it already changed.
func decodeOSSECAlert(log string, f Fields) Result {
	res := Result{Type: TypeOSSECAlert}
	// analysisd compares 12 and 18 bytes: neither colon-space is checked.
	if !strings.HasPrefix(log, "Alert Level:") && !strings.HasPrefix(log, "ossec: Alert Level") {
		return res
	}

	// The rule id follows the first ": " after the first ';' and ends at
	// a space.
	i := strings.IndexByte(log, ';')
	if i < 0 {
		return res
	}
	i = indexFrom(log, i+1, ':')
	if i < 0 {
		return res
	}
	i++
	if at(log, i) != ' ' {
		return res
	}
	i++
	end := indexFrom(log, i, ' ')
	if end < 0 {
		return res
	}
	id := log[i:end]
	if rules, ok := f.(RuleIndex); !ok || !rules.HasRule(id) {
		return res
	}

	// The location item follows the next ';'.
	i = indexFrom(log, end, ';')
	if i < 0 {
		return res
	}
	i++
	const locTag = " Location: "
	if !strings.HasPrefix(log[i:], locTag) {
		return res
	}
	i += len(locTag)
	end = indexFrom(log, i, ';')
	if end < 0 {
		return res
	}
	res.Relocated = true
	res.AlertLocation = log[i:end]

	// Optional items, each " name: value;". Two spaces end them.
	i = end + 1
	for at(log, i) == ' ' && at(log, i+1) != ' ' {
		i++
		end = indexFrom(log, i, ';')
		if end < 0 {
			return res
		}
		item := log[i:end]
		if v, ok := strings.CutPrefix(item, "srcip: "); ok {
			f.SetStatic("srcip", v)
		}
		if v, ok := strings.CutPrefix(item, "user: "); ok {
			f.SetStatic("dstuser", v)
		}
		i = end + 1
	}

	for i < len(log) && log[i] == ' ' {
		i++
	}
	orig := log[i:]
	if len(orig) > maxAlertLog {
		orig = orig[:maxAlertLog]
	}
	res.LogReplaced = true
	res.Log = orig
	res.GeneratedRule = id
	return res
}
