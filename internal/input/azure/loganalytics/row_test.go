package loganalytics

import (
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/threatlockdown/tld/internal/event"
	"github.com/threatlockdown/tld/internal/input/azure/azuretest"
)

func TestRowBecomesTheEventWazuhSends(t *testing.T) {
	gen := time.Date(2024, 5, 1, 10, 0, 0, 500_000_000, time.UTC)
	cols := []azuretest.Column{
		{Name: "TimeGenerated", Type: "datetime"}, {Name: "Computer", Type: "string"},
		{Name: "EventID", Type: "int"}, {Name: "Duration", Type: "real"}, {Name: "Success", Type: "bool"},
		{Name: "Properties", Type: "dynamic"}, {Name: "Message", Type: "string"}, {Name: "Missing", Type: "string"},
		{Name: "Type", Type: "string"},
	}
	values := []any{gen, "vm-1", 4625, 1.5, false,
		map[string]any{"ip": "10.0.0.1", "tags": []string{"a", "b"}}, `quote " and \ and é`, nil, "SigninLogs"}
	want := `{"TimeGenerated":"2024-05-01T10:00:00.5Z","Computer":"vm-1","EventID":4625,"Duration":1.5,"Success":false,` +
		`"Properties":{"ip":"10.0.0.1","tags":["a","b"]},"Message":"quote \" and \\ and é","Missing":null,"Type":"SigninLogs",` +
		`"azure_tag":"azure-log-analytics"`

	tests := []struct {
		name, tag, wantLog string
	}{
		{"with a tag, log_analytics_tag follows azure_tag", "azure-signin", want + `,"log_analytics_tag":"azure-signin"}`},
		{"without a tag there is no log_analytics_tag, as in Wazuh", "", want + `}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			// TimeGenerated long before ingestion: widen the lateness.
			f.ws.Table("SigninLogs", cols...).Add(time.Now().Add(-time.Minute), values...)
			req := newReq("SigninLogs")
			req.Tag = tt.tag
			cfg := f.config(req)
			cfg.MaxLateness = 10 * 365 * 24 * time.Hour
			em := newEmitter(t, true)
			if err := f.collect(cfg, em); err != nil {
				t.Fatal(err)
			}
			evs := em.all()
			if len(evs) != 1 {
				t.Fatalf("%d events", len(evs))
			}
			ev := evs[0]
			if ev.Log != tt.wantLog {
				t.Errorf("Log =\n%s\nwant\n%s", ev.Log, tt.wantLog)
			}
			if ev.Location != "Azure" || ev.Format != event.FormatJSON || !ev.Time.Equal(gen) {
				t.Errorf("event %+v: want location Azure, format json, time %v", ev, gen)
			}
			if !regexp.MustCompile(`^[0-9a-f]{32}$`).MatchString(ev.ID) {
				t.Errorf("id %q", ev.ID)
			}
		})
	}
}

func TestReplayGivesTheSameEventID(t *testing.T) {
	f := newFixture(t)
	f.ws.Table("Heartbeat", heartbeatColumns...).AddSynthetic(20, time.Now().Add(-time.Hour), time.Second, 0)
	em := newEmitter(t, true)
	if err := f.collect(f.config(newReq("Heartbeat")), em); err != nil {
		t.Fatal(err)
	}
	// A lost state: the rows are read again, with the ids outputs have seen.
	f.dir = t.TempDir()
	em2 := newEmitter(t, true)
	if err := f.collect(f.config(newReq("Heartbeat")), em2); err != nil {
		t.Fatal(err)
	}
	a, b := em.all(), em2.all()
	if len(a) != 20 || len(b) != 20 {
		t.Fatalf("%d and %d events", len(a), len(b))
	}
	for i := range a {
		if a[i].ID != b[i].ID || a[i].Log != b[i].Log {
			t.Errorf("event %d differs on replay: %s %s", i, a[i].ID, b[i].ID)
		}
	}
}

// walkthroughFixture is testdata/walkthrough.json: tables of rows as
// Defender for Cloud exports them to a workspace.
type walkthroughFixture map[string]struct {
	Columns []azuretest.Column `json:"columns"`
	Rows    []map[string]any   `json:"rows"`
}

func TestWalkthroughRowsCarryTheFieldsItsRulesUse(t *testing.T) {
	data, err := os.ReadFile("testdata/walkthrough.json")
	if err != nil {
		t.Fatal(err)
	}
	var fx walkthroughFixture
	if err := json.Unmarshal(data, &fx); err != nil {
		t.Fatal(err)
	}
	f := newFixture(t)
	now := time.Now()
	for table, spec := range fx {
		tbl := f.ws.Table(table, spec.Columns...)
		for i, rec := range spec.Rows {
			// Move the recorded times to the last hour, keeping the row's
			// own times apart as recorded.
			for _, c := range spec.Columns {
				if s, ok := rec[c.Name].(string); ok && c.Type == "datetime" {
					ts, err := time.Parse(time.RFC3339Nano, s)
					if err != nil {
						t.Fatal(err)
					}
					rec[c.Name] = ts.Add(now.Sub(time.Date(2024, 5, 14, 11, 0, 0, 0, time.UTC)))
				}
			}
			tbl.AddRecord(now.Add(-time.Duration(10-i)*time.Minute), rec)
		}
	}
	// The walkthrough's configuration: two requests, tag azurefindings.
	reqs := []Request{newReq("SecurityRecommendation"), newReq("SecurityAlert")}
	for i := range reqs {
		reqs[i].Tag = "azurefindings"
	}
	em := newEmitter(t, true)
	if err := f.collect(f.config(reqs...), em); err != nil {
		t.Fatal(err)
	}
	var recs, alerts []map[string]any
	for _, ev := range em.all() {
		var m map[string]any
		if err := json.Unmarshal([]byte(ev.Log), &m); err != nil {
			t.Fatalf("event is not JSON: %v\n%s", err, ev.Log)
		}
		if m["azure_tag"] != "azure-log-analytics" || m["log_analytics_tag"] != "azurefindings" {
			t.Errorf("tags missing: %s", ev.Log)
		}
		if _, ok := m[ingestColumn]; ok {
			t.Errorf("%s leaked into the event", ingestColumn)
		}
		switch m["Type"] {
		case "SecurityRecommendation":
			recs = append(recs, m)
		case "SecurityAlert":
			alerts = append(alerts, m)
		default:
			t.Errorf("event without a known Type: %s", ev.Log)
		}
	}
	if len(recs) != 1 || len(alerts) != 2 {
		t.Fatalf("%d recommendations and %d alerts, want 1 and 2", len(recs), len(alerts))
	}
	// Rule 100200: Type SecurityRecommendation, description $(RecommendationName).
	if recs[0]["RecommendationName"] != "Machines should have a vulnerability assessment solution" {
		t.Errorf("RecommendationName = %v", recs[0]["RecommendationName"])
	}
	if props, ok := recs[0]["Properties"].(map[string]any); !ok || props["status"] == nil {
		t.Errorf("dynamic Properties not decoded into an object: %#v", recs[0]["Properties"])
	}
	// Rules 100201-100205: Type SecurityAlert, ResourceId by provider,
	// description $(DisplayName).
	providers := map[string]bool{}
	for _, a := range alerts {
		rid, _ := a["ResourceId"].(string)
		for _, p := range []string{"Microsoft.Compute", "microsoft.keyvault"} {
			if strings.Contains(rid, p) {
				providers[p] = true
			}
		}
		if d, _ := a["DisplayName"].(string); !strings.HasPrefix(d, "[SAMPLE ALERT]") {
			t.Errorf("DisplayName = %q", d)
		}
		if _, isString := a["ExtendedProperties"].(string); !isString {
			t.Errorf("ExtendedProperties, a string column, was changed: %#v", a["ExtendedProperties"])
		}
	}
	if len(providers) != 2 {
		t.Errorf("ResourceIds matched %v, want Microsoft.Compute and microsoft.keyvault", providers)
	}
}

func TestBuildQueryAppendsTheIngestionWindow(t *testing.T) {
	lo := time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)
	hi := lo.Add(90 * time.Minute).Add(123456700 * time.Nanosecond)
	got := buildQuery("SecurityAlert | where AlertSeverity == 'High';  ", lo, hi, 500000)
	want := "SecurityAlert | where AlertSeverity == 'High'\n" +
		"| where ingestion_time() >= datetime(2024-05-01T10:00:00.0000000Z) and ingestion_time() < datetime(2024-05-01T11:30:00.1234567Z)\n" +
		"| extend TldIngestionTime = ingestion_time()\n" +
		"| top 500000 by TldIngestionTime asc"
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}
