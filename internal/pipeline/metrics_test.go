package pipeline_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/threatlockdown/tld/internal/pipeline"
)

func TestMetricsCountEventsInAndOutPerInputAlertsByLevelAndOutputErrors(t *testing.T) {
	good := &sliceInput{name: "good", batches: [][]string{{`{"n":"1"}`, `{"n":"2"}`, `{"x":"no alert"}`}}}
	p := pipeline.New(engine(t), []pipeline.Input{good}, []pipeline.Output{&recordOutput{}}, pipeline.Options{Workers: 2, Once: true, StateDir: t.TempDir()})
	if err := p.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(p.Collector())
	want := `
# HELP tld_alerts_total Alerts raised, by rule level.
# TYPE tld_alerts_total counter
tld_alerts_total{level="5"} 2
# HELP tld_events_received_total Events read by an input and analysed.
# TYPE tld_events_received_total counter
tld_events_received_total{input="good"} 3
# HELP tld_events_unwritten_total Events in batches an output failed to write; their input reads them again.
# TYPE tld_events_unwritten_total counter
tld_events_unwritten_total{input="good"} 0
# HELP tld_events_written_total Events whose batch every output wrote durably (acknowledged to the input).
# TYPE tld_events_written_total counter
tld_events_written_total{input="good"} 3
# HELP tld_output_errors_total Failed writes or flushes, by output.
# TYPE tld_output_errors_total counter
tld_output_errors_total{output="record"} 0
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "tld_alerts_total", "tld_events_received_total", "tld_events_written_total", "tld_events_unwritten_total", "tld_output_errors_total"); err != nil {
		t.Error(err)
	}

	bad := &sliceInput{name: "bad", batches: [][]string{{`{"n":"1"}`}}}
	p = pipeline.New(engine(t), []pipeline.Input{bad}, []pipeline.Output{&recordOutput{failWith: errors.New("disk full")}}, pipeline.Options{Once: true, StateDir: t.TempDir()})
	_ = p.Run(context.Background())
	reg = prometheus.NewPedanticRegistry()
	reg.MustRegister(p.Collector())
	want = `
# HELP tld_events_unwritten_total Events in batches an output failed to write; their input reads them again.
# TYPE tld_events_unwritten_total counter
tld_events_unwritten_total{input="bad"} 1
# HELP tld_output_errors_total Failed writes or flushes, by output.
# TYPE tld_output_errors_total counter
tld_output_errors_total{output="record"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "tld_events_unwritten_total", "tld_output_errors_total"); err != nil {
		t.Error(err)
	}
}
