package blob

import "strings"

// nameFilter is a <blobs> value: which blob names a container block reads.
//
// Wazuh's module strips every '"' and '*' from the value and reads the blobs
// whose full name contains what is left (a Python `in` test), so ".json",
// "*.json" and "json" all read "a/b/PT1H.json" and also "x.json.bak", and
// "*" or an empty value reads every blob. We keep exactly that for values
// whose '*' are only at the ends, and give an inner '*' the meaning users
// expect instead of Wazuh's (which drops it: "PT1H*.json" would look for
// "PT1H.json"): the name contains the parts in order, with anything between
// them. Matching is case-sensitive, as blob names are.
type nameFilter struct {
	parts []string // in order; empty means every name
}

func newNameFilter(v string) nameFilter {
	v = strings.ReplaceAll(v, `"`, "")
	var parts []string
	for _, p := range strings.Split(v, "*") {
		if p != "" {
			parts = append(parts, p)
		}
	}
	return nameFilter{parts: parts}
}

// all reports whether the filter reads every blob.
func (f nameFilter) all() bool { return len(f.parts) == 0 }

func (f nameFilter) match(name string) bool {
	for _, p := range f.parts {
		i := strings.Index(name, p)
		if i < 0 {
			return false
		}
		name = name[i+len(p):]
	}
	return true
}
