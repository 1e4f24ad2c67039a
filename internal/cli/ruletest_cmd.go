package cli

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/threatlockdown/tld/internal/analysis"
	"github.com/threatlockdown/tld/internal/ruleset"
	"github.com/threatlockdown/tld/internal/ruletest"
)

const rulesetTestSynopsis = "ruleset test [--ruleset DIR]... [-v] [--json] [--geoip] [--skip-windows-eventchannel] [--time T] PATH..."

// rulesetTest runs Wazuh .ini rule tests: `tld ruleset test PATH...`.
func rulesetTest(ctx context.Context, args []string, io IO) int {
	fs := newFlagSet("ruleset test", rulesetTestSynopsis, io)
	var dirs stringList
	fs.Var(&dirs, "ruleset", "load DIR/decoders, DIR/rules and DIR/lists (repeatable; default: the built-in ruleset)")
	verbose := fs.Bool("v", false, "print passing cases too")
	asJSON := fs.Bool("json", false, "print the results as one JSON document (the summary line goes to standard error)")
	geoip := fs.Bool("geoip", false, "also run the *geoip.ini files of folders (runtests.py skips them unless --geoip)")
	skipWin := fs.Bool("skip-windows-eventchannel", false,
		"do not make rule 60000 of 0575-win-base_rules.xml decoded_as json, as runtests.py does unless told to skip it")
	at := fs.String("time", "", "analyse as if every event arrived at T (RFC 3339; default: the current time, as logtest does); rules with <time> or <weekday> depend on it")
	paths, code, done := parseInterspersed(fs, args)
	if done {
		return code
	}
	var now func() time.Time
	if *at != "" {
		t, err := time.Parse(time.RFC3339, *at)
		if err != nil {
			fmt.Fprintf(io.Err, "tld ruleset test: --time %q: want RFC 3339, like 2024-01-10T12:00:00+01:00\n", *at)
			return 2
		}
		now = func() time.Time { return t }
	}
	if len(paths) == 0 {
		fmt.Fprintln(io.Err, "tld ruleset test: give at least one .ini file or folder of them")
		fs.Usage()
		return 2
	}
	files, err := ruletest.Find(paths, ruletest.FindOptions{GeoIP: *geoip})
	if err != nil {
		fmt.Fprintf(io.Err, "tld ruleset test: %v\n", err)
		return 2
	}

	set, code := loadTestRuleset(dirs, !*skipWin, io)
	if set == nil {
		return code
	}

	var cases []ruletest.Case
	broken := 0
	for _, f := range files {
		cs, err := ruletest.ReadFile(f)
		if err != nil {
			fmt.Fprintln(io.Err, err)
			broken++
		}
		cases = append(cases, cs...)
	}

	logger := slog.New(newOnceHandler(slog.NewTextHandler(io.Err, &slog.HandlerOptions{Level: slog.LevelWarn})))
	runner := ruletest.NewRunner(set, analysis.Options{Manager: "tld", Logger: logger, Now: now})
	prog := newProgress(io.Err, len(cases))
	results := runner.RunAll(ctx, cases, 0, prog.update)
	prog.clear()
	if err := ctx.Err(); err != nil {
		fmt.Fprintf(io.Err, "tld ruleset test: %v\n", err)
		return 1
	}

	passed, failed := 0, 0
	for _, r := range results {
		if r.Passed {
			passed++
		} else {
			failed++
		}
	}
	summary := fmt.Sprintf("%d passed, %d failed", passed, failed)
	if *asJSON {
		doc := struct {
			Passed      int               `json:"passed"`
			Failed      int               `json:"failed"`
			BrokenFiles int               `json:"broken_files"`
			Results     []ruletest.Result `json:"results"`
		}{passed, failed, broken, results}
		enc := json.NewEncoder(io.Out)
		enc.SetIndent("", "  ")
		if err := enc.Encode(doc); err != nil {
			fmt.Fprintf(io.Err, "tld ruleset test: %v\n", err)
			return 1
		}
		if broken > 0 {
			fmt.Fprintf(io.Err, "tld ruleset test: %d file(s) could not be read\n", broken)
		}
		fmt.Fprintln(io.Err, summary)
	} else {
		for _, r := range results {
			if !r.Passed || *verbose {
				printCase(io.Out, r)
			}
		}
		if broken > 0 {
			fmt.Fprintf(io.Out, "%d file(s) could not be read (see standard error)\n", broken)
		}
		fmt.Fprintln(io.Out, summary)
	}
	if failed > 0 || broken > 0 {
		return 1
	}
	return 0
}

// loadTestRuleset loads the ruleset named by --ruleset flags (the built-in
// one without any), adjusted for Windows event tests as runtests.py
// adjusts it. It prints errors with file:line and returns nil and the exit
// status when the ruleset does not load.
func loadTestRuleset(dirs []string, windows bool, io IO) (*ruleset.Set, int) {
	srcs, err := rulesetSources(nil, dirs)
	if err != nil {
		fmt.Fprintf(io.Err, "tld ruleset test: %v\n", err)
		return nil, 2
	}
	if windows {
		srcs, _, err = ruletest.EnableWindowsEventTests(srcs)
		if err != nil {
			fmt.Fprintf(io.Err, "tld ruleset test: %v\n", err)
			return nil, 1
		}
	}
	set := loadRuleset(srcs, "tld ruleset test", io)
	if set == nil {
		fmt.Fprintln(io.Err, "tld ruleset test: no test was run")
		return nil, 1
	}
	if n := len(set.Problems); n > 0 {
		fmt.Fprintf(io.Err, "tld ruleset test: the ruleset has %d warning(s); 'tld ruleset check' lists them\n", n)
	}
	return set, 0
}

func printCase(w io.Writer, r ruletest.Result) {
	verdict := "FAIL"
	if r.Passed {
		verdict = "ok  "
	}
	fmt.Fprintf(w, "%s %s:%d [%s] %s\n", verdict, r.File, r.Line, r.Section, r.Key)
	if r.Passed {
		return
	}
	not := ""
	if r.Negate {
		not = "anything but "
	}
	fmt.Fprintf(w, "     want: %s%s\n", not, r.Want)
	got := r.Got.String()
	if r.Got.Description != "" {
		got += fmt.Sprintf(" (%q)", r.Got.Description)
	}
	fmt.Fprintf(w, "     got:  %s\n", got)
	switch n := len(r.Events); {
	case n == 0:
		fmt.Fprintln(w, "     (no event: the key has no log line)")
	case n > 1:
		fmt.Fprintf(w, "     (%d events in one session; the last is judged)\n", n)
	}
	if r.Note != "" {
		fmt.Fprintf(w, "     note: %s\n", r.Note)
	}
}

// parseInterspersed parses flags that may come before, between or after
// the paths; "--" ends the flags.
func parseInterspersed(fs *flag.FlagSet, args []string) (paths []string, code int, done bool) {
	for {
		if code, done := parseFlags(fs, args); done {
			return nil, code, true
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return paths, 0, false
		}
		if used := len(args) - len(rest); used > 0 && args[used-1] == "--" {
			return append(paths, rest...), 0, false
		}
		paths = append(paths, rest[0])
		args = rest[1:]
	}
}

// progress reports on a terminal how many cases have run.
type progress struct {
	w     io.Writer
	total int
	on    bool
	last  int
}

func newProgress(w io.Writer, total int) *progress {
	p := &progress{w: w, total: total}
	if f, ok := w.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			p.on = total >= 200
		}
	}
	return p
}

func (p *progress) update(done int) {
	if !p.on || (done-p.last < 50 && done != p.total) {
		return
	}
	p.last = done
	fmt.Fprintf(p.w, "\rrule tests: %d/%d", done, p.total)
}

func (p *progress) clear() {
	if p.on {
		fmt.Fprintf(p.w, "\r%s\r", strings.Repeat(" ", 40))
	}
}

// onceHandler drops log records already seen: every case runs on an engine
// of its own, which would repeat its once-per-expression warnings.
type onceHandler struct {
	next  slog.Handler
	mu    *sync.Mutex
	seen  map[string]bool
	attrs string
}

func newOnceHandler(next slog.Handler) *onceHandler {
	return &onceHandler{next: next, mu: &sync.Mutex{}, seen: make(map[string]bool)}
}

func (h *onceHandler) Enabled(ctx context.Context, l slog.Level) bool { return h.next.Enabled(ctx, l) }

func (h *onceHandler) Handle(ctx context.Context, r slog.Record) error {
	var b strings.Builder
	b.WriteString(h.attrs)
	b.WriteString(r.Message)
	r.Attrs(func(a slog.Attr) bool {
		b.WriteString(" " + a.String())
		return true
	})
	h.mu.Lock()
	seen := h.seen[b.String()]
	h.seen[b.String()] = true
	h.mu.Unlock()
	if seen {
		return nil
	}
	return h.next.Handle(ctx, r)
}

func (h *onceHandler) WithAttrs(as []slog.Attr) slog.Handler {
	s := h.attrs
	for _, a := range as {
		s += a.String() + " "
	}
	return &onceHandler{next: h.next.WithAttrs(as), mu: h.mu, seen: h.seen, attrs: s}
}

func (h *onceHandler) WithGroup(name string) slog.Handler {
	return &onceHandler{next: h.next.WithGroup(name), mu: h.mu, seen: h.seen, attrs: h.attrs + name + "."}
}
