package azauth

import (
	"context"
	"errors"
	"fmt"
	"github.com/threatlockdown/tld/internal/syncbuf"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"

	"github.com/threatlockdown/tld/internal/config"
	"github.com/threatlockdown/tld/internal/input/azure/azuretest"
)

const (
	tenantID  = "72f988bf-86f1-41af-91ab-2d7cd011db47"
	domain    = "contoso.onmicrosoft.com"
	appID     = "0b8f3e2a-5a4c-4d7e-9f21-6c1e2d3b4a59"
	secret    = "Xy8Q~s3cr3t.Value-NeverLog-0123456789"
	workspace = "d6b4c1a0-1111-2222-3333-444455556666"
	laScope   = "https://api.loganalytics.io/.default"
)

type logBuffer struct{ syncbuf.Buffer }

func (l *logBuffer) count(level string) int {
	return strings.Count(l.String(), "level="+level)
}

func newLogger() (*slog.Logger, *logBuffer) {
	lb := &logBuffer{}
	return slog.New(slog.NewTextHandler(lb, &slog.HandlerOptions{Level: slog.LevelDebug})), lb
}

func newDouble(t *testing.T) *azuretest.Server {
	s := azuretest.NewServer(t)
	s.AddTenant(tenantID, domain)
	s.AddApp(tenantID, appID, secret)
	s.AddWorkspace(workspace, tenantID).Table("Heartbeat",
		azuretest.Column{Name: "TimeGenerated", Type: "datetime"}, azuretest.Column{Name: "Computer", Type: "string"})
	return s
}

func options(s *azuretest.Server, log *slog.Logger) Options {
	return Options{
		TenantDomain: domain, ApplicationID: appID, ApplicationKey: config.NewSecret(secret),
		AuthorityHost: s.URL(), CAFile: s.CAFile(), Logger: log,
		Retry: policy.RetryOptions{RetryDelay: 10 * time.Millisecond, MaxRetryDelay: 50 * time.Millisecond},
	}
}

func getToken(c *Credential, scope string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := c.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{scope}})
	return err
}

func TestFailuresHaveOneClearMessageLoggedOncePerStreak(t *testing.T) {
	tests := []struct {
		name  string
		setup func(s *azuretest.Server, o *Options)
		code  string
		want  string
	}{
		{"a wrong application key", func(s *azuretest.Server, o *Options) {
			o.ApplicationKey = config.NewSecret("Wrong~Key.0123456789abcdef")
		}, "AADSTS7000215", "invalid client secret"},
		{"an application id unknown to the tenant", func(s *azuretest.Server, o *Options) {
			o.ApplicationID = "11111111-2222-3333-4444-555555555555"
		}, "AADSTS700016", "was not found in tenant"},
		{"an unknown tenant", func(s *azuretest.Server, o *Options) {
			o.TenantDomain = "fabrikam.onmicrosoft.com"
		}, "AADSTS90002", "was not found: check tenantdomain"},
		{"a tenant that is not a domain or id", func(s *azuretest.Server, o *Options) {
			o.TenantDomain = "contoso"
		}, "AADSTS900023", "is not a valid tenant"},
		{"an expired client secret", func(s *azuretest.Server, o *Options) {
			s.ExpireSecret(tenantID, appID, secret)
		}, "AADSTS7000222", "has expired"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newDouble(t)
			log, logs := newLogger()
			o := options(s, log)
			tt.setup(s, &o)
			c, err := NewCredential(o)
			if err != nil {
				t.Fatal(err)
			}
			var msgs []string
			for range 4 {
				err := getToken(c, laScope)
				if err == nil {
					t.Fatal("GetToken succeeded")
				}
				var e *Error
				if !errors.As(err, &e) || e.Code != tt.code {
					t.Fatalf("error %v: want an *Error with code %s", err, tt.code)
				}
				msgs = append(msgs, Describe(err), err.Error(), fmt.Sprintf("%+v %#v %s", err, err, err))
				if !strings.Contains(Describe(err), tt.want) || strings.Contains(Describe(err), "\n") {
					t.Errorf("Describe = %q, want one line containing %q", Describe(err), tt.want)
				}
			}
			if n := logs.count("ERROR"); n != 1 {
				t.Errorf("%d error records for a streak of 4 failures, want 1:\n%s", n, logs)
			}
			if !strings.Contains(logs.String(), tt.code) {
				t.Errorf("log does not name %s:\n%s", tt.code, logs)
			}
			for _, m := range append(msgs, logs.String()) {
				if strings.Contains(m, secret) || strings.Contains(m, "Wrong~Key") {
					t.Fatalf("secret leaked: %s", m)
				}
			}
		})
	}
}

func TestStreakIsLoggedAgainAfterRecovery(t *testing.T) {
	s := newDouble(t)
	log, logs := newLogger()
	s.RemoveSecret(tenantID, appID, secret)
	c, err := NewCredential(options(s, log))
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if getToken(c, laScope) == nil {
			t.Fatal("GetToken succeeded with a removed secret")
		}
	}
	s.AddApp(tenantID, appID, secret) // the operator fixes the app
	if err := getToken(c, laScope); err != nil {
		t.Fatalf("after the fix: %v", err)
	}
	s.RemoveSecret(tenantID, appID, secret) // and it breaks again
	for range 3 {
		// Another scope: the LA token is still cached and would hide the failure.
		if getToken(c, "https://graph.microsoft.com/.default") == nil {
			t.Fatal("GetToken succeeded with a removed secret")
		}
	}
	if n := logs.count("ERROR"); n != 2 {
		t.Errorf("%d error records for two streaks, want 2:\n%s", n, logs)
	}
	if n := logs.count("INFO"); n != 1 || !strings.Contains(logs.String(), "works again") {
		t.Errorf("want one recovery record:\n%s", logs)
	}
}

// query sends n queries through a pipeline and returns their statuses.
func query(t *testing.T, p *Pipeline, s *azuretest.Server, n int, pause time.Duration) []int {
	t.Helper()
	var statuses []int
	for range n {
		req, err := p.NewRequest(context.Background(), http.MethodPost, s.URL()+"/v1/workspaces/"+workspace+"/query", 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if err := runtime.MarshalAsJSON(req, map[string]string{"query": "Heartbeat"}); err != nil {
			t.Fatal(err)
		}
		resp, err := p.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		statuses = append(statuses, resp.StatusCode)
		time.Sleep(pause)
	}
	return statuses
}

func newPipeline(t *testing.T, s *azuretest.Server) *Pipeline {
	t.Helper()
	c, err := NewCredential(options(s, nil))
	if err != nil {
		t.Fatal(err)
	}
	hc, err := NewHTTPClient(s.CAFile())
	if err != nil {
		t.Fatal(err)
	}
	return NewPipeline(PipelineOptions{Credential: c, Scope: laScope, HTTPClient: hc,
		Retry: policy.RetryOptions{RetryDelay: 10 * time.Millisecond}})
}

func allOK(statuses []int) bool {
	for _, st := range statuses {
		if st != http.StatusOK {
			return false
		}
	}
	return true
}

func TestTokenIsCachedAcrossRequests(t *testing.T) {
	s := newDouble(t)
	p := newPipeline(t, s)
	if st := query(t, p, s, 50, 0); !allOK(st) {
		t.Fatalf("statuses %v", st)
	}
	if n := s.Requests("token"); n != 1 {
		t.Errorf("%d token requests for 50 queries, want 1", n)
	}
	if n := s.Requests("instance"); n != 0 {
		t.Errorf("%d instance discovery requests: an overridden authority must not be sent to login.microsoft.com for validation", n)
	}
}

func TestExpiringTokenIsRenewed(t *testing.T) {
	s := newDouble(t)
	// One-second tokens: the client keeps each until it expires (a real
	// token, of an hour or more, is renewed in its last five minutes), and
	// one that reaches the API a moment too late is replaced on the 401.
	s.SetTokenLifetime(time.Second)
	p := newPipeline(t, s)
	start := time.Now()
	st := query(t, p, s, 25, 100*time.Millisecond) // about 2.5 s
	if !allOK(st) {
		t.Fatalf("statuses %v", st)
	}
	elapsed := time.Since(start)
	n := s.Requests("token")
	if maxTokens := 2*int(elapsed/time.Second) + 2; n < 2 || n > maxTokens {
		t.Errorf("%d token requests for 25 queries over %v with 1 s tokens, want 2..%d",
			n, elapsed.Round(time.Millisecond), maxTokens)
	}
}

func TestRevokedTokenIsReplacedOnce(t *testing.T) {
	s := newDouble(t)
	p := newPipeline(t, s)
	if st := query(t, p, s, 2, 0); !allOK(st) {
		t.Fatalf("statuses %v", st)
	}
	s.ExpireTokens()
	if st := query(t, p, s, 3, 0); !allOK(st) {
		t.Fatalf("statuses after revocation %v", st)
	}
	if n := s.Requests("token"); n != 2 {
		t.Errorf("%d token requests, want 2 (one renewal)", n)
	}
	var got []int
	for _, q := range s.Queries() {
		got = append(got, q.Status)
	}
	if fmt.Sprint(got) != "[200 200 401 200 200 200]" {
		t.Errorf("API saw statuses %v", got)
	}
}

func TestTLSTrust(t *testing.T) {
	t.Run("without the CA file the failure says to set ca_file", func(t *testing.T) {
		s := newDouble(t)
		o := options(s, nil)
		o.CAFile = ""
		o.Retry.MaxRetries = -1
		c, err := NewCredential(o)
		if err != nil {
			t.Fatal(err)
		}
		err = getToken(c, laScope)
		if err == nil || !strings.Contains(Describe(err), "<ca_file>") {
			t.Fatalf("err = %v, want a message about <ca_file>", err)
		}
	})
	t.Run("a CA file without certificates is refused", func(t *testing.T) {
		if _, err := NewHTTPClient(t.TempDir() + "/missing.pem"); err == nil {
			t.Error("missing file accepted")
		}
	})
}

func TestOptionsAreChecked(t *testing.T) {
	tests := []struct {
		name string
		o    Options
		want string
	}{
		{"no key", Options{TenantDomain: domain, ApplicationID: appID}, "application_key"},
		{"no tenant", Options{ApplicationID: appID, ApplicationKey: config.NewSecret(secret)}, "tenantdomain"},
		{"a tenant with spaces", Options{TenantDomain: "my tenant", ApplicationID: appID, ApplicationKey: config.NewSecret(secret)}, "not a tenant id"},
		{"an http authority", Options{TenantDomain: domain, ApplicationID: appID, ApplicationKey: config.NewSecret(secret), AuthorityHost: "http://login.example"}, "https"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewCredential(tt.o)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want it to mention %q", err, tt.want)
			}
		})
	}
}
