package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/threatlockdown/tld/internal/alert"
	"github.com/threatlockdown/tld/internal/analysis"
	"github.com/threatlockdown/tld/internal/event"
)

func logtestCommand(ctx context.Context, args []string, io IO) int {
	fs := newFlagSet("logtest", "logtest [-c FILE] [--json] [--ruleset DIR]... [--format syslog|json]", io)
	cfgPath := fs.String("c", "", "ossec.conf whose <ruleset> and <alerts> to use (default: the built-in ruleset only)")
	asJSON := fs.Bool("json", false, "print one JSON object per event instead of the phases")
	var rulesetDirs stringList
	fs.Var(&rulesetDirs, "ruleset", "add DIR/decoders, DIR/rules and DIR/lists (repeatable)")
	format := fs.String("format", "syslog", "how to pre-decode events: syslog (strip a syslog header when present) or json")
	location := fs.String("location", "stdin", "location recorded for the events")
	if code, done := parseFlags(fs, args); done {
		return code
	}
	env, code := setup(ctx, setupOptions{configPath: *cfgPath, rulesetDirs: rulesetDirs, needConfig: false}, io)
	if env == nil {
		return code
	}
	var f event.Format
	switch *format {
	case "syslog":
		f = event.FormatSyslog
	case "json":
		f = event.FormatJSON
	default:
		fmt.Fprintf(io.Err, "tld logtest: --format %q: want syslog or json\n", *format)
		return 2
	}
	if !*asJSON {
		fmt.Fprintln(io.Out, "Type one log per line")
		fmt.Fprintln(io.Out)
	}
	sc := bufio.NewScanner(io.In)
	sc.Buffer(make([]byte, 0, 64*1024), 16<<20)
	n := 0
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		if strings.TrimSpace(line) == "" {
			continue
		}
		n++
		ev := event.Event{ID: event.NewID("logtest", strconv.Itoa(n)), Location: *location, Log: line, Format: f}
		res := env.engine.AnalyzeTrace(ev)
		rec := env.engine.Describe(res)
		if *asJSON {
			if err := printLogtestJSON(io.Out, res, rec); err != nil {
				fmt.Fprintf(io.Err, "tld logtest: %v\n", err)
				return 1
			}
			continue
		}
		printPhases(io.Out, res, rec)
	}
	if err := sc.Err(); err != nil {
		fmt.Fprintf(io.Err, "tld logtest: read standard input: %v\n", err)
		return 1
	}
	return 0
}

type logtestRule struct {
	ID          string        `json:"id"`
	Level       int           `json:"level"`
	Description string        `json:"description"`
	Groups      []string      `json:"groups"`
	FiredTimes  int           `json:"firedtimes"`
	Mitre       *logtestMitre `json:"mitre,omitempty"`
	PCIDSS      []string      `json:"pci_dss,omitempty"`
	GDPR        []string      `json:"gdpr,omitempty"`
	HIPAA       []string      `json:"hipaa,omitempty"`
	NIST80053   []string      `json:"nist_800_53,omitempty"`
	TSC         []string      `json:"tsc,omitempty"`
	GPG13       []string      `json:"gpg13,omitempty"`
}

type logtestMitre struct {
	ID        []string `json:"id"`
	Tactic    []string `json:"tactic"`
	Technique []string `json:"technique"`
}

type logtestDecoder struct {
	Name   string `json:"name"`
	Parent string `json:"parent,omitempty"`
}

type logtestOutput struct {
	Event      string            `json:"event"`
	Predecoder map[string]string `json:"predecoder,omitempty"`
	Decoder    *logtestDecoder   `json:"decoder"`
	Data       json.RawMessage   `json:"data,omitempty"`
	Rule       *logtestRule      `json:"rule"`
	Alert      bool              `json:"alert"`
	Matched    []int             `json:"matched_rules"`
}

func printLogtestJSON(w io.Writer, res analysis.Result, rec *alert.Alert) error {
	out := logtestOutput{Event: res.Decoded.FullLog, Alert: res.Alert != nil, Matched: res.Trace.Matched}
	if out.Matched == nil {
		out.Matched = []int{}
	}
	if h := res.Decoded.Header; h.Found {
		out.Predecoder = map[string]string{"timestamp": h.Timestamp, "hostname": h.Hostname, "program_name": h.ProgramName}
	}
	if rec.Decoder.Name != "" {
		out.Decoder = &logtestDecoder{Name: rec.Decoder.Name, Parent: rec.Decoder.Parent}
	}
	if len(rec.Data) > 0 {
		// Reuse the alert encoder's nesting of dotted names.
		full, err := json.Marshal(&alert.Alert{Data: rec.Data})
		if err != nil {
			return err
		}
		var tmp struct {
			Data json.RawMessage `json:"data"`
		}
		if err := json.Unmarshal(full, &tmp); err != nil {
			return err
		}
		out.Data = tmp.Data
	}
	if r := rec.Rule; r != nil {
		out.Rule = &logtestRule{ID: r.ID, Level: r.Level, Description: r.Description, Groups: r.Groups, FiredTimes: r.FiredTimes,
			PCIDSS: r.PCIDSS, GDPR: r.GDPR, HIPAA: r.HIPAA, NIST80053: r.NIST80053, TSC: r.TSC, GPG13: r.GPG13}
		if out.Rule.Groups == nil {
			out.Rule.Groups = []string{}
		}
		if r.Mitre != nil {
			out.Rule.Mitre = &logtestMitre{ID: r.Mitre.ID, Tactic: r.Mitre.Tactic, Technique: r.Mitre.Technique}
		}
	}
	b, err := json.Marshal(out)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}

// printPhases prints what wazuh-logtest prints, phase by phase.
func printPhases(w io.Writer, res analysis.Result, rec *alert.Alert) {
	d := res.Decoded
	fmt.Fprintln(w, "**Phase 1: Completed pre-decoding.")
	fmt.Fprintf(w, "\tfull event: '%s'\n", d.FullLog)
	if d.Header.Found {
		fmt.Fprintf(w, "\ttimestamp: '%s'\n", d.Header.Timestamp)
		fmt.Fprintf(w, "\thostname: '%s'\n", d.Header.Hostname)
		fmt.Fprintf(w, "\tprogram_name: '%s'\n", d.Header.ProgramName)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "**Phase 2: Completed decoding.")
	if rec.Decoder.Name == "" {
		fmt.Fprintln(w, "\tNo decoder matched.")
	} else {
		fmt.Fprintf(w, "\tname: '%s'\n", rec.Decoder.Name)
		if rec.Decoder.Parent != "" {
			fmt.Fprintf(w, "\tparent: '%s'\n", rec.Decoder.Parent)
		}
		for _, f := range rec.Data {
			fmt.Fprintf(w, "\t%s: '%s'\n", f.Key, f.Value)
		}
	}
	fmt.Fprintln(w)
	if r := rec.Rule; r != nil {
		fmt.Fprintln(w, "**Phase 3: Completed filtering (rules).")
		fmt.Fprintf(w, "\tid: '%s'\n", r.ID)
		fmt.Fprintf(w, "\tlevel: '%d'\n", r.Level)
		fmt.Fprintf(w, "\tdescription: '%s'\n", r.Description)
		groups, _ := json.Marshal(r.Groups)
		fmt.Fprintf(w, "\tgroups: '%s'\n", groups)
		fmt.Fprintf(w, "\tfiredtimes: '%d'\n", r.FiredTimes)
		for _, c := range []struct {
			k string
			v []string
		}{{"gdpr", r.GDPR}, {"gpg13", r.GPG13}, {"hipaa", r.HIPAA}, {"nist_800_53", r.NIST80053}, {"pci_dss", r.PCIDSS}, {"tsc", r.TSC}} {
			if len(c.v) > 0 {
				b, _ := json.Marshal(c.v)
				fmt.Fprintf(w, "\t%s: '%s'\n", c.k, b)
			}
		}
		fmt.Fprintf(w, "\tmail: '%t'\n", r.Mail)
		if r.Mitre != nil {
			for _, c := range []struct {
				k string
				v []string
			}{{"mitre.id", r.Mitre.ID}, {"mitre.tactic", r.Mitre.Tactic}, {"mitre.technique", r.Mitre.Technique}} {
				b, _ := json.Marshal(c.v)
				fmt.Fprintf(w, "\t%s: '%s'\n", c.k, b)
			}
		}
		if res.Alert != nil {
			fmt.Fprintln(w, "**Alert to be generated.")
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintln(w)
}
