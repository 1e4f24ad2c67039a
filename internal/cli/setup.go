package cli

import (
	"context"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/threatlockdown/tld/internal/analysis"
	"github.com/threatlockdown/tld/internal/config"
	"github.com/threatlockdown/tld/internal/ruleset"
	builtin "github.com/threatlockdown/tld/ruleset"
)

type setupOptions struct {
	configPath  string
	rulesetDirs []string
	// needConfig makes -c mandatory.
	needConfig bool
	logger     *slog.Logger
}

// env is what every command that analyses events needs.
type env struct {
	cfg    *config.Config
	set    *ruleset.Set
	engine *analysis.Engine
	// warnings of the configuration and the ruleset, already printed.
	warnings int
}

// setup loads the configuration (when given), the ruleset and the engine,
// printing every warning and error with its file:line. It returns nil and
// the exit status when something is wrong.
func setup(_ context.Context, o setupOptions, io IO) (*env, int) {
	e := &env{}
	if o.configPath == "" && o.needConfig {
		fmt.Fprintln(io.Err, "tld: -c FILE is required (an ossec.conf)")
		return nil, 2
	}
	logAlertLevel := 3
	configBroken := false
	if o.configPath != "" {
		cfg, diags, err := config.Load(o.configPath)
		for _, d := range diags {
			fmt.Fprintln(io.Err, d.String())
		}
		e.warnings += len(diags)
		if err != nil {
			fmt.Fprintln(io.Err, err)
			if cfg == nil {
				fmt.Fprintf(io.Err, "tld: %s has errors; nothing was started\n", o.configPath)
				return nil, 1
			}
			// Go on to report the ruleset's problems in the same pass.
			configBroken = true
		}
		e.cfg = cfg
		logAlertLevel = cfg.Alerts.LogAlertLevel
	}
	srcs, err := rulesetSources(e.cfg, o.rulesetDirs)
	if err != nil {
		fmt.Fprintf(io.Err, "tld: %v\n", err)
		return nil, 1
	}
	set := loadRuleset(srcs, "tld", io)
	if set == nil {
		fmt.Fprintln(io.Err, "tld: nothing was started")
		return nil, 1
	}
	if configBroken {
		for _, p := range set.Problems {
			fmt.Fprintln(io.Err, p.String())
		}
		fmt.Fprintf(io.Err, "tld: %s has errors; nothing was started\n", o.configPath)
		return nil, 1
	}
	for _, p := range set.Problems {
		fmt.Fprintln(io.Err, p.String())
	}
	e.warnings += len(set.Problems)
	logger := o.logger
	if logger == nil {
		logger = newLogger(io.Err, slog.LevelWarn)
	}
	eng, problems := analysis.New(set, analysis.Options{LogAlertLevel: logAlertLevel, Logger: logger})
	for _, p := range problems {
		fmt.Fprintln(io.Err, p.String())
	}
	e.warnings += len(problems)
	e.set, e.engine = set, eng
	return e, 0
}

func builtinSource() ruleset.Source {
	return ruleset.Source{Name: "built-in", FS: builtin.FS, DecoderDirs: []string{"decoders"}, RuleDirs: []string{"rules"}}
}

// rulesetSources turns --ruleset directories, or the configuration's
// <ruleset>, into loader sources. With neither, the built-in ruleset.
func rulesetSources(cfg *config.Config, dirs []string) ([]ruleset.Source, error) {
	if len(dirs) > 0 {
		var out []ruleset.Source
		for _, d := range dirs {
			fi, err := os.Stat(d)
			if err != nil || !fi.IsDir() {
				return nil, fmt.Errorf("--ruleset %s: not a directory", d)
			}
			src := ruleset.Source{Name: d, Optional: true,
				DecoderDirs: []string{filepath.Join(d, "decoders")},
				RuleDirs:    []string{filepath.Join(d, "rules")}}
			lists, err := listFilesUnder(filepath.Join(d, "lists"))
			if err != nil {
				return nil, err
			}
			src.Lists = lists
			out = append(out, src)
		}
		return out, nil
	}
	if cfg == nil {
		return []ruleset.Source{builtinSource()}, nil
	}
	rs := cfg.Ruleset
	var out []ruleset.Source
	// The built-in ruleset loads first, whatever <ruleset> names: users'
	// rules build on it (if_sid 87801…); <rule_exclude> and
	// <decoder_exclude> can leave out its files. Only when the stock
	// directories name a Wazuh installation's ruleset on disk is that one
	// read instead, so an existing Wazuh setup gives Wazuh's results.
	{
		b := builtinSource()
		if rs.WazuhDecoders {
			b.DecoderDirs = nil
		}
		if rs.WazuhRules {
			b.RuleDirs = nil
		}
		for _, f := range rs.DecoderExclude {
			b.DecoderExclude = append(b.DecoderExclude, f.Value)
		}
		for _, f := range rs.RuleExclude {
			b.RuleExclude = append(b.RuleExclude, f.Value)
		}
		out = append(out, b)
	}
	user := ruleset.Source{Name: cfg.Path}
	for _, d := range rs.DecoderDirs {
		user.DecoderDirs = append(user.DecoderDirs, d.Path)
		user.Optional = user.Optional || d.Optional
	}
	for _, d := range rs.RuleDirs {
		user.RuleDirs = append(user.RuleDirs, d.Path)
		user.Optional = user.Optional || d.Optional
	}
	for _, f := range rs.DecoderFiles {
		if !f.Builtin {
			user.DecoderFiles = append(user.DecoderFiles, f.Path)
		}
	}
	for _, f := range rs.RuleFiles {
		if !f.Builtin {
			user.RuleFiles = append(user.RuleFiles, f.Path)
		}
	}
	for _, f := range rs.DecoderExclude {
		user.DecoderExclude = append(user.DecoderExclude, firstNonEmpty(f.Path, f.Value))
	}
	for _, f := range rs.RuleExclude {
		user.RuleExclude = append(user.RuleExclude, firstNonEmpty(f.Path, f.Value))
	}
	for _, l := range rs.Lists {
		if l.Builtin {
			continue
		}
		user.Lists = append(user.Lists, ruleset.ListFile{Path: l.Path, Name: l.Value})
	}
	return append(out, user), nil
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// listFilesUnder finds CDB list sources below dir; rules name them as
// Wazuh installs them, "etc/lists/<path below dir>".
func listFilesUnder(dir string) ([]ruleset.ListFile, error) {
	var out []ruleset.ListFile
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if os.IsNotExist(err) && p == dir {
				return filepath.SkipDir
			}
			return err
		}
		if d.IsDir() || strings.HasSuffix(p, ".cdb") || strings.HasPrefix(d.Name(), ".") {
			return nil
		}
		rel, _ := filepath.Rel(dir, p)
		out = append(out, ruleset.ListFile{Path: p, Name: "etc/lists/" + filepath.ToSlash(rel)})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read lists in %s: %w", dir, err)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, nil
}

// loadRuleset loads srcs, printing every problem with its file and line
// when the ruleset has errors (then it returns nil).
func loadRuleset(srcs []ruleset.Source, prog string, io IO) *ruleset.Set {
	set, err := ruleset.Load(srcs...)
	if err == nil {
		return set
	}
	if le, ok := err.(*ruleset.LoadError); ok {
		for _, p := range le.Problems {
			fmt.Fprintln(io.Err, p.String())
		}
		fmt.Fprintf(io.Err, "%s: the ruleset has %d error(s)\n", prog, len(le.Problems.Errors()))
	} else {
		fmt.Fprintf(io.Err, "%s: load ruleset: %v\n", prog, err)
	}
	return nil
}
