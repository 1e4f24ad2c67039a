// Package opensearch indexes alerts into OpenSearch (or a Wazuh indexer)
// the way Wazuh's Filebeat does: one daily index per UTC day named
// wazuh-alerts-4.x-YYYY.MM.DD, the alert JSON exactly as alerts.json holds
// it, and Wazuh's index template so dashboards find the fields they expect.
//
// Write buffers; Flush sends the buffer in bulk requests and returns only
// when every alert is indexed (or dead-lettered), so a slow cluster slows
// the pipeline instead of losing alerts. Each document's _id is the alert's
// deterministic event id, so a replayed batch overwrites what it indexed
// before rather than adding a copy.
package opensearch

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/opensearch-project/opensearch-go/v4/opensearchapi"
	"github.com/threatlockdown/tld/internal/config"
	"github.com/threatlockdown/tld/internal/pipeline"
)

// Defaults of the options left at their zero value.
const (
	DefaultIndexPrefix    = "wazuh-alerts-4.x-"
	DefaultTemplateName   = "wazuh"
	DefaultShards         = 3
	DefaultBatchSize      = 500
	DefaultMaxBytes       = 5 << 20
	DefaultMaxRetries     = 5
	DefaultInitialBackoff = time.Second
	DefaultMaxBackoff     = 30 * time.Second
	DefaultRequestTimeout = time.Minute
	DefaultCloseTimeout   = 30 * time.Second
)

// Options configure the output. Only Addresses is required.
type Options struct {
	// Addresses are the cluster's node URLs (http:// or https://, with
	// the port), as Wazuh's <indexer><hosts><host>; a bare host:port
	// means https.
	Addresses []string
	// Username and Password are sent as HTTP basic authentication. The
	// password is a config.Secret so that it never shows in logs,
	// errors or dumps of these options.
	Username string
	Password config.Secret
	// CAFiles are PEM files of the authorities that signed the cluster's
	// certificate (each <certificate_authorities><ca>); none uses the
	// system's roots.
	CAFiles []string
	// CertFile and KeyFile are a client certificate and its key, for
	// clusters that authenticate clients by certificate (<certificate>,
	// <key>). Both or neither.
	CertFile, KeyFile string
	// InsecureSkipVerify turns off verification of the cluster's
	// certificate. For tests only.
	InsecureSkipVerify bool

	// IndexPrefix is prepended to the alert's UTC day (YYYY.MM.DD) to
	// name its index (default "wazuh-alerts-4.x-").
	IndexPrefix string

	// TemplateInstall puts the index template at start.
	TemplateInstall bool
	// TemplateName names it (default "wazuh", Wazuh's own name).
	TemplateName string
	// TemplateOverwrite replaces a template of that name already on the
	// cluster; without it an existing template (Wazuh's, say) is kept.
	TemplateOverwrite bool
	// Shards is the template's number_of_shards (default 3, as Wazuh).
	Shards int
	// Replicas is the template's number_of_replicas. Zero keeps Wazuh's
	// auto_expand_replicas "0-1" (a replica once a second node exists).
	Replicas int

	// BatchSize is the most documents in one bulk request (default 500).
	BatchSize int
	// MaxBytes is the largest bulk request body (default 5 MiB); a single
	// larger document is sent alone.
	MaxBytes int
	// MaxRetries is how many times documents that failed for a passing
	// reason (429, 5xx, connection errors) are sent again within one
	// Flush before it gives up (default 5; negative means none).
	MaxRetries int
	// InitialBackoff is the wait before the first retry (default 1s); it
	// doubles with each retry up to MaxBackoff (default 30s). A longer
	// Retry-After from the cluster wins.
	InitialBackoff, MaxBackoff time.Duration
	// RequestTimeout bounds one HTTP request (default 1m).
	RequestTimeout time.Duration
	// CloseTimeout bounds the last flush Close makes (default 30s).
	CloseTimeout time.Duration

	// DeadLetterPath, when set, is a JSON-lines file that receives every
	// document the cluster rejects for its content (a mapping conflict),
	// with the error; Flush then succeeds. When empty, such a rejection
	// fails the Flush, so the batch is not acknowledged.
	DeadLetterPath string

	Logger *slog.Logger
}

func (o Options) withDefaults() Options {
	// Wazuh's <host> takes a bare host:port and means https.
	addrs := make([]string, len(o.Addresses))
	for i, a := range o.Addresses {
		if !strings.Contains(a, "://") {
			a = "https://" + a
		}
		addrs[i] = a
	}
	o.Addresses = addrs
	if o.IndexPrefix == "" {
		o.IndexPrefix = DefaultIndexPrefix
	}
	if o.TemplateName == "" {
		o.TemplateName = DefaultTemplateName
	}
	if o.Shards <= 0 {
		o.Shards = DefaultShards
	}
	if o.BatchSize <= 0 {
		o.BatchSize = DefaultBatchSize
	}
	if o.MaxBytes <= 0 {
		o.MaxBytes = DefaultMaxBytes
	}
	if o.MaxRetries == 0 {
		o.MaxRetries = DefaultMaxRetries
	}
	if o.MaxRetries < 0 {
		o.MaxRetries = 0
	}
	if o.InitialBackoff <= 0 {
		o.InitialBackoff = DefaultInitialBackoff
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = DefaultMaxBackoff
	}
	o.MaxBackoff = max(o.MaxBackoff, o.InitialBackoff)
	if o.RequestTimeout <= 0 {
		o.RequestTimeout = DefaultRequestTimeout
	}
	if o.CloseTimeout <= 0 {
		o.CloseTimeout = DefaultCloseTimeout
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return o
}

// validate reports every problem with the options at once.
func (o Options) validate() error {
	var errs []error
	if len(o.Addresses) == 0 {
		errs = append(errs, errors.New("no address: give at least one node URL such as https://127.0.0.1:9200"))
	}
	for _, a := range o.Addresses {
		if err := checkAddress(a); err != nil {
			errs = append(errs, err)
		}
	}
	if err := checkIndexPrefix(o.IndexPrefix); err != nil {
		errs = append(errs, err)
	}
	if (o.CertFile == "") != (o.KeyFile == "") {
		errs = append(errs, errors.New("a client certificate needs both a certificate file and a key file"))
	}
	if o.Replicas < 0 {
		errs = append(errs, fmt.Errorf("replicas %d: must not be negative", o.Replicas))
	}
	return errors.Join(errs...)
}

func checkAddress(a string) error {
	u, err := url.Parse(a)
	if err != nil {
		// url.Parse's error repeats the input, which could hold a
		// password; say only what is wrong.
		return errors.New("address: not a URL (expected http(s)://host:port)")
	}
	if u.User != nil {
		return fmt.Errorf("address %s: put the user name and password in the username and password options, not in the URL", u.Redacted())
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("address %s: scheme must be http or https", u.Redacted())
	}
	if u.Host == "" {
		return fmt.Errorf("address %s: no host", u.Redacted())
	}
	return nil
}

// checkIndexPrefix applies OpenSearch's index naming rules to the prefix,
// so a bad prefix fails at start rather than on every bulk item.
func checkIndexPrefix(p string) error {
	switch {
	case p != strings.ToLower(p):
		return fmt.Errorf("index prefix %q: index names must be lowercase", p)
	case strings.ContainsAny(p, `\/*?"<>| ,#:`):
		return fmt.Errorf(`index prefix %q: index names must not contain \ / * ? " < > | space , # :`, p)
	case strings.HasPrefix(p, "-") || strings.HasPrefix(p, "_") || strings.HasPrefix(p, "+"):
		return fmt.Errorf("index prefix %q: index names must not start with -, _ or +", p)
	}
	return nil
}

// Stats count what the output did since it was created.
type Stats struct {
	Indexed  int64 // documents the cluster accepted
	Retried  int64 // documents sent again after a passing failure
	Rejected int64 // documents the cluster refused for their content
	Requests int64 // bulk requests sent
	// DeadLettered counts rejected documents written to DeadLetterPath.
	DeadLettered int64
	// FailedFlushes counts Flush calls that returned an error.
	FailedFlushes int64
}

type counters struct {
	indexed, retried, rejected, requests, deadLettered, failedFlushes atomic.Int64
}

// doc is one buffered alert, encoded once at Write.
type doc struct {
	index, id string
	action    []byte // the bulk action line, without its newline
	source    json.RawMessage
}

// Output bulk-indexes alerts. Write and Flush may be called from one
// goroutine at a time (the pipeline's writer); Stats from any.
type Output struct {
	opts   Options
	client *opensearchapi.Client
	logger *slog.Logger
	// life carries the values of New's context without its cancellation,
	// for Close's last flush, which has no context of its own and must
	// still try after shutdown has begun.
	life context.Context

	mu  sync.Mutex
	buf []doc

	flushMu sync.Mutex // one Flush at a time
	dead    *deadLetter
	stats   counters
	// warnedNoID keeps the "alert without id" warning to once.
	warnedNoID atomic.Bool
}

var _ pipeline.Output = (*Output)(nil)

// New connects the output to the cluster described by opts and, when
// TemplateInstall is set, installs the index template. It makes no other
// request: the first bulk request is sent by the first Flush.
func New(ctx context.Context, opts Options) (*Output, error) {
	opts = opts.withDefaults()
	if err := opts.validate(); err != nil {
		return nil, fmt.Errorf("opensearch output: %w", err)
	}
	client, err := newClient(opts)
	if err != nil {
		return nil, fmt.Errorf("opensearch output: %w", err)
	}
	o := &Output{
		opts:   opts,
		client: client,
		logger: opts.Logger.With("output", "opensearch"),
		life:   context.WithoutCancel(ctx),
	}
	if opts.DeadLetterPath != "" {
		o.dead = &deadLetter{path: opts.DeadLetterPath}
	}
	if opts.TemplateInstall {
		if err := o.installTemplate(ctx); err != nil {
			client.Close()
			return nil, fmt.Errorf("opensearch output: %w", err)
		}
	}
	return o, nil
}

// Name implements pipeline.Output.
func (o *Output) Name() string { return "opensearch" }

// IndexName returns the index an alert stamped t goes to: the prefix and
// the UTC day, as Wazuh's Filebeat names its daily indices.
func IndexName(prefix string, t time.Time) string {
	return prefix + t.UTC().Format("2006.01.02")
}

// Write implements pipeline.Output: it encodes the alerts and buffers
// them for the next Flush.
func (o *Output) Write(_ context.Context, recs pipeline.Records) error {
	docs := make([]doc, 0, len(recs.Alerts))
	for _, a := range recs.Alerts {
		if a == nil {
			continue
		}
		src := a.JSON()
		if a.ID == "" && !o.warnedNoID.Swap(true) {
			o.logger.Warn("alert without an id: the cluster assigns one, so a replay of it adds a copy", "index", IndexName(o.opts.IndexPrefix, a.Timestamp))
		}
		index := IndexName(o.opts.IndexPrefix, a.Timestamp)
		docs = append(docs, doc{index: index, id: a.ID, action: actionLine(index, a.ID), source: src})
	}
	o.mu.Lock()
	o.buf = append(o.buf, docs...)
	o.mu.Unlock()
	return nil
}

// Flush implements pipeline.Output: it sends everything buffered and
// returns nil only when the cluster accepted every document or, for
// documents it rejected for their content, they are in the dead-letter
// file. It blocks while the cluster is slow or retrying, which is the
// back-pressure the pipeline relies on.
//
// On error the buffer is dropped: the pipeline does not acknowledge the
// batches, their inputs read them again, and the replay brings the same
// alerts (with the same ids) back.
func (o *Output) Flush(ctx context.Context) error {
	o.flushMu.Lock()
	defer o.flushMu.Unlock()
	o.mu.Lock()
	docs := o.buf
	o.buf = nil
	o.mu.Unlock()
	if len(docs) == 0 {
		return nil
	}
	if err := o.flush(ctx, docs); err != nil {
		o.stats.failedFlushes.Add(1)
		return fmt.Errorf("index alerts: %w", err)
	}
	return nil
}

// Close implements pipeline.Output: it makes a last bounded flush and
// releases the client and the dead-letter file.
func (o *Output) Close() error {
	ctx, cancel := context.WithTimeout(o.life, o.opts.CloseTimeout)
	defer cancel()
	err := o.Flush(ctx)
	o.flushMu.Lock()
	defer o.flushMu.Unlock()
	if o.dead != nil {
		err = errors.Join(err, o.dead.close())
	}
	return errors.Join(err, o.client.Close())
}

// Stats returns the counters, for metrics.
func (o *Output) Stats() Stats {
	return Stats{
		Indexed:       o.stats.indexed.Load(),
		Retried:       o.stats.retried.Load(),
		Rejected:      o.stats.rejected.Load(),
		Requests:      o.stats.requests.Load(),
		DeadLettered:  o.stats.deadLettered.Load(),
		FailedFlushes: o.stats.failedFlushes.Load(),
	}
}
