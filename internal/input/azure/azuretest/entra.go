package azuretest

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"
)

// Microsoft Entra ID v2 endpoints, as documented for the client credentials
// flow (https://learn.microsoft.com/entra/identity-platform/v2-oauth2-client-creds-grant-flow):
//
//	GET  /{tenant}/v2.0/.well-known/openid-configuration   tenant discovery (MSAL asks first)
//	POST /{tenant}/oauth2/v2.0/token                       client_id, client_secret, scope, grant_type
//	GET  /common/discovery/instance                        instance discovery (when not disabled)
//
// {tenant} is a tenant id or one of its domains. Errors carry error,
// error_description ("AADSTSnnn: ..."), error_codes, timestamp, trace_id,
// correlation_id and error_uri, as Entra ID's do.

// defaultResources are the token audiences every double knows.
var defaultResources = []string{
	"https://api.loganalytics.io", "https://api.loganalytics.us", "https://api.loganalytics.azure.cn",
	"https://graph.microsoft.com", "https://graph.microsoft.us", "https://microsoftgraph.chinacloudapi.cn",
	"https://storage.azure.com",
}

type tenant struct {
	id      string
	domains []string
	apps    map[string]*app
}

type app struct {
	secrets map[string]bool // secret -> expired
}

type token struct {
	tenant, app, audience string
	expires               time.Time
}

func init() {
	registerRoutes(func(s *Server, mux *http.ServeMux) {
		mux.HandleFunc("GET /{tenant}/v2.0/.well-known/openid-configuration", s.handleOpenID)
		mux.HandleFunc("POST /{tenant}/oauth2/v2.0/token", s.handleToken)
		mux.HandleFunc("GET /common/discovery/instance", s.handleInstanceDiscovery)
	})
}

// AddTenant registers a tenant by its id (a GUID in Azure) and domains
// (contoso.onmicrosoft.com); either names it in URLs.
func (s *Server) AddTenant(id string, domains ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := &tenant{id: id, domains: domains, apps: map[string]*app{}}
	s.tenants[strings.ToLower(id)] = t
	for _, d := range domains {
		s.tenants[strings.ToLower(d)] = t
	}
}

// AddApp registers an application (client) id in a tenant with the given
// valid client secrets; calling it again adds secrets.
func (s *Server) AddApp(tenantID, appID string, secrets ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.tenants[strings.ToLower(tenantID)]
	if t == nil {
		panic("azuretest: AddApp: unknown tenant " + tenantID)
	}
	a := t.apps[appID]
	if a == nil {
		a = &app{secrets: map[string]bool{}}
		t.apps[appID] = a
	}
	for _, sec := range secrets {
		a.secrets[sec] = false
	}
}

// ExpireSecret marks a client secret as expired: Entra ID then answers
// AADSTS7000222.
func (s *Server) ExpireSecret(tenantID, appID, secret string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t := s.tenants[strings.ToLower(tenantID)]; t != nil {
		if a := t.apps[appID]; a != nil {
			a.secrets[secret] = true
		}
	}
}

// RemoveSecret deletes a client secret: Entra ID then answers AADSTS7000215.
func (s *Server) RemoveSecret(tenantID, appID, secret string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t := s.tenants[strings.ToLower(tenantID)]; t != nil {
		if a := t.apps[appID]; a != nil {
			delete(a.secrets, secret)
		}
	}
}

// AddResource makes another token audience known (scope "{resource}/.default").
func (s *Server) AddResource(resource string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.resources[strings.TrimSuffix(resource, "/")] = true
}

// SetTokenLifetime sets the expires_in of tokens issued from now on; the
// APIs reject a token after it with 401 InvalidAuthenticationToken.
// Clients renew tokens five minutes before they expire, so a lifetime of
// 5m+2s gives a token a client uses for two seconds.
func (s *Server) SetTokenLifetime(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokenLifetime = d
}

// ExpireTokens makes every token issued so far expired, as a revocation or
// a client clock running late would: the APIs answer 401.
func (s *Server) ExpireTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	past := time.Now().Add(-time.Second)
	for _, t := range s.tokens {
		t.expires = past
	}
}

// entraError writes an Entra ID error response.
func entraError(w http.ResponseWriter, status int, kind string, code int, desc string) {
	now := time.Now().UTC()
	trace, corr := uuidLike(), uuidLike()
	writeJSON(w, status, map[string]any{
		"error": kind,
		"error_description": fmt.Sprintf("AADSTS%d: %s\r\nTrace ID: %s\r\nCorrelation ID: %s\r\nTimestamp: %s",
			code, desc, trace, corr, now.Format("2006-01-02 15:04:05Z")),
		"error_codes":    []int{code},
		"timestamp":      now.Format("2006-01-02 15:04:05Z"),
		"trace_id":       trace,
		"correlation_id": corr,
		"error_uri":      fmt.Sprintf("https://login.microsoftonline.com/error?code=%d", code),
	})
}

func uuidLike() string {
	h := randomHex(16)
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

var guidRE = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// unknownTenant answers as Entra ID does for a tenant it does not know: a
// name that is neither a GUID nor a DNS name is invalid (AADSTS900023),
// anything else is not found (AADSTS90002).
func unknownTenant(w http.ResponseWriter, kind, name string) {
	if !guidRE.MatchString(name) && !strings.Contains(name, ".") {
		entraError(w, http.StatusBadRequest, kind, 900023,
			fmt.Sprintf("Specified tenant identifier '%s' is neither a valid DNS name, nor a valid external domain.", name))
		return
	}
	entraError(w, http.StatusBadRequest, kind, 90002,
		fmt.Sprintf("Tenant '%s' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. "+
			"Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant.", name))
}

func (s *Server) lookupTenant(name string) *tenant {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tenants[strings.ToLower(name)]
}

func (s *Server) handleOpenID(w http.ResponseWriter, r *http.Request) {
	s.count("openid")
	name := r.PathValue("tenant")
	t := s.lookupTenant(name)
	if t == nil {
		unknownTenant(w, "invalid_tenant", name)
		return
	}
	base := s.URL() + "/" + t.id
	writeJSON(w, http.StatusOK, map[string]any{
		"token_endpoint":                        base + "/oauth2/v2.0/token",
		"token_endpoint_auth_methods_supported": []string{"client_secret_post", "private_key_jwt", "client_secret_basic"},
		"jwks_uri":                              base + "/discovery/v2.0/keys",
		"response_modes_supported":              []string{"query", "fragment", "form_post"},
		"subject_types_supported":               []string{"pairwise"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"response_types_supported":              []string{"code", "id_token", "code id_token", "id_token token"},
		"scopes_supported":                      []string{"openid", "profile", "email", "offline_access"},
		"issuer":                                base + "/v2.0",
		"authorization_endpoint":                base + "/oauth2/v2.0/authorize",
		"tenant_region_scope":                   "EU",
		"cloud_instance_name":                   "microsoftonline.com",
	})
}

func (s *Server) handleInstanceDiscovery(w http.ResponseWriter, r *http.Request) {
	s.count("instance")
	host := strings.TrimPrefix(s.URL(), "https://")
	authority := r.URL.Query().Get("authorization_endpoint")
	tenantPart := "common"
	if i := strings.Index(authority, host+"/"); i >= 0 {
		tenantPart = strings.SplitN(authority[i+len(host)+1:], "/", 2)[0]
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"tenant_discovery_endpoint": s.URL() + "/" + tenantPart + "/v2.0/.well-known/openid-configuration",
		"api-version":               "1.1",
		"metadata": []map[string]any{{
			"preferred_network": host, "preferred_cache": host, "aliases": []string{host},
		}},
	})
}

func (s *Server) handleToken(w http.ResponseWriter, r *http.Request) {
	s.count("token")
	name := r.PathValue("tenant")
	if err := r.ParseForm(); err != nil {
		entraError(w, http.StatusBadRequest, "invalid_request", 900144, "The request body must contain the following parameter: 'grant_type'.")
		return
	}
	t := s.lookupTenant(name)
	if t == nil {
		unknownTenant(w, "invalid_request", name)
		return
	}
	f := r.PostForm
	if gt := f.Get("grant_type"); gt != "client_credentials" {
		entraError(w, http.StatusBadRequest, "unsupported_grant_type", 70003,
			fmt.Sprintf("The app requested an unsupported grant type '%s'.", gt))
		return
	}
	clientID := f.Get("client_id")
	if clientID == "" {
		entraError(w, http.StatusBadRequest, "invalid_request", 900144, "The request body must contain the following parameter: 'client_id'.")
		return
	}
	var resource string
	for _, sc := range strings.Fields(f.Get("scope")) {
		switch sc {
		case "openid", "profile", "offline_access", "email":
			continue
		}
		if !strings.HasSuffix(sc, "/.default") {
			entraError(w, http.StatusBadRequest, "invalid_scope", 1002012,
				fmt.Sprintf("The provided value for scope %s is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).", sc))
			return
		}
		resource = strings.TrimSuffix(sc, "/.default")
	}
	if resource == "" {
		entraError(w, http.StatusBadRequest, "invalid_request", 900144, "The request body must contain the following parameter: 'scope'.")
		return
	}

	s.mu.Lock()
	a := t.apps[clientID]
	knownResource := s.resources[resource]
	var expired, valid bool
	if a != nil {
		expired, valid = a.secrets[f.Get("client_secret")]
	}
	lifetime := s.tokenLifetime
	s.mu.Unlock()

	switch {
	case a == nil:
		entraError(w, http.StatusBadRequest, "unauthorized_client", 700016,
			fmt.Sprintf("Application with identifier '%s' was not found in the directory '%s'. This can happen if the application has not been installed "+
				"by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.", clientID, name))
	case f.Get("client_secret") == "":
		entraError(w, http.StatusUnauthorized, "invalid_client", 7000218,
			"The request body must contain the following parameter: 'client_assertion' or 'client_secret'.")
	case !valid:
		entraError(w, http.StatusUnauthorized, "invalid_client", 7000215,
			fmt.Sprintf("Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '%s'.", clientID))
	case expired:
		entraError(w, http.StatusUnauthorized, "invalid_client", 7000222,
			fmt.Sprintf("The provided client secret keys for app '%s' are expired. Visit the Azure portal to create new keys for your app: https://aka.ms/NewClientSecret, "+
				"or consider using certificate credentials for added security: https://aka.ms/certCreds.", clientID))
	case !knownResource:
		entraError(w, http.StatusBadRequest, "invalid_resource", 500011,
			fmt.Sprintf("The resource principal named %s was not found in the tenant named %s. This can happen if the application has not been installed "+
				"by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.", resource, name))
	default:
		tok := "tldtest." + randomHex(24)
		s.mu.Lock()
		s.tokens[tok] = &token{tenant: t.id, app: clientID, audience: resource, expires: time.Now().Add(lifetime)}
		s.mu.Unlock()
		secs := int(lifetime / time.Second)
		writeJSON(w, http.StatusOK, map[string]any{
			"token_type": "Bearer", "expires_in": secs, "ext_expires_in": secs, "access_token": tok,
		})
	}
}

// authorize checks a request's bearer token for audience, as Azure APIs do.
// It returns the token, or the status and OneAPI error to answer with.
func (s *Server) authorize(r *http.Request, audience string) (*token, int, errorBody) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return nil, http.StatusUnauthorized, apiError("AuthenticationFailed", "Authentication failed. The 'Authorization' header is missing.", nil)
	}
	raw, ok := strings.CutPrefix(h, "Bearer ")
	if !ok {
		return nil, http.StatusUnauthorized, apiError("AuthenticationFailed", "Authentication failed. The 'Authorization' header is not a bearer token.", nil)
	}
	s.mu.Lock()
	tok := s.tokens[raw]
	var cp token
	if tok != nil {
		cp = *tok
	}
	s.mu.Unlock()
	switch {
	case tok == nil:
		return nil, http.StatusForbidden, apiError("InvalidAuthenticationToken", "The access token is invalid.", nil)
	case !time.Now().Before(cp.expires):
		return nil, http.StatusUnauthorized, apiError("InvalidAuthenticationToken", "The access token has expired.", nil)
	case cp.audience != audience:
		return nil, http.StatusForbidden, apiError("InvalidAuthenticationTokenAudience",
			fmt.Sprintf("The access token has been obtained from wrong audience or resource '%s'. It should exactly match (including forward slash) with one of the allowed audiences '%s'.", cp.audience, audience), nil)
	}
	return &cp, 0, errorBody{}
}
