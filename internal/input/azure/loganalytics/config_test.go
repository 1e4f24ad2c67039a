package loganalytics

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/threatlockdown/tld/internal/config"
)

func TestFromConfigCollectsWithTheCredentialsFile(t *testing.T) {
	f := newFixture(t)
	f.ws.Table("SecurityAlert", heartbeatColumns...).AddSynthetic(25, time.Now().Add(-time.Hour), time.Second, 0)
	auth := filepath.Join(t.TempDir(), "log_analytics_credentials")
	if err := os.WriteFile(auth, []byte("application_id = "+appID+"\napplication_key = "+secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	az := config.AzureLogs{
		Cloud: config.AzurePublic, AuthorityHost: f.s.URL(), LogAnalyticsEndpoint: f.s.URL(), CAFile: f.s.CAFile(),
		Timeout: 30 * time.Second,
	}
	api := config.AzureAPI{AuthPath: auth, TenantDomain: domain, Requests: []config.AzureRequest{{
		Pos: config.Pos{File: "ossec.conf", Line: 12}, Tag: "azurefindings", Query: "SecurityAlert", Workspace: workspace, TimeOffset: 24 * time.Hour,
	}}}
	cfg, err := FromConfig(az, api, f.log)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Scope != DefaultScope || cfg.Requests[0].Timeout != 30*time.Second || cfg.Requests[0].Pos != "ossec.conf:12" {
		t.Errorf("config %+v", cfg)
	}
	cfg.Lag = -1
	em := newEmitter(t, false)
	if err := f.collect(cfg, em); err != nil {
		t.Fatal(err)
	}
	expectOnce(t, em, 25)
}

func TestNewReportsEveryProblem(t *testing.T) {
	_, err := New(Config{Endpoint: "ftp://x", Requests: []Request{{Pos: "ossec.conf:3"}, {Query: "T", Pos: "ossec.conf:9", TimeOffset: -time.Hour},
		{Query: "T", Workspace: "W", Pos: "ossec.conf:12"}, {Query: "T", Workspace: "w", Pos: "ossec.conf:15"}}})
	if err == nil {
		t.Fatal("accepted")
	}
	for _, want := range []string{"not an http or https URL", "no credential", "ossec.conf:3: request has no query", "ossec.conf:3: request has no workspace", "ossec.conf:9: request has a negative",
		"ossec.conf:15: request repeats the query and workspace of the request at ossec.conf:12"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%q missing from %v", want, err)
		}
	}
}

func TestSampleConfigIsValid(t *testing.T) {
	sample, err := os.ReadFile("sample.conf")
	if err != nil {
		t.Fatal(err)
	}
	data := "<ossec_config>\n" + string(sample) + "\n</ossec_config>\n"
	cfg, warns, err := config.Parse(filepath.Join(t.TempDir(), "ossec.conf"), []byte(data))
	if err != nil || len(warns) > 0 {
		t.Fatalf("sample.conf: %v %v", err, warns)
	}
	if len(cfg.AzureLogs) != 1 || len(cfg.AzureLogs[0].LogAnalytics) != 1 {
		t.Fatalf("parsed %+v", cfg.AzureLogs)
	}
	reqs := cfg.AzureLogs[0].LogAnalytics[0].Requests
	if len(reqs) != 2 || reqs[1].Timeout != 300*time.Second || reqs[0].Tag != "azurefindings" {
		t.Errorf("requests %+v", reqs)
	}
}
