package azurelogs

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/threatlockdown/tld/internal/checkpoint"
	"github.com/threatlockdown/tld/internal/config"
	"github.com/threatlockdown/tld/internal/pipeline"
)

type countingCollector struct {
	mu   sync.Mutex
	runs int
	err  error
}

func (c *countingCollector) Collect(context.Context, pipeline.Emitter, *checkpoint.Store, func(pipeline.Problem), *slog.Logger) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.runs++
	return c.err
}

func (c *countingCollector) runsSafe() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.runs
}

type nopEmitter struct{}

func (nopEmitter) Emit(_ context.Context, b pipeline.Batch) error {
	b.Ack(nil)
	return nil
}

func TestOncePassRunsEveryCollectorAndReportsFailures(t *testing.T) {
	bad := &countingCollector{err: errors.New("token refused")}
	good := &countingCollector{}
	in := New(config.AzureLogs{Schedule: config.Schedule{Interval: time.Hour}}, []Named{{"log_analytics a:1", bad}, {"graph a:9", good}})
	err := in.Run(context.Background(), nopEmitter{}, pipeline.RunOptions{Once: true, StateDir: t.TempDir(), Logger: slog.New(slog.DiscardHandler)})
	if err == nil || !strings.Contains(err.Error(), "log_analytics a:1: token refused") {
		t.Fatalf("err = %v: want the failing source named", err)
	}
	if bad.runsSafe() != 1 || good.runsSafe() != 1 {
		t.Errorf("runs: failing %d, other %d; a failing source must not stop the others", bad.runsSafe(), good.runsSafe())
	}
}

func TestScheduledPassesRunOnStartThenOnSchedule(t *testing.T) {
	c := &countingCollector{}
	in := New(config.AzureLogs{RunOnStart: true, Schedule: config.Schedule{Interval: 50 * time.Millisecond}}, []Named{{"graph a:1", c}})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- in.Run(ctx, nopEmitter{}, pipeline.RunOptions{StateDir: t.TempDir(), Logger: slog.New(slog.DiscardHandler)})
	}()
	deadline := time.Now().Add(10 * time.Second)
	for c.runsSafe() < 3 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if c.runsSafe() < 3 {
		t.Errorf("%d passes: want one at start and more on schedule", c.runsSafe())
	}
}
