package azureid

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	const sub = "6f1c2e4a-93b7-4d0e-8a51-2c7d9e0f4b18"
	tests := []struct {
		name string
		in   string
		want ID
	}{
		{"a virtual machine id splits into all its parts",
			"/subscriptions/" + sub + "/resourceGroups/prod-rg/providers/Microsoft.Compute/virtualMachines/web-vm-01",
			ID{Subscription: sub, ResourceGroup: "prod-rg", Provider: "Microsoft.Compute", Type: "Microsoft.Compute/virtualMachines", Name: "web-vm-01"}},
		{"a nested database names its server as parent",
			"/subscriptions/" + sub + "/resourceGroups/data/providers/Microsoft.Sql/servers/sqlsrv1/databases/db1",
			ID{Subscription: sub, ResourceGroup: "data", Provider: "Microsoft.Sql", Type: "Microsoft.Sql/servers/databases", Name: "db1", Parents: []string{"sqlsrv1"}}},
		{"keywords match in lower case",
			"/subscriptions/" + sub + "/resourcegroups/prod-rg/providers/microsoft.keyvault/vaults/kv",
			ID{Subscription: sub, ResourceGroup: "prod-rg", Provider: "microsoft.keyvault", Type: "microsoft.keyvault/vaults", Name: "kv"}},
		{"keywords match in upper case",
			"/SUBSCRIPTIONS/" + sub + "/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.WEB/SITES/API",
			ID{Subscription: sub, ResourceGroup: "RG", Provider: "MICROSOFT.WEB", Type: "MICROSOFT.WEB/SITES", Name: "API"}},
		{"a subscription id is a subscription",
			"/subscriptions/" + sub,
			ID{Subscription: sub, Type: TypeSubscription, Name: sub}},
		{"a resource group id is a resource group",
			"/subscriptions/" + sub + "/resourceGroups/prod-rg",
			ID{Subscription: sub, ResourceGroup: "prod-rg", Type: TypeResourceGroup, Name: "prod-rg", Parents: []string{sub}}},
		{"trailing slashes are ignored",
			"/subscriptions/" + sub + "/resourceGroups/prod-rg/providers/Microsoft.Web/sites/api//",
			ID{Subscription: sub, ResourceGroup: "prod-rg", Provider: "Microsoft.Web", Type: "Microsoft.Web/sites", Name: "api"}},
		{"a subscription-level provider resource has no resource group",
			"/subscriptions/" + sub + "/providers/Microsoft.Security/pricings/VirtualMachines",
			ID{Subscription: sub, Provider: "Microsoft.Security", Type: "Microsoft.Security/pricings", Name: "VirtualMachines"}},
		{"an extension resource takes the type of its own provider",
			"/subscriptions/" + sub + "/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1/providers/Microsoft.Security/assessments/abc",
			ID{Subscription: sub, ResourceGroup: "rg", Provider: "Microsoft.Security", Type: "Microsoft.Security/assessments", Name: "abc", Parents: []string{"vm1"}}},
		{"a tenant-level id has no subscription",
			"/providers/Microsoft.Management/managementGroups/root",
			ID{Provider: "Microsoft.Management", Type: "Microsoft.Management/managementGroups", Name: "root"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(tt.in)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.in, err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Parse(%q)\n got %+v\nwant %+v", tt.in, got, tt.want)
			}
		})
	}
}

func TestParseRejectsGarbage(t *testing.T) {
	for _, tt := range []struct{ name, in string }{
		{"an empty string is refused", ""},
		{"a bare slash is refused", "/"},
		{"a relative path is refused", "subscriptions/x"},
		{"free text is refused", "hello world"},
		{"a missing subscription id is refused", "/subscriptions"},
		{"a missing resource group name is refused", "/subscriptions/x/resourceGroups"},
		{"an unknown keyword is refused", "/subscriptions/x/foo/bar"},
		{"a provider without a type is refused", "/subscriptions/x/resourceGroups/rg/providers/Microsoft.Compute"},
		{"a type without a name is refused", "/subscriptions/x/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines"},
		{"an empty inner segment is refused", "/subscriptions//resourceGroups/rg"},
		{"a url is refused", "https://portal.azure.com/#blade"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(tt.in)
			if err == nil {
				t.Fatalf("Parse(%q) = %+v, want an error", tt.in, got)
			}
			if !errors.Is(err, ErrNotResourceID) {
				t.Errorf("Parse(%q) error %v does not wrap ErrNotResourceID", tt.in, err)
			}
		})
	}
}

func TestParseErrorsStayShortForHugeInput(t *testing.T) {
	_, err := Parse("/" + strings.Repeat("x", 100000))
	if err == nil || len(err.Error()) > 400 {
		t.Fatalf("want a short error, got %d bytes", len(err.Error()))
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"/subscriptions/s/resourceGroups/rg/providers/Microsoft.Sql/servers/a/databases/b",
		"/subscriptions/s", "/subscriptions/s/resourcegroups/rg/", "/providers/A/b/c", "", "//", "/x",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		id, err := Parse(s)
		if err != nil {
			return
		}
		if id.Type == "" || id.Name == "" {
			t.Fatalf("Parse(%q) = %+v: accepted without type or name", s, id)
		}
		if !strings.Contains(s, id.Name) {
			t.Fatalf("Parse(%q): name %q is not in the input", s, id.Name)
		}
	})
}

func TestCanonicalType(t *testing.T) {
	for _, tt := range []struct{ name, in, want string }{
		{"a lower-case known type gets its documented spelling", "microsoft.keyvault/vaults", "Microsoft.KeyVault/vaults"},
		{"a known type already spelt right is kept", "Microsoft.Compute/virtualMachines", "Microsoft.Compute/virtualMachines"},
		{"an unknown type is kept as given", "Contoso.Widgets/gizmos", "Contoso.Widgets/gizmos"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := CanonicalType(tt.in); got != tt.want {
				t.Errorf("CanonicalType(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}
