package pipeline_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/threatlockdown/tld/internal/analysis"
	"github.com/threatlockdown/tld/internal/event"
	"github.com/threatlockdown/tld/internal/pipeline"
	"github.com/threatlockdown/tld/internal/ruleset"
)

const rules = `<group name="t,">
  <rule id="100001" level="5">
    <decoded_as>json</decoded_as>
    <field name="n">\d</field>
    <description>n=$(n)</description>
  </rule>
</group>`

const decoders = `<decoder name="json"><prematch>^{\s*"</prematch><plugin_decoder>JSON_Decoder</plugin_decoder></decoder>`

func engine(t *testing.T) *analysis.Engine {
	t.Helper()
	fs := fstest.MapFS{"d/d.xml": {Data: []byte(decoders)}, "r/r.xml": {Data: []byte(rules)}}
	set, err := ruleset.Load(ruleset.Source{Name: "t", FS: fs, DecoderDirs: []string{"d"}, RuleDirs: []string{"r"}})
	if err != nil {
		t.Fatal(err)
	}
	e, _ := analysis.New(set, analysis.Options{LogAlertLevel: 3, Manager: "m"})
	return e
}

// sliceInput emits its batches, then (Once) waits for every ack.
type sliceInput struct {
	name    string
	batches [][]string
	mu      sync.Mutex
	acks    []int // batch index, in ack order
	ackErrs []error
}

func (s *sliceInput) Name() string { return s.name }

func (s *sliceInput) Run(ctx context.Context, emit pipeline.Emitter, _ pipeline.RunOptions) error {
	var wg sync.WaitGroup
	for i, b := range s.batches {
		var evs []event.Event
		for j, l := range b {
			evs = append(evs, event.Event{ID: fmt.Sprintf("%s-%d-%d", s.name, i, j), Log: l, Format: event.FormatJSON, Location: s.name})
		}
		wg.Add(1)
		if err := emit.Emit(ctx, pipeline.Batch{Events: evs, Ack: func(err error) {
			s.mu.Lock()
			s.acks = append(s.acks, i)
			s.ackErrs = append(s.ackErrs, err)
			s.mu.Unlock()
			wg.Done()
		}}); err != nil {
			return err
		}
	}
	wg.Wait()
	return nil
}

// recordOutput keeps what it was given, optionally failing or slow.
type recordOutput struct {
	mu       sync.Mutex
	pending  []string
	durable  []string
	failWith error
	delay    time.Duration
}

func (o *recordOutput) Name() string { return "record" }
func (o *recordOutput) Write(_ context.Context, r pipeline.Records) error {
	time.Sleep(o.delay)
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, a := range r.Alerts {
		o.pending = append(o.pending, a.ID)
	}
	return nil
}
func (o *recordOutput) Flush(context.Context) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.failWith != nil {
		o.pending = nil
		return o.failWith
	}
	o.durable = append(o.durable, o.pending...)
	o.pending = nil
	return nil
}
func (o *recordOutput) Close() error { return nil }

func batches(n, size int) [][]string {
	var out [][]string
	for i := 0; i < n; i++ {
		var b []string
		for j := 0; j < size; j++ {
			b = append(b, fmt.Sprintf(`{"n":"%d"}`, (i+j)%10))
		}
		out = append(out, b)
	}
	return out
}

func TestBatchesAreWrittenAndAckedInEmissionOrder(t *testing.T) {
	in := &sliceInput{name: "a", batches: batches(50, 7)}
	out := &recordOutput{}
	p := pipeline.New(engine(t), []pipeline.Input{in}, []pipeline.Output{out}, pipeline.Options{Workers: 4, Once: true, StateDir: t.TempDir()})
	if err := p.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	for i, b := range in.acks {
		if b != i {
			t.Fatalf("acks in order %v", in.acks)
		}
		if in.ackErrs[i] != nil {
			t.Fatalf("batch %d acked with %v", i, in.ackErrs[i])
		}
	}
	if len(out.durable) != 350 {
		t.Fatalf("%d alerts written, want 350", len(out.durable))
	}
	for i, id := range out.durable {
		if want := fmt.Sprintf("a-%d-%d", i/7, i%7); id != want {
			t.Fatalf("alert %d is %s, want %s: outputs must see events in order", i, id, want)
		}
	}
	s := p.Summary()
	if s.TotalEvents != 350 || s.Alerts != 350 || len(s.Rules) != 1 || s.Rules[0].Count != 350 {
		t.Errorf("summary %+v", s)
	}
}

func TestAFailingOutputIsReportedToTheInputInsteadOfAcked(t *testing.T) {
	in := &sliceInput{name: "a", batches: batches(3, 2)}
	out := &recordOutput{failWith: errors.New("disk full")}
	p := pipeline.New(engine(t), []pipeline.Input{in}, []pipeline.Output{out}, pipeline.Options{Workers: 2, Once: true, StateDir: t.TempDir()})
	err := p.Run(context.Background())
	if err == nil {
		t.Fatal("Run succeeded although the output failed")
	}
	for i, e := range in.ackErrs {
		if e == nil {
			t.Errorf("batch %d was acked as written", in.acks[i])
		}
	}
}

func TestSeveralInputsShareThePipeline(t *testing.T) {
	a := &sliceInput{name: "a", batches: batches(20, 3)}
	b := &sliceInput{name: "b", batches: batches(30, 2)}
	out := &recordOutput{delay: time.Millisecond}
	p := pipeline.New(engine(t), []pipeline.Input{a, b}, []pipeline.Output{out}, pipeline.Options{Workers: 2, QueueBatches: 1, Once: true, StateDir: t.TempDir()})
	if err := p.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if s := p.Summary(); s.Events["a"] != 60 || s.Events["b"] != 60 || len(out.durable) != 120 {
		t.Errorf("events %v, %d written", s.Events, len(out.durable))
	}
}

const correlatingRules = `<group name="t,">
  <rule id="100001" level="5">
    <decoded_as>json</decoded_as>
    <field name="n">\d</field>
    <description>n=$(n)</description>
  </rule>
  <rule id="100002" level="9" frequency="3" timeframe="600">
    <if_matched_sid>100001</if_matched_sid>
    <same_source_ip />
    <description>three from $(srcip)</description>
  </rule>
</group>`

// TestWorkersGiveTheAnswersOfOne runs correlation rules over the same
// events with one and with four workers: the alerts must be identical.
func TestWorkersGiveTheAnswersOfOne(t *testing.T) {
	run := func(workers int) []string {
		fs := fstest.MapFS{"d/d.xml": {Data: []byte(decoders)}, "r/r.xml": {Data: []byte(correlatingRules)}}
		set, err := ruleset.Load(ruleset.Source{Name: "t", FS: fs, DecoderDirs: []string{"d"}, RuleDirs: []string{"r"}})
		if err != nil {
			t.Fatal(err)
		}
		eng, _ := analysis.New(set, analysis.Options{LogAlertLevel: 3, Manager: "m"})
		var bs [][]string
		for i := 0; i < 60; i++ {
			var b []string
			for j := 0; j < 7; j++ {
				b = append(b, fmt.Sprintf(`{"n":"%d","srcip":"10.0.0.%d"}`, j, (i*7+j)%5))
			}
			bs = append(bs, b)
		}
		in := &sliceInput{name: "a", batches: bs}
		out := &recordAlerts{}
		p := pipeline.New(eng, []pipeline.Input{in}, []pipeline.Output{out}, pipeline.Options{Workers: workers, Once: true, StateDir: t.TempDir()})
		if err := p.Run(context.Background()); err != nil {
			t.Fatal(err)
		}
		return out.lines
	}
	one, four := run(1), run(4)
	if len(one) != 420 {
		t.Fatalf("%d alerts, want one per event", len(one))
	}
	fired := 0
	for i := range one {
		if one[i] != four[i] {
			t.Fatalf("alert %d: one worker %s, four workers %s", i, one[i], four[i])
		}
		if strings.HasSuffix(one[i], "100002") {
			fired++
		}
	}
	if fired == 0 {
		t.Fatal("the correlation rule never fired: the test proves nothing")
	}
}

// recordAlerts keeps "event id rule id" per alert.
type recordAlerts struct {
	lines []string
}

func (o *recordAlerts) Name() string { return "record" }
func (o *recordAlerts) Write(_ context.Context, r pipeline.Records) error {
	for _, a := range r.Alerts {
		o.lines = append(o.lines, a.ID+" "+a.Rule.ID)
	}
	return nil
}
func (o *recordAlerts) Flush(context.Context) error { return nil }
func (o *recordAlerts) Close() error                { return nil }
