package cli

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/threatlockdown/tld/internal/input/azure/azuretest"
)

// TestWalkthroughAgainstTheAzureDouble runs the Azure CSPM walkthrough as a
// user would — its configuration block, its credentials file and its
// azure_posture.xml, only the placeholders filled in and the endpoints
// pointed at a local double of Entra ID and Log Analytics — and expects the
// walkthrough's alerts 100200 to 100205 from the rows the double serves.
func TestWalkthroughAgainstTheAzureDouble(t *testing.T) {
	const tenantID, tenantDomain, appID, secret = "a3d5c7e9-1b2f-4c6d-8e0a-9f8b7c6d5e4f", "contoso.onmicrosoft.com", "11111111-2222-3333-4444-555555555555", "s3cr3t~Value.Never.Logged"
	const workspace = "0c9b8a7d-6e5f-4a3b-2c1d-0e9f8a7b6c5d"
	srv := azuretest.NewServer(t)
	srv.AddTenant(tenantID, tenantDomain)
	srv.AddApp(tenantID, appID, secret)
	ws := srv.AddWorkspace(workspace, tenantID)

	// Serve the quickstart's Defender rows, as Log Analytics holds them.
	root := repoRoot(t)
	f, err := os.Open(filepath.Join(root, "etc", "quickstart", "events", "log-analytics-defender.json"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tables := map[string][]map[string]any{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 1<<20), 1<<20)
	for sc.Scan() {
		var row map[string]any
		if err := json.Unmarshal(sc.Bytes(), &row); err != nil {
			t.Fatal(err)
		}
		delete(row, "azure_tag")
		delete(row, "log_analytics_tag")
		tables[row["Type"].(string)] = append(tables[row["Type"].(string)], row)
	}
	ingested := time.Now().Add(-2 * time.Hour)
	for name, rows := range tables {
		var cols []azuretest.Column
		seen := map[string]bool{}
		for _, row := range rows {
			for k := range row {
				if !seen[k] {
					seen[k] = true
					typ := "string"
					if k == "TimeGenerated" || strings.HasSuffix(k, "Date") || strings.HasSuffix(k, "Time") {
						typ = "datetime"
					}
					cols = append(cols, azuretest.Column{Name: k, Type: typ})
				}
			}
		}
		tbl := ws.Table(name, cols...)
		for _, row := range rows {
			rec := map[string]any{}
			for _, c := range cols {
				v := row[c.Name]
				if c.Type == "datetime" {
					if s, ok := v.(string); ok {
						tt, _ := time.Parse(time.RFC3339, s)
						v = tt
					}
				}
				rec[c.Name] = v
			}
			rec["TimeGenerated"] = ingested.Add(-time.Minute)
			tbl.AddRecord(ingested, rec)
		}
	}

	dir := t.TempDir()
	creds := filepath.Join(dir, "log_analytics_credentials")
	writeFile(t, creds, "application_id = "+appID+"\napplication_key = "+secret+"\n")
	os.Chmod(creds, 0o600)
	posture, err := os.ReadFile(filepath.Join(root, "etc", "quickstart", "rules", "azure_posture.xml"))
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "etc", "rules", "azure_posture.xml"), string(posture))
	block := `<ossec_config>
  <wodle name="azure-logs">
    <disabled>no</disabled>
    <run_on_start>yes</run_on_start>
    <interval>5m</interval>
    <authority_host>` + srv.URL() + `</authority_host>
    <log_analytics_endpoint>` + srv.URL() + `</log_analytics_endpoint>
    <ca_file>` + srv.CAFile() + `</ca_file>

    <log_analytics>
        <auth_path>` + creds + `</auth_path>
        <tenantdomain>` + tenantDomain + `</tenantdomain>

        <request>
            <tag>azurefindings</tag>
            <query>SecurityRecommendation</query>
            <workspace>` + workspace + `</workspace>
            <time_offset>1d</time_offset>
        </request>

        <request>
            <tag>azurefindings</tag>
            <query>SecurityAlert</query>
            <workspace>` + workspace + `</workspace>
            <time_offset>1d</time_offset>
        </request>

    </log_analytics>
  </wodle>
</ossec_config>
`
	writeFile(t, filepath.Join(dir, "etc", "ossec.conf"), block)
	data := filepath.Join(dir, "var")
	code, stdout, stderr := runMain(t, "run", "-c", filepath.Join(dir, "etc", "ossec.conf"), "--data", data, "--once")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	if strings.Contains(stdout+stderr, secret) {
		t.Fatal("the application key appears in the output")
	}
	fired := map[string]int{}
	for _, a := range readAlerts(t, filepath.Join(data, "alerts", "alerts.json")) {
		fired[a.Rule.ID]++
		if len(a.Rule.Groups) == 0 || a.Rule.Groups[0] != "azure" {
			t.Errorf("rule %s groups %v", a.Rule.ID, a.Rule.Groups)
		}
	}
	for _, id := range []string{"100200", "100201", "100202", "100203", "100204", "100205"} {
		if fired[id] == 0 {
			t.Errorf("rule %s did not fire; fired: %v\nstdout:\n%s\nstderr:\n%s", id, fired, stdout, stderr)
		}
	}
	if fired["100200"] != 6 {
		t.Errorf("100200 fired %d times, want one per recommendation (6)", fired["100200"])
	}
}
