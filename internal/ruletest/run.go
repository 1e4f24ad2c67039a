package ruletest

import (
	"context"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/threatlockdown/tld/internal/analysis"
	"github.com/threatlockdown/tld/internal/event"
	"github.com/threatlockdown/tld/internal/ruleset"
)

// Location and format of the events, as wazuh-logtest sends them.
const (
	Location = "stdin"
	Format   = event.FormatSyslog
)

// Outcome is what logtest shows for one event: the rule that decided it
// (also when its level is 0), its level, and the decoder's name.
type Outcome struct {
	// Log is the event's text (empty for Result.Got when there was none).
	Log         string `json:"log,omitempty"`
	Rule        string `json:"rule"`
	Alert       string `json:"alert"`
	Decoder     string `json:"decoder"`
	Description string `json:"description,omitempty"`
}

func (o Outcome) expect() Expect { return Expect{Rule: o.Rule, Alert: o.Alert, Decoder: o.Decoder} }

func (o Outcome) String() string { return o.expect().String() }

// Result is the judgement of one case.
type Result struct {
	Case
	Passed bool `json:"passed"`
	// Got is the outcome of the session's last event (empty when the key
	// had no event).
	Got Outcome `json:"got"`
	// Events are the outcomes of every event of the session, in order.
	Events []Outcome `json:"events"`
	// Note explains a judgement that does not follow from comparing Got
	// with Want alone.
	Note string `json:"note,omitempty"`
}

// Runner judges cases against one loaded ruleset. Every case runs in a
// session of its own: a new engine over the shared, read-only ruleset, so
// that correlation state (frequency counters, if_matched_* memory, fired
// times, ignore windows) does not leak from one case to the next, as each
// wazuh-logtest process that runtests.py starts opens a new session.
type Runner struct {
	set  *ruleset.Set
	opts analysis.Options
}

// NewRunner prepares a runner. opts are given to every session's engine.
func NewRunner(set *ruleset.Set, opts analysis.Options) *Runner {
	return &Runner{set: set, opts: opts}
}

// Run feeds the case's events to a fresh session and judges the last one
// as wazuh-logtest -U rule:alert:decoder does, then negates the verdict for
// a "fail" key as runtests.py does.
func (r *Runner) Run(c Case) Result {
	eng, _ := analysis.New(r.set, r.opts)
	res := Result{Case: c, Events: []Outcome{}}
	for i, line := range c.Events() {
		ev := event.Event{
			ID:       event.NewID("ruletest", c.File, c.Section, c.Key, strconv.Itoa(i)),
			Location: Location, Log: line, Format: Format,
		}
		out := r.outcome(eng, eng.AnalyzeTrace(ev))
		out.Log = line
		res.Events = append(res.Events, out)
		res.Got = out
	}
	code, note := exitCode(c.Want, res.Got)
	res.Note = note
	res.Passed = (code == 0) != c.Negate
	return res
}

// exitCode is wazuh-logtest's exit status in unit-test mode (-U): the
// expectation "rule:alert:decoder" must split into exactly three parts at
// ':' (else status 1); at the end of input, when the last event's triple
// equals them the status is the number of empty parts (so an expectation
// with an empty part never passes), otherwise 1.
func exitCode(want Expect, got Outcome) (int, string) {
	parts := strings.Split(want.Rule+":"+want.Alert+":"+want.Decoder, ":")
	if len(parts) != 3 {
		return 1, "rule, alert and decoder must not contain ':' (wazuh-logtest -U rejects the expectation)"
	}
	g := got.expect()
	if parts[0] != g.Rule || parts[1] != g.Alert || parts[2] != g.Decoder {
		return 1, ""
	}
	empty := 0
	for _, p := range parts {
		if p == "" {
			empty++
		}
	}
	if empty > 0 {
		return empty, "an expectation with an empty rule, alert or decoder never passes (wazuh-logtest exits with the number of empty parts)"
	}
	return 0, ""
}

func (r *Runner) outcome(eng *analysis.Engine, res analysis.Result) Outcome {
	var out Outcome
	rule := res.Rule
	rec := eng.Describe(res)
	out.Decoder = rec.Decoder.Name
	if rule != nil && rec.Rule != nil {
		out.Rule = rec.Rule.ID
		out.Alert = strconv.Itoa(rec.Rule.Level)
		out.Description = rec.Rule.Description
	}
	return out
}

// RunAll runs cases on up to workers goroutines (GOMAXPROCS when zero) and
// returns their results in the order of cases. progress, when not nil, is
// called after each case with the number done so far. RunAll stops
// starting cases when ctx is done; the results of cases not run are zero.
func (r *Runner) RunAll(ctx context.Context, cases []Case, workers int, progress func(done int)) []Result {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	results := make([]Result, len(cases))
	var next, done atomic.Int64
	var wg sync.WaitGroup
	var progressMu sync.Mutex
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= len(cases) {
					return
				}
				results[i] = r.Run(cases[i])
				n := done.Add(1)
				if progress != nil {
					progressMu.Lock()
					progress(int(n))
					progressMu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	return results
}
