package pipeline

import (
	"context"

	"github.com/threatlockdown/tld/internal/alert"
)

// Records is what analysis produced for one batch of events.
type Records struct {
	// Alerts are the alerts at or above log_alert_level.
	Alerts []*alert.Alert
	// Archives are every analysed event (filled only when an output asked
	// for them, as <logall_json> does).
	Archives []*alert.Alert
}

// Output writes analysis results somewhere durable.
type Output interface {
	// Name identifies the output in logs and metrics.
	Name() string
	// Write hands over the records of one batch. It may buffer.
	Write(ctx context.Context, recs Records) error
	// Flush makes everything written so far durable; the pipeline acks
	// batches to their inputs only after every output's Flush succeeded.
	Flush(ctx context.Context) error
	// Close flushes and releases the output.
	Close() error
}

// ArchiveWanter is implemented by outputs that want every event, not only
// alerts; the pipeline builds archive records only when one does.
type ArchiveWanter interface {
	WantsArchives() bool
}
