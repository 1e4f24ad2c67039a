package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/threatlockdown/tld/internal/config"
	"github.com/threatlockdown/tld/internal/event"
	"github.com/threatlockdown/tld/internal/input/azurelogs"
	"github.com/threatlockdown/tld/internal/input/logfile"
	"github.com/threatlockdown/tld/internal/output/alertsjson"
	"github.com/threatlockdown/tld/internal/output/alertstore"
	"github.com/threatlockdown/tld/internal/output/opensearch"
	"github.com/threatlockdown/tld/internal/pipeline"
	"github.com/threatlockdown/tld/internal/store"
)

func runCommand(ctx context.Context, args []string, io IO) int {
	fs := newFlagSet("run", "run -c FILE [--data DIR] [--once] [--listen ADDR] [--workers N]", io)
	cfgPath := fs.String("c", "", "ossec.conf to run (required)")
	dataDir := fs.String("data", "./var", "directory for alerts/, state/ and the store")
	once := fs.Bool("once", false, "run every input once, drain, flush and exit")
	listen := fs.String("listen", "127.0.0.1:8080", "address of the dashboard, REST API, /healthz and /metrics (empty disables)")
	workers := fs.Int("workers", runtime.GOMAXPROCS(0), "analysis workers")
	logLevel := fs.String("log-level", "", "debug, info, warn or error (default info; warn with --once)")
	if code, done := parseFlags(fs, args); done {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(io.Err, "tld run: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	if *logLevel == "" {
		*logLevel = "info"
		if *once {
			*logLevel = "warn"
		}
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		fmt.Fprintf(io.Err, "tld run: --log-level %q: want debug, info, warn or error\n", *logLevel)
		return 2
	}
	logger := newLogger(io.Err, level)

	env, code := setup(ctx, setupOptions{configPath: *cfgPath, needConfig: true, logger: logger}, io)
	if env == nil {
		return code
	}
	cfg := env.cfg
	if _, err := cfg.CheckCredentials(); err != nil {
		fmt.Fprintln(io.Err, err)
		fmt.Fprintf(io.Err, "tld: %s has errors; nothing was started\n", *cfgPath)
		return 1
	}

	inputs, err := buildInputs(cfg, logger)
	if err != nil {
		fmt.Fprintf(io.Err, "tld: %v\n", err)
		return 1
	}
	if len(inputs) == 0 {
		fmt.Fprintf(io.Err, "tld: %s enables no input that this version can run; nothing to do\n", *cfgPath)
		return 1
	}
	alertsDir := filepath.Join(*dataDir, "alerts")
	out, err := alertsjson.New(alertsjson.Options{
		Dir:         alertsDir,
		AlertsJSON:  cfg.Global.JSONOutOutput,
		AlertsLog:   cfg.Global.AlertsLog,
		ArchiveLog:  cfg.Global.LogAll,
		ArchiveJSON: cfg.Global.LogAllJSON,
	})
	if err != nil {
		fmt.Fprintf(io.Err, "tld: %v\n", err)
		return 1
	}
	st, err := store.Open(ctx, filepath.Join(*dataDir, storeFile), store.Options{Logger: logger.With("component", "store")})
	if err != nil {
		fmt.Fprintf(io.Err, "tld: %v\n", err)
		return 1
	}
	defer st.Close()
	outputs := []pipeline.Output{out, alertstore.New(st)}
	var indexer *opensearch.Output
	if cfg.Indexer.AlertsToIndexer() {
		if indexer, err = indexerOutput(ctx, cfg, *dataDir, logger); err != nil {
			fmt.Fprintf(io.Err, "tld: %v\n", err)
			return 1
		}
		outputs = append(outputs, indexer)
	}
	p := pipeline.New(env.engine, inputs, outputs, pipeline.Options{
		Workers: *workers, Logger: logger, StateDir: filepath.Join(*dataDir, "state"), Once: *once,
	})

	if *once {
		if days := cfg.Alerts.RetentionDays; days > 0 {
			if _, err := st.Prune(ctx, time.Now().AddDate(0, 0, -days)); err != nil {
				logger.Warn("alert store retention", "err", err)
			}
		}
	} else {
		retCtx, stopRetention := context.WithCancel(ctx)
		retDone := make(chan struct{})
		go func() {
			defer close(retDone)
			if err := st.RunRetention(retCtx, cfg.Alerts.RetentionDays); err != nil && !errors.Is(err, context.Canceled) {
				logger.Error("alert store retention stopped", "err", err)
			}
		}()
		defer func() { stopRetention(); <-retDone }()
	}

	if *listen != "" && !*once {
		health := func(context.Context) any {
			s := p.Summary()
			return map[string]any{"events": s.TotalEvents, "alerts": s.Alerts, "queued_batches": s.QueuedBatches}
		}
		srv, err := startServer(ctx, *listen, cfg, *dataDir, st, metricsRegistry(p, st, indexer), health, logger, io.Out)
		if err != nil {
			fmt.Fprintf(io.Err, "tld: %v\n", err)
			return 1
		}
		defer srv.Close()
	}
	logger.Info("started", "config", *cfgPath, "ruleset", env.set.Stats(), "inputs", len(inputs), "once", *once)
	if !*once {
		stopReload := reloadOnHangup(ctx, *cfgPath, p, logger)
		defer stopReload()
	}
	paths := out.Paths()
	runErr := p.Run(ctx)
	printSummary(io.Out, p.Summary(), paths, *once)
	if runErr != nil {
		fmt.Fprintf(io.Err, "tld: %v\n", runErr)
		return 1
	}
	return 0
}

// buildInputs creates the inputs the configuration enables.
func buildInputs(cfg *config.Config, logger *slog.Logger) ([]pipeline.Input, error) {
	var specs []logfile.Spec
	for _, lf := range cfg.LocalFiles {
		var f event.Format
		switch lf.LogFormat {
		case "json":
			f = event.FormatJSON
		case "syslog":
			f = event.FormatSyslog
		case "command", "full_command", "eventchannel", "eventlog", "journald", "macos":
			logger.Warn("this <localfile> log_format is not supported yet; skipped", "at", lf.Pos.String(), "log_format", lf.LogFormat)
			continue
		default:
			logger.Warn("this <localfile> log_format is read as plain lines, like syslog", "at", lf.Pos.String(), "log_format", lf.LogFormat)
			f = event.FormatSyslog
		}
		loc := lf.Location
		if !filepath.IsAbs(loc) {
			loc = cfg.Resolve(loc)
		}
		specs = append(specs, logfile.Spec{Location: loc, Format: f, OnlyFutureEvents: lf.OnlyFutureEvents, Source: lf.Pos.String()})
	}
	var inputs []pipeline.Input
	for _, az := range cfg.AzureLogs {
		if az.Disabled {
			continue
		}
		collectors, err := azurelogs.Build(az, logger.With("input", "azure-logs"))
		if err != nil {
			return nil, fmt.Errorf("azure-logs (%s): %w", az.Pos, err)
		}
		inputs = append(inputs, azurelogs.New(az, collectors))
	}
	for _, s := range cfg.Unsupported {
		logger.Debug("section not run by this version", "section", s.Name, "at", s.Pos.String())
	}
	if len(specs) > 0 {
		host, _ := os.Hostname()
		in, err := logfile.New(specs, logfile.Options{AgentName: host})
		if err != nil {
			return nil, err
		}
		inputs = append(inputs, in)
	}
	return inputs, nil
}

// printSummary tells the user what the run did and where the results are.
func printSummary(w io.Writer, s pipeline.SummarySnapshot, paths []string, once bool) {
	var per []string
	for name, n := range s.Events {
		per = append(per, fmt.Sprintf("%s: %d", name, n))
	}
	fmt.Fprintf(w, "Read %d event(s) in %s (%s).\n", s.TotalEvents, s.Elapsed.Round(time.Millisecond), strings.Join(per, ", "))
	if s.TotalEvents == 0 && once {
		fmt.Fprintln(w, "Nothing new since the last run: inputs resume where they stopped (state in the data directory's state/; remove it to read everything again).")
	}
	if s.TotalProblems > 0 {
		fmt.Fprintf(w, "%d record(s) had problems (reported, not lost):\n", s.TotalProblems)
		for _, ex := range s.Examples {
			fmt.Fprintf(w, "  %s\n", ex)
		}
	}
	fmt.Fprintf(w, "Raised %d alert(s)", s.Alerts)
	if len(s.Rules) == 0 {
		fmt.Fprintln(w, ".")
	} else {
		fmt.Fprintln(w, ":")
		fmt.Fprintf(w, "  %-8s %-5s %6s  %-24s %s\n", "rule", "level", "count", "mitre", "description (first)")
		for _, r := range s.Rules {
			fmt.Fprintf(w, "  %-8s %-5d %6d  %-24s %s\n", r.ID, r.Level, r.Count, strings.Join(r.Mitre, ","), truncate(r.Description, 80))
		}
	}
	if len(paths) > 0 {
		fmt.Fprintf(w, "Alerts are in %s\n", strings.Join(paths, ", "))
	}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n-1] + "…"
}

// reloadOnHangup reloads rules, decoders and lists on SIGHUP. A ruleset
// with errors is refused (its problems are logged) and the running one
// stays; the swap is atomic, so no event is dropped: batches already being
// analysed finish with the old ruleset.
func reloadOnHangup(ctx context.Context, cfgPath string, p *pipeline.Pipeline, logger *slog.Logger) (stop func()) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	done := make(chan struct{})
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-done:
				return
			case <-hup:
				reloadRuleset(ctx, cfgPath, p, logger)
			}
		}
	}()
	return func() {
		signal.Stop(hup)
		close(done)
	}
}

func reloadRuleset(ctx context.Context, cfgPath string, p *pipeline.Pipeline, logger *slog.Logger) bool {
	var msgs strings.Builder
	env, _ := setup(ctx, setupOptions{configPath: cfgPath, logger: logger}, IO{Out: &msgs, Err: &msgs})
	if env == nil {
		logger.Error("ruleset reload refused; the running ruleset stays", "problems", strings.TrimSpace(msgs.String()))
		return false
	}
	p.SetEngine(env.engine)
	logger.Info("ruleset reloaded", "ruleset", env.set.Stats(), "warnings", env.warnings)
	return true
}
