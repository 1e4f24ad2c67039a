package analysis

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/threatlockdown/tld/internal/event"
	"github.com/threatlockdown/tld/internal/ruleset"
	builtin "github.com/threatlockdown/tld/ruleset"
)

var fixedNow = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

func builtinSource() ruleset.Source {
	return ruleset.Source{Name: "built-in", FS: builtin.FS, DecoderDirs: []string{"decoders"}, RuleDirs: []string{"rules"}}
}

// newEngine loads the built-in ruleset plus extra rule and decoder files
// given as name → content, loaded after it as a user's files are.
func newEngine(t testing.TB, userRules, userDecoders map[string]string) *Engine {
	t.Helper()
	srcs := []ruleset.Source{builtinSource()}
	if len(userRules)+len(userDecoders) > 0 {
		m := fstest.MapFS{}
		user := ruleset.Source{Name: "user", FS: m}
		for name, body := range userDecoders {
			m["decoders/"+name] = &fstest.MapFile{Data: []byte(body)}
			user.DecoderDirs = []string{"decoders"}
		}
		for name, body := range userRules {
			m["rules/"+name] = &fstest.MapFile{Data: []byte(body)}
			user.RuleDirs = []string{"rules"}
		}
		srcs = append(srcs, user)
	}
	set, err := ruleset.Load(srcs...)
	if err != nil {
		t.Fatalf("load ruleset: %v", err)
	}
	e, _ := New(set, Options{Manager: "test-manager", LogAlertLevel: 3, Now: func() time.Time { return fixedNow }})
	return e
}

func readLines(t testing.TB, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 1<<20), 1<<20)
	for sc.Scan() {
		if strings.TrimSpace(sc.Text()) != "" {
			out = append(out, sc.Text())
		}
	}
	return out
}

func TestWalkthroughRulesFireOnQuickstartRows(t *testing.T) {
	posture, err := os.ReadFile(filepath.Join("..", "..", "etc", "quickstart", "rules", "azure_posture.xml"))
	if err != nil {
		t.Fatal(err)
	}
	e := newEngine(t, map[string]string{"azure_posture.xml": string(posture)}, nil)
	lines := readLines(t, filepath.Join("..", "..", "etc", "quickstart", "events", "log-analytics-defender.json"))

	type want struct {
		rule   string
		mitre  []string
		tactic []string
	}
	byResource := map[string]want{
		"virtualMachines/web-vm-01":  {"100201", []string{"T1651"}, []string{"Execution"}},
		"vaults/prod-secrets-kv":     {"100202", []string{"T1098.004"}, []string{"Persistence", "Privilege Escalation"}},
		"sites/orders-api":           {"100203", []string{"T1648"}, []string{"Execution"}},
		"service/public-apim":        {"100204", []string{"T1059.009"}, []string{"Execution"}},
		"managedClusters/prod-aks":   {"100205", []string{"T1609"}, []string{"Execution"}},
		"storageAccounts/prodlogs01": {"87833", []string{"T1078", "T1537"}, nil},
	}
	seen := map[string]int{}
	for i, line := range lines {
		res := e.Analyze(event.Event{ID: "e", Location: "quickstart", Log: line, Format: event.FormatJSON})
		if res.Alert == nil {
			t.Fatalf("row %d raised no alert: %s", i+1, line[:120])
		}
		var row map[string]any
		if err := json.Unmarshal([]byte(line), &row); err != nil {
			t.Fatal(err)
		}
		r := res.Alert.Rule
		seen[r.ID]++
		switch row["Type"] {
		case "SecurityRecommendation":
			if r.ID != "100200" {
				t.Errorf("recommendation row %d fired %s, want the walkthrough's 100200", i+1, r.ID)
			}
			if want := "Azure Security Posture: " + row["RecommendationName"].(string) + "."; r.Description != want {
				t.Errorf("description %q, want %q", r.Description, want)
			}
		case "SecurityAlert":
			res := row["ResourceId"].(string)
			var w want
			found := false
			for suffix, ww := range byResource {
				if strings.HasSuffix(res, suffix) {
					w, found = ww, true
				}
			}
			if !found {
				t.Fatalf("test table lacks resource %s", res)
			}
			if r.ID != w.rule {
				t.Errorf("alert on %s fired rule %s, want %s", res, r.ID, w.rule)
				continue
			}
			if r.Mitre == nil || strings.Join(r.Mitre.ID, ",") != strings.Join(w.mitre, ",") {
				t.Errorf("rule %s mitre = %+v, want ids %v", r.ID, r.Mitre, w.mitre)
				continue
			}
			for _, ta := range w.tactic {
				if !contains(r.Mitre.Tactic, ta) {
					t.Errorf("rule %s tactics %v lack %q", r.ID, r.Mitre.Tactic, ta)
				}
			}
			if len(r.Mitre.Technique) != len(r.Mitre.ID) {
				t.Errorf("rule %s: technique names %v do not match ids %v", r.ID, r.Mitre.Technique, r.Mitre.ID)
			}
		case "AzureActivity":
			// A role assignment and a deletion: the built-in activity rules.
			if r.ID != "87840" && r.ID != "87844" {
				t.Errorf("activity row fired %s, want 87840 or 87844", r.ID)
			}
		}
		if !contains(r.Groups, "azure") {
			t.Errorf("rule %s groups %v lack azure", r.ID, r.Groups)
		}
	}
	for _, id := range []string{"100200", "100201", "100202", "100203", "100204", "100205"} {
		if seen[id] == 0 {
			t.Errorf("rule %s never fired", id)
		}
	}
}

func TestBuiltinDefenderRulesDecideWhenNoUserRuleMatches(t *testing.T) {
	e := newEngine(t, nil, nil)
	cases := []struct {
		name, row, rule string
		level           int
	}{
		{"an unhealthy high-severity recommendation is a level 10 finding",
			`{"Type":"SecurityRecommendation","RecommendationState":"Unhealthy","RecommendationSeverity":"High","RecommendationDisplayName":"MFA should be enabled","azure_tag":"azure-log-analytics"}`, "87824", 10},
		{"a healthy recommendation is recorded at level 3",
			`{"Type":"SecurityRecommendation","RecommendationState":"Healthy","RecommendationSeverity":"High","RecommendationDisplayName":"MFA should be enabled","azure_tag":"azure-log-analytics"}`, "87821", 3},
		{"a recommendation in an unknown state falls back to the Log Analytics rule",
			`{"Type":"SecurityRecommendation","RecommendationState":"Removed","azure_tag":"azure-log-analytics"}`, "87801", 3},
		{"a high-severity Defender alert is level 12",
			`{"Type":"SecurityAlert","AlertSeverity":"High","DisplayName":"Crypto miner","Techniques":"T1496","azure_tag":"azure-log-analytics"}`, "87834", 12},
		{"an activity row gets its operation in the description",
			`{"Type":"AzureActivity","OperationName":"Microsoft.Compute/virtualMachines/delete","azure_tag":"azure-log-analytics"}`, "87811", 3},
		{"a Graph record is an Entra ID event",
			`{"activityDisplayName":"Add user","azure_tag":"azure-ad-graph"}`, "87802", 3},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := e.Analyze(event.Event{Log: c.row, Format: event.FormatJSON, Location: "Azure"})
			if res.Rule == nil || res.Alert == nil {
				t.Fatalf("no alert")
			}
			if got := res.Alert.Rule.ID; got != c.rule || res.Alert.Rule.Level != c.level {
				t.Errorf("rule %s level %d, want %s level %d", got, res.Alert.Rule.Level, c.rule, c.level)
			}
		})
	}
}

func TestDefenderAlertMitreComesFromTheRow(t *testing.T) {
	e := newEngine(t, nil, nil)
	res := e.Analyze(event.Event{Format: event.FormatJSON, Log: `{"Type":"SecurityAlert","AlertSeverity":"Medium","DisplayName":"x","Techniques":"T1078, t1537, T1078, T9999","azure_tag":"azure-log-analytics"}`})
	m := res.Alert.Rule.Mitre
	if m == nil || strings.Join(m.ID, ",") != "T1078,T1537,T9999" {
		t.Fatalf("mitre ids = %+v, want T1078,T1537,T9999 (deduplicated, unknown kept)", m)
	}
	if len(m.Technique) != 2 || !contains(m.Tactic, "Exfiltration") {
		t.Errorf("techniques %v tactics %v: want the two known techniques and their tactics", m.Technique, m.Tactic)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func TestBuiltinAzureActivityAndEntraRules(t *testing.T) {
	e := newEngine(t, nil, nil)
	activity := func(op, status string) string {
		return `{"Type":"AzureActivity","OperationName":"` + op + `","OperationNameValue":"` + strings.ToUpper(op) + `","ActivityStatusValue":"` + status + `","Caller":"admin@contoso.example","ResourceId":"/subscriptions/s/resourceGroups/rg/providers/x/y/z","azure_tag":"azure-log-analytics"}`
	}
	cases := []struct {
		name, row, rule, mitre string
	}{
		{"a role assignment is an IAM change", activity("Microsoft.Authorization/roleAssignments/write", "Success"), "87840", "T1098.003"},
		{"removing a diagnostic setting tampers with logging", activity("Microsoft.Insights/diagnosticSettings/delete", "Success"), "87841", "T1562.008"},
		{"deleting a policy assignment weakens defenses", activity("Microsoft.Authorization/policyAssignments/delete", "Success"), "87842", "T1562"},
		{"reading a Key Vault secret is secrets access", activity("Microsoft.KeyVault/vaults/secrets/read", "Success"), "87843", "T1555.006"},
		{"a resource deletion", activity("Microsoft.Compute/virtualMachines/delete", "Success"), "87844", "T1485"},
		{"a failed operation", activity("Microsoft.Compute/virtualMachines/write", "Failure"), "87845", ""},
		{"a started operation is plain activity", activity("Microsoft.Compute/virtualMachines/delete", "Start"), "87811", ""},
		{"a high-risk sign-in", `{"Type":"SigninLogs","RiskLevelDuringSignIn":"high","ResultType":"0","UserPrincipalName":"u@contoso.example","IPAddress":"203.0.113.9","azure_tag":"azure-log-analytics"}`, "87851", "T1078.004"},
		{"a failed sign-in", `{"Type":"SigninLogs","RiskLevelDuringSignIn":"none","ResultType":"50126","ResultDescription":"Invalid username or password","UserPrincipalName":"u@contoso.example","IPAddress":"203.0.113.9","azure_tag":"azure-log-analytics"}`, "87853", "T1110"},
		{"a role granted in Entra ID", `{"activityDisplayName":"Add member to role","result":"success","azure_tag":"azure-ad-graph","azure_aad_tag":"x"}`, "87860", "T1098.003"},
		{"credentials added to an application", `{"activityDisplayName":"Add service principal credentials","result":"success","azure_tag":"azure-ad-graph"}`, "87861", "T1098.001"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := e.Analyze(event.Event{Log: c.row, Format: event.FormatJSON, Location: "Azure"})
			if res.Alert == nil || res.Alert.Rule.ID != c.rule {
				got := "none"
				if res.Rule != nil {
					got = itoa(res.Rule.ID)
				}
				t.Fatalf("rule %s, want %s", got, c.rule)
			}
			if c.mitre != "" && (res.Alert.Rule.Mitre == nil || res.Alert.Rule.Mitre.ID[0] != c.mitre) {
				t.Errorf("mitre %+v, want %s", res.Alert.Rule.Mitre, c.mitre)
			}
		})
	}
}
