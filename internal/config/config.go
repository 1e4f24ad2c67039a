// Package config reads ossec.conf, Wazuh's configuration file, into a
// Config: defaults first, then the file's values, then validation that
// reports every problem at once, each with file:line.
//
// The file may hold several <ossec_config> blocks; they merge in order, as
// in Wazuh (the Azure walkthrough appends a second block to a stock file).
// A tag that tld does not know is a warning and does not stop it; a bad
// value is an error and tld refuses to start. Standard Wazuh sections that
// tld does not run yet are accepted; those whose silent absence a user would
// miss (file integrity monitoring, agent connections, ...) get one warning
// per section.
//
// Values are read as Wazuh reads them, with two deliberate differences:
// surrounding whitespace is trimmed (Wazuh compares "yes" exactly), and
// numbers are decimal (Wazuh's strtoul also reads "0x10" and "010" as hex
// and octal). Guide placeholders such as <PRIMARY_DOMAIN> left in a value
// are reported by name with what to put instead.
//
// Secrets (application keys, account keys) are of type Secret, which never
// prints its value.
package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/threatlockdown/tld/internal/xmlw"
)

// Config is the decoded ossec.conf.
type Config struct {
	// Path is the configuration file as given to Load or Parse.
	Path string
	// Home is the directory that relative paths in the file resolve
	// against: the parent of the file's directory when that directory is
	// named "etc" (/var/ossec/etc/ossec.conf gives /var/ossec, Wazuh's
	// layout), otherwise the file's directory. It is relative when Path is.
	Home string

	Global     Global
	Alerts     Alerts
	Ruleset    Ruleset
	LocalFiles []LocalFile
	AzureLogs  []AzureLogs
	Dashboard  Dashboard
	Indexer    Indexer

	// Unsupported lists the standard Wazuh sections present in the file
	// that tld does not run yet, in file order.
	Unsupported []Section
}

// Section names a block of the file.
type Section struct {
	Name string // "syscheck", or "wodle:aws-s3" for a wodle
	Pos  Pos
}

// Load reads the configuration file at path. It returns the warnings, the
// Config, and an error: *Errors listing every bad value (or the XML syntax
// error), or the error of reading the file. With *Errors for bad values the
// Config is still returned, partly decoded, for further checks only; it is
// nil after a syntax or read error.
func Load(path string) (*Config, Diagnostics, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	return Parse(path, data)
}

// Parse decodes data, read from the file named file. The file name locates
// Home and is used in positions; directories named in <ruleset> are checked
// on disk.
func Parse(file string, data []byte) (*Config, Diagnostics, error) {
	nodes, err := xmlw.ParseOptions(file, data, xmlw.Options{Placeholders: true})
	if err != nil {
		var se *xmlw.SyntaxError
		if errors.As(err, &se) {
			return nil, nil, &Errors{Diagnostics: Diagnostics{{File: se.File, Line: se.Line, Severity: Error, Msg: se.Msg}}}
		}
		return nil, nil, err
	}
	cfg := defaults(file)
	d := &decoder{cfg: cfg, warned: make(map[string]bool)}
	blocks := 0
	for _, n := range nodes {
		switch {
		case isVar(n):
			// Wazuh's configuration reader hides <var> elements.
		case n.Name == "ossec_config":
			blocks++
			for _, s := range n.Children {
				d.section(s)
			}
		default:
			d.c.warnf(pos(n), "<%s> outside <ossec_config> ignored", n.Name)
		}
	}
	if blocks == 0 {
		d.c.warnf(Pos{File: file, Line: 1}, "no <ossec_config> block: every setting has its default")
	}
	d.finishRuleset()
	warns, err := d.c.split()
	if err != nil {
		// The partly decoded configuration comes back too, so that a
		// caller can report the ruleset's problems in the same pass; it
		// must not be run.
		return cfg, warns, err
	}
	return cfg, warns, nil
}

// homeOf returns the home directory of a configuration file.
func homeOf(file string) string {
	dir := filepath.Dir(file)
	abs, err := filepath.Abs(dir)
	if err != nil {
		abs = dir
	}
	if filepath.Base(abs) == "etc" {
		return filepath.Clean(filepath.Join(dir, ".."))
	}
	return dir
}

// Resolve returns a path written in the file as a path usable by the
// program: unchanged when absolute, joined to Home otherwise.
func (c *Config) Resolve(p string) string { return c.resolve(p) }

func (c *Config) resolve(p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(c.Home, p)
}

func defaults(file string) *Config {
	return &Config{
		Path:      file,
		Home:      homeOf(file),
		Global:    Global{JSONOutOutput: true, AlertsLog: true},
		Alerts:    Alerts{LogAlertLevel: 3, EmailAlertLevel: 12, RetentionDays: 90},
		Dashboard: Dashboard{Enabled: true, SessionTimeout: 8 * time.Hour},
	}
}

// decoder walks the sections of the file into cfg.
type decoder struct {
	cfg    *Config
	c      collector
	warned map[string]bool // sections already reported as not supported
	rs     rulesetState
}

func (d *decoder) section(n *xmlw.Node) {
	switch n.Name {
	case "global":
		d.global(n)
	case "alerts":
		d.alerts(n)
	case "ruleset", "rules": // <rules> is OSSEC's name for it
		d.ruleset(n)
	case "localfile":
		d.localfile(n)
	case "dashboard":
		d.dashboard(n)
	case "indexer":
		d.indexer(n)
	case "wodle":
		name, ok := n.Attr("name")
		switch {
		case !ok:
			d.c.warnf(pos(n), `<wodle> without a name attribute ignored`)
		case name == "azure-logs":
			d.azure(n)
		default:
			d.other("wodle:"+name, n)
		}
	default:
		if isVar(n) {
			return
		}
		d.other(n.Name, n)
	}
}

func isVar(n *xmlw.Node) bool { return strings.EqualFold(n.Name, "var") }

func pos(n *xmlw.Node) Pos { return Pos{File: n.File, Line: n.Line} }
