// Package azauth gets Microsoft Entra ID tokens for the Azure inputs and
// sends their HTTP requests.
//
// Tokens come from azidentity: the client credentials flow (v2 endpoint
// https://{authority}/{tenant}/oauth2/v2.0/token, scope "{resource}/.default")
// with an application id and key, or the host's managed identity or
// Kubernetes workload identity when no credentials are given. Tokens are
// cached: the bearer-token policy of NewPipeline keeps the token until it
// expires and starts renewing it five minutes before (at most one attempt
// per 30 s while the old one is still good); azidentity (MSAL underneath)
// keeps its own cache per scope. A token is requested once per lifetime,
// not once per request (the tests count them).
//
// Authentication failures become an *Error holding one clear, secret-free
// sentence per cause (Describe); a Credential logs it once per failure
// streak, and again only after it has worked in between or the cause
// changes.
package azauth

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/threatlockdown/tld/internal/config"
)

// Options say how to authenticate.
type Options struct {
	// TenantDomain is <tenantdomain>: the tenant's primary domain
	// (contoso.onmicrosoft.com) or its id.
	TenantDomain string
	// ApplicationID and ApplicationKey are the app registration's client
	// id and client secret value.
	ApplicationID  string
	ApplicationKey config.Secret
	// UseAmbient authenticates as the host's identity instead: a workload
	// identity when AZURE_FEDERATED_TOKEN_FILE is set (AKS), then a managed
	// identity (a user-assigned one when ApplicationID is set). The key is
	// ignored.
	UseAmbient bool
	// AuthorityHost is the Entra ID host, "https://login.microsoftonline.com/"
	// when empty. Any host other than the three clouds' turns instance
	// discovery off (MSAL would ask login.microsoft.com to vouch for it).
	AuthorityHost string
	// CAFile adds PEM certificates to the system's for the token requests.
	CAFile string
	// Logger receives the once-per-streak failure messages.
	Logger *slog.Logger
	// Retry tunes the token requests' retries of 5xx answers and network
	// errors; zero values take azcore's defaults.
	Retry policy.RetryOptions
}

// Credential is an azcore.TokenCredential that names its failures clearly,
// logs them once per streak, and can drop its cached tokens (ForgetTokens)
// when an API rejects one before its time.
type Credential struct {
	build  func() (azcore.TokenCredential, error)
	log    *slog.Logger
	info   describeInfo
	secret config.Secret

	mu      sync.Mutex
	inner   azcore.TokenCredential
	failing string // what the current failure streak was logged as; "" when none
}

var _ azcore.TokenCredential = (*Credential)(nil)

// knownAuthorities are the clouds' Entra ID hosts, for which MSAL's
// instance discovery works.
func knownAuthority(host string) bool {
	norm := strings.TrimSuffix(strings.ToLower(host), "/")
	for _, c := range config.AzureClouds {
		if strings.TrimSuffix(strings.ToLower(c.AuthorityHost), "/") == norm {
			return true
		}
	}
	return false
}

// NewCredential returns the credential that o describes. It checks the
// options and the CA file; it does not contact Entra ID.
func NewCredential(o Options) (*Credential, error) {
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	host := o.AuthorityHost
	if host == "" {
		host = config.AzureClouds[config.AzurePublic].AuthorityHost
	}
	if !strings.HasSuffix(host, "/") {
		host += "/"
	}
	if !strings.HasPrefix(strings.ToLower(host), "https://") {
		return nil, fmt.Errorf("authority host %s: Microsoft Entra ID is only reached over https", host)
	}
	c := &Credential{
		log:    log,
		info:   describeInfo{tenant: o.TenantDomain, app: o.ApplicationID, authority: host},
		secret: o.ApplicationKey,
	}
	if o.TenantDomain != "" && !validTenant(o.TenantDomain) {
		return nil, &Error{Code: "AADSTS900023", Message: fmt.Sprintf(
			"tenantdomain %q is not a tenant id or domain name: use the primary domain (contoso.onmicrosoft.com) or the tenant id of your Microsoft Entra tenant", o.TenantDomain)}
	}
	httpClient, err := NewHTTPClient(o.CAFile)
	if err != nil {
		return nil, err
	}
	clientOpts := azcore.ClientOptions{
		Cloud:     cloud.Configuration{ActiveDirectoryAuthorityHost: host},
		Transport: httpClient,
		Retry:     o.Retry,
		Telemetry: policy.TelemetryOptions{ApplicationID: "tld"},
	}
	disableDiscovery := !knownAuthority(host)

	if o.UseAmbient {
		c.build = func() (azcore.TokenCredential, error) { return ambient(o, clientOpts, disableDiscovery) }
	} else {
		var missing []string
		if o.TenantDomain == "" {
			missing = append(missing, "tenantdomain")
		}
		if o.ApplicationID == "" {
			missing = append(missing, "application_id")
		}
		if o.ApplicationKey.IsZero() {
			missing = append(missing, "application_key")
		}
		if len(missing) > 0 {
			return nil, fmt.Errorf("azure credentials: no %s (or use a managed identity)", strings.Join(missing, " or "))
		}
		c.build = func() (azcore.TokenCredential, error) {
			return azidentity.NewClientSecretCredential(o.TenantDomain, o.ApplicationID, o.ApplicationKey.Reveal(),
				&azidentity.ClientSecretCredentialOptions{ClientOptions: clientOpts, DisableInstanceDiscovery: disableDiscovery})
		}
	}
	if c.inner, err = c.build(); err != nil {
		return nil, c.describe(err)
	}
	return c, nil
}

// ambient chains the host identities: workload identity (when its token
// file is configured) then managed identity.
func ambient(o Options, clientOpts azcore.ClientOptions, disableDiscovery bool) (azcore.TokenCredential, error) {
	var chain []azcore.TokenCredential
	if os.Getenv("AZURE_FEDERATED_TOKEN_FILE") != "" {
		w, err := azidentity.NewWorkloadIdentityCredential(&azidentity.WorkloadIdentityCredentialOptions{
			ClientOptions: clientOpts, TenantID: o.TenantDomain, ClientID: o.ApplicationID, DisableInstanceDiscovery: disableDiscovery,
		})
		if err != nil {
			return nil, err
		}
		chain = append(chain, w)
	}
	// The managed identity endpoint is plain http on the host (IMDS) or
	// pinned by the SDK (Service Fabric): it takes the default transport.
	miOpts := &azidentity.ManagedIdentityCredentialOptions{ClientOptions: azcore.ClientOptions{Retry: clientOpts.Retry}}
	if o.ApplicationID != "" {
		miOpts.ID = azidentity.ClientID(o.ApplicationID)
	}
	mi, err := azidentity.NewManagedIdentityCredential(miOpts)
	if err != nil {
		return nil, err
	}
	chain = append(chain, mi)
	return azidentity.NewChainedTokenCredential(chain, nil)
}

// validTenant accepts what Entra ID accepts in the URL: letters, digits,
// dots and dashes.
func validTenant(s string) bool {
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-') {
			return false
		}
	}
	return s != ""
}

// GetToken returns a token for opts.Scopes, from the cache while it has
// more than five minutes to live.
func (c *Credential) GetToken(ctx context.Context, opts policy.TokenRequestOptions) (azcore.AccessToken, error) {
	c.mu.Lock()
	inner := c.inner
	var buildErr error
	if inner == nil {
		inner, buildErr = c.build()
		c.inner = inner
	}
	c.mu.Unlock()
	var tk azcore.AccessToken
	err := buildErr
	if err == nil {
		tk, err = inner.GetToken(ctx, opts)
	}
	if err != nil {
		if ctx.Err() != nil {
			// Cancelled: says nothing about the credentials.
			return tk, ctx.Err()
		}
		e := c.describe(err)
		c.note(e)
		return tk, e
	}
	c.mu.Lock()
	recovered := c.failing != ""
	c.failing = ""
	c.mu.Unlock()
	if recovered {
		c.log.Info("Microsoft Entra ID token obtained: authentication works again",
			"tenant", c.info.tenant, "application_id", c.info.app)
	}
	return tk, nil
}

// note logs e unless it continues the current failure streak.
func (c *Credential) note(e *Error) {
	key := e.Code
	if key == "" {
		key = e.Message
	}
	c.mu.Lock()
	fresh := c.failing != key
	c.failing = key
	c.mu.Unlock()
	if fresh {
		c.log.Error("cannot authenticate to Microsoft Entra ID: "+e.Message,
			"tenant", c.info.tenant, "application_id", c.info.app, "code", e.Code)
	}
}

// ForgetTokens drops the cached tokens, so that the next GetToken asks
// Entra ID. NewPipeline calls it when an API answers 401 to a token the
// cache still holds valid (revoked, or a clock gone wrong).
func (c *Credential) ForgetTokens() {
	c.mu.Lock()
	c.inner = nil
	c.mu.Unlock()
}

func (c *Credential) describe(err error) *Error {
	e := describe(err, c.info)
	if s := c.secret.Reveal(); len(s) >= 4 && strings.Contains(e.Message, s) {
		e.Message = strings.ReplaceAll(e.Message, s, "[REDACTED]")
	}
	return e
}

// tokenForgetter is what the pipeline's 401 handling needs of a credential.
type tokenForgetter interface{ ForgetTokens() }

var _ tokenForgetter = (*Credential)(nil)

// isUnauthorized reports whether resp is a 401.
func isUnauthorized(resp *http.Response) bool {
	return resp != nil && resp.StatusCode == http.StatusUnauthorized
}
