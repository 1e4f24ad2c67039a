package store

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/threatlockdown/tld/internal/alert"
)

// aggStore holds alerts spread over a few hours, edges off the hour.
func aggStore(t *testing.T) *Store {
	s := openTest(t)
	kv := alert.Fields{{Key: "ResourceId", Value: "/subscriptions/s/resourcegroups/rg/providers/microsoft.keyvault/vaults/kv"}, {Key: "location", Value: "West Europe"}}
	vm := alert.Fields{{Key: "properties.resourceId", Value: "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm"}, {Key: "ResourceRegion", Value: "eastus"}}
	insert(t, s,
		spec{id: "1", at: 10 * time.Minute, rule: "5710", level: 5, groups: []string{"syslog", "sshd"}, agent: "web-01"},
		spec{id: "2", at: 20 * time.Minute, rule: "5710", level: 5, groups: []string{"syslog", "sshd"}, agent: "web-01"},
		spec{id: "3", at: 70 * time.Minute, rule: "5712", level: 10, groups: []string{"syslog", "sshd"}, agent: "db-01",
			mitreIDs: []string{"T1110"}, tactics: []string{"Credential Access"}},
		spec{id: "4", at: 130 * time.Minute, rule: "87801", level: 12, groups: []string{"azure"}, agent: "manager", location: "azure-logs", data: kv,
			mitreIDs: []string{"T1098", "T1078"}, tactics: []string{"Persistence", "Privilege Escalation", "Defense Evasion", "Initial Access"}},
		spec{id: "5", at: 190 * time.Minute, rule: "87801", level: 12, groups: []string{"azure"}, agent: "manager", location: "azure-logs", data: vm,
			mitreIDs: []string{"T9999"}, tactics: []string{"Impact"}},
	)
	return s
}

func TestHistogram(t *testing.T) {
	ctx := context.Background()
	s := aggStore(t)
	t.Run("hourly buckets include the empty ones", func(t *testing.T) {
		got, err := s.Histogram(ctx, Filter{From: base, To: base.Add(5 * time.Hour)}, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		want := []int{2, 1, 1, 1, 0}
		if len(got) != len(want) {
			t.Fatalf("got %d buckets, want %d", len(got), len(want))
		}
		for i, b := range got {
			if b.Count != want[i] || !b.Start.Equal(base.Add(time.Duration(i)*time.Hour)) || b.Start.Location() != time.UTC {
				t.Errorf("bucket %d = %+v, want %d at %s", i, b, want[i], base.Add(time.Duration(i)*time.Hour))
			}
		}
	})
	t.Run("an unaligned range still gets aligned buckets", func(t *testing.T) {
		got, err := s.Histogram(ctx, Filter{From: base.Add(15 * time.Minute), To: base.Add(135 * time.Minute)}, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 3 || !got[0].Start.Equal(base) || got[0].Count != 1 || got[1].Count != 1 || got[2].Count != 1 {
			t.Fatalf("got %+v", got)
		}
	})
	t.Run("interval 0 picks a round interval over the data", func(t *testing.T) {
		got, err := s.Histogram(ctx, Filter{}, 0)
		if err != nil {
			t.Fatal(err)
		}
		// 3 hours of data: 5 minute buckets give 37, 1 minute 181.
		if len(got) < 2 || got[1].Start.Sub(got[0].Start) != 5*time.Minute {
			t.Fatalf("got %d buckets, first two %+v", len(got), got[:2])
		}
		total := 0
		for _, b := range got {
			total += b.Count
		}
		if total != 5 {
			t.Fatalf("buckets sum to %d, want 5", total)
		}
	})
	t.Run("a filter beyond time is counted from raw rows", func(t *testing.T) {
		got, err := s.Histogram(ctx, Filter{From: base, To: base.Add(4 * time.Hour), Groups: []string{"azure"}}, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		var counts []int
		for _, b := range got {
			counts = append(counts, b.Count)
		}
		if !reflect.DeepEqual(counts, []int{0, 0, 1, 1}) {
			t.Fatalf("got %v", counts)
		}
	})
	t.Run("an empty store has no buckets", func(t *testing.T) {
		got, err := openTest(t).Histogram(ctx, Filter{}, 0)
		if err != nil || len(got) != 0 {
			t.Fatalf("got %v, %v", got, err)
		}
	})
	t.Run("too many buckets is an error", func(t *testing.T) {
		if _, err := s.Histogram(ctx, Filter{From: base, To: base.AddDate(1, 0, 0)}, time.Second); err == nil {
			t.Fatal("want an error")
		}
	})
}

func TestChooseInterval(t *testing.T) {
	for _, tt := range []struct {
		span time.Duration
		want time.Duration
	}{
		{time.Hour, time.Minute},
		{24 * time.Hour, 15 * time.Minute},
		{7 * 24 * time.Hour, 3 * time.Hour},
		{30 * 24 * time.Hour, 12 * time.Hour},
		{365 * 24 * time.Hour, 7 * 24 * time.Hour},
	} {
		t.Run(fmt.Sprintf("a span of %s gets %s buckets", tt.span, tt.want), func(t *testing.T) {
			got, err := chooseInterval(base, base.Add(tt.span), 0)
			if err != nil || got != tt.want {
				t.Fatalf("got %s, %v", got, err)
			}
		})
	}
}

func TestTop(t *testing.T) {
	ctx := context.Background()
	s := aggStore(t)
	tests := []struct {
		d    Dimension
		want []Bucket
	}{
		{ByRule, []Bucket{{"5710", "Test rule 5710", 2}, {"87801", "Test rule 87801", 2}, {"5712", "Test rule 5712", 1}}},
		{ByGroup, []Bucket{{"sshd", "", 3}, {"syslog", "", 3}, {"azure", "", 2}}},
		{ByLevel, []Bucket{{"12", "", 2}, {"5", "", 2}, {"10", "", 1}}},
		{ByAgent, []Bucket{{"manager", "", 2}, {"web-01", "", 2}, {"db-01", "", 1}}},
		{ByLocation, []Bucket{{"/var/log/syslog", "", 3}, {"azure-logs", "", 2}}},
		{ByTactic, []Bucket{{"Credential Access", "", 1}, {"Defense Evasion", "", 1}, {"Impact", "", 1}, {"Initial Access", "", 1}, {"Persistence", "", 1}, {"Privilege Escalation", "", 1}}},
		{ByTechnique, []Bucket{{"T1078", "Valid Accounts", 1}, {"T1098", "Account Manipulation", 1}, {"T1110", "Brute Force", 1}, {"T9999", "", 1}}},
		{ByResourceType, []Bucket{{"Microsoft.Compute/virtualMachines", "", 1}, {"Microsoft.KeyVault/vaults", "", 1}}},
		{ByRegion, []Bucket{{"eastus", "", 1}, {"westeurope", "", 1}}},
	}
	for _, tt := range tests {
		t.Run("counting by "+string(tt.d)+" from rollups and from raw rows agrees", func(t *testing.T) {
			got, err := s.Top(ctx, Filter{}, tt.d, 10)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("rollups: got %v\nwant %v", got, tt.want)
			}
			raw, err := s.Top(ctx, Filter{MinLevel: 1}, tt.d, 10)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(raw, tt.want) {
				t.Errorf("raw: got %v\nwant %v", raw, tt.want)
			}
			edge, err := s.Top(ctx, Filter{From: base.Add(5 * time.Minute), To: base.Add(195 * time.Minute)}, tt.d, 10)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(edge, tt.want) {
				t.Errorf("rollups with raw edges: got %v\nwant %v", edge, tt.want)
			}
		})
	}
	t.Run("n keeps the largest counts", func(t *testing.T) {
		got, err := s.Top(ctx, Filter{}, ByRule, 1)
		if err != nil || len(got) != 1 || got[0].Key != "5710" {
			t.Fatalf("got %v, %v", got, err)
		}
	})
	t.Run("a time range counts only its alerts", func(t *testing.T) {
		got, err := s.Top(ctx, Filter{From: base.Add(15 * time.Minute), To: base.Add(2 * time.Hour)}, ByRule, 5)
		if err != nil || !reflect.DeepEqual(got, []Bucket{{"5710", "Test rule 5710", 1}, {"5712", "Test rule 5712", 1}}) {
			t.Fatalf("got %v, %v", got, err)
		}
	})
	t.Run("an unknown dimension is an error", func(t *testing.T) {
		if _, err := s.Top(ctx, Filter{}, "colour", 5); err == nil {
			t.Fatal("want an error")
		}
	})
}

func TestMitre(t *testing.T) {
	ctx := context.Background()
	s := aggStore(t)
	// T1098 is Persistence and Privilege Escalation in ATT&CK; T1078 is
	// all four; T9999 is unknown and keeps the alert's tactics.
	want := []MitreCell{
		{"Initial Access", "T1078", "Valid Accounts", 1},
		{"Persistence", "T1078", "Valid Accounts", 1},
		{"Persistence", "T1098", "Account Manipulation", 1},
		{"Privilege Escalation", "T1078", "Valid Accounts", 1},
		{"Privilege Escalation", "T1098", "Account Manipulation", 1},
		{"Defense Evasion", "T1078", "Valid Accounts", 1},
		{"Credential Access", "T1110", "Brute Force", 1},
		{"Impact", "T9999", "", 1},
	}
	for _, tt := range []struct {
		name string
		f    Filter
	}{
		{"cells from rollups pair each technique with its own tactics", Filter{}},
		{"cells from raw rows agree", Filter{MinLevel: 1}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.Mitre(ctx, tt.f)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("got  %v\nwant %v", got, want)
			}
		})
	}
}

func TestPruneKeepsRollupsConsistent(t *testing.T) {
	ctx := context.Background()
	s := aggStore(t)
	// 75 minutes: a whole hour and part of the next go.
	n, err := s.Prune(ctx, base.Add(75*time.Minute))
	if err != nil || n != 3 {
		t.Fatalf("Prune = %d, %v; want 3", n, err)
	}
	t.Run("pruned alerts are gone", func(t *testing.T) {
		if _, err := s.Get(ctx, "3"); err == nil {
			t.Fatal("alert 3 still there")
		}
		res, err := s.Search(ctx, Filter{Groups: []string{"sshd"}}, Page{})
		if err != nil || len(res.Alerts) != 0 {
			t.Fatalf("sshd alerts left: %v, %v", ids(res), err)
		}
		res, err = s.Search(ctx, Filter{Text: "5712"}, Page{})
		if err != nil || len(res.Alerts) != 0 {
			t.Fatalf("full text still finds: %v, %v", ids(res), err)
		}
	})
	for _, d := range []Dimension{ByRule, ByGroup, ByLevel, ByAgent, ByLocation, ByTactic, ByTechnique, ByResourceType, ByRegion} {
		t.Run("rollups by "+string(d)+" match raw rows", func(t *testing.T) {
			roll, err1 := s.Top(ctx, Filter{}, d, 100)
			raw, err2 := s.Top(ctx, Filter{MinLevel: 1}, d, 100)
			if err1 != nil || err2 != nil || !reflect.DeepEqual(roll, raw) {
				t.Fatalf("rollups %v (%v) != raw %v (%v)", roll, err1, raw, err2)
			}
		})
	}
	t.Run("totals and histograms match raw rows", func(t *testing.T) {
		st, err := s.Stats(ctx)
		if err != nil || st.Alerts != 2 || !st.Oldest.Equal(base.Add(130*time.Minute)) {
			t.Fatalf("Stats = %+v, %v", st, err)
		}
		roll, _ := s.Histogram(ctx, Filter{From: base, To: base.Add(4 * time.Hour)}, time.Hour)
		raw, _ := s.Histogram(ctx, Filter{From: base, To: base.Add(4 * time.Hour), MinLevel: 1}, time.Hour)
		if !reflect.DeepEqual(roll, raw) {
			t.Fatalf("rollups %v != raw %v", roll, raw)
		}
		m1, _ := s.Mitre(ctx, Filter{})
		m2, _ := s.Mitre(ctx, Filter{MinLevel: 1})
		if !reflect.DeepEqual(m1, m2) {
			t.Fatalf("mitre rollups %v != raw %v", m1, m2)
		}
	})
	t.Run("pruning again deletes nothing", func(t *testing.T) {
		if n, err := s.Prune(ctx, base.Add(75*time.Minute)); err != nil || n != 0 {
			t.Fatalf("Prune = %d, %v", n, err)
		}
	})
}

func TestRunRetention(t *testing.T) {
	t.Run("zero days returns at once", func(t *testing.T) {
		if err := openTest(t).RunRetention(context.Background(), 0); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("old alerts are pruned at start and the loop stops with its context", func(t *testing.T) {
		s := openTest(t)
		now := time.Now().UTC()
		old := alert.Alert{Timestamp: now.AddDate(0, 0, -10), ID: "old", Rule: &alert.Rule{ID: "1", Level: 3}}
		fresh := alert.Alert{Timestamp: now.Add(-time.Hour), ID: "fresh", Rule: &alert.Rule{ID: "1", Level: 3}}
		if _, err := s.Insert(context.Background(), []*alert.Alert{&old, &fresh}); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- s.RunRetention(ctx, 7) }()
		deadline := time.Now().Add(10 * time.Second)
		for {
			if _, err := s.Get(context.Background(), "old"); err != nil {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("old alert never pruned")
			}
			time.Sleep(10 * time.Millisecond)
		}
		cancel()
		if err := <-done; err != nil {
			t.Fatalf("RunRetention = %v", err)
		}
		if _, err := s.Get(context.Background(), "fresh"); err != nil {
			t.Fatalf("fresh alert pruned: %v", err)
		}
	})
}

func TestTopOverDaysMatchesRawCounts(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	var specs []spec
	for i := 0; i < 300; i++ {
		specs = append(specs, spec{id: fmt.Sprint("d", i), at: time.Duration(i) * 17 * time.Minute,
			rule: fmt.Sprint(100 + i%7), level: 1 + i%4, groups: []string{fmt.Sprint("g", i%5)}})
	}
	insert(t, s, specs...)
	// Whole days, whole hours and partial hours at both ends.
	from, to := base.Add(5*time.Hour+30*time.Minute), base.Add(50*time.Hour+15*time.Minute)
	for _, d := range []Dimension{ByRule, ByLevel, ByGroup} {
		t.Run("counting by "+string(d)+" across days agrees with raw rows", func(t *testing.T) {
			roll, err := s.Top(ctx, Filter{From: from, To: to}, d, 100)
			if err != nil {
				t.Fatal(err)
			}
			raw, err := s.Top(ctx, Filter{From: from, To: to, MinLevel: 1}, d, 100)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(roll, raw) {
				t.Fatalf("rollups %v\nraw %v", roll, raw)
			}
		})
	}
	t.Run("pruning a day and a half keeps day rollups right", func(t *testing.T) {
		if _, err := s.Prune(ctx, base.Add(36*time.Hour+20*time.Minute)); err != nil {
			t.Fatal(err)
		}
		roll, _ := s.Top(ctx, Filter{}, ByRule, 100)
		raw, _ := s.Top(ctx, Filter{MinLevel: 1}, ByRule, 100)
		if !reflect.DeepEqual(roll, raw) {
			t.Fatalf("rollups %v\nraw %v", roll, raw)
		}
	})
}
