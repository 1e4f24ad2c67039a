package store

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/threatlockdown/tld/internal/alert"
)

// base is a fixed, hour-aligned instant the tests build times from.
var base = time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)

func openTest(t testing.TB) *Store {
	t.Helper()
	s, err := Open(context.Background(), filepath.Join(t.TempDir(), "alerts.db"), Options{})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// spec describes a test alert; zero fields get defaults.
type spec struct {
	id       string
	at       time.Duration // after base
	rule     string
	level    int
	desc     string
	groups   []string
	agent    string
	agentID  string
	location string
	mitreIDs []string
	tactics  []string
	fullLog  string
	data     alert.Fields
}

func (sp spec) alert() *alert.Alert {
	a := &alert.Alert{
		Timestamp: base.Add(sp.at),
		ID:        sp.id,
		Agent:     alert.Agent{ID: sp.agentID, Name: sp.agent},
		Manager:   "tld",
		FullLog:   sp.fullLog,
		Data:      sp.data,
		Location:  sp.location,
		Rule: &alert.Rule{
			ID: sp.rule, Level: sp.level, Description: sp.desc, Groups: sp.groups,
		},
	}
	if a.Rule.ID == "" {
		a.Rule.ID = "1002"
	}
	if a.Rule.Level == 0 {
		a.Rule.Level = 3
	}
	if a.Rule.Description == "" {
		a.Rule.Description = "Test rule " + a.Rule.ID
	}
	if a.Agent.Name == "" {
		a.Agent.Name, a.Agent.ID = "web-01", "001"
	}
	if a.Location == "" {
		a.Location = "/var/log/syslog"
	}
	if len(sp.mitreIDs) > 0 {
		a.Rule.Mitre = &alert.Mitre{ID: sp.mitreIDs, Tactic: sp.tactics}
		for range sp.mitreIDs {
			a.Rule.Mitre.Technique = append(a.Rule.Mitre.Technique, "")
		}
	}
	return a
}

func insert(t testing.TB, s *Store, specs ...spec) {
	t.Helper()
	alerts := make([]*alert.Alert, len(specs))
	for i, sp := range specs {
		alerts[i] = sp.alert()
	}
	n, err := s.Insert(context.Background(), alerts)
	if err != nil {
		t.Fatalf("Insert: %v", err)
	}
	if n != len(specs) {
		t.Fatalf("Insert stored %d of %d alerts", n, len(specs))
	}
}

func ids(r SearchResult) []string {
	out := []string{}
	for _, a := range r.Alerts {
		out = append(out, a.ID)
	}
	return out
}
