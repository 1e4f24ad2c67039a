// Package event defines what inputs emit: one raw security event with the
// identity that lets outputs recognise a replay after a crash.
package event

import (
	"crypto/sha256"
	"encoding/hex"
	"time"
)

// Format says how the analysis should pre-decode an event's text, as the
// log_format of a Wazuh <localfile> does.
type Format string

const (
	// FormatSyslog events carry a syslog header that pre-decoding strips.
	FormatSyslog Format = "syslog"
	// FormatJSON events are one JSON document; there is no header.
	FormatJSON Format = "json"
)

// Agent identifies the host an event came from. The manager itself is
// agent "000", as in Wazuh.
type Agent struct {
	ID   string
	Name string
	IP   string
}

// Event is one raw record handed from an input to the pipeline.
type Event struct {
	// ID is deterministic for a given source record, so that a batch
	// replayed after a crash yields the same id and stores can drop it.
	ID string
	// Location is where the event was read: a file path, "Azure", "stdin".
	Location string
	// Log is the record's text without a trailing newline.
	Log string
	// Format selects pre-decoding.
	Format Format
	// Time is the source's time for the record; zero means "when analysed".
	Time time.Time
	// Agent is the host that produced the record; zero means the manager.
	Agent Agent
}

// NewID derives an event id from the parts that identify a record at its
// source (for a file: its identity and the record's offset). The same parts
// always give the same id.
func NewID(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	sum := h.Sum(nil)
	return hex.EncodeToString(sum[:16])
}
