package azauth

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"os"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
)

// NewHTTPClient returns a client that trusts the system's certificate
// authorities and those of caFile (PEM), for private endpoints, TLS-
// inspecting proxies and test doubles. It keeps the proxy settings of the
// environment and sets no overall timeout: the pipeline times each try.
func NewHTTPClient(caFile string) (*http.Client, error) {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if caFile != "" {
		pemBytes, err := os.ReadFile(caFile)
		if err != nil {
			return nil, fmt.Errorf("read <ca_file>: %w", err)
		}
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pemBytes) {
			return nil, fmt.Errorf("<ca_file> %s holds no PEM certificate", caFile)
		}
		cfg.RootCAs = pool
	}
	tr.TLSClientConfig = cfg
	return &http.Client{Transport: tr}, nil
}

// PipelineOptions configure NewPipeline.
type PipelineOptions struct {
	// Credential gives the bearer tokens; a *Credential also gets its
	// cached tokens dropped when the API answers 401 to one.
	Credential azcore.TokenCredential
	// Scope is the token scope, "{resource}/.default", such as
	// "https://api.loganalytics.io/.default".
	Scope string
	// HTTPClient sends the requests (NewHTTPClient); nil is azcore's default.
	HTTPClient *http.Client
	// Retry is azcore's retry policy: MaxRetries (default 3), RetryDelay
	// (base of the exponential back-off, default 800 ms), MaxRetryDelay
	// (default 60 s; a Retry-After longer than it is not waited for: the
	// answer is returned), TryTimeout (per try; NewRequest can set it per
	// request) and StatusCodes (default 408, 429, 500, 502, 503, 504).
	Retry policy.RetryOptions
	// AllowHTTP permits plain-http endpoints (a proxy or double on
	// loopback): the token then crosses the network unencrypted.
	AllowHTTP bool
}

// Pipeline sends authorized requests to one Azure API. It is azcore's
// pipeline, not a hand-written one, because azcore's policies do what is
// needed once configured: runtime.NewBearerTokenPolicy adds the token and
// caches it until five minutes before expiry; the retry policy repeats
// 408/429/5xx answers and network errors with exponential back-off and
// jitter, waits for Retry-After (and retry-after-ms) when the answer has
// one, and bounds each try with TryTimeout (the body is downloaded inside
// the try, so a stalled body is retried too). One policy is ours: when the
// API answers 401 (a token revoked, or a local clock so wrong that a token
// the cache holds valid has expired), it drops the credential's cached
// tokens and sends the request once more with a new token.
type Pipeline struct {
	pl    runtime.Pipeline
	retry policy.RetryOptions
}

// NewPipeline builds the pipeline.
func NewPipeline(o PipelineOptions) *Pipeline {
	var perRetry []policy.Policy
	if o.Credential != nil {
		perRetry = append(perRetry,
			renewOnUnauthorized{cred: o.Credential},
			runtime.NewBearerTokenPolicy(o.Credential, []string{o.Scope}, &policy.BearerTokenOptions{InsecureAllowCredentialWithHTTP: o.AllowHTTP}))
	}
	opts := &policy.ClientOptions{
		Retry:     o.Retry,
		Telemetry: policy.TelemetryOptions{ApplicationID: "tld"},
	}
	if o.HTTPClient != nil {
		opts.Transport = o.HTTPClient
	}
	return &Pipeline{
		pl:    runtime.NewPipeline("tld/azure", "v1", runtime.PipelineOptions{PerRetry: perRetry}, opts),
		retry: o.Retry,
	}
}

// NewRequest makes a request whose tries each last at most tryTimeout
// (zero keeps the pipeline's TryTimeout).
func (p *Pipeline) NewRequest(ctx context.Context, method, url string, tryTimeout time.Duration) (*policy.Request, error) {
	if tryTimeout > 0 {
		ro := p.retry
		ro.TryTimeout = tryTimeout
		ctx = policy.WithRetryOptions(ctx, ro)
	}
	return runtime.NewRequest(ctx, method, url)
}

// Do sends req through the policies. The response body has been read;
// get it with runtime.Payload. Statuses are not errors: check them.
func (p *Pipeline) Do(req *policy.Request) (*http.Response, error) { return p.pl.Do(req) }

// renewOnUnauthorized sends a request again with a fresh token when the
// API answered 401 to the cached one. It runs before the bearer policy,
// which drops its own copy of the token on a 401.
type renewOnUnauthorized struct{ cred azcore.TokenCredential }

func (p renewOnUnauthorized) Do(req *policy.Request) (*http.Response, error) {
	resp, err := req.Next()
	if err != nil || !isUnauthorized(resp) {
		return resp, err
	}
	f, ok := p.cred.(tokenForgetter)
	if !ok {
		return resp, nil
	}
	f.ForgetTokens()
	if rerr := req.RewindBody(); rerr != nil {
		return resp, nil
	}
	runtime.Drain(resp)
	return req.Next()
}
