package ruleset

import "strings"

// StaticField is one of the fields OSSEC defined before dynamic fields
// existed. Decoders fill them through <order>, rules test them with their
// own options (<srcip>, <user>…), and alerts print them first in "data".
type StaticField int

// The static fields, in the order Wazuh prints them in an alert's data.
const (
	FieldProtocol StaticField = iota
	FieldSrcIP
	FieldSrcPort
	FieldSrcUser
	FieldDstIP
	FieldDstPort
	FieldDstUser
	FieldID
	FieldStatus
	FieldCommand
	FieldAction
	FieldURL
	FieldData
	FieldExtraData
	FieldSystemName
	NumStaticFields
	// NotStatic marks a dynamic field.
	NotStatic StaticField = -1
)

var staticNames = [NumStaticFields]string{
	FieldProtocol:   "protocol",
	FieldSrcIP:      "srcip",
	FieldSrcPort:    "srcport",
	FieldSrcUser:    "srcuser",
	FieldDstIP:      "dstip",
	FieldDstPort:    "dstport",
	FieldDstUser:    "dstuser",
	FieldID:         "id",
	FieldStatus:     "status",
	FieldCommand:    "command",
	FieldAction:     "action",
	FieldURL:        "url",
	FieldData:       "data",
	FieldExtraData:  "extra_data",
	FieldSystemName: "system_name",
}

// Name is the field's key in alerts and in <field name="…">.
func (f StaticField) Name() string {
	if f < 0 || f >= NumStaticFields {
		return ""
	}
	return staticNames[f]
}

// staticByOrderName maps decoder <order> names to static fields. "user" is
// OSSEC's alias of dstuser.
var staticByOrderName = map[string]StaticField{
	"protocol": FieldProtocol, "srcip": FieldSrcIP, "srcport": FieldSrcPort,
	"srcuser": FieldSrcUser, "dstip": FieldDstIP, "dstport": FieldDstPort,
	"dstuser": FieldDstUser, "user": FieldDstUser, "id": FieldID,
	"status": FieldStatus, "command": FieldCommand, "action": FieldAction,
	"url": FieldURL, "data": FieldData, "extra_data": FieldExtraData,
	"system_name": FieldSystemName, "systemname": FieldSystemName,
}

var staticOrderNames = func() []string {
	var out []string
	for k := range staticByOrderName {
		out = append(out, k)
	}
	return out
}()

// LookupStatic finds the static field a name refers to, ignoring case.
func LookupStatic(name string) StaticField {
	if f, ok := staticByOrderName[name]; ok {
		return f
	}
	// Names are short: compare ignoring case without allocating.
	if len(name) > len("system_name") {
		return NotStatic
	}
	for _, k := range staticOrderNames {
		if len(k) == len(name) && strings.EqualFold(k, name) {
			return staticByOrderName[k]
		}
	}
	return NotStatic
}
