package loganalytics

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"

	"github.com/threatlockdown/tld/internal/config"
	"github.com/threatlockdown/tld/internal/input/azure/azauth"
	"github.com/threatlockdown/tld/internal/pipeline"
)

// Defaults of Config and Request. See README.md for why.
const (
	DefaultEndpoint   = "https://api.loganalytics.io"
	DefaultScope      = "https://api.loganalytics.io/.default"
	DefaultTimeOffset = 24 * time.Hour
	// DefaultTimeout is the service's own default query timeout.
	DefaultTimeout = 180 * time.Second
	// MaxTimeout is the longest "Prefer: wait" the service honours.
	MaxTimeout = 600 * time.Second
	// DefaultLag keeps the end of a window this far behind now: rows
	// become queryable a little after their ingestion time is stamped.
	DefaultLag = time.Minute
	// DefaultOverlap is re-read at the start of the next pass, with the
	// rows already sent dropped, for rows that became visible late.
	DefaultOverlap = 2 * time.Minute
	// DefaultMaxLateness is how long before its ingestion a row's
	// TimeGenerated may lie and the row still be read.
	DefaultMaxLateness = 48 * time.Hour
	// DefaultMaxFuture is how far after the window a row's TimeGenerated
	// may lie (a source whose clock runs fast).
	DefaultMaxFuture = 24 * time.Hour
	// DefaultPageRows is the service's limit of records per result.
	DefaultPageRows = 500000
	// DefaultBatchSize is the number of events per emitted batch.
	DefaultBatchSize = 1000
	// DefaultMaxSeen bounds the row identities kept in the state.
	DefaultMaxSeen = 100000
	// DefaultTrySlack is added to a request's timeout to bound one try,
	// so that the service's 504 arrives before the client gives up.
	DefaultTrySlack = 10 * time.Second
	// DefaultPartialRetries is how many times a window whose answer held a
	// PartialError is asked again in one pass.
	DefaultPartialRetries = 2
)

// Request is one <request> of a <log_analytics> block.
type Request struct {
	// Tag is put in each event as log_analytics_tag (none when empty).
	Tag string
	// Query is the user's KQL; it must return records (the collector
	// appends an ingestion-time filter and ordering to it).
	Query string
	// Workspace is the Workspace ID.
	Workspace string
	// TimeOffset is how far back the first pass reads; DefaultTimeOffset
	// when zero. Later passes resume from the state.
	TimeOffset time.Duration
	// Timeout bounds one query on the service (Prefer: wait), at most
	// MaxTimeout; DefaultTimeout when zero.
	Timeout time.Duration
	// Pos says where the request is configured (file:line), for logs.
	Pos string
}

// Config is one <log_analytics> block, ready to collect.
type Config struct {
	// Endpoint is the query API; DefaultEndpoint when empty.
	Endpoint string
	// Scope of the tokens; DefaultScope when empty.
	Scope string
	// Credential gives the tokens (azauth.NewCredential).
	Credential azcore.TokenCredential
	// HTTPClient sends the queries (azauth.NewHTTPClient); nil is azcore's.
	HTTPClient *http.Client
	// Requests are the block's requests, collected in order.
	Requests []Request

	// Tuning: zero takes the default; a negative Lag or Overlap is none.
	Lag, Overlap           time.Duration
	MaxLateness, MaxFuture time.Duration
	PageRows, BatchSize    int
	MaxSeen                int
	PartialRetries         int
	TrySlack               time.Duration
	// Retry tunes azcore's retries (429, 5xx, timeouts): MaxRetries,
	// RetryDelay, MaxRetryDelay; zero values take azcore's defaults.
	Retry policy.RetryOptions

	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// Report receives problems with the source data (a partial result);
	// they are logged too.
	Report func(pipeline.Problem)
}

// request is a Request with what the collector derives from it.
type request struct {
	Request
	queryHash string // hex sha256 of the query
	key       string // checkpoint key
}

func (c *Config) setDefaults() {
	if c.Endpoint == "" {
		c.Endpoint = DefaultEndpoint
	}
	c.Endpoint = strings.TrimRight(c.Endpoint, "/")
	if c.Scope == "" {
		c.Scope = DefaultScope
	}
	defDur := func(d *time.Duration, def time.Duration) {
		switch {
		case *d == 0:
			*d = def
		case *d < 0:
			*d = 0
		}
	}
	defDur(&c.Lag, DefaultLag)
	defDur(&c.Overlap, DefaultOverlap)
	defDur(&c.MaxLateness, DefaultMaxLateness)
	defDur(&c.MaxFuture, DefaultMaxFuture)
	defDur(&c.TrySlack, DefaultTrySlack)
	defInt := func(n *int, def int) {
		if *n <= 0 {
			*n = def
		}
	}
	defInt(&c.PageRows, DefaultPageRows)
	defInt(&c.BatchSize, DefaultBatchSize)
	defInt(&c.MaxSeen, DefaultMaxSeen)
	if c.PartialRetries == 0 {
		c.PartialRetries = DefaultPartialRetries
	} else if c.PartialRetries < 0 {
		c.PartialRetries = 0
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Report == nil {
		c.Report = func(pipeline.Problem) {}
	}
}

// validate reports every problem of the configuration.
func (c *Config) validate() error {
	var errs []error
	if u, err := url.Parse(c.Endpoint); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		errs = append(errs, fmt.Errorf("log analytics endpoint %q is not an http or https URL", c.Endpoint))
	}
	if c.Credential == nil {
		errs = append(errs, errors.New("log analytics: no credential"))
	}
	if len(c.Requests) == 0 {
		errs = append(errs, errors.New("log analytics: no request"))
	}
	seen := map[string]string{}
	for _, r := range c.Requests {
		at := r.Pos
		if at != "" {
			at += ": "
		}
		if strings.TrimSpace(r.Query) == "" {
			errs = append(errs, fmt.Errorf("%srequest has no query", at))
		}
		if r.Workspace == "" {
			errs = append(errs, fmt.Errorf("%srequest has no workspace", at))
		}
		if r.TimeOffset < 0 || r.Timeout < 0 {
			errs = append(errs, fmt.Errorf("%srequest has a negative time_offset or timeout", at))
		}
		// Two requests with one position would read the same rows twice.
		k := newRequest(r).key
		if prev, dup := seen[k]; dup {
			errs = append(errs, fmt.Errorf("%srequest repeats the query and workspace of the request at %s", at, prev))
		}
		seen[k] = r.Pos
	}
	return errors.Join(errs...)
}

func newRequest(r Request) request {
	if r.TimeOffset == 0 {
		r.TimeOffset = DefaultTimeOffset
	}
	if r.Timeout == 0 {
		r.Timeout = DefaultTimeout
	}
	r.Timeout = min(r.Timeout, MaxTimeout)
	sum := sha256.Sum256([]byte(r.Query))
	h := hex.EncodeToString(sum[:])
	return request{
		Request:   r,
		queryHash: h,
		// Per workspace and query: two workspaces with the same query, or
		// two queries on one workspace, never share a position.
		key: "azure-log-analytics/" + strings.ToLower(r.Workspace) + "/" + h[:32],
	}
}

// FromConfig prepares the Config of one <log_analytics> block of az: it
// reads the credentials file (or takes the inline credentials; with
// neither it uses the host's managed or workload identity) and builds the
// credential and HTTP client. A request's <timeout> bounds its queries;
// without one the wodle's <timeout> does, capped at MaxTimeout.
func FromConfig(az config.AzureLogs, api config.AzureAPI, logger *slog.Logger) (Config, error) {
	cred, hc, err := azauth.ForBlock(az, api, logger)
	if err != nil {
		return Config{}, err
	}
	cfg := Config{Endpoint: az.LogAnalyticsEndpoint, Credential: cred, HTTPClient: hc}
	if eps, ok := config.AzureClouds[az.Cloud]; ok {
		cfg.Scope = eps.LogAnalytics + "/.default"
	}
	for _, r := range api.Requests {
		timeout := r.Timeout
		if timeout == 0 {
			timeout = min(az.Timeout, MaxTimeout)
		}
		cfg.Requests = append(cfg.Requests, Request{
			Tag: r.Tag, Query: r.Query, Workspace: r.Workspace,
			TimeOffset: r.TimeOffset, Timeout: timeout, Pos: r.Pos.String(),
		})
	}
	return cfg, nil
}
