package azuretest

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"
)

func TestParseQuery(t *testing.T) {
	tests := []struct {
		name, q string
		ok      bool
	}{
		{"a bare table", "SecurityAlert", true},
		{"the collector's window", "SecurityAlert\n| where ingestion_time() >= datetime(2024-05-01T10:00:00.0000000Z) and ingestion_time() < datetime(2024-05-01T11:00:00.0000000Z)\n" +
			"| extend TldIngestionTime = ingestion_time()\n| top 500000 by TldIngestionTime asc", true},
		{"Wazuh's module query", "AzureActivity | order by TimeGenerated asc | where TimeGenerated >= datetime(2024-05-01T10:00:00.000000Z) ", true},
		{"between", "T | where ingestion_time() between (datetime(2024-05-01) .. datetime(2024-05-02)) | take 10", true},
		{"an aggregation it cannot run", "SecurityAlert | summarize count() by AlertName", false},
		{"a filter on another column", "SecurityAlert | where AlertSeverity == 'High'", false},
		{"an unknown extended column", "T | top 5 by Foo asc", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseQuery(tt.q)
			if (err == nil) != tt.ok {
				t.Errorf("parseQuery(%q) = %v, want ok %v", tt.q, err, tt.ok)
			}
		})
	}
}

func TestParseTimespan(t *testing.T) {
	now := time.Date(2024, 5, 2, 0, 0, 0, 0, time.UTC)
	start := time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC).UnixNano()
	for _, s := range []string{"2024-05-01T00:00:00Z/2024-05-02T00:00:00Z", "2024-05-01T00:00:00.0000000Z/P1D", "P1D/2024-05-02T00:00:00Z", "P1D", "PT24H"} {
		from, to, err := parseTimespan(s, now)
		if err != nil || from != start || to != now.UnixNano() {
			t.Errorf("%s: got %v %v %v", s, time.Unix(0, from).UTC(), time.Unix(0, to).UTC(), err)
		}
	}
	if _, _, err := parseTimespan("yesterday", now); err == nil {
		t.Error("bad timespan accepted")
	}
}

func TestAppendTimeWritesAsTheService(t *testing.T) {
	for in, want := range map[time.Time]string{
		time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC):           "2024-05-01T10:00:00Z",
		time.Date(2024, 5, 1, 10, 0, 0, 500_000_000, time.UTC): "2024-05-01T10:00:00.5Z",
		time.Date(2024, 5, 1, 10, 0, 0, 123_456_789, time.UTC): "2024-05-01T10:00:00.1234567Z",
	} {
		if got := string(appendTime(nil, in.UnixNano())); got != want {
			t.Errorf("appendTime(%v) = %s, want %s", in, got, want)
		}
	}
}

// client trusts the double through its CA file, as the code under test does.
func client(t *testing.T, s *Server) *http.Client {
	pemBytes, err := os.ReadFile(s.CAFile())
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pemBytes)
	return &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
}

func TestTokenEndpointAnswersAsEntraID(t *testing.T) {
	s := NewServer(t)
	s.AddTenant("72f988bf-86f1-41af-91ab-2d7cd011db47", "contoso.onmicrosoft.com")
	s.AddApp("72f988bf-86f1-41af-91ab-2d7cd011db47", "app", "secret")
	c := client(t, s)
	tests := []struct {
		name, tenant, app, secret string
		status                    int
		code                      int
	}{
		{"a good secret", "contoso.onmicrosoft.com", "app", "secret", 200, 0},
		{"a wrong secret", "contoso.onmicrosoft.com", "app", "nope", 401, 7000215},
		{"an unknown app", "contoso.onmicrosoft.com", "other", "secret", 400, 700016},
		{"an unknown tenant", "fabrikam.onmicrosoft.com", "app", "secret", 400, 90002},
		{"a tenant that is no domain", "fabrikam", "app", "secret", 400, 900023},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := c.PostForm(s.URL()+"/"+tt.tenant+"/oauth2/v2.0/token", url.Values{
				"client_id": {tt.app}, "client_secret": {tt.secret}, "grant_type": {"client_credentials"},
				"scope": {"https://api.loganalytics.io/.default"},
			})
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			var m struct {
				AccessToken string `json:"access_token"`
				ExpiresIn   int    `json:"expires_in"`
				Desc        string `json:"error_description"`
				Codes       []int  `json:"error_codes"`
			}
			json.Unmarshal(body, &m)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tt.status, body)
			}
			if tt.code == 0 {
				if m.AccessToken == "" || m.ExpiresIn != 3600 {
					t.Errorf("token response %s", body)
				}
				return
			}
			if len(m.Codes) != 1 || m.Codes[0] != tt.code || !strings.HasPrefix(m.Desc, "AADSTS") || strings.Contains(string(body), "secret\"") {
				t.Errorf("error response %s", body)
			}
		})
	}
}
