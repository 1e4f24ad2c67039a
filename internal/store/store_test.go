package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/threatlockdown/tld/internal/alert"
)

func TestOpen(t *testing.T) {
	ctx := context.Background()
	t.Run("reopening a store keeps its alerts and schema", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "a.db")
		s, err := Open(ctx, path, Options{})
		if err != nil {
			t.Fatal(err)
		}
		insert(t, s, spec{id: "a1"})
		s.Close()
		s, err = Open(ctx, path, Options{})
		if err != nil {
			t.Fatalf("reopen: %v", err)
		}
		defer s.Close()
		var v int
		if err := s.r.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil || v != len(migrations) {
			t.Fatalf("user_version = %d, %v; want %d", v, err, len(migrations))
		}
		if _, err := s.Get(ctx, "a1"); err != nil {
			t.Fatalf("Get after reopen: %v", err)
		}
	})
	t.Run("a store from a newer tld is refused", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "a.db")
		s, err := Open(ctx, path, Options{})
		if err != nil {
			t.Fatal(err)
		}
		s.w.ExecContext(ctx, "PRAGMA user_version = 99")
		s.Close()
		_, err = Open(ctx, path, Options{})
		if err == nil || !strings.Contains(err.Error(), "newer") || !strings.Contains(err.Error(), path) {
			t.Fatalf("Open = %v, want a 'newer' error naming the file", err)
		}
	})
	t.Run("another program's database is refused", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "other.db")
		db, err := sql.Open("sqlite", path)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec("CREATE TABLE customers(name TEXT)"); err != nil {
			t.Fatal(err)
		}
		db.Close()
		_, err = Open(ctx, path, Options{})
		if err == nil || !strings.Contains(err.Error(), "not a tld alert store") || !strings.Contains(err.Error(), path) {
			t.Fatalf("Open = %v, want 'not a tld alert store' naming the file", err)
		}
	})
	t.Run("a file that is not SQLite is refused", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "junk.db")
		if err := os.WriteFile(path, []byte(strings.Repeat("this is not a database\n", 500)), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := Open(ctx, path, Options{})
		if err == nil || !strings.Contains(err.Error(), path) {
			t.Fatalf("Open = %v, want an error naming the file", err)
		}
	})
	t.Run("a directory is refused", func(t *testing.T) {
		dir := t.TempDir()
		if _, err := Open(ctx, dir, Options{}); err == nil {
			t.Fatal("Open(directory) succeeded")
		}
	})
}

func TestInsertIsIdempotent(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	batch := []*alert.Alert{spec{id: "a"}.alert(), spec{id: "b", at: time.Minute}.alert(), spec{id: "c", at: 2 * time.Minute}.alert()}
	if n, err := s.Insert(ctx, batch); err != nil || n != 3 {
		t.Fatalf("first Insert = %d, %v", n, err)
	}
	t.Run("replaying a batch stores nothing", func(t *testing.T) {
		if n, err := s.Insert(ctx, batch); err != nil || n != 0 {
			t.Fatalf("replay Insert = %d, %v; want 0", n, err)
		}
	})
	t.Run("a batch that overlaps stores only the new alerts", func(t *testing.T) {
		n, err := s.Insert(ctx, []*alert.Alert{batch[2], spec{id: "d", at: 3 * time.Minute}.alert(), spec{id: "d", at: 3 * time.Minute}.alert()})
		if err != nil || n != 1 {
			t.Fatalf("Insert = %d, %v; want 1", n, err)
		}
	})
	t.Run("counts and rollups see every alert once", func(t *testing.T) {
		st, err := s.Stats(ctx)
		if err != nil || st.Alerts != 4 {
			t.Fatalf("Stats = %+v, %v; want 4 alerts", st, err)
		}
		top, err := s.Top(ctx, Filter{}, ByRule, 5)
		if err != nil || len(top) != 1 || top[0].Count != 4 {
			t.Fatalf("Top = %+v, %v", top, err)
		}
		res, err := s.Search(ctx, Filter{}, Page{Limit: 2})
		if err != nil || res.Total != 4 || res.TotalIsLowerBound {
			t.Fatalf("Search total = %+v, %v", res, err)
		}
	})
	t.Run("an empty batch is fine", func(t *testing.T) {
		if n, err := s.Insert(ctx, nil); err != nil || n != 0 {
			t.Fatalf("Insert(nil) = %d, %v", n, err)
		}
	})
}

func TestGet(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	a := spec{id: "x1", groups: []string{"sshd", "authentication_failed"}, mitreIDs: []string{"T1110"}, tactics: []string{"Credential Access"},
		fullLog: "Failed password for root", data: alert.Fields{{Key: "srcip", Value: "10.0.0.5"}}}.alert()
	if _, err := s.Insert(ctx, []*alert.Alert{a}); err != nil {
		t.Fatal(err)
	}
	t.Run("an alert comes back with its exact JSON", func(t *testing.T) {
		got, err := s.Get(ctx, "x1")
		if err != nil {
			t.Fatal(err)
		}
		want, _ := a.MarshalJSON()
		if string(got.JSON) != string(want) {
			t.Errorf("JSON\n got %s\nwant %s", got.JSON, want)
		}
		if got.RuleID != "1002" || len(got.Groups) != 2 || got.Techniques[0] != "T1110" || got.Tactics[0] != "Credential Access" ||
			!got.Timestamp.Equal(a.Timestamp) {
			t.Errorf("summary = %+v", got.AlertSummary)
		}
	})
	t.Run("an unknown id is ErrNotFound", func(t *testing.T) {
		_, err := s.Get(ctx, "nope")
		if !errors.Is(err, ErrNotFound) {
			t.Fatalf("Get = %v, want ErrNotFound", err)
		}
	})
}

func TestSearchFilters(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	insert(t, s,
		spec{id: "ssh1", at: 1 * time.Hour, rule: "5710", level: 5, groups: []string{"syslog", "sshd"}, agent: "web-01", agentID: "001",
			fullLog: "sshd[1]: Invalid user admin from 10.0.0.5", mitreIDs: []string{"T1110.001"}, tactics: []string{"Credential Access"}},
		spec{id: "ssh2", at: 2 * time.Hour, rule: "5712", level: 10, groups: []string{"syslog", "sshd", "authentication_failures"}, agent: "db-01", agentID: "002",
			fullLog: "sshd[2]: brute force from 192.168.1.9"},
		spec{id: "az1", at: 3 * time.Hour, rule: "87801", level: 12, groups: []string{"azure"}, agent: "manager", agentID: "000", location: "azure-logs",
			mitreIDs: []string{"T1098"}, tactics: []string{"Persistence", "Privilege Escalation"},
			data: alert.Fields{{Key: "properties.resourceId", Value: "/subscriptions/s/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv"}, {Key: "Caller", Value: "mallory@contoso.example"}}},
		spec{id: "az2", at: 4 * time.Hour, rule: "87802", level: 7, groups: []string{"azure"}, agent: "manager", agentID: "000", location: "azure-logs",
			mitreIDs: []string{"T1098.003"}, tactics: []string{"Persistence"}},
	)
	tests := []struct {
		name string
		f    Filter
		want []string
	}{
		{"no filter returns everything newest first", Filter{}, []string{"az2", "az1", "ssh2", "ssh1"}},
		{"From is inclusive", Filter{From: base.Add(3 * time.Hour)}, []string{"az2", "az1"}},
		{"To is exclusive", Filter{To: base.Add(3 * time.Hour)}, []string{"ssh2", "ssh1"}},
		{"a group matches alerts that have it", Filter{Groups: []string{"sshd"}}, []string{"ssh2", "ssh1"}},
		{"several groups match any of them", Filter{Groups: []string{"authentication_failures", "azure"}}, []string{"az2", "az1", "ssh2"}},
		{"rule ids select their alerts", Filter{RuleIDs: []string{"5710", "87802"}}, []string{"az2", "ssh1"}},
		{"MinLevel is a lower bound", Filter{MinLevel: 10}, []string{"az1", "ssh2"}},
		{"MaxLevel is an upper bound", Filter{MaxLevel: 7}, []string{"az2", "ssh1"}},
		{"a level range takes both bounds", Filter{MinLevel: 6, MaxLevel: 11}, []string{"az2", "ssh2"}},
		{"an agent matches by name", Filter{Agents: []string{"db-01"}}, []string{"ssh2"}},
		{"an agent matches by id", Filter{Agents: []string{"001"}}, []string{"ssh1"}},
		{"a location selects its alerts", Filter{Locations: []string{"azure-logs"}}, []string{"az2", "az1"}},
		{"a technique matches itself and its sub-techniques", Filter{Techniques: []string{"T1098"}}, []string{"az2", "az1"}},
		{"a sub-technique matches only itself", Filter{Techniques: []string{"t1098.003"}}, []string{"az2"}},
		{"a technique does not match a longer id that is not its child", Filter{Techniques: []string{"T1110.00"}}, []string{}},
		{"tactics match ignoring case", Filter{Tactics: []string{"privilege escalation"}}, []string{"az1"}},
		{"free text matches the full log", Filter{Text: "invalid ADMIN"}, []string{"ssh1"}},
		{"free text matches an ip as one phrase", Filter{Text: "10.0.0.5"}, []string{"ssh1"}},
		{"free text matches the description", Filter{Text: "87801"}, []string{"az1"}},
		{"free text matches data values", Filter{Text: "mallory"}, []string{"az1"}},
		{"every word must occur", Filter{Text: "sshd mallory"}, []string{}},
		{"all fields combine with AND", Filter{Groups: []string{"syslog"}, MinLevel: 5, Agents: []string{"web-01"}, Text: "admin", From: base, To: base.Add(2 * time.Hour)}, []string{"ssh1"}},
		{"an empty time range matches nothing", Filter{From: base.Add(time.Hour), To: base.Add(time.Hour)}, []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := s.Search(ctx, tt.f, Page{})
			if err != nil {
				t.Fatalf("Search: %v", err)
			}
			if got := ids(res); strings.Join(got, ",") != strings.Join(tt.want, ",") {
				t.Errorf("got %v, want %v", got, tt.want)
			}
			if res.Total != len(tt.want) {
				t.Errorf("Total = %d, want %d", res.Total, len(tt.want))
			}
		})
	}
}

func TestSearchPagingAndSorting(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	var specs []spec
	for i := 0; i < 30; i++ {
		specs = append(specs, spec{id: string(rune('a'+i%26)) + string(rune('0'+i/26)), at: time.Duration(i) * time.Minute, level: 1 + i%5,
			agent: []string{"b-agent", "a-agent", "c-agent"}[i%3], rule: []string{"200", "100"}[i%2], location: []string{"x", "y"}[i%2]})
	}
	insert(t, s, specs...)
	t.Run("pages of newest first do not overlap and cover everything", func(t *testing.T) {
		seen := map[string]bool{}
		var last time.Time
		for off := 0; off < 30; off += 7 {
			res, err := s.Search(ctx, Filter{}, Page{Limit: 7, Offset: off})
			if err != nil {
				t.Fatal(err)
			}
			if res.Total != 30 {
				t.Fatalf("Total = %d", res.Total)
			}
			for _, a := range res.Alerts {
				if seen[a.ID] {
					t.Fatalf("%s on two pages", a.ID)
				}
				if !last.IsZero() && a.Timestamp.After(last) {
					t.Fatalf("not newest first at %s", a.ID)
				}
				seen[a.ID], last = true, a.Timestamp
			}
		}
		if len(seen) != 30 {
			t.Fatalf("saw %d alerts, want 30", len(seen))
		}
	})
	t.Run("a page past the end is empty but still counts", func(t *testing.T) {
		res, err := s.Search(ctx, Filter{MinLevel: 1}, Page{Offset: 100})
		if err != nil || len(res.Alerts) != 0 || res.Total != 30 {
			t.Fatalf("Search = %d alerts, total %d, %v", len(res.Alerts), res.Total, err)
		}
	})
	for _, tt := range []struct {
		name string
		p    Page
		less func(a, b AlertSummary) bool // must hold (or tie) between neighbours
	}{
		{"oldest first", Page{Sort: SortTimestamp, Asc: true}, func(a, b AlertSummary) bool { return !a.Timestamp.After(b.Timestamp) }},
		{"by level descending", Page{Sort: SortLevel}, func(a, b AlertSummary) bool { return a.Level >= b.Level }},
		{"by level ascending", Page{Sort: SortLevel, Asc: true}, func(a, b AlertSummary) bool { return a.Level <= b.Level }},
		{"by rule", Page{Sort: SortRule, Asc: true}, func(a, b AlertSummary) bool { return a.RuleID <= b.RuleID }},
		{"by agent", Page{Sort: SortAgent, Asc: true}, func(a, b AlertSummary) bool { return a.AgentName <= b.AgentName }},
		{"by location", Page{Sort: SortLocation}, func(a, b AlertSummary) bool { return a.Location >= b.Location }},
	} {
		t.Run("sorting "+tt.name+" orders every row", func(t *testing.T) {
			tt.p.Limit = 30
			res, err := s.Search(ctx, Filter{}, tt.p)
			if err != nil || len(res.Alerts) != 30 {
				t.Fatalf("Search = %d, %v", len(res.Alerts), err)
			}
			for i := 1; i < len(res.Alerts); i++ {
				if !tt.less(res.Alerts[i-1], res.Alerts[i]) {
					t.Fatalf("rows %d and %d out of order: %+v %+v", i-1, i, res.Alerts[i-1], res.Alerts[i])
				}
			}
		})
	}
	t.Run("an unknown sort field is an error", func(t *testing.T) {
		if _, err := s.Search(ctx, Filter{}, Page{Sort: "id; DROP TABLE alerts"}); err == nil {
			t.Fatal("want an error")
		}
	})
	t.Run("the limit is capped", func(t *testing.T) {
		res, err := s.Search(ctx, Filter{}, Page{Limit: 1 << 30})
		if err != nil || len(res.Alerts) != 30 {
			t.Fatalf("Search = %d, %v", len(res.Alerts), err)
		}
	})
}

func TestHostileText(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	big := strings.Repeat("A", 100<<10)
	insert(t, s,
		spec{id: "drop", fullLog: "user typed '; DROP TABLE alerts; -- and quote \"x\" NEAR/2 OR NOT AND *"},
		spec{id: "nul", at: time.Minute, fullLog: "before\x00after nul byte"},
		spec{id: "big", at: 2 * time.Minute, fullLog: "huge " + big},
		spec{id: "plain", at: 3 * time.Minute, fullLog: "nothing to see"},
	)
	tests := []struct {
		name, text string
		want       []string
	}{
		{"SQL in the text is a plain word search", "'; DROP TABLE alerts; --", []string{"drop"}},
		{"FTS operators are words", "NEAR/2 OR NOT", []string{"drop"}},
		{"a quote inside a word is harmless", `"x"`, []string{"drop"}},
		{"an unbalanced quote is harmless", `"x`, []string{"drop"}},
		{"a lone star is ignored", "* nothing", []string{"plain"}},
		{"column filter syntax is a word", "body:nothing", []string{}},
		{"caret and parentheses are harmless", "^(nothing)", []string{"plain"}},
		{"a NUL in the query splits words", "before\x00after", []string{"nul"}},
		{"a 100 KB word finds the alert that holds it", big, []string{"big"}},
		{"100 KB of words is answered", strings.Repeat("nothing ", 12<<10), []string{"plain"}},
		{"punctuation only constrains nothing", "'; --", []string{"plain", "big", "nul", "drop"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := s.Search(ctx, Filter{Text: tt.text}, Page{})
			if err != nil {
				t.Fatalf("Search: %v", err)
			}
			if got := ids(res); strings.Join(got, ",") != strings.Join(tt.want, ",") {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
	t.Run("hostile values in every filter field are only values", func(t *testing.T) {
		h := "x' OR '1'='1"
		res, err := s.Search(ctx, Filter{Groups: []string{h}, RuleIDs: []string{h}, Agents: []string{h}, Locations: []string{h},
			Techniques: []string{h}, Tactics: []string{h}}, Page{})
		if err != nil || len(res.Alerts) != 0 {
			t.Fatalf("Search = %v, %v", ids(res), err)
		}
		if _, err := s.Get(ctx, h); !errors.Is(err, ErrNotFound) {
			t.Fatalf("Get = %v", err)
		}
		if st, err := s.Stats(ctx); err != nil || st.Alerts != 4 {
			t.Fatalf("Stats = %+v, %v", st, err)
		}
	})
}

func TestReadsDuringInserts(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for b := 0; b < 20; b++ {
			var batch []*alert.Alert
			for i := 0; i < 50; i++ {
				batch = append(batch, spec{id: string(rune('a'+b)) + "-" + time.Duration(i).String(), at: time.Duration(b*50+i) * time.Second}.alert())
			}
			if _, err := s.Insert(ctx, batch); err != nil {
				t.Errorf("Insert: %v", err)
				return
			}
		}
	}()
	for i := 0; i < 50; i++ {
		res, err := s.Search(ctx, Filter{}, Page{})
		if err != nil {
			t.Fatalf("Search during inserts: %v", err)
		}
		if res.Total%50 != 0 {
			t.Fatalf("saw a partial batch: total %d", res.Total)
		}
	}
	wg.Wait()
	if st, _ := s.Stats(ctx); st.Alerts != 1000 {
		t.Fatalf("Stats.Alerts = %d, want 1000", st.Alerts)
	}
}

// Sorting by a keyword field reads each value's alerts in turn: every
// page must be the slice of the one total order (field, then time, then
// insertion) that a sort of all the alerts gives, in both directions,
// with and without other filters, and with alerts of level 0.
func TestSearchSortedByFieldPagesThroughOneOrder(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	var alerts []*alert.Alert
	for i := 0; i < 60; i++ {
		// Times go back and forth so that time order is not insertion order.
		at := time.Duration((i*37)%60) * 50 * time.Minute
		a := spec{id: fmt.Sprintf("s%02d", i), at: at, agent: []string{"b-agent", "a-agent", "c-agent"}[i%3],
			agentID: fmt.Sprintf("%03d", i%3), rule: []string{"100", "20", "3"}[i%3*i%7%3], location: []string{"x", "y"}[i%2]}.alert()
		a.Rule.Level = i % 6 // level 0 included
		alerts = append(alerts, a)
	}
	if _, err := s.Insert(ctx, alerts[:25]); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Insert(ctx, alerts[25:]); err != nil {
		t.Fatal(err)
	}
	seq := map[string]int{}
	for i, a := range alerts {
		seq[a.ID] = i
	}
	key := map[SortField]func(a *alert.Alert) string{
		SortLevel:    func(a *alert.Alert) string { return fmt.Sprintf("%02d", a.Rule.Level) },
		SortRule:     func(a *alert.Alert) string { return a.Rule.ID },
		SortAgent:    func(a *alert.Alert) string { return a.Agent.Name },
		SortLocation: func(a *alert.Alert) string { return a.Location },
	}
	for _, tc := range []struct {
		name string
		f    Filter
		keep func(a *alert.Alert) bool
	}{
		{"all alerts", Filter{}, func(*alert.Alert) bool { return true }},
		{"one agent in a time range", Filter{Agents: []string{"a-agent"}, From: base.Add(10 * time.Hour), To: base.Add(40 * time.Hour)},
			func(a *alert.Alert) bool {
				return a.Agent.Name == "a-agent" && !a.Timestamp.Before(base.Add(10*time.Hour)) && a.Timestamp.Before(base.Add(40*time.Hour))
			}},
		{"levels 0 to 2", Filter{MinLevel: -1, MaxLevel: 2}, func(a *alert.Alert) bool { return a.Rule.Level <= 2 }},
	} {
		for field, k := range key {
			for _, asc := range []bool{false, true} {
				t.Run(fmt.Sprintf("%s by %s asc=%v", tc.name, field, asc), func(t *testing.T) {
					var want []string
					var sel []*alert.Alert
					for _, a := range alerts {
						if tc.keep(a) {
							sel = append(sel, a)
						}
					}
					slices.SortFunc(sel, func(a, b *alert.Alert) int {
						c := strings.Compare(k(a), k(b))
						if c == 0 {
							c = a.Timestamp.Compare(b.Timestamp)
						}
						if c == 0 {
							c = seq[a.ID] - seq[b.ID]
						}
						if !asc {
							c = -c
						}
						return c
					})
					for _, a := range sel {
						want = append(want, a.ID)
					}
					var got []string
					for off := 0; off < len(want)+7; off += 7 {
						res, err := s.Search(ctx, tc.f, Page{Sort: field, Asc: asc, Limit: 7, Offset: off})
						if err != nil {
							t.Fatal(err)
						}
						for _, a := range res.Alerts {
							got = append(got, a.ID)
						}
					}
					if !slices.Equal(got, want) {
						t.Fatalf("pages give\n%v\nwant\n%v", got, want)
					}
				})
			}
		}
	}
}
