// Package blob reads the blobs of Azure Storage containers as Wazuh's
// azure-logs module does for a <storage> block, and hands their records to
// the pipeline as events: JSON records (json_file, json_inline) tagged with
// "azure_tag": "azure-storage" and "azure_storage_tag", and text lines
// prefixed as Wazuh prefixes them.
//
// Unlike Wazuh's module it reads blobs at any depth under <path>, keeps its
// state per container, reads a blob again when it is rewritten (and only the
// new part when it was appended to), and saves that state only when the
// pipeline has acknowledged the events, so that nothing is lost and replays
// carry the same event ids. See README.md.
package blob

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/service"

	"github.com/threatlockdown/tld/internal/checkpoint"
	"github.com/threatlockdown/tld/internal/config"
	"github.com/threatlockdown/tld/internal/pipeline"
)

// Defaults of the Config options.
const (
	DefaultBatchSize      = 500
	DefaultMaxRecordBytes = 1 << 20
	DefaultMaxRetries     = 3
	DefaultRetryDelay     = time.Second
	DefaultMaxRetryDelay  = 30 * time.Second
	DefaultTryTimeout     = 2 * time.Minute
)

// defaultTimeOffset is <time_offset>'s default.
const defaultTimeOffset = 24 * time.Hour

// maxBatchBytes bounds the text of one batch, whatever BatchSize says.
const maxBatchBytes = 4 << 20

// Config is one <storage> block and the wodle-wide settings it needs.
type Config struct {
	// Storage is the block: credentials, tag, containers.
	Storage config.AzureStorage
	// Endpoint is the Blob service URL (<storage_endpoint>); "{account}"
	// in it is replaced by the account name. Empty means the Azure public
	// cloud, https://{account}.blob.core.windows.net.
	Endpoint string
	// CAFile names PEM certificates trusted in addition to the system's
	// (<ca_file>).
	CAFile string

	// BatchSize is the most events in one batch; a batch holds events of
	// one blob. Zero means DefaultBatchSize.
	BatchSize int
	// MaxRecordBytes bounds a line or JSON record; a longer one is skipped
	// and reported. Zero means DefaultMaxRecordBytes.
	MaxRecordBytes int
	// Retry tunes the retries of each request to the service (with
	// exponential back-off, on timeouts, 408, 429 and 5xx answers, and
	// connection errors). Zero fields take the defaults above.
	Retry Retry

	// Now returns the current time; nil means time.Now. Only the first
	// pass over a container uses it (time_offset).
	Now func() time.Time
}

// Retry is how requests to the Blob service are retried.
type Retry struct {
	MaxRetries int           // retries after the first try; negative means none
	Delay      time.Duration // before the first retry, then doubled
	MaxDelay   time.Duration // cap of the delay
	TryTimeout time.Duration // one try, including reading a download's body
}

// Collector reads the containers of one <storage> block. Its methods are
// not safe for concurrent use; one Collect runs at a time.
type Collector struct {
	cfg     Config
	account string
	tag     string
	svc     *service.Client

	mu     sync.Mutex
	states map[string]*containerState // by checkpoint key
	store  *checkpoint.Store          // the store states were loaded from
}

// New checks cfg, reads the credentials (from <auth_path> when set) and
// prepares the Blob service client. It makes no request.
func New(cfg Config) (*Collector, error) {
	s := cfg.Storage
	if len(s.Containers) == 0 {
		return nil, errors.New("azure storage: no <container>")
	}
	// Zero values take the defaults config.Load gives them.
	s.Containers = slices.Clone(s.Containers)
	for i := range s.Containers {
		cc := &s.Containers[i]
		cc.Name = strings.TrimSpace(cc.Name)
		if cc.Name == "" {
			return nil, errors.New("azure storage: a <container> has no name")
		}
		switch cc.ContentType {
		case "":
			cc.ContentType = "text"
		case "text", "json_file", "json_inline":
		default:
			return nil, fmt.Errorf("azure storage: container %q: content_type %q is not text, json_file or json_inline", cc.Name, cc.ContentType)
		}
		if cc.TimeOffset <= 0 {
			cc.TimeOffset = defaultTimeOffset
		}
	}
	cfg.Storage = s
	account, key := s.AccountName, s.AccountKey
	if s.AuthPath != "" {
		af, _, err := config.ReadAuthFile(s.AuthPath)
		if err != nil {
			return nil, fmt.Errorf("azure storage: credentials: %w", err)
		}
		account, key = af.AccountName, af.AccountKey
		if account == "" || key.IsZero() {
			return nil, fmt.Errorf("azure storage: credentials file %s needs account_name and account_key", s.AuthPath)
		}
	}
	if account == "" || key.IsZero() {
		return nil, errors.New("azure storage: no account_name and account_key")
	}
	cred, err := service.NewSharedKeyCredential(account, key.Reveal())
	if err != nil {
		// The error names the bad byte's position, never the key.
		return nil, fmt.Errorf("azure storage: account %s: account_key is not valid base64: %w", account, err)
	}
	endpoint := cfg.Endpoint
	if endpoint == "" {
		endpoint = config.AzureClouds[config.AzurePublic].Storage
	}
	serviceURL := strings.ReplaceAll(endpoint, "{account}", account)
	hc, err := httpClient(cfg.CAFile)
	if err != nil {
		return nil, fmt.Errorf("azure storage: %w", err)
	}
	r := cfg.Retry
	opts := &service.ClientOptions{ClientOptions: azcore.ClientOptions{
		Transport: hc,
		Retry: policy.RetryOptions{
			MaxRetries:    int32(orDefault(r.MaxRetries, DefaultMaxRetries)),
			RetryDelay:    orDefault(r.Delay, DefaultRetryDelay),
			MaxRetryDelay: orDefault(r.MaxDelay, DefaultMaxRetryDelay),
			TryTimeout:    orDefault(r.TryTimeout, DefaultTryTimeout),
		},
		Telemetry: policy.TelemetryOptions{ApplicationID: "threatlockdown"},
	}}
	svc, err := service.NewClientWithSharedKeyCredential(serviceURL, cred, opts)
	if err != nil {
		return nil, fmt.Errorf("azure storage: endpoint %s: %w", serviceURL, err)
	}
	cfg.BatchSize = orDefault(cfg.BatchSize, DefaultBatchSize)
	cfg.MaxRecordBytes = orDefault(cfg.MaxRecordBytes, DefaultMaxRecordBytes)
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Collector{cfg: cfg, account: account, tag: s.Tag, svc: svc, states: map[string]*containerState{}}, nil
}

func orDefault[T int | time.Duration](v, def T) T {
	if v == 0 {
		return def
	}
	return v
}

// httpClient trusts the system's certificates and those of caFile.
func httpClient(caFile string) (*http.Client, error) {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, fmt.Errorf("ca_file: %w", err)
		}
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("ca_file %s: no PEM certificate in it", caFile)
		}
		tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	return &http.Client{Transport: tr}, nil
}

// Account returns the storage account's name (for logs and metrics).
func (c *Collector) Account() string { return c.account }

// Collect makes one pass over every container of the block: it lists the
// blobs, reads those that are new or changed since they were last read, and
// emits their events in batches. A container's state is saved as the
// batches that complete its blobs are acknowledged; Collect returns when
// every batch it emitted was acknowledged, or ctx ended.
//
// Bad content (an empty, binary or broken blob, a broken record) and blobs
// that cannot be read are reported through report and skipped; other blobs
// are still read. Collect returns an error only when no container could be
// listed at all, or ctx ended.
func (c *Collector) Collect(ctx context.Context, emit pipeline.Emitter, st *checkpoint.Store, report func(pipeline.Problem), logger *slog.Logger) error {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if report == nil {
		report = func(pipeline.Problem) {}
	}
	p := &pass{c: c, emit: emit, store: st, report: report, log: logger.With("account", c.account)}
	var errs []error
	listed := 0
	done := map[string]bool{} // checkpoint keys read in this pass
	for _, cc := range c.cfg.Storage.Containers {
		if ctx.Err() != nil {
			break
		}
		names := []string{cc.Name}
		if cc.Name == "*" {
			var err error
			if names, err = p.containers(ctx); err != nil {
				err = fmt.Errorf("list containers: %s", describe(err))
				p.report(pipeline.Problem{Source: c.account, Reason: err.Error()})
				p.log.Error("cannot list the containers", "err", err)
				errs = append(errs, err)
				continue
			}
		}
		for _, name := range names {
			key := stateKey(c.account, name, cc)
			if done[key] {
				p.log.Warn("container named by two blocks with the same path and blobs; read once", "container", name)
				continue
			}
			done[key] = true
			if err := p.container(ctx, cc, name, key); err != nil {
				errs = append(errs, err)
				continue
			}
			listed++
		}
	}
	werr := p.wait(ctx)
	if err := ctx.Err(); err != nil {
		return err
	}
	if werr != nil {
		return werr
	}
	if listed == 0 && len(errs) > 0 {
		return fmt.Errorf("azure storage %s: nothing could be listed: %w", c.account, errors.Join(errs...))
	}
	return nil
}

// containers lists the account's containers, for <container name="*">.
func (p *pass) containers(ctx context.Context) ([]string, error) {
	var names []string
	pager := p.c.svc.NewListContainersPager(nil)
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, it := range page.ContainerItems {
			if it.Name != nil {
				names = append(names, *it.Name)
			}
		}
	}
	return names, nil
}

// state returns a container's state, loaded once per store.
func (c *Collector) state(st *checkpoint.Store, key string, timeOffset time.Duration) (*containerState, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.store != st {
		c.store, c.states = st, map[string]*containerState{}
	}
	if cs := c.states[key]; cs != nil {
		return cs, nil
	}
	cs, err := loadState(st, key, c.cfg.Now(), timeOffset)
	if err != nil {
		return nil, err
	}
	c.states[key] = cs
	return cs, nil
}

// describe shortens an error of the Azure SDK to its status and code: its
// full text spans many lines (the request, the response body).
func describe(err error) string {
	var re *azcore.ResponseError
	if errors.As(err, &re) {
		if re.ErrorCode != "" {
			return fmt.Sprintf("HTTP %d %s", re.StatusCode, re.ErrorCode)
		}
		return fmt.Sprintf("HTTP %d %s", re.StatusCode, http.StatusText(re.StatusCode))
	}
	return err.Error()
}
