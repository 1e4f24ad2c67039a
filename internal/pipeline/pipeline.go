// Package pipeline wires inputs, analysis and outputs: inputs emit batches
// into a bounded queue, workers analyse them in parallel, a writer hands
// the results to every output in emission order, flushes, and only then
// acknowledges each batch so its input can save its checkpoint.
package pipeline

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"runtime"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/threatlockdown/tld/internal/alert"
	"github.com/threatlockdown/tld/internal/analysis"
)

// Options size the pipeline.
type Options struct {
	Workers      int // analysis goroutines (default: 2)
	QueueBatches int // batches waiting for analysis (default: 2 × Workers)
	Logger       *slog.Logger
	StateDir     string // parent of each input's state directory
	Once         bool
}

// Pipeline runs inputs through analysis into outputs.
type Pipeline struct {
	opts    Options
	engine  atomic.Pointer[analysis.Engine]
	inputs  []Input
	outputs []Output
	archive bool
	logger  *slog.Logger

	queue chan *job
	done  chan *job
	seq   atomic.Uint64
	// enqueueMu makes taking a sequence number and entering the queue one
	// step, so the writer never waits for a number that is not coming.
	enqueueMu sync.Mutex
	stats     *Summary
}

type job struct {
	seq     uint64
	input   string
	batch   Batch
	decoded []*analysis.Decoded
	recs    Records
}

// New builds a pipeline; Run starts it.
func New(engine *analysis.Engine, inputs []Input, outputs []Output, opts Options) *Pipeline {
	if opts.Workers <= 0 {
		opts.Workers = 2
	}
	if opts.QueueBatches <= 0 {
		opts.QueueBatches = 2 * opts.Workers
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	p := &Pipeline{
		opts: opts, inputs: inputs, outputs: outputs, logger: opts.Logger,
		queue: make(chan *job, opts.QueueBatches),
		done:  make(chan *job, opts.QueueBatches+opts.Workers),
		stats: newSummary(),
	}
	p.engine.Store(engine)
	for _, o := range outputs {
		if w, ok := o.(ArchiveWanter); ok && w.WantsArchives() {
			p.archive = true
		}
	}
	return p
}

// SetEngine swaps the analysis engine (a reloaded ruleset); batches already
// being analysed finish with the old one.
func (p *Pipeline) SetEngine(e *analysis.Engine) { p.engine.Store(e) }

// Engine returns the engine in use.
func (p *Pipeline) Engine() *analysis.Engine { return p.engine.Load() }

type emitter struct {
	p     *Pipeline
	input string
}

func (em emitter) Emit(ctx context.Context, b Batch) error {
	if len(b.Events) == 0 {
		if b.Ack != nil {
			b.Ack(nil)
		}
		return nil
	}
	j := &job{input: em.input, batch: b}
	select {
	case <-ctx.Done():
		return ctx.Err()
	default:
	}
	if !em.p.enqueue(ctx, j) {
		return ctx.Err()
	}
	return nil
}

// enqueue numbers the batch and queues it; the number is taken under the
// same lock as the send, so the writer never waits for a number that is
// not coming. It reports false when ctx ended first.
func (p *Pipeline) enqueue(ctx context.Context, j *job) bool {
	p.enqueueMu.Lock()
	defer p.enqueueMu.Unlock()
	j.seq = p.seq.Load() + 1
	select {
	case p.queue <- j:
		p.seq.Store(j.seq)
		return true
	case <-ctx.Done():
		return false
	}
}

// Run starts every input and processes their batches until the inputs
// return (with Once) or ctx is cancelled; it then drains what was queued,
// flushes the outputs and returns. Errors of inputs are joined.
func (p *Pipeline) Run(ctx context.Context) error {
	var workers sync.WaitGroup
	for i := 0; i < p.opts.Workers; i++ {
		workers.Add(1)
		go func() {
			defer workers.Done()
			p.work()
		}()
	}
	writerErr := make(chan error, 1)
	go func() { writerErr <- p.write() }()

	var inputs sync.WaitGroup
	errs := make([]error, len(p.inputs))
	for i, in := range p.inputs {
		inputs.Add(1)
		go func() {
			defer inputs.Done()
			opts := RunOptions{
				Once:     p.opts.Once,
				StateDir: fmt.Sprintf("%s/%s", p.opts.StateDir, in.Name()),
				Logger:   p.logger.With("input", in.Name()),
				Report:   func(pr Problem) { p.stats.addProblem(in.Name(), pr) },
			}
			if err := in.Run(ctx, emitter{p: p, input: in.Name()}, opts); err != nil && !errors.Is(err, context.Canceled) {
				errs[i] = fmt.Errorf("input %s: %w", in.Name(), err)
			}
		}()
	}
	inputs.Wait()
	// No input emits any more: let the workers drain the queue.
	close(p.queue)
	workers.Wait()
	close(p.done)
	err := <-writerErr
	for _, o := range p.outputs {
		if cerr := o.Close(); cerr != nil {
			err = errors.Join(err, fmt.Errorf("close output %s: %w", o.Name(), cerr))
		}
	}
	return errors.Join(append(errs, err)...)
}

// work decodes batches in parallel: decoding keeps no state. The rule tree,
// whose correlation rules remember earlier events, runs in the writer, in
// emission order, so that any number of workers gives the answers of one.
func (p *Pipeline) work() {
	for j := range p.queue {
		eng := p.engine.Load()
		j.decoded = make([]*analysis.Decoded, len(j.batch.Events))
		for i, ev := range j.batch.Events {
			j.decoded[i] = eng.Decode(ev)
		}
		p.done <- j
	}
}

// evaluate runs the rule tree over a decoded batch, in order.
func (p *Pipeline) evaluate(j *job) {
	eng := p.engine.Load()
	for _, d := range j.decoded {
		res := eng.Evaluate(d)
		if res.Alert != nil {
			j.recs.Alerts = append(j.recs.Alerts, res.Alert)
		}
		if p.archive {
			j.recs.Archives = append(j.recs.Archives, eng.Archive(res))
		}
	}
	j.decoded = nil
}

// write puts finished batches back into emission order, writes them to
// every output, flushes, and acks. Batches that finish while a flush is
// under way share the next one.
func (p *Pipeline) write() error {
	pending := make(map[uint64]*job)
	next := uint64(1)
	var firstErr error
	ctx := context.Background()
	var ready []*job
	// take files a finished batch and moves every batch now in order to ready.
	take := func(j *job) {
		pending[j.seq] = j
		for r, ok := pending[next]; ok; r, ok = pending[next] {
			delete(pending, next)
			ready = append(ready, r)
			next++
		}
	}
	for j := range p.done {
		take(j)
	drain:
		for {
			select {
			case more, ok := <-p.done:
				if !ok {
					break drain
				}
				take(more)
			default:
				break drain
			}
		}
		if len(ready) == 0 {
			continue
		}
		for _, r := range ready {
			p.evaluate(r)
		}
		err := p.deliver(ctx, ready)
		if err != nil && firstErr == nil {
			firstErr = err
		}
		for _, r := range ready {
			p.stats.addBatch(r, err == nil)
			if r.batch.Ack != nil {
				r.batch.Ack(err)
			}
		}
		ready = ready[:0]
	}
	// Sequence numbers are taken only by batches that entered the queue,
	// so none can be missing once the workers are done. Should one be, the
	// batches behind it were not written: their inputs must read them again.
	for _, j := range pending {
		p.evaluate(j)
		err := fmt.Errorf("pipeline: batch %d was not written (a batch before it never arrived)", j.seq)
		p.logger.Error("internal error", "err", err)
		if j.batch.Ack != nil {
			j.batch.Ack(err)
		}
		if firstErr == nil {
			firstErr = err
		}
	}
	return firstErr
}

func (p *Pipeline) deliver(ctx context.Context, jobs []*job) error {
	encode(jobs)
	// Outputs are independent (a file, the store, a cluster): they write
	// and flush side by side, so the slowest sets the pace, not their sum.
	errs := make([]error, len(p.outputs))
	var wg sync.WaitGroup
	for i, o := range p.outputs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var err error
			for _, j := range jobs {
				if err = o.Write(ctx, j.recs); err != nil {
					break
				}
			}
			if err == nil {
				err = o.Flush(ctx)
			}
			if err != nil {
				p.stats.addOutputError(o.Name())
				errs[i] = fmt.Errorf("output %s: %w", o.Name(), err)
				p.logger.Error("output failed; the batch is not acknowledged and will be read again", "output", o.Name(), "err", err)
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// encode makes every record's JSON once, on every core, before the
// outputs get them: they all write the same bytes (alert.JSON caches
// them), and outputs working side by side would otherwise encode the same
// alert more than once.
func encode(jobs []*job) {
	var recs []*alert.Alert
	for _, j := range jobs {
		recs = append(recs, j.recs.Alerts...)
		recs = append(recs, j.recs.Archives...)
	}
	const chunk = 64
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), (len(recs)+chunk-1)/chunk) {
		wg.Go(func() {
			for {
				i := int(next.Add(chunk)) - chunk
				if i >= len(recs) {
					return
				}
				for _, a := range recs[i:min(i+chunk, len(recs))] {
					a.JSON()
				}
			}
		})
	}
	wg.Wait()
}

// Summary counts what a run did, for the end-of-run report.
type Summary struct {
	mu       sync.Mutex
	Started  time.Time
	Events   map[string]int // per input: analysed
	Written  map[string]int // per input: written by every output and acknowledged
	Failed   map[string]int // per input: in batches some output failed to write (read again later)
	Alerts   int
	ByLevel  map[int]int
	ByRule   map[string]*RuleCount
	Problems map[string]int // per input
	Examples []string       // first problems, for the report
	// OutputErrors counts failed writes or flushes per output.
	OutputErrors map[string]int
}

// RuleCount is how often one rule alerted.
type RuleCount struct {
	ID          string
	Level       int
	Description string
	Count       int
	Mitre       []string
}

func newSummary() *Summary {
	return &Summary{
		Started: time.Now(), Events: map[string]int{}, Written: map[string]int{}, Failed: map[string]int{},
		ByLevel: map[int]int{}, ByRule: map[string]*RuleCount{}, Problems: map[string]int{}, OutputErrors: map[string]int{},
	}
}

func (s *Summary) addBatch(j *job, written bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.Events[j.input] += len(j.batch.Events)
	if written {
		s.Written[j.input] += len(j.batch.Events)
	} else {
		s.Failed[j.input] += len(j.batch.Events)
	}
	for _, a := range j.recs.Alerts {
		s.Alerts++
		s.ByLevel[a.Rule.Level]++
		rc := s.ByRule[a.Rule.ID]
		if rc == nil {
			rc = &RuleCount{ID: a.Rule.ID, Level: a.Rule.Level, Description: a.Rule.Description}
			if a.Rule.Mitre != nil {
				rc.Mitre = a.Rule.Mitre.ID
			}
			s.ByRule[a.Rule.ID] = rc
		}
		rc.Count++
	}
}

const maxExamples = 20

func (s *Summary) addOutputError(output string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.OutputErrors[output]++
}

func (s *Summary) addProblem(input string, pr Problem) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.Problems[input]++
	if len(s.Examples) < maxExamples {
		s.Examples = append(s.Examples, pr.Source+": "+pr.Reason)
	}
}

// Summary returns a snapshot of the run's counters.
func (p *Pipeline) Summary() SummarySnapshot {
	s := p.stats
	s.mu.Lock()
	defer s.mu.Unlock()
	snap := SummarySnapshot{
		Elapsed: time.Since(s.Started), Alerts: s.Alerts, Events: map[string]int{}, Problems: map[string]int{},
		Written: maps.Clone(s.Written), Failed: maps.Clone(s.Failed), ByLevel: maps.Clone(s.ByLevel),
		OutputErrors:  maps.Clone(s.OutputErrors),
		QueuedBatches: len(p.queue) + len(p.done), QueueCapacity: cap(p.queue),
	}
	for k, v := range s.Events {
		snap.Events[k] = v
		snap.TotalEvents += v
	}
	for k, v := range s.Problems {
		snap.Problems[k] = v
		snap.TotalProblems += v
	}
	snap.Examples = append(snap.Examples, s.Examples...)
	for _, rc := range s.ByRule {
		snap.Rules = append(snap.Rules, *rc)
	}
	sort.Slice(snap.Rules, func(a, b int) bool {
		if snap.Rules[a].Count != snap.Rules[b].Count {
			return snap.Rules[a].Count > snap.Rules[b].Count
		}
		return snap.Rules[a].ID < snap.Rules[b].ID
	})
	return snap
}

// SummarySnapshot is a copy of the run's counters.
type SummarySnapshot struct {
	Elapsed       time.Duration
	TotalEvents   int
	Events        map[string]int
	Alerts        int
	Rules         []RuleCount
	TotalProblems int
	Problems      map[string]int
	Examples      []string
	Written       map[string]int // per input
	Failed        map[string]int // per input
	ByLevel       map[int]int
	OutputErrors  map[string]int // per output
	// QueuedBatches is how many batches wait for analysis or writing.
	QueuedBatches int
	QueueCapacity int
}
