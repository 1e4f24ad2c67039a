// Package azureid parses Azure Resource Manager resource ids
// ("/subscriptions/…/resourceGroups/…/providers/Microsoft.Compute/virtualMachines/vm1")
// into their parts, so alerts and Defender findings can be counted by
// subscription, resource group and resource type. The region is not part
// of an id; callers take it from the event.
package azureid

import (
	"errors"
	"fmt"
	"strings"
)

// ID is a parsed resource id.
type ID struct {
	Subscription  string
	ResourceGroup string
	// Provider is the resource provider namespace as written in the id
	// ("Microsoft.Compute"); empty for subscription and resource group ids.
	Provider string
	// Type is the full resource type: namespace and every type segment,
	// "Microsoft.Compute/virtualMachines" or, nested,
	// "Microsoft.Sql/servers/databases". Subscription and resource group
	// ids have the types "Microsoft.Resources/subscriptions" and
	// "Microsoft.Resources/resourceGroups".
	Type string
	// Name is the name of the resource itself (the last name in the id).
	Name string
	// Parents are the names of the enclosing resources, outermost first
	// ("sqlsrv1" for database "db1" of server "sqlsrv1").
	Parents []string
}

// ErrNotResourceID is wrapped by every error Parse returns.
var ErrNotResourceID = errors.New("not an Azure resource id")

// The types of ids that name no provider resource.
const (
	TypeSubscription  = "Microsoft.Resources/subscriptions"
	TypeResourceGroup = "Microsoft.Resources/resourceGroups"
)

// Parse splits an ARM resource id. Keywords (subscriptions,
// resourceGroups, providers) match in any case and trailing slashes are
// ignored; anything else that is not a resource id is an error.
func Parse(id string) (ID, error) {
	var out ID
	s := strings.TrimSpace(id)
	s = strings.TrimRight(s, "/")
	if !strings.HasPrefix(s, "/") {
		return out, fmt.Errorf("parse %q: %w: must start with /", clip(id), ErrNotResourceID)
	}
	segs := strings.Split(s[1:], "/")
	for _, seg := range segs {
		if seg == "" {
			return out, fmt.Errorf("parse %q: %w: empty segment", clip(id), ErrNotResourceID)
		}
	}
	i := 0
	if strings.EqualFold(segs[0], "subscriptions") {
		if len(segs) < 2 {
			return out, fmt.Errorf("parse %q: %w: subscription id missing", clip(id), ErrNotResourceID)
		}
		out.Subscription = segs[1]
		out.Type, out.Name = TypeSubscription, segs[1]
		i = 2
		if i < len(segs) && strings.EqualFold(segs[i], "resourceGroups") {
			if i+1 >= len(segs) {
				return out, fmt.Errorf("parse %q: %w: resource group name missing", clip(id), ErrNotResourceID)
			}
			out.ResourceGroup = segs[i+1]
			out.Type, out.Name = TypeResourceGroup, segs[i+1]
			out.Parents = []string{out.Subscription}
			i += 2
		}
		if i == len(segs) {
			if out.ResourceGroup == "" {
				out.Parents = nil
			}
			return out, nil
		}
	}
	if !strings.EqualFold(segs[i], "providers") {
		return out, fmt.Errorf("parse %q: %w: want providers at segment %d, got %q", clip(id), ErrNotResourceID, i+1, clip(segs[i]))
	}
	// From here on: providers/{ns}/{type}/{name}[/{type}/{name}…], where an
	// extension resource may open another providers/{ns} section
	// ("…/virtualMachines/vm1/providers/Microsoft.Security/assessments/x").
	out.Parents = nil
	var types, names []string
	for i < len(segs) {
		if strings.EqualFold(segs[i], "providers") {
			if i+2 >= len(segs) {
				return out, fmt.Errorf("parse %q: %w: provider namespace and resource type missing", clip(id), ErrNotResourceID)
			}
			// A new section starts: the resources named so far enclose
			// the one that follows.
			out.Provider = segs[i+1]
			types = []string{segs[i+1]}
			i += 2
		}
		if i+1 >= len(segs) {
			return out, fmt.Errorf("parse %q: %w: resource type %q has no name", clip(id), ErrNotResourceID, clip(segs[i]))
		}
		types = append(types, segs[i])
		names = append(names, segs[i+1])
		i += 2
	}
	if len(types) < 2 {
		return out, fmt.Errorf("parse %q: %w: no resource type and name", clip(id), ErrNotResourceID)
	}
	out.Type = strings.Join(types, "/")
	out.Name = names[len(names)-1]
	out.Parents = names[:len(names)-1]
	if len(out.Parents) == 0 {
		out.Parents = nil
	}
	return out, nil
}

// clip keeps error messages short when the input is huge or hostile.
func clip(s string) string {
	if len(s) > 100 {
		return s[:100] + "…"
	}
	return s
}
