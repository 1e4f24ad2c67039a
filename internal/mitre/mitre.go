// Package mitre looks up MITRE ATT&CK® Enterprise techniques and tactics for
// alerts. The table (attack.json) is derived from MITRE's data; see
// Attribution, which must be shown wherever the data is reproduced.
package mitre

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
)

//go:generate go run ./internal/gen ../../../shared/mitre/enterprise-attack.json attack.json

//go:embed attack.json
var attackJSON []byte

// Technique is one ATT&CK technique or sub-technique.
type Technique struct {
	ID      string
	Name    string
	Tactics []string // tactic names, in matrix order
}

// Tactic is one ATT&CK tactic.
type Tactic struct {
	ID   string
	Name string
}

// Table is an ATT&CK technique table.
type Table struct {
	Version     string
	Attribution string
	Tactics     []Tactic
	techniques  map[string]Technique
}

var (
	defaultOnce  sync.Once
	defaultTable *Table
)

// Default returns the table embedded in the binary.
func Default() *Table {
	defaultOnce.Do(func() {
		t, err := Parse(attackJSON)
		if err != nil {
			panic(fmt.Sprintf("embedded ATT&CK table is corrupt: %v", err))
		}
		defaultTable = t
	})
	return defaultTable
}

// Parse reads a table in the layout written by internal/gen.
func Parse(data []byte) (*Table, error) {
	var raw struct {
		Version     string      `json:"version"`
		Attribution string      `json:"attribution"`
		Tactics     [][2]string `json:"tactics"`
		Techniques  [][]string  `json:"techniques"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("decode ATT&CK table: %w", err)
	}
	t := &Table{Version: raw.Version, Attribution: raw.Attribution, techniques: make(map[string]Technique, len(raw.Techniques))}
	for _, ta := range raw.Tactics {
		t.Tactics = append(t.Tactics, Tactic{ID: ta[0], Name: ta[1]})
	}
	for _, te := range raw.Techniques {
		if len(te) < 2 {
			return nil, fmt.Errorf("decode ATT&CK table: technique entry %v is too short", te)
		}
		t.techniques[strings.ToUpper(te[0])] = Technique{ID: te[0], Name: te[1], Tactics: te[2:]}
	}
	return t, nil
}

// Lookup finds a technique by its ID ("T1098.004"), ignoring case.
func (t *Table) Lookup(id string) (Technique, bool) {
	te, ok := t.techniques[strings.ToUpper(strings.TrimSpace(id))]
	return te, ok
}

// Len is the number of techniques and sub-techniques in the table.
func (t *Table) Len() int { return len(t.techniques) }
