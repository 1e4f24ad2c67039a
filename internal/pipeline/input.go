package pipeline

import (
	"context"
	"log/slog"

	"github.com/threatlockdown/tld/internal/event"
)

// Batch is a group of events an input hands over together. Ack is called
// exactly once, after every event of the batch has been analysed and every
// output has written the results durably (err == nil), or when the pipeline
// gives up on the batch (err != nil). An input saves its checkpoint only
// from a successful Ack, and Acks of one input arrive in the order its
// batches were emitted.
type Batch struct {
	Events []event.Event
	Ack    func(err error)
}

// Emitter accepts batches from an input. Emit blocks while the pipeline's
// queue is full (back-pressure) and returns ctx.Err() if ctx ends first.
type Emitter interface {
	Emit(ctx context.Context, b Batch) error
}

// Input is a source of events.
type Input interface {
	// Name identifies the input in logs, metrics and state ("logfile", "azure-logs").
	Name() string
	// Run reads events and emits them until ctx is cancelled. With
	// opts.Once it reads what is available now, emits it, and returns nil.
	// Run returns only after every batch it emitted has been acked or ctx
	// has ended.
	Run(ctx context.Context, emit Emitter, opts RunOptions) error
}

// RunOptions carry what every input needs from the manager.
type RunOptions struct {
	// Once asks for a single pass over what is available.
	Once bool
	// StateDir is a directory private to this input for its checkpoints.
	StateDir string
	// Logger is already tagged with the input's name.
	Logger *slog.Logger
	// Report counts problems with the source data (a malformed record, an
	// oversized line) so that the run summary can show them; it never stops the run.
	Report func(problem Problem)
}

// Problem is a piece of source data the input could not use as is.
type Problem struct {
	Source string // file:line, blob name, query…
	Reason string
}
