package analysis

import (
	"log/slog"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/threatlockdown/tld/internal/alert"
	"github.com/threatlockdown/tld/internal/event"
	"github.com/threatlockdown/tld/internal/mitre"
	"github.com/threatlockdown/tld/internal/plugindecoders"
	"github.com/threatlockdown/tld/internal/predecode"
	"github.com/threatlockdown/tld/internal/ruleset"
	"github.com/threatlockdown/tld/internal/ruleset/expr"
)

// Options configure an Engine.
type Options struct {
	// Manager is the manager's name in alerts (default: the host name).
	Manager string
	// LogAlertLevel is <alerts><log_alert_level>: rules below it do not
	// produce alerts (default 3 when zero and not ExplicitZero).
	LogAlertLevel int
	// Mitre is the ATT&CK table (default: the embedded one).
	Mitre *mitre.Table
	// Now returns the current time (tests set it).
	Now    func() time.Time
	Logger *slog.Logger
}

// Engine analyses events against one loaded ruleset. It is safe for
// concurrent use by many goroutines.
type Engine struct {
	set      *ruleset.Set
	decoders *decoderLists
	opts     Options
	state    map[*ruleset.Rule]*ruleState
	corr     *correlation
	stats    engineStats
	logger   *slog.Logger

	regexErrMu   sync.Mutex
	regexErrSeen map[*expr.Expr]bool
}

type ruleState struct {
	fired       atomic.Int64
	ignoredAt   atomic.Int64 // unix seconds when the ignore window started
	mitre       *alert.Mitre // resolved at start when the ids are static
	dynMitre    bool         // ids come from $(field) references
	description []descPart
}

type engineStats struct {
	events            atomic.Int64
	alerts            atomic.Int64
	malformedJSON     atomic.Int64
	regexErrors       atomic.Int64
	unsupportedPlugin atomic.Int64
}

// Stats are counters since the engine started.
type Stats struct {
	Events, Alerts, MalformedJSON, RegexErrors int64
}

// Stats returns the engine's counters.
func (e *Engine) Stats() Stats {
	return Stats{
		Events: e.stats.events.Load(), Alerts: e.stats.alerts.Load(),
		MalformedJSON: e.stats.malformedJSON.Load(), RegexErrors: e.stats.regexErrors.Load(),
	}
}

var mitreIDPattern = regexp.MustCompile(`(?i)\bT\d{4}(?:\.\d{3})?\b`)

// New prepares an engine for set. The returned problems are warnings about
// the ruleset that only show once rules meet the ATT&CK table (unknown
// technique ids).
func New(set *ruleset.Set, opts Options) (*Engine, ruleset.Problems) {
	if opts.Mitre == nil {
		opts.Mitre = mitre.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Manager == "" {
		opts.Manager, _ = os.Hostname()
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	e := &Engine{
		set: set, decoders: newDecoderLists(set.Decoders), opts: opts,
		state: make(map[*ruleset.Rule]*ruleState, len(set.AllRules)), logger: opts.Logger,
		regexErrSeen: make(map[*expr.Expr]bool),
		corr:         newCorrelation(set),
	}
	var problems ruleset.Problems
	for _, r := range set.AllRules {
		st := &ruleState{description: parseDescription(r.Description)}
		var ids []string
		for _, id := range r.Mitre {
			if strings.Contains(id, "$(") {
				st.dynMitre = true
				continue
			}
			if _, ok := opts.Mitre.Lookup(id); !ok {
				problems = append(problems, ruleset.Problem{Pos: r.Pos, Severity: ruleset.Warning,
					Msg: "rule " + strconv.Itoa(r.ID) + ": MITRE ATT&CK id " + id + " is not in ATT&CK " + opts.Mitre.Version + "; kept as is"})
			}
			ids = append(ids, id)
		}
		if !st.dynMitre {
			st.mitre = resolveMitre(opts.Mitre, ids)
		}
		e.state[r] = st
	}
	return e, problems
}

// Ruleset returns the ruleset the engine runs.
func (e *Engine) Ruleset() *ruleset.Set { return e.set }

func (e *Engine) noteRegexError(x *expr.Expr, err error) {
	e.stats.regexErrors.Add(1)
	e.regexErrMu.Lock()
	seen := e.regexErrSeen[x]
	e.regexErrSeen[x] = true
	e.regexErrMu.Unlock()
	if !seen {
		e.logger.Warn("expression failed; treated as no match (reported once per expression)", "pattern", x.String(), "err", err)
	}
}

// Trace records how an event went through the rule tree, for logtest.
type Trace struct {
	Matched []int // ids of rules whose conditions matched, in order
}

// Result is the outcome of analysing one event.
type Result struct {
	Decoded *Decoded
	// Rule is the rule that decided the event (level 0 included, as
	// logtest shows it); nil when none matched.
	Rule *ruleset.Rule
	// Alert is set when Rule's level is at or above log_alert_level and
	// the rule does not say no_log.
	Alert *alert.Alert
	Trace *Trace
}

// Analyze runs pre-decoding, decoding and the rule tree on ev.
func (e *Engine) Analyze(ev event.Event) Result {
	return e.analyze(ev, nil)
}

// AnalyzeTrace is Analyze that also records the rules tried, for logtest.
func (e *Engine) AnalyzeTrace(ev event.Event) Result {
	return e.analyze(ev, &Trace{})
}

func (e *Engine) analyze(ev event.Event, tr *Trace) Result {
	return e.evaluate(e.Decode(ev), tr)
}

// Decode runs pre-decoding and decoding: the part of analysis that keeps
// no state, which callers may run in parallel and in any order. Evaluate
// finishes the analysis; calls to it must follow event order for
// correlation rules to give the same answers however many goroutines
// decode.
func (e *Engine) Decode(ev event.Event) *Decoded {
	d := &Decoded{Event: ev, FullLog: ev.Log}
	if ev.Format == event.FormatJSON {
		d.Log = ev.Log
	} else {
		d.Header = predecode.Parse(ev.Log)
		d.Log = d.Header.Message
		if !d.Header.Found {
			d.Log = ev.Log
		}
	}
	e.decode(d)
	return d
}

// Evaluate runs the rule tree on a decoded event (see Decode).
func (e *Engine) Evaluate(d *Decoded) Result {
	return e.evaluate(d, nil)
}

func (e *Engine) evaluate(d *Decoded, tr *Trace) Result {
	e.stats.events.Add(1)
	now := e.opts.Now()
	dtype := "syslog"
	if d.Decoder != nil && d.Decoder.Type != "" {
		dtype = d.Decoder.Type
	}
	if d.typeOverride != "" {
		dtype = d.typeOverride
	}
	res := Result{Decoded: d, Trace: tr}
	pass := &evaluation{d: d, now: now, trace: tr}
	rules := e.set.Rules
	if dtype == plugindecoders.TypeOSSECAlert {
		// A forwarded alert is not matched against the rule tree: the rule
		// it names fires, or none does.
		rules = nil
		if id, err := strconv.Atoi(d.generatedRule); err == nil {
			if r, ok := e.set.ByID[id]; ok {
				rules = []*ruleset.Rule{r}
			}
		}
	}
	for _, r := range rules {
		if dtype == plugindecoders.TypeOSSECAlert {
			e.decide(pass, r, &res)
			break
		}
		cat := r.Category
		if cat == "" {
			cat = "syslog"
		}
		if cat != dtype {
			continue
		}
		if got := e.checkRule(pass, r); got != nil {
			e.decide(pass, got, &res)
			break
		}
	}
	return res
}

// decide records got as the rule that decided the event: level 0 and an
// ignore window silence it; otherwise it fires (and is remembered for the
// rules that correlate with it) and alerts at or above log_alert_level.
func (e *Engine) decide(pass *evaluation, got *ruleset.Rule, res *Result) {
	res.Rule = got
	if got.Level == 0 {
		return
	}
	now := pass.now
	st := e.state[got]
	if got.Ignore > 0 {
		start := st.ignoredAt.Load()
		if start != 0 && now.Unix()-start < int64(got.Ignore) {
			return
		}
		st.ignoredAt.Store(now.Unix())
	}
	res.Rule = got
	fired := st.fired.Add(1)
	if len(e.corr.feeds[got]) > 0 {
		e.corr.remember(got, pass.current())
	}
	if got.Level >= e.opts.LogAlertLevel && !got.Options.NoLog {
		res.Alert = e.buildAlert(pass.d, got, st, int(fired), now)
		if prev := pass.previous[got]; len(prev) > 0 {
			res.Alert.PreviousOutput = previousOutput(prev)
		}
		e.stats.alerts.Add(1)
	}
}

// Archive builds the archives.json record of an analysed event: the alert
// when there is one, else the event with its decoded fields.
func (e *Engine) Archive(res Result) *alert.Alert {
	if res.Alert != nil {
		return res.Alert
	}
	return e.baseRecord(res.Decoded, e.opts.Now())
}

func (e *Engine) baseRecord(d *Decoded, now time.Time) *alert.Alert {
	a := &alert.Alert{
		Timestamp: now,
		Manager:   e.opts.Manager,
		ID:        d.Event.ID,
		FullLog:   d.FullLog,
		Location:  d.Event.Location,
		Data:      d.Fields(),
	}
	if d.Event.Agent.ID == "" {
		a.Agent = alert.Agent{ID: "000", Name: e.opts.Manager}
	} else {
		a.Agent = alert.Agent{ID: d.Event.Agent.ID, Name: d.Event.Agent.Name, IP: d.Event.Agent.IP}
	}
	if d.Header.Found {
		a.Predecoder = alert.Predecoder{ProgramName: d.Header.ProgramName, Timestamp: d.Header.Timestamp, Hostname: d.Header.Hostname}
	}
	if d.Decoder != nil {
		a.Decoder.Name = d.Decoder.ReportedName
		if d.Decoder.Parent != nil {
			a.Decoder.Parent = d.Decoder.Parent.Name
		}
	}
	return a
}

func (e *Engine) buildAlert(d *Decoded, r *ruleset.Rule, st *ruleState, fired int, now time.Time) *alert.Alert {
	a := e.baseRecord(d, now)
	if r.Options.NoFullLog {
		a.FullLog = ""
	}
	ar := &alert.Rule{
		Level:       r.Level,
		Description: renderDescription(st.description, d),
		ID:          strconv.Itoa(r.ID),
		FiredTimes:  fired,
		Mail:        r.Options.AlertByEmail,
		Groups:      r.Groups,
		Frequency:   r.Frequency,
		PCIDSS:      r.Compliance.PCIDSS,
		GDPR:        r.Compliance.GDPR,
		HIPAA:       r.Compliance.HIPAA,
		NIST80053:   r.Compliance.NIST80053,
		TSC:         r.Compliance.TSC,
		GPG13:       r.Compliance.GPG13,
		CIS:         r.Compliance.CIS,
		Mitre:       st.mitre,
	}
	if st.dynMitre {
		var ids []string
		for _, id := range r.Mitre {
			if strings.Contains(id, "$(") {
				ids = append(ids, mitreIDPattern.FindAllString(renderDescription(parseDescription(id), d), -1)...)
			} else {
				ids = append(ids, id)
			}
		}
		ar.Mitre = resolveMitre(e.opts.Mitre, dedupe(ids))
	}
	for _, in := range r.Info {
		if in.Type == "" || in.Type == "text" {
			ar.Info = in.Value
		}
	}
	a.Rule = ar
	return a
}

func dedupe(ids []string) []string {
	seen := make(map[string]bool, len(ids))
	out := ids[:0]
	for _, id := range ids {
		u := strings.ToUpper(id)
		if !seen[u] {
			seen[u] = true
			out = append(out, u)
		}
	}
	return out
}

// resolveMitre fills technique names and tactics from the table; an id the
// table lacks is kept with no name, as Wazuh keeps unknown ids.
func resolveMitre(t *mitre.Table, ids []string) *alert.Mitre {
	if len(ids) == 0 {
		return nil
	}
	m := &alert.Mitre{}
	seenTactic := make(map[string]bool)
	for _, id := range ids {
		m.ID = append(m.ID, id)
		te, ok := t.Lookup(id)
		if !ok {
			continue
		}
		m.Technique = append(m.Technique, te.Name)
		for _, ta := range te.Tactics {
			if !seenTactic[ta] {
				seenTactic[ta] = true
				m.Tactic = append(m.Tactic, ta)
			}
		}
	}
	return m
}

// descPart is a piece of a rule description: literal text or a $(field).
type descPart struct {
	text  string
	field bool
}

func parseDescription(s string) []descPart {
	var parts []descPart
	for {
		i := strings.Index(s, "$(")
		if i < 0 {
			break
		}
		j := strings.IndexByte(s[i+2:], ')')
		if j < 0 {
			break
		}
		if i > 0 {
			parts = append(parts, descPart{text: s[:i]})
		}
		parts = append(parts, descPart{text: s[i+2 : i+2+j], field: true})
		s = s[i+3+j:]
	}
	if s != "" {
		parts = append(parts, descPart{text: s})
	}
	return parts
}

// renderDescription substitutes $(field) with the event's value; a field
// the event lacks becomes empty, as in analysisd.
func renderDescription(parts []descPart, d *Decoded) string {
	if len(parts) == 1 && !parts[0].field {
		return parts[0].text
	}
	var b strings.Builder
	for _, p := range parts {
		if !p.field {
			b.WriteString(p.text)
			continue
		}
		if v, ok := d.Field(p.text); ok {
			b.WriteString(v)
		}
	}
	return b.String()
}

// Describe returns the alert record of res even when its rule is below
// log_alert_level or no rule matched (then without a rule), for logtest.
func (e *Engine) Describe(res Result) *alert.Alert {
	if res.Alert != nil {
		return res.Alert
	}
	now := e.opts.Now()
	if res.Rule == nil {
		return e.baseRecord(res.Decoded, now)
	}
	st := e.state[res.Rule]
	return e.buildAlert(res.Decoded, res.Rule, st, int(st.fired.Load()), now)
}

// previousOutput lists the earlier events a correlation rule counted, as
// Wazuh's previous_output (at most ten, newest first).
func previousOutput(prev []*pastEvent) string {
	var b strings.Builder
	for i, p := range prev {
		if i == 10 {
			break
		}
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(p.fullLog)
	}
	return b.String()
}
