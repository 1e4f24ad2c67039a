// Package logfile reads the text files a Wazuh <localfile> block names, one
// event per line, with at-least-once delivery: a file's position is saved
// only after the pipeline has acknowledged every line before it, so a crash
// replays unacknowledged lines (with the same event ids) and loses none.
//
// See README.md for the options, the guarantees and the differences from
// Wazuh's logcollector.
package logfile

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"time"

	"github.com/threatlockdown/tld/internal/checkpoint"
	"github.com/threatlockdown/tld/internal/event"
	"github.com/threatlockdown/tld/internal/pipeline"
)

//go:embed sample.conf
var sampleConfig string

// Defaults for Options fields left at zero.
const (
	// DefaultMaxLineBytes is Wazuh's OS_MAXSTR: longer lines are skipped.
	DefaultMaxLineBytes = 65536
	DefaultBatchSize    = 512
	DefaultMaxInFlight  = 4
	DefaultPollInterval = time.Second
	// DefaultShutdownGrace bounds the wait for in-flight acks once the
	// run's context has ended.
	DefaultShutdownGrace = 5 * time.Second
)

// Spec is one <localfile> block.
type Spec struct {
	// Location is the file's path. It may hold glob wildcards (* ? [..])
	// and strftime conversions (%Y %m %d %H …), expanded against local
	// time on every poll as logcollector does.
	Location string
	// Format is event.FormatJSON for "json" lines; any other value reads
	// the lines as syslog text.
	Format event.Format
	// OnlyFutureEvents starts a file that has no checkpoint at its end.
	// A file with a checkpoint always resumes from it.
	OnlyFutureEvents bool
	// Source names the block in messages, e.g. "ossec.conf:42".
	Source string
}

// Options tune the reader. Zero values take the defaults above.
type Options struct {
	// MaxLineBytes is the longest line emitted; longer ones are reported
	// and skipped, never truncated.
	MaxLineBytes int
	// BatchSize is the most events in one batch.
	BatchSize int
	// MaxInFlight is the most batches emitted and not yet acked.
	MaxInFlight int
	// PollInterval is how often files are checked for new data, new
	// names and rotation.
	PollInterval time.Duration
	// ShutdownGrace bounds the wait for in-flight acks after the context
	// ends, so that checkpoints can still be saved.
	ShutdownGrace time.Duration
	// AgentName, when set, is put on events as the manager's agent name.
	AgentName string
}

// Input reads the files of a set of <localfile> blocks. It implements
// pipeline.Input. Run must not be called while another Run of the same
// Input (or of another Input on the same state directory) is going on.
type Input struct {
	specs []Spec
	opts  Options
	// now is the clock for strftime locations; tests replace it.
	now func() time.Time
	// partialWait is how long an unterminated last line may stay
	// unchanged before it is emitted as is; tests replace it.
	partialWait time.Duration
}

var _ pipeline.Input = (*Input)(nil)

// New checks the specs and returns an Input that reads them.
func New(specs []Spec, opts Options) (*Input, error) {
	var errs []error
	for _, s := range specs {
		if err := checkLocation(s.Location); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", sourceOf(s), err))
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if opts.MaxLineBytes <= 0 {
		opts.MaxLineBytes = DefaultMaxLineBytes
	}
	if opts.BatchSize <= 0 {
		opts.BatchSize = DefaultBatchSize
	}
	if opts.MaxInFlight <= 0 {
		opts.MaxInFlight = DefaultMaxInFlight
	}
	if opts.PollInterval <= 0 {
		opts.PollInterval = DefaultPollInterval
	}
	if opts.ShutdownGrace <= 0 {
		opts.ShutdownGrace = DefaultShutdownGrace
	}
	specs = append([]Spec(nil), specs...)
	for i := range specs {
		if specs[i].Format != event.FormatJSON {
			specs[i].Format = event.FormatSyslog
		}
	}
	return &Input{specs: specs, opts: opts, now: time.Now, partialWait: 2 * opts.PollInterval}, nil
}

func sourceOf(s Spec) string {
	if s.Source != "" {
		return s.Source
	}
	return "localfile " + s.Location
}

// Name implements pipeline.Input.
func (*Input) Name() string { return "logfile" }

// SampleConfig returns a <localfile> example for documentation.
func (*Input) SampleConfig() string { return sampleConfig }

// Run implements pipeline.Input. In Once mode it reads every matching file
// to its current end, waits for every batch to be acked, saves the
// checkpoints and returns nil; it returns an error if a batch was refused, a
// file's checkpoint could not be read, or ctx ended first. Otherwise it
// follows the files until ctx ends, then waits up to ShutdownGrace for
// in-flight acks so that their checkpoints are saved, and returns nil.
func (in *Input) Run(ctx context.Context, emit pipeline.Emitter, opts pipeline.RunOptions) error {
	if opts.StateDir == "" {
		return errors.New("logfile: no state directory")
	}
	store, err := checkpoint.Open(opts.StateDir)
	if err != nil {
		return fmt.Errorf("logfile: %w", err)
	}
	r := newRun(in, emit, store, opts)
	defer r.close()
	if opts.Once {
		return r.once(ctx)
	}
	return r.follow(ctx)
}
