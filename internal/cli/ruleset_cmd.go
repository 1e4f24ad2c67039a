package cli

import (
	"context"
	"fmt"
)

func rulesetCommand(ctx context.Context, args []string, io IO) int {
	if len(args) == 0 {
		fmt.Fprintln(io.Err, "Usage: tld ruleset check [-c FILE | --ruleset DIR...]")
		fmt.Fprintln(io.Err, "       tld "+rulesetTestSynopsis)
		return 2
	}
	switch args[0] {
	case "check":
		return rulesetCheck(ctx, args[1:], io)
	case "test":
		return rulesetTest(ctx, args[1:], io)
	default:
		fmt.Fprintf(io.Err, "tld ruleset: unknown subcommand %q (want check or test)\n", args[0])
		return 2
	}
}

func rulesetCheck(ctx context.Context, args []string, io IO) int {
	fs := newFlagSet("ruleset check", "ruleset check [-c FILE | --ruleset DIR...]", io)
	cfgPath := fs.String("c", "", "ossec.conf whose <ruleset> to check")
	var dirs stringList
	fs.Var(&dirs, "ruleset", "check DIR/decoders, DIR/rules and DIR/lists (repeatable) instead of the built-in ruleset")
	if code, done := parseFlags(fs, args); done {
		return code
	}
	if *cfgPath != "" && len(dirs) > 0 {
		fmt.Fprintln(io.Err, "tld ruleset check: give -c or --ruleset, not both")
		return 2
	}
	env, code := setup(ctx, setupOptions{configPath: *cfgPath, rulesetDirs: dirs}, io)
	if env == nil {
		return code
	}
	fmt.Fprintf(io.Out, "ruleset OK: %s; %d warning(s)\n", env.set.Stats(), env.warnings)
	return 0
}
