package store

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/threatlockdown/tld/internal/alert"
	"github.com/threatlockdown/tld/internal/mitre"
)

// The benchmark data set: benchAlerts alerts over 30 days ending at
// benchEnd, built once per process under $TLD_BENCH_DB (reused when it is
// already complete) or in a temporary directory.
const (
	benchAlerts = 1_000_000
	benchBatch  = 500
)

var benchEnd = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)

// benchGen makes realistic alerts: ~200 rules with skewed popularity, ~40
// groups, MITRE on ~30 % of rules, ~50 agents, half Azure JSON events with
// resource ids and regions, half syslog lines; about 1 KB of JSON each.
type benchGen struct {
	rng    *rand.Rand
	rules  []benchRule
	cum    []float64
	agents []alert.Agent
	seq    int
}

type benchRule struct {
	id, desc string
	level    int
	groups   []string
	mitre    *alert.Mitre
	azure    bool
}

var (
	benchTechniques = []string{"T1110", "T1110.001", "T1110.003", "T1078", "T1078.004", "T1098", "T1098.003", "T1059", "T1059.001",
		"T1059.004", "T1548", "T1548.003", "T1562", "T1562.001", "T1021", "T1021.004", "T1486", "T1490", "T1071", "T1105", "T1053",
		"T1053.003", "T1136", "T1136.001", "T1070", "T1070.004", "T1003", "T1555", "T1526", "T1611", "T1651", "T1537", "T1190", "T1133"}
	benchTypes = []string{"Microsoft.Compute/virtualMachines", "Microsoft.KeyVault/vaults", "Microsoft.Storage/storageAccounts",
		"Microsoft.Web/sites", "Microsoft.Sql/servers/databases", "Microsoft.Network/networkSecurityGroups",
		"Microsoft.ContainerService/managedClusters", "Microsoft.Authorization/roleAssignments"}
	benchRegions = []string{"westeurope", "northeurope", "eastus", "eastus2", "westus2", "uksouth", "francecentral", "germanywestcentral"}
	benchWords   = []string{"failed", "password", "invalid", "user", "accepted", "session", "opened", "closed", "root", "admin",
		"connection", "reset", "denied", "sudo", "command", "policy", "changed", "deleted", "created", "role", "assignment", "write"}
)

func newBenchGen(seed uint64) *benchGen {
	g := &benchGen{rng: rand.New(rand.NewPCG(seed, 42))}
	groups := make([]string, 40)
	for i := range groups {
		groups[i] = fmt.Sprintf("group_%02d", i)
	}
	total := 0.0
	for i := 0; i < 200; i++ {
		r := benchRule{id: strconv.Itoa(100000 + i*7), level: 1 + g.rng.IntN(15), azure: i%2 == 0}
		r.desc = fmt.Sprintf("Rule %d: %s %s %s", i, benchWords[g.rng.IntN(len(benchWords))], benchWords[g.rng.IntN(len(benchWords))], benchWords[g.rng.IntN(len(benchWords))])
		for n := 1 + g.rng.IntN(3); n > 0; n-- {
			r.groups = append(r.groups, groups[g.rng.IntN(len(groups))])
		}
		if r.azure {
			r.groups = append(r.groups, "azure")
		} else {
			r.groups = append(r.groups, "syslog")
		}
		if g.rng.Float64() < 0.3 {
			m := &alert.Mitre{}
			seen := map[string]bool{}
			for n := 1 + g.rng.IntN(2); n > 0; n-- {
				id := benchTechniques[g.rng.IntN(len(benchTechniques))]
				te, _ := mitre.Default().Lookup(id)
				m.ID = append(m.ID, id)
				m.Technique = append(m.Technique, te.Name)
				for _, ta := range te.Tactics {
					if !seen[ta] {
						seen[ta] = true
						m.Tactic = append(m.Tactic, ta)
					}
				}
			}
			r.mitre = m
		}
		g.rules = append(g.rules, r)
		total += 1 / float64(i+1) // Zipf-like popularity
		g.cum = append(g.cum, total)
	}
	for i := range g.cum {
		g.cum[i] /= total
	}
	for i := 0; i < 50; i++ {
		g.agents = append(g.agents, alert.Agent{ID: fmt.Sprintf("%03d", i+1), Name: fmt.Sprintf("host-%02d", i+1), IP: fmt.Sprintf("10.0.%d.%d", i/10, i%10+1)})
	}
	return g
}

func (g *benchGen) next(ts time.Time) *alert.Alert {
	g.seq++
	x := g.rng.Float64()
	ri := 0
	for ri < len(g.cum)-1 && g.cum[ri] < x {
		ri++
	}
	r := &g.rules[ri]
	ip := fmt.Sprintf("203.0.%d.%d", g.rng.IntN(256), g.rng.IntN(256))
	a := &alert.Alert{
		Timestamp: ts,
		// Real event ids are 32-hex-digit hashes: random, not sorted,
		// which is what the unique id index pays for.
		ID:      fmt.Sprintf("%016x%016x", g.rng.Uint64(), g.rng.Uint64()),
		Rule:    &alert.Rule{ID: r.id, Level: r.level, Description: r.desc, Groups: r.groups, Mitre: r.mitre, FiredTimes: 1},
		Agent:   g.agents[g.rng.IntN(len(g.agents))],
		Manager: "tld-manager",
	}
	user := fmt.Sprintf("user%04d", g.rng.IntN(5000))
	if r.azure {
		sub := fmt.Sprintf("6f1c2e4a-93b7-4d0e-8a51-2c7d9e0f4b%02d", g.rng.IntN(4))
		typ := benchTypes[g.rng.IntN(len(benchTypes))]
		res := fmt.Sprintf("/subscriptions/%s/resourceGroups/rg-%d/providers/%s/res-%d", sub, g.rng.IntN(20), typ, g.rng.IntN(300))
		region := benchRegions[g.rng.IntN(len(benchRegions))]
		a.Agent = alert.Agent{ID: "000", Name: "tld-manager"}
		a.Location = "azure-log-analytics"
		a.Decoder = alert.Decoder{Name: "json"}
		a.Data = alert.Fields{
			{Key: "TenantId", Value: "a3d5c7e9-1b2f-4c6d-8e0a-9f8b7c6d5e4f"},
			{Key: "TimeGenerated", Value: ts.Format(time.RFC3339)},
			{Key: "OperationNameValue", Value: typ + "/write"},
			{Key: "Caller", Value: user + "@contoso.example"},
			{Key: "CallerIpAddress", Value: ip},
			{Key: "CorrelationId", Value: fmt.Sprintf("%08x-9e8d-4c7b-a6f5-%012x", g.rng.Uint32(), g.rng.Uint64()&0xffffffffffff)},
			{Key: "ActivityStatusValue", Value: "Success"},
			{Key: "Category", Value: "Administrative"},
			{Key: "SubscriptionId", Value: sub},
			{Key: "ResourceId", Value: res},
			{Key: "properties.location", Value: region},
			{Key: "properties.message", Value: benchWords[g.rng.IntN(len(benchWords))] + " " + benchWords[g.rng.IntN(len(benchWords))] + " " + benchWords[g.rng.IntN(len(benchWords))]},
			{Key: "Type", Value: "AzureActivity"},
			{Key: "azure_tag", Value: "azure-log-analytics"},
		}
		var b []byte
		b = append(b, '{')
		for i, f := range a.Data {
			if i > 0 {
				b = append(b, ',')
			}
			b = strconv.AppendQuote(b, f.Key)
			b = append(b, ':')
			b = strconv.AppendQuote(b, f.Value)
		}
		a.FullLog = string(append(b, '}'))
	} else {
		a.Location = "/var/log/auth.log"
		a.Decoder = alert.Decoder{Name: "sshd", Parent: "sshd"}
		a.Predecoder = alert.Predecoder{ProgramName: "sshd", Timestamp: ts.Format(time.Stamp), Hostname: a.Agent.Name}
		msg := ""
		for n := 8 + g.rng.IntN(40); n > 0; n-- {
			msg += benchWords[g.rng.IntN(len(benchWords))] + " "
		}
		a.FullLog = fmt.Sprintf("%s %s sshd[%d]: %sfor %s from %s port %d ssh2", ts.Format(time.Stamp), a.Agent.Name, 1000+g.rng.IntN(60000), msg, user, ip, 1024+g.rng.IntN(60000))
		a.Data = alert.Fields{{Key: "srcip", Value: ip}, {Key: "srcuser", Value: user}, {Key: "srcport", Value: strconv.Itoa(1024 + g.rng.IntN(60000))}}
	}
	return a
}

var (
	benchOnce  sync.Once
	benchStore *Store
	benchErr   error
)

// openBenchDB opens the 1M-alert store, building it when needed.
func openBenchDB(b *testing.B) *Store {
	benchOnce.Do(func() {
		ctx := context.Background()
		path := os.Getenv("TLD_BENCH_DB")
		if path == "" {
			dir, err := os.MkdirTemp("", "tld-store-bench-")
			if err != nil {
				benchErr = err
				return
			}
			path = filepath.Join(dir, "alerts.db")
		}
		s, err := Open(ctx, path, Options{})
		if err != nil {
			benchErr = err
			return
		}
		st, err := s.Stats(ctx)
		if err != nil {
			benchErr = err
			return
		}
		if st.Alerts < benchAlerts {
			start := time.Now()
			g := newBenchGen(uint64(st.Alerts) + 1)
			span := 30 * 24 * time.Hour
			step := span / benchAlerts
			from := benchEnd.Add(-span)
			batch := make([]*alert.Alert, 0, 2000)
			for i := st.Alerts; i < benchAlerts; i++ {
				batch = append(batch, g.next(from.Add(time.Duration(i)*step)))
				if len(batch) == cap(batch) || i == benchAlerts-1 {
					if _, err := s.Insert(ctx, batch); err != nil {
						benchErr = err
						return
					}
					batch = batch[:0]
				}
			}
			// Both files: the planner weighs the alerts' indexes
			// against the side tables.
			for _, db := range []*sql.DB{s.w, s.wa} {
				if _, err := db.ExecContext(ctx, "ANALYZE main"); err != nil {
					benchErr = err
					return
				}
			}
			fmt.Fprintf(os.Stderr, "built %d-alert bench store %s in %s\n", benchAlerts, path, time.Since(start).Round(time.Second))
		}
		benchStore = s
	})
	if benchErr != nil {
		b.Fatalf("bench store: %v", benchErr)
	}
	return benchStore
}

// BenchmarkInsert measures batches of 500 alerts (what one pipeline flush
// typically carries) and of 2,000 into a store that already holds some,
// with every index and the full text index. The alerts come as the
// pipeline hands them over, their JSON already made (it encodes each alert
// once, before its outputs, alerts.json among them, get it); the
// "encoding" case makes the store encode them too.
func BenchmarkInsert(b *testing.B) {
	for _, c := range []struct {
		size   int
		encode bool
	}{{benchBatch, false}, {2000, false}, {benchBatch, true}} {
		name := fmt.Sprintf("batch=%d", c.size)
		if c.encode {
			name += "/encoding"
		}
		b.Run(name, func(b *testing.B) { benchInsert(b, c.size, c.encode) })
	}
}

func benchInsert(b *testing.B, size int, encode bool) {
	// Warm: a store is rarely empty.
	insertBatches(b, filepath.Join(b.TempDir(), "alerts.db"), benchEnd.Add(-24*time.Hour), size, encode, 20000/size)
}

// insertBatches measures Insert of b.N batches of size alerts, 50 ms
// apart from time from on, into the store at path, after warm untimed
// batches.
func insertBatches(b *testing.B, path string, from time.Time, size int, encode bool, warm int) {
	ctx := context.Background()
	s, err := Open(ctx, path, Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	g := newBenchGen(7)
	ts := from
	mk := func() []*alert.Alert {
		batch := make([]*alert.Alert, size)
		for i := range batch {
			ts = ts.Add(50 * time.Millisecond)
			batch[i] = g.next(ts)
			if !encode {
				batch[i].JSON()
			}
		}
		return batch
	}
	for i := 0; i < warm; i++ {
		if _, err := s.Insert(ctx, mk()); err != nil {
			b.Fatal(err)
		}
	}
	batches := make([][]*alert.Alert, 16)
	refill := func() {
		for j := range batches {
			batches[j] = mk()
		}
		// The garbage of making them is not the store's to collect.
		runtime.GC()
	}
	refill()
	b.ReportAllocs()
	b.ResetTimer()
	var cpu time.Duration // used while timed
	start := processCPU()
	n := 0
	for i := 0; i < b.N; i++ {
		if i%len(batches) == 0 && i > 0 {
			// Index writes still running belong to the timed batches.
			if err := s.Flush(ctx); err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			cpu += processCPU() - start
			refill()
			start = processCPU()
			b.StartTimer()
		}
		k, err := s.Insert(ctx, batches[i%len(batches)])
		if err != nil {
			b.Fatal(err)
		}
		n += k
	}
	// The last batch's index entries are part of storing it.
	if err := s.Flush(ctx); err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	cpu += processCPU() - start
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "alerts/s")
	// CPU per alert varies less than wall time on a shared machine.
	if cpu > 0 && n > 0 {
		b.ReportMetric(float64(cpu.Microseconds())/float64(n), "cpu-µs/alert")
	}
}

// BenchmarkInsertAt1M measures batches of 500 into a copy of the
// 1,000,000-alert store: random ids now land all over a large id index.
func BenchmarkInsertAt1M(b *testing.B) {
	src := openBenchDB(b).path
	if err := benchStore.Flush(context.Background()); err != nil {
		b.Fatal(err)
	}
	if _, err := benchStore.w.Exec("PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
		b.Fatal(err)
	}
	if _, err := benchStore.wa.Exec("PRAGMA main.wal_checkpoint(TRUNCATE)"); err != nil {
		b.Fatal(err)
	}
	dst := filepath.Join(b.TempDir(), "alerts.db")
	for _, suffix := range []string{"", auxSuffix} {
		if err := copyFile(src+suffix, dst+suffix); err != nil {
			b.Fatal(err)
		}
	}
	insertBatches(b, dst, benchEnd, benchBatch, false, 0)
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(to)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	// On disk before the timer starts: the kernel writing gigabytes back
	// meanwhile would slow every commit being measured.
	if err := out.Sync(); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// BenchmarkQueries runs every query the dashboard makes against 1M
// alerts, over all 30 days and over the last 24 hours.
func BenchmarkQueries(b *testing.B) {
	s := openBenchDB(b)
	ctx := context.Background()
	day := Filter{From: benchEnd.Add(-24 * time.Hour), To: benchEnd}
	all := Filter{From: benchEnd.Add(-30 * 24 * time.Hour), To: benchEnd}
	run := func(name string, f func() error) {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := f(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	search := func(f Filter) func() error {
		return func() error {
			res, err := s.Search(ctx, f, Page{})
			if err == nil && len(res.Alerts) == 0 {
				err = fmt.Errorf("no alerts for %+v", f)
			}
			return err
		}
	}
	run("Search/newest", search(Filter{}))
	run("Search/group", search(Filter{Groups: []string{"group_07"}}))
	run("Search/level_12_15", search(Filter{MinLevel: 12, MaxLevel: 15}))
	run("Search/technique", search(Filter{Techniques: []string{"T1110"}}))
	run("Search/text_common", search(Filter{Text: "failed password"}))
	run("Search/text_rare", search(Filter{Text: "user0042"}))
	run("Search/24h_group", search(Filter{From: day.From, To: day.To, Groups: []string{"group_07"}}))
	run("Search/24h_text", search(Filter{From: day.From, To: day.To, Text: "denied"}))
	// The dashboard's sortable columns, over all 30 days.
	sorted := func(f Filter, p Page) func() error {
		return func() error {
			res, err := s.Search(ctx, f, p)
			if err == nil && len(res.Alerts) == 0 {
				err = fmt.Errorf("no alerts for %+v sorted %+v", f, p)
			}
			return err
		}
	}
	run("Search/sort_level", sorted(Filter{}, Page{Sort: SortLevel}))
	run("Search/sort_rule_asc", sorted(Filter{}, Page{Sort: SortRule, Asc: true}))
	run("Search/sort_agent", sorted(Filter{}, Page{Sort: SortAgent}))
	run("Search/sort_location_asc", sorted(Filter{}, Page{Sort: SortLocation, Asc: true}))
	run("Search/sort_rule_page_20", sorted(Filter{}, Page{Sort: SortRule, Offset: 1000}))
	run("Search/sort_level_group", sorted(Filter{Groups: []string{"group_07"}}, Page{Sort: SortLevel}))
	for _, r := range []struct {
		name string
		f    Filter
	}{{"30d", all}, {"24h", day}} {
		run("Histogram/"+r.name, func() error { _, err := s.Histogram(ctx, r.f, 0); return err })
		for _, d := range []Dimension{ByRule, ByGroup, ByLevel, ByAgent, ByTactic, ByTechnique, ByResourceType, ByRegion} {
			run("Top/"+string(d)+"/"+r.name, func() error { _, err := s.Top(ctx, r.f, d, 10); return err })
		}
		run("Mitre/"+r.name, func() error { _, err := s.Mitre(ctx, r.f); return err })
	}
	run("Histogram/24h_level_12_15", func() error {
		_, err := s.Histogram(ctx, Filter{From: day.From, To: day.To, MinLevel: 12, MaxLevel: 15}, 0)
		return err
	})
	run("Top/rule/24h_group", func() error {
		_, err := s.Top(ctx, Filter{From: day.From, To: day.To, Groups: []string{"group_07"}}, ByRule, 10)
		return err
	})
	run("Stats", func() error { _, err := s.Stats(ctx); return err })
}
