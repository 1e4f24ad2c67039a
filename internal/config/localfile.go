package config

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/threatlockdown/tld/internal/xmlw"
)

// LocalFile is one <localfile>: a log file, Windows channel, journal or
// command whose output is read. Every log_format of Wazuh 4.x is accepted
// and kept; the program decides which ones it can run.
type LocalFile struct {
	Pos Pos
	// LogFormat is the <log_format> (required): syslog, json, snort-full,
	// snort-fast, squid, iis, apache, eventlog, eventchannel, audit,
	// mysql_log, postgresql_log, mssql_log, nmapg, djb-multilog, generic,
	// ossecalert, syslog-pipe, command, full_command, multi-line (written
	// "multi-line: N", N in MultiLineCount), multi-line-regex, macos or
	// journald.
	LogFormat      string
	MultiLineCount int
	// Location is the file (wildcards and strftime patterns are kept as
	// written), the Windows channel, or "journald" / "macos". Required
	// except for the command formats.
	Location string
	// Command is the command line of the command and full_command formats;
	// Alias replaces it in the events.
	Command string
	Alias   string
	// Frequency is the least time between two runs of a command (<frequency>
	// in seconds, or hourly or daily; default 360 s).
	Frequency time.Duration
	// OnlyFutureEvents skips what was written while tld was stopped
	// (default yes); MaxSize is its max-size attribute in bytes, the most
	// that is read back when it is no (default 10 MiB, at most 2 GiB).
	OnlyFutureEvents bool
	MaxSize          int64
	// Labels are added to JSON events (<label key="...">value</label>).
	Labels []Label
	// Targets are the sockets the events go to (<target>, comma-separated,
	// default "agent").
	Targets    []string
	OutFormats []OutFormat
	// IgnoreBinaries skips binary files (<ignore_binaries>, default no).
	IgnoreBinaries bool
	// Age skips files not modified for longer than this (0: no limit).
	Age time.Duration
	// Exclude is a path pattern excluded from a wildcard Location.
	Exclude string
	// ReconnectTime is the wait before reconnecting to an event channel
	// (default 5 s).
	ReconnectTime time.Duration
	// Query filters eventchannel or macos events; QueryType and QueryLevel
	// are its type and level attributes (macos).
	Query      string
	QueryType  string
	QueryLevel string
	// MultilineRegex is the <multiline_regex> of the multi-line-regex format.
	MultilineRegex *MultilineRegex
	// Ignore and Restrict drop, or keep only, the events that match.
	Ignore   []LogFilter
	Restrict []LogFilter
	// Filters are journald conditions (<filter field="...">regex</filter>).
	Filters []JournalFilter
}

// Label is a <label key="...">value</label>.
type Label struct {
	Pos        Pos
	Key, Value string
}

// OutFormat is an <out_format target="...">format</out_format>.
type OutFormat struct {
	Target string // empty: every target
	Format string
}

// MultilineRegex is the <multiline_regex> setting.
type MultilineRegex struct {
	Pattern string        // PCRE2
	Match   string        // start (default), all or end
	Replace string        // no-replace (default), none, wspace or tab
	Timeout time.Duration // default 5 s, at most 120 s
}

// LogFilter is an <ignore> or <restrict> expression.
type LogFilter struct {
	Pos     Pos
	Pattern string
	Type    string // pcre2 (default), osregex or osmatch
}

// JournalFilter is a journald <filter>.
type JournalFilter struct {
	Field           string
	Pattern         string // PCRE2
	IgnoreIfMissing bool
}

var logFormats = map[string]bool{
	"syslog": true, "generic": true, "json": true, "snort-full": true, "snort-fast": true,
	"apache": true, "iis": true, "squid": true, "nmapg": true, "mysql_log": true,
	"ossecalert": true, "mssql_log": true, "postgresql_log": true, "djb-multilog": true,
	"syslog-pipe": true, "command": true, "full_command": true, "audit": true,
	"multi-line-regex": true, "eventlog": true, "eventchannel": true, "macos": true, "journald": true,
}

// localfileAttrs are the attributes each <localfile> option may have.
var localfileAttrs = map[string][]string{
	"only-future-events": {"max-size"},
	"query":              {"type", "level"},
	"label":              {"key"},
	"out_format":         {"target"},
	"multiline_regex":    {"match", "replace", "timeout"},
	"ignore":             {"type"},
	"restrict":           {"type"},
	"filter":             {"field", "ignore_if_missing"},
}

const (
	defaultFrequency     = 360 * time.Second
	defaultMaxSize       = 10 << 20
	maxMaxSize           = 2 << 30
	defaultReconnectTime = 5 * time.Second
)

func (d *decoder) localfile(n *xmlw.Node) {
	lf := LocalFile{
		Pos:              pos(n),
		Frequency:        defaultFrequency,
		OnlyFutureEvents: true,
		MaxSize:          defaultMaxSize,
		ReconnectTime:    defaultReconnectTime,
	}
	var formatPos Pos
	reported := false // a placeholder in location or command, already reported
	for _, ch := range n.Children {
		name := strings.ToLower(ch.Name)
		if _, known := localfileAttrs[name]; known {
			d.attrs(ch, localfileAttrs[name]...)
		} else {
			d.attrs(ch)
		}
		switch name {
		case "log_format":
			formatPos = pos(ch)
			d.logFormat(ch, &lf)
		case "location":
			reported = !d.str(ch, &lf.Location) || reported
		case "command":
			reported = !d.str(ch, &lf.Command) || reported
		case "alias":
			d.str(ch, &lf.Alias)
		case "frequency":
			v, ok := d.text(ch)
			switch {
			case !ok:
			case v == "hourly":
				lf.Frequency = time.Hour
			case v == "daily":
				lf.Frequency = 24 * time.Hour
			default:
				if s, err := strconv.ParseUint(v, 10, 31); err == nil {
					lf.Frequency = time.Duration(s) * time.Second
				} else {
					d.c.errorf(pos(ch), "<frequency> must be a number of seconds, hourly or daily, not %q", v)
				}
			}
		case "only-future-events":
			v, ok := d.text(ch)
			switch {
			case !ok:
			case v == "yes":
				lf.OnlyFutureEvents = true
			case v == "no":
				lf.OnlyFutureEvents = false
			default:
				// Wazuh warns and keeps the default.
				d.c.warnf(pos(ch), "<only-future-events> must be yes or no, not %q: yes is used", v)
			}
			if s, ok := ch.Attr("max-size"); ok {
				if size, err := parseBytes(s); err != nil || size > maxMaxSize {
					d.c.warnf(pos(ch), "max-size %q is not a size up to 2G (a number with K, M or G): %s is used", s, "10M")
				} else {
					lf.MaxSize = size
				}
			}
		case "query":
			d.str(ch, &lf.Query)
			lf.QueryType, _ = ch.Attr("type")
			if lvl, ok := ch.Attr("level"); ok {
				switch lvl {
				case "default", "info", "debug":
					lf.QueryLevel = lvl
				default:
					d.c.warnf(pos(ch), "<query> level %q is not default, info or debug: ignored", lvl)
				}
			}
		case "label":
			d.label(ch, &lf)
		case "target":
			if v, ok := d.text(ch); ok {
				for _, t := range strings.Split(v, ",") {
					lf.Targets = append(lf.Targets, strings.TrimSpace(t))
				}
			}
		case "out_format":
			if v, ok := d.text(ch); ok {
				t, _ := ch.Attr("target")
				lf.OutFormats = append(lf.OutFormats, OutFormat{Target: t, Format: v})
			}
		case "reconnect_time":
			v, ok := d.text(ch)
			if !ok {
				break
			}
			if n, _, _ := leadingNumber(v); n == 0 {
				d.c.warnf(pos(ch), "<reconnect_time> %q is not a positive duration: %s is used", v, defaultReconnectTime)
				break
			}
			d.duration(ch, "smhdw", false, &lf.ReconnectTime)
		case "age":
			d.duration(ch, "smhdw", true, &lf.Age)
		case "exclude":
			d.str(ch, &lf.Exclude)
		case "ignore_binaries":
			d.yesNo(ch, &lf.IgnoreBinaries)
		case "ignore", "restrict":
			d.logFilter(ch, &lf)
		case "multiline_regex":
			d.multilineRegex(ch, &lf)
		case "filter":
			d.journalFilter(ch, &lf)
		default:
			d.unknown(ch, n)
		}
	}
	if len(lf.Targets) == 0 {
		lf.Targets = []string{"agent"}
	}
	if !reported {
		d.checkLocalfile(n, &lf, formatPos)
	}
	d.cfg.LocalFiles = append(d.cfg.LocalFiles, lf)
}

func (d *decoder) logFormat(ch *xmlw.Node, lf *LocalFile) {
	v, ok := d.text(ch)
	if !ok {
		return
	}
	if logFormats[v] {
		lf.LogFormat = v
		return
	}
	if rest, ok := strings.CutPrefix(v, "multi-line"); ok {
		rest = strings.TrimLeft(rest, " ")
		if num, ok := strings.CutPrefix(rest, ":"); ok {
			num = strings.TrimSpace(num)
			if c, err := strconv.Atoi(num); err == nil && c >= 1 {
				lf.LogFormat, lf.MultiLineCount = "multi-line", c
				return
			}
		}
		d.c.errorf(pos(ch), "<log_format> %q: write multi-line as \"multi-line: N\" with N lines per event", v)
		return
	}
	d.c.errorf(pos(ch), "<log_format> %q is not a Wazuh log format (syslog, json, command, full_command, eventchannel, journald, multi-line: N, ...)", v)
}

func (d *decoder) label(ch *xmlw.Node, lf *LocalFile) {
	v, ok := d.text(ch)
	if !ok {
		return
	}
	key, has := ch.Attr("key")
	switch {
	case !has:
		d.c.errorf(pos(ch), "<label> needs a key attribute")
	case key == "":
		d.c.errorf(pos(ch), "<label> has an empty key")
	case key[0] == '_':
		d.c.warnf(pos(ch), "label keys starting with \"_\" are reserved: label %q ignored", key)
	default:
		lf.Labels = append(lf.Labels, Label{Pos: pos(ch), Key: key, Value: v})
	}
}

func (d *decoder) logFilter(ch *xmlw.Node, lf *LocalFile) {
	v, ok := d.text(ch)
	if !ok {
		return
	}
	f := LogFilter{Pos: pos(ch), Pattern: v, Type: "pcre2"}
	if t, has := ch.Attr("type"); has {
		switch t {
		case "pcre2", "osregex", "osmatch":
			f.Type = t
		default:
			d.c.errorf(pos(ch), "<%s> type %q is not pcre2, osregex or osmatch", ch.Name, t)
			return
		}
	}
	if strings.EqualFold(ch.Name, "ignore") {
		lf.Ignore = append(lf.Ignore, f)
	} else {
		lf.Restrict = append(lf.Restrict, f)
	}
}

func (d *decoder) multilineRegex(ch *xmlw.Node, lf *LocalFile) {
	v, ok := d.text(ch)
	if !ok {
		return
	}
	if v == "" {
		d.c.warnf(pos(ch), "empty <multiline_regex> ignored")
		return
	}
	if lf.MultilineRegex != nil {
		d.c.warnf(pos(ch), "second <multiline_regex> ignored")
		return
	}
	m := &MultilineRegex{Pattern: v, Match: "start", Replace: "no-replace", Timeout: 5 * time.Second}
	if s, has := ch.Attr("match"); has {
		if s == "start" || s == "all" || s == "end" {
			m.Match = s
		} else {
			d.c.warnf(pos(ch), "<multiline_regex> match %q is not start, all or end: start is used", s)
		}
	}
	if s, has := ch.Attr("replace"); has {
		if s == "no-replace" || s == "none" || s == "wspace" || s == "tab" {
			m.Replace = s
		} else {
			d.c.warnf(pos(ch), "<multiline_regex> replace %q is not no-replace, none, wspace or tab: no-replace is used", s)
		}
	}
	if s, has := ch.Attr("timeout"); has {
		if t, err := strconv.Atoi(s); err == nil && t > 0 && t <= 120 {
			m.Timeout = time.Duration(t) * time.Second
		} else {
			d.c.warnf(pos(ch), "<multiline_regex> timeout %q is not a number of seconds from 1 to 120: 5 is used", s)
		}
	}
	lf.MultilineRegex = m
}

func (d *decoder) journalFilter(ch *xmlw.Node, lf *LocalFile) {
	v, ok := d.text(ch)
	if !ok {
		return
	}
	field, has := ch.Attr("field")
	if !has || field == "" {
		d.c.errorf(pos(ch), "<filter> needs a field attribute")
		return
	}
	f := JournalFilter{Field: field, Pattern: v}
	if s, has := ch.Attr("ignore_if_missing"); has {
		switch s {
		case "yes":
			f.IgnoreIfMissing = true
		case "no":
		default:
			d.c.errorf(pos(ch), "<filter> ignore_if_missing must be yes or no, not %q", s)
			return
		}
	}
	lf.Filters = append(lf.Filters, f)
}

// checkLocalfile applies Wazuh's rules that tie options together.
func (d *decoder) checkLocalfile(n *xmlw.Node, lf *LocalFile, formatPos Pos) {
	p := pos(n)
	switch lf.LogFormat {
	case "":
		if !formatPos.IsValid() {
			d.c.errorf(p, "<localfile> without <log_format>")
		}
		return
	case "command", "full_command":
		if lf.Command == "" {
			d.c.errorf(p, "<localfile> with log_format %s needs a <command>", lf.LogFormat)
		}
		return
	case "journald", "macos":
		if lf.Location == "" {
			d.c.warnf(p, "<localfile> with log_format %s has no <location>: %q is used", lf.LogFormat, lf.LogFormat)
		} else if lf.Location != lf.LogFormat {
			d.c.warnf(p, "<localfile> with log_format %s reads location %q, not %q", lf.LogFormat, lf.LogFormat, lf.Location)
		}
		lf.Location = lf.LogFormat
		return
	case "multi-line-regex":
		if lf.MultilineRegex == nil {
			d.c.errorf(p, "<localfile> with log_format multi-line-regex needs a <multiline_regex>")
		}
	case "eventlog":
		switch lf.Location {
		case "", "Application", "System", "Security":
		default:
			d.c.warnf(p, "log_format eventlog reads only the Application, System and Security logs, not %q (use eventchannel)", lf.Location)
		}
	}
	if lf.LogFormat != "multi-line-regex" && lf.MultilineRegex != nil {
		d.c.warnf(p, "<multiline_regex> applies only to log_format multi-line-regex: ignored")
		lf.MultilineRegex = nil
	}
	if len(lf.Filters) > 0 {
		d.c.warnf(p, "<filter> applies only to log_format journald: ignored")
		lf.Filters = nil
	}
	if lf.Location == "" {
		d.c.errorf(p, "<localfile> without <location>")
	}
}

// parseBytes reads a size: a number with an optional K, M or G (any case).
func parseBytes(s string) (int64, error) {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i == 0 {
		return 0, fmt.Errorf("not a size")
	}
	n, err := strconv.ParseInt(s[:i], 10, 64)
	if err != nil {
		return 0, err
	}
	mult := int64(1)
	switch strings.ToUpper(s[i:]) {
	case "":
	case "K", "KB":
		mult = 1 << 10
	case "M", "MB":
		mult = 1 << 20
	case "G", "GB":
		mult = 1 << 30
	default:
		return 0, fmt.Errorf("unknown unit %q", s[i:])
	}
	if n > (1<<62)/mult {
		return 0, fmt.Errorf("too large")
	}
	return n * mult, nil
}
