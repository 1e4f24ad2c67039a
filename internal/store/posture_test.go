package store

import (
	"context"
	"testing"
	"time"

	"github.com/threatlockdown/tld/internal/alert"
)

const (
	vmID = "/subscriptions/6f1c2e4a-93b7-4d0e-8a51-2c7d9e0f4b18/resourceGroups/prod-rg/providers/Microsoft.Compute/virtualMachines/web-vm-01"
	kvID = "/subscriptions/6f1c2e4a-93b7-4d0e-8a51-2c7d9e0f4b18/resourcegroups/prod-rg/providers/microsoft.keyvault/vaults/prod-secrets-kv"
)

// recRow is a SecurityRecommendation row as the Log Analytics input
// decodes it.
func recRow(id string, at time.Duration, recID, name, severity, state, resource string) *alert.Alert {
	ts := base.Add(at).Format(time.RFC3339)
	return &alert.Alert{
		Timestamp: base.Add(at + time.Minute), // ingestion is later than the row time
		ID:        id,
		Agent:     alert.Agent{ID: "000", Name: "manager"},
		Rule:      &alert.Rule{ID: "87900", Level: 5, Description: "Defender recommendation", Groups: []string{"azure", "defender"}},
		Location:  "azure-log-analytics",
		Data: alert.Fields{
			{Key: "RecommendationId", Value: recID},
			{Key: "RecommendationName", Value: name},
			{Key: "RecommendationDisplayName", Value: name},
			{Key: "RecommendationSeverity", Value: severity},
			{Key: "RecommendationState", Value: state},
			{Key: "AssessedResourceId", Value: resource},
			{Key: "ResourceRegion", Value: "westeurope"},
			{Key: "StatusChangeDate", Value: ts},
			{Key: "TimeGenerated", Value: ts},
			{Key: "Type", Value: "SecurityRecommendation"},
		},
	}
}

func TestPostureLatestState(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	rows := []*alert.Alert{
		recRow("r1", 1*time.Hour, "rec-vuln", "Machines should have vulnerability findings resolved", "High", "Unhealthy", vmID),
		recRow("r2", 1*time.Hour, "rec-kv", "Key vaults should have deletion protection enabled", "Medium", "Unhealthy", kvID),
		recRow("r3", 3*time.Hour, "rec-kv", "Key vaults should have deletion protection enabled", "Medium", "Healthy", kvID),
	}
	if _, err := s.Insert(ctx, rows); err != nil {
		t.Fatal(err)
	}
	// A late row from before the fix must not make the vault unhealthy again.
	late := recRow("r4", 2*time.Hour, "rec-kv", "Key vaults should have deletion protection enabled", "Medium", "Unhealthy", kvID)
	if _, err := s.Insert(ctx, []*alert.Alert{late}); err != nil {
		t.Fatal(err)
	}
	res, err := s.Posture(ctx, PostureFilter{}, Page{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Total != 2 || len(res.Items) != 2 {
		t.Fatalf("Posture = %+v", res)
	}
	t.Run("unhealthy pairs come first", func(t *testing.T) {
		if res.Items[0].RecommendationID != "rec-vuln" || res.Items[0].State != "Unhealthy" {
			t.Fatalf("first item = %+v", res.Items[0])
		}
	})
	t.Run("an out-of-order row does not regress the state", func(t *testing.T) {
		kv := res.Items[1]
		if kv.State != "Healthy" || kv.AlertID != "r3" || !kv.LastSeen.Equal(base.Add(3*time.Hour)) {
			t.Fatalf("vault = %+v", kv)
		}
		if !kv.FirstSeen.Equal(base.Add(time.Hour)) || !kv.StateSince.Equal(base.Add(3*time.Hour)) {
			t.Fatalf("vault first seen %s, state since %s", kv.FirstSeen, kv.StateSince)
		}
	})
	t.Run("the resource id is taken apart", func(t *testing.T) {
		kv := res.Items[1]
		if kv.Subscription != "6f1c2e4a-93b7-4d0e-8a51-2c7d9e0f4b18" || kv.ResourceGroup != "prod-rg" ||
			kv.ResourceType != "Microsoft.KeyVault/vaults" || kv.ResourceName != "prod-secrets-kv" || kv.Region != "westeurope" {
			t.Fatalf("vault = %+v", kv)
		}
	})
	t.Run("a replayed row changes nothing", func(t *testing.T) {
		if n, err := s.Insert(ctx, rows); err != nil || n != 0 {
			t.Fatalf("replay = %d, %v", n, err)
		}
		again, _ := s.Posture(ctx, PostureFilter{}, Page{})
		if again.Total != 2 || again.Items[1].State != "Healthy" {
			t.Fatalf("after replay: %+v", again)
		}
	})
	for _, tt := range []struct {
		name string
		f    PostureFilter
		want int
	}{
		{"severities filter ignoring case", PostureFilter{Severities: []string{"high"}}, 1},
		{"states filter", PostureFilter{States: []string{"Healthy"}}, 1},
		{"resource types filter ignoring case", PostureFilter{ResourceTypes: []string{"microsoft.compute/virtualmachines"}}, 1},
		{"resource groups filter", PostureFilter{ResourceGroups: []string{"PROD-RG"}}, 2},
		{"subscriptions filter", PostureFilter{Subscriptions: []string{"other"}}, 0},
		{"text searches names", PostureFilter{Text: "deletion protection"}, 1},
		{"text searches resource ids", PostureFilter{Text: "web-vm-01"}, 1},
		{"hostile text is just text", PostureFilter{Text: "' OR 1=1 --"}, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r, err := s.Posture(ctx, tt.f, Page{})
			if err != nil || r.Total != tt.want || len(r.Items) != tt.want {
				t.Fatalf("Posture = %d items, total %d, %v; want %d", len(r.Items), r.Total, err, tt.want)
			}
		})
	}
	t.Run("counts summarise unhealthy pairs", func(t *testing.T) {
		pc, err := s.PostureCounts(ctx, PostureFilter{})
		if err != nil {
			t.Fatal(err)
		}
		if len(pc.BySeverity) != 1 || pc.BySeverity[0] != (Bucket{Key: "High", Count: 1}) {
			t.Errorf("BySeverity = %v", pc.BySeverity)
		}
		if len(pc.ByState) != 2 || len(pc.ByResourceType) != 1 || pc.ByResourceType[0].Key != "Microsoft.Compute/virtualMachines" ||
			len(pc.BySubscription) != 1 || pc.BySubscription[0].Count != 1 {
			t.Errorf("counts = %+v", pc)
		}
	})
	t.Run("stats count recommendations", func(t *testing.T) {
		if st, _ := s.Stats(ctx); st.Recommendations != 2 {
			t.Fatalf("Recommendations = %d", st.Recommendations)
		}
	})
}

func TestPostureTrend(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	name := "Key vaults should have deletion protection enabled"
	// Healthy at 1h, unhealthy at 3h, healthy again at 5h; the 3h row
	// arrives last.
	for _, a := range []*alert.Alert{
		recRow("t1", 1*time.Hour, "rec-kv", name, "Medium", "Healthy", kvID),
		recRow("t3", 5*time.Hour, "rec-kv", name, "Medium", "Healthy", kvID),
		recRow("t4", 2*time.Hour, "rec-kv", name, "Medium", "Healthy", kvID),
		recRow("t2", 3*time.Hour, "rec-kv", name, "Medium", "Unhealthy", kvID),
		recRow("v1", 3*time.Hour+30*time.Minute, "rec-vuln", "Vulns", "High", "Unhealthy", vmID),
	} {
		if _, err := s.Insert(ctx, []*alert.Alert{a}); err != nil {
			t.Fatal(err)
		}
	}
	pts, err := s.PostureTrend(ctx, PostureFilter{}, base, base.Add(6*time.Hour), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	want := []PosturePoint{
		{Unhealthy: 0, Healthy: 0},
		{Unhealthy: 0, Healthy: 1, ToHealthy: 1},
		{Unhealthy: 0, Healthy: 1},
		{Unhealthy: 2, Healthy: 0, ToUnhealthy: 2},
		{Unhealthy: 2, Healthy: 0},
		{Unhealthy: 1, Healthy: 1, ToHealthy: 1},
	}
	if len(pts) != len(want) {
		t.Fatalf("got %d points, want %d", len(pts), len(want))
	}
	for i, p := range pts {
		w := want[i]
		w.Start = base.Add(time.Duration(i) * time.Hour)
		if p != w {
			t.Errorf("point %d = %+v, want %+v", i, p, w)
		}
	}
	t.Run("the filter selects pairs", func(t *testing.T) {
		pts, err := s.PostureTrend(ctx, PostureFilter{Severities: []string{"High"}}, base, base.Add(6*time.Hour), 0)
		if err != nil {
			t.Fatal(err)
		}
		last := pts[len(pts)-1]
		if last.Unhealthy != 1 || last.Healthy != 0 {
			t.Fatalf("last point %+v", last)
		}
	})
	t.Run("the vault's current state stays healthy since 5h", func(t *testing.T) {
		r, _ := s.Posture(ctx, PostureFilter{Severities: []string{"Medium"}}, Page{})
		if len(r.Items) != 1 || r.Items[0].State != "Healthy" || !r.Items[0].StateSince.Equal(base.Add(5*time.Hour)) {
			t.Fatalf("vault = %+v", r.Items)
		}
	})
	t.Run("an empty range is an error", func(t *testing.T) {
		if _, err := s.PostureTrend(ctx, PostureFilter{}, base, base, 0); err == nil {
			t.Fatal("want an error")
		}
	})
}
