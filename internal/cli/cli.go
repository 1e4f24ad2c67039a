// Package cli implements tld's subcommands. Each returns an exit status:
// 0 success, 1 failure (bad configuration, failed checks), 2 bad usage.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"runtime/debug"
	"strings"
)

// Version is set at build time with -ldflags "-X ...cli.Version=v1.2.3".
var Version = "dev"

// IO are the standard streams of a command.
type IO struct {
	In       io.Reader
	Out, Err io.Writer
}

type command struct {
	name    string
	summary string
	run     func(ctx context.Context, args []string, io IO) int
}

var commands []command

func init() {
	commands = []command{
		{"run", "run the manager: collect, analyse, alert", runCommand},
		{"alerts", "query the alert store: recent alerts by group, level, rule, agent, technique", alertsCommand},
		{"users", "manage dashboard and API users (list, add, passwd, delete, hash)", usersCommand},
		{"logtest", "analyse events read from standard input, as wazuh-logtest", logtestCommand},
		{"ruleset", "check rules and decoders (check), run Wazuh .ini rule tests (test)", rulesetCommand},
		{"bench", "measure analysis speed over the lines of a file", benchCommand},
		{"version", "print the version", versionCommand},
	}
}

const usageHead = `tld — ThreatLockDown security monitoring manager

Usage:
  tld <command> [options]

Commands:
`

func usage(w io.Writer) {
	fmt.Fprint(w, usageHead)
	for _, c := range commands {
		fmt.Fprintf(w, "  %-9s %s\n", c.name, c.summary)
	}
	fmt.Fprint(w, "\nRun 'tld <command> -h' for a command's options.\n")
}

// Main runs the command named by args[0].
func Main(ctx context.Context, args []string, io IO) int {
	if len(args) == 0 {
		usage(io.Err)
		return 2
	}
	switch args[0] {
	case "-h", "--help", "help":
		usage(io.Out)
		return 0
	case "-v", "--version":
		return versionCommand(ctx, nil, io)
	}
	for _, c := range commands {
		if c.name == args[0] {
			return c.run(ctx, args[1:], io)
		}
	}
	fmt.Fprintf(io.Err, "tld: unknown command %q\n\n", args[0])
	usage(io.Err)
	return 2
}

func versionCommand(_ context.Context, _ []string, io IO) int {
	v := Version
	if bi, ok := debug.ReadBuildInfo(); ok && v == "dev" {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				v = "dev+" + s.Value[:12]
			}
		}
		fmt.Fprintf(io.Out, "tld %s (%s)\n", v, bi.GoVersion)
		return 0
	}
	fmt.Fprintf(io.Out, "tld %s\n", v)
	return 0
}

// newFlagSet makes a flag set that prints its usage to io.Err and reports
// errors instead of exiting.
func newFlagSet(name, synopsis string, io IO) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Err)
	fs.Usage = func() {
		fmt.Fprintf(io.Err, "Usage: tld %s\n\nOptions:\n", synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags parses args; it returns the exit status to use when parsing
// ended the command (help asked, or bad usage).
func parseFlags(fs *flag.FlagSet, args []string) (int, bool) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0, true
		}
		return 2, true
	}
	return 0, false
}

// stringList is a repeatable flag.
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

// newLogger writes human-readable logs to w at the given level.
func newLogger(w io.Writer, level slog.Level) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level}))
}
