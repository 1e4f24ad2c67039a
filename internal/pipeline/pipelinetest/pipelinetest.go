// Package pipelinetest helps test inputs against the pipeline's contract.
package pipelinetest

import "testing"

// AckPump runs acknowledgements one at a time, in the order they were
// queued, on its own goroutine — as the pipeline's writer acknowledges
// batches. It stops when the test ends, after running what was queued.
type AckPump struct {
	acks chan func()
	done chan struct{}
}

// NewAckPump starts a pump that lives as long as the test.
func NewAckPump(tb testing.TB) *AckPump {
	p := &AckPump{acks: make(chan func(), 4096), done: make(chan struct{})}
	go func() {
		defer close(p.done)
		for f := range p.acks {
			f()
		}
	}()
	tb.Cleanup(func() {
		close(p.acks)
		<-p.done
	})
	return p
}

// Queue runs f after every acknowledgement queued before it.
func (p *AckPump) Queue(f func()) { p.acks <- f }
