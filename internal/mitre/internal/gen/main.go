// Command gen derives the ATT&CK table that tld embeds from the Enterprise
// ATT&CK export in ../shared/mitre. It keeps what alerts need (technique id,
// name, tactics) and MITRE's attribution and licence, which must travel
// with any copy.
//
// Run from internal/mitre: go run ./internal/gen ../../../shared/mitre/enterprise-attack.json attack.json
package main

import (
	"encoding/json"
	"fmt"
	"os"
)

type source struct {
	Version     string `json:"version"`
	Domain      string `json:"domain"`
	Source      string `json:"source"`
	Attribution string `json:"attribution"`
	License     string `json:"license"`
	Tactics     []struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	} `json:"tactics"`
	Techniques []struct {
		ID      string   `json:"id"`
		Name    string   `json:"name"`
		Tactics []string `json:"tactics"`
	} `json:"techniques"`
}

type table struct {
	Version     string      `json:"version"`
	Domain      string      `json:"domain"`
	Source      string      `json:"source"`
	Attribution string      `json:"attribution"`
	License     string      `json:"license"`
	Tactics     [][2]string `json:"tactics"`    // [id, name] in matrix order
	Techniques  [][]string  `json:"techniques"` // [id, name, tactic...]
}

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: gen enterprise-attack.json out.json")
		os.Exit(2)
	}
	if err := run(os.Args[1], os.Args[2]); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func run(in, out string) error {
	data, err := os.ReadFile(in)
	if err != nil {
		return err
	}
	var src source
	if err := json.Unmarshal(data, &src); err != nil {
		return fmt.Errorf("decode %s: %w", in, err)
	}
	t := table{Version: src.Version, Domain: src.Domain, Source: src.Source, Attribution: src.Attribution, License: src.License}
	for _, ta := range src.Tactics {
		t.Tactics = append(t.Tactics, [2]string{ta.ID, ta.Name})
	}
	for _, te := range src.Techniques {
		t.Techniques = append(t.Techniques, append([]string{te.ID, te.Name}, te.Tactics...))
	}
	if len(t.Techniques) == 0 {
		return fmt.Errorf("%s holds no techniques", in)
	}
	b, err := json.MarshalIndent(t, "", " ")
	if err != nil {
		return err
	}
	return os.WriteFile(out, append(b, '\n'), 0o644)
}
