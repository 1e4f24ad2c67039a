// Package azurelogs is the azure-logs module (Wazuh's <wodle
// name="azure-logs">) as a pipeline input: it runs the block's Log
// Analytics, Microsoft Graph and Blob Storage collectors on the block's
// schedule (run_on_start, interval, day, wday, time), each collector with
// its own durable state.
package azurelogs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/threatlockdown/tld/internal/checkpoint"
	"github.com/threatlockdown/tld/internal/config"
	"github.com/threatlockdown/tld/internal/pipeline"
	"github.com/threatlockdown/tld/internal/schedule"
)

// Collector runs one collection pass of one source block.
type Collector interface {
	Collect(ctx context.Context, emit pipeline.Emitter, st *checkpoint.Store, report func(pipeline.Problem), logger *slog.Logger) error
}

// Named is a collector with the name logs and errors use for it
// ("log_analytics ossec.conf:12").
type Named struct {
	Name string
	Collector
}

// Input runs the collectors of one <wodle name="azure-logs"> block.
type Input struct {
	cfg        config.AzureLogs
	collectors []Named
	now        func() time.Time
}

// New builds the module's input from its block and the collectors made for
// it (see Build).
func New(cfg config.AzureLogs, collectors []Named) *Input {
	return &Input{cfg: cfg, collectors: collectors, now: time.Now}
}

// Name implements pipeline.Input.
func (in *Input) Name() string { return "azure-logs" }

// Run implements pipeline.Input: with Once, one pass of every collector;
// otherwise a pass at start when run_on_start is set, then one at every
// scheduled time, until ctx ends.
func (in *Input) Run(ctx context.Context, emit pipeline.Emitter, opts pipeline.RunOptions) error {
	st, err := checkpoint.Open(opts.StateDir)
	if err != nil {
		return fmt.Errorf("azure-logs state: %w", err)
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.Default()
	}
	report := opts.Report
	if report == nil {
		report = func(pipeline.Problem) {}
	}
	if opts.Once {
		return in.pass(ctx, emit, st, report, logger)
	}
	if in.cfg.RunOnStart {
		if err := in.pass(ctx, emit, st, report, logger); err != nil && ctx.Err() == nil {
			logger.Error("azure-logs pass failed; the next scheduled pass retries from the saved state", "err", err)
		}
	}
	last := in.now()
	for {
		next, err := schedule.Next(in.cfg.Schedule, last)
		if err != nil {
			return fmt.Errorf("azure-logs schedule (%s): %w", in.cfg.Pos, err)
		}
		logger.Info("azure-logs next pass", "at", next.Format(time.RFC3339))
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(time.Until(next)):
		}
		last = next
		if err := in.pass(ctx, emit, st, report, logger); err != nil && ctx.Err() == nil {
			logger.Error("azure-logs pass failed; the next scheduled pass retries from the saved state", "err", err)
		}
	}
}

// pass runs every collector once; one failing does not stop the others.
// The block's <timeout> bounds the whole pass.
func (in *Input) pass(ctx context.Context, emit pipeline.Emitter, st *checkpoint.Store, report func(pipeline.Problem), logger *slog.Logger) error {
	if in.cfg.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, in.cfg.Timeout)
		defer cancel()
	}
	var errs []error
	for _, c := range in.collectors {
		if err := c.Collect(ctx, emit, st, report, logger.With("source", c.Name)); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", c.Name, err))
			if ctx.Err() != nil {
				break
			}
		}
	}
	return errors.Join(errs...)
}
