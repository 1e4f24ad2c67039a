package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/threatlockdown/tld/internal/server/query"
	"github.com/threatlockdown/tld/internal/store"
)

// storeFile is the alert store's file name under the data directory.
const storeFile = "store.db"

func alertsCommand(ctx context.Context, args []string, io IO) int {
	fs := newFlagSet("alerts", "alerts [--data DIR] [--group G] [--level N] [--since DUR] [--json] [options]", io)
	dataDir := fs.String("data", "./var", "data directory of `tld run` (holds store.db)")
	var groups, rules, agents, techniques stringList
	fs.Var(&groups, "group", "only alerts with this rule group (repeatable)")
	fs.Var(&rules, "rule", "only alerts of this rule id (repeatable)")
	fs.Var(&agents, "agent", "only alerts from this agent name or id (repeatable)")
	fs.Var(&techniques, "technique", "only alerts with this MITRE ATT&CK technique, e.g. T1098 (repeatable)")
	level := fs.Int("level", 0, "only alerts of this level or higher")
	since := fs.String("since", "", "only alerts newer than this: 30m, 24h, 7d, 2w, a date or an RFC 3339 time")
	text := fs.String("q", "", "only alerts containing these words")
	limit := fs.Int("limit", 50, "print at most this many alerts (newest first; max 1000)")
	asJSON := fs.Bool("json", false, "print each alert's whole Wazuh JSON, one per line")
	if code, done := parseFlags(fs, args); done {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(io.Err, "tld alerts: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	f := store.Filter{Groups: groups, RuleIDs: rules, Agents: agents, Techniques: techniques, MinLevel: *level, Text: *text}
	if *since != "" {
		// The dashboard's and the API's reader: the same "7d" or date means
		// the same start everywhere.
		from, err := query.ParseTime(*since, time.Now())
		if err != nil {
			fmt.Fprintf(io.Err, "tld alerts: --since: %v\n", err)
			return 2
		}
		f.From = from
	}
	if *limit < 1 || *limit > 1000 {
		fmt.Fprintf(io.Err, "tld alerts: --limit must be from 1 to 1000\n")
		return 2
	}

	path := filepath.Join(*dataDir, storeFile)
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		fmt.Fprintf(io.Err, "tld alerts: no alert store at %s: `tld run --data %s` creates it\n", path, *dataDir)
		return 1
	}
	st, err := store.Open(ctx, path, store.Options{})
	if err != nil {
		fmt.Fprintf(io.Err, "tld alerts: %v\n", err)
		return 1
	}
	defer st.Close()
	res, err := st.Search(ctx, f, store.Page{Limit: *limit})
	if err != nil {
		fmt.Fprintf(io.Err, "tld alerts: %v\n", err)
		return 1
	}
	if *asJSON {
		enc := json.NewEncoder(io.Out)
		for _, a := range res.Alerts {
			full, err := st.Get(ctx, a.ID)
			if err != nil {
				fmt.Fprintf(io.Err, "tld alerts: %v\n", err)
				return 1
			}
			if err := enc.Encode(full.JSON); err != nil {
				return 1
			}
		}
		return 0
	}
	tw := tabwriter.NewWriter(io.Out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TIME\tLEVEL\tRULE\tAGENT\tMITRE\tDESCRIPTION")
	for _, a := range res.Alerts {
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\n", a.Timestamp.Local().Format("2006-01-02 15:04:05"), a.Level, a.RuleID,
			printable(a.AgentName, 24), strings.Join(a.Techniques, ","), printable(a.Description, 100))
	}
	tw.Flush()
	more := ""
	if res.TotalIsLowerBound {
		more = "+"
	}
	fmt.Fprintf(io.Out, "%d of %d%s matching alert(s), newest first.\n", len(res.Alerts), res.Total, more)
	return 0
}

// printable cuts s to n runes and replaces control characters, so that a
// hostile event cannot rewrite the user's terminal.
func printable(s string, n int) string {
	var b strings.Builder
	i := 0
	for _, r := range s {
		if i == n {
			b.WriteString("…")
			break
		}
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069) {
			r = '�'
		}
		b.WriteRune(r)
		i++
	}
	return b.String()
}
