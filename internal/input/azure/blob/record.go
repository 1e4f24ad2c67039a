package blob

import (
	"bytes"
	"encoding/json"
	"strings"
)

// The tags Wazuh's module adds to every Storage event, which its ruleset
// matches: rule 87803 (JSON, field azure_tag) and the azure-storage decoder
// with rule 87804 (text, prematch "^azure_tag: azure-storage. ").
const (
	azureTag      = "azure-storage"
	keyAzureTag   = "azure_tag"
	keyStorageTag = "azure_storage_tag"
)

// textEvent is what Wazuh sends for a line of a text blob:
// "azure_tag: azure-storage. azure_storage_tag: TAG. LINE" (the tag part
// only when there is a tag).
func textEvent(tag string, line []byte) string {
	var b strings.Builder
	b.Grow(len(line) + len(tag) + 48)
	b.WriteString("azure_tag: azure-storage.")
	if tag != "" {
		b.WriteString(" azure_storage_tag: ")
		b.WriteString(tag)
		b.WriteString(".")
	}
	b.WriteByte(' ')
	b.Write(line)
	return b.String()
}

// inlineEvent is what Wazuh sends for an object of a json_inline blob: the
// tags first, then the object's members as written
// ({"azure_tag": "azure-storage", "azure_storage_tag": "TAG", ...}). An
// object written over several lines is compacted onto one. Tag members the
// object already has are dropped rather than repeated.
func inlineEvent(tag string, obj []byte) string {
	obj = oneLine(obj)
	if hasTagKey(obj) {
		if ms, err := objectMembers(obj); err == nil {
			tags := []member{{keyAzureTag, quote(azureTag)}}
			if tag != "" {
				tags = append(tags, member{keyStorageTag, quote(tag)})
			}
			for _, m := range ms {
				if m.key != keyAzureTag && m.key != keyStorageTag {
					tags = append(tags, m)
				}
			}
			return joinMembers(tags)
		}
	}
	var b strings.Builder
	b.Grow(len(obj) + len(tag) + 64)
	b.WriteString(`{"azure_tag": "azure-storage"`)
	if tag != "" {
		b.WriteString(`, "azure_storage_tag": `)
		b.Write(quote(tag))
	}
	rest := obj[1:] // after '{'
	if len(bytes.TrimSpace(rest)) == 1 {
		// "{}": no member to separate from the tags.
		b.WriteByte('}')
	} else {
		b.WriteString(", ")
		b.Write(rest)
	}
	return b.String()
}

// fileEvent is what Wazuh sends for a record of a json_file blob: the record
// with azure_tag and azure_storage_tag set (added at the end, or replaced
// where they are), members separated as Python's json.dumps does. Values
// are kept as written, compacted when they span lines.
func fileEvent(tag string, rec []byte) (string, error) {
	ms, err := objectMembers(rec)
	if err != nil {
		return "", err
	}
	ms = setMember(ms, keyAzureTag, quote(azureTag))
	if tag != "" {
		ms = setMember(ms, keyStorageTag, quote(tag))
	}
	return joinMembers(ms), nil
}

type member struct {
	key string
	val []byte
}

// objectMembers splits a JSON object into its members, in order.
func objectMembers(obj []byte) ([]member, error) {
	dec := json.NewDecoder(bytes.NewReader(obj))
	if _, err := dec.Token(); err != nil {
		return nil, err
	}
	var ms []member
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			return nil, err
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, err
		}
		key, _ := k.(string)
		ms = append(ms, member{key: key, val: v})
	}
	return ms, nil
}

// setMember replaces the value of key, or adds the member at the end, as
// Python's dict assignment does.
func setMember(ms []member, key string, val []byte) []member {
	for i := range ms {
		if ms[i].key == key {
			ms[i].val = val
			return ms
		}
	}
	return append(ms, member{key, val})
}

func joinMembers(ms []member) string {
	var b strings.Builder
	b.WriteByte('{')
	for i, m := range ms {
		if i > 0 {
			b.WriteString(", ")
		}
		b.Write(quote(m.key))
		b.WriteString(": ")
		b.Write(oneLine(m.val))
	}
	b.WriteByte('}')
	return b.String()
}

// quote encodes s as a JSON string without escaping <, > and & (which
// json.Marshal would turn into \u003c and the like).
func quote(s string) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.Encode(s)
	return bytes.TrimSuffix(b.Bytes(), []byte{'\n'})
}

// oneLine returns JSON text on one line: as it is when it has no line
// break, else compacted (a raw line break is only ever insignificant space).
func oneLine(v []byte) []byte {
	if bytes.IndexByte(v, '\n') < 0 && bytes.IndexByte(v, '\r') < 0 {
		return v
	}
	var b bytes.Buffer
	if err := json.Compact(&b, v); err != nil {
		return v
	}
	return b.Bytes()
}

// compact returns the JSON text without insignificant spaces: the form
// event ids are derived from, so that a record reformatted by a rewrite
// keeps its id.
func compact(v []byte) []byte {
	var b bytes.Buffer
	if err := json.Compact(&b, v); err != nil {
		return v
	}
	return b.Bytes()
}

func hasTagKey(obj []byte) bool {
	return bytes.Contains(obj, []byte(`"azure_tag"`)) || bytes.Contains(obj, []byte(`"azure_storage_tag"`))
}
