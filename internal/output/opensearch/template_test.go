package opensearch

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
)

// lookup walks a decoded JSON object along a path of keys.
func lookup(v any, path ...string) any {
	for _, k := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

func TestTheTemplateIsInstalledWithWazuhsMappings(t *testing.T) {
	c := newCluster(t)
	opts := c.options()
	opts.TemplateInstall = true
	newOutput(t, opts)
	if c.tmplPuts != 1 {
		t.Fatalf("%d template puts, want 1", c.tmplPuts)
	}
	raw, ok := c.templates["wazuh"]
	if !ok {
		t.Fatalf("no template named wazuh; got %v", c.templates)
	}
	var tmpl map[string]any
	if err := json.Unmarshal(raw, &tmpl); err != nil {
		t.Fatal(err)
	}
	props := lookup(tmpl, "mappings", "properties")
	checks := []struct {
		name string
		got  any
		want any
	}{
		{"the pattern covers the daily alert indices", lookup(tmpl, "index_patterns"), []any{"wazuh-alerts-4.x-*"}},
		{"the refresh interval is Wazuh's 5s", lookup(tmpl, "settings", "index", "refresh_interval"), "5s"},
		{"three shards by default, as Wazuh", lookup(tmpl, "settings", "index", "number_of_shards"), "3"},
		{"no replica until a second node joins", lookup(tmpl, "settings", "index", "auto_expand_replicas"), "0-1"},
		{"timestamp is a date", lookup(props, "timestamp", "type"), "date"},
		{"timestamp reads Wazuh's layout", lookup(props, "timestamp", "format"), "date_optional_time||epoch_millis"},
		{"rule.level is a long", lookup(props, "rule", "properties", "level", "type"), "long"},
		{"rule.id is a keyword", lookup(props, "rule", "properties", "id", "type"), "keyword"},
		{"rule.groups is a keyword", lookup(props, "rule", "properties", "groups", "type"), "keyword"},
		{"rule.mitre.technique is a keyword", lookup(props, "rule", "properties", "mitre", "properties", "technique", "type"), "keyword"},
		{"agent.name is a keyword", lookup(props, "agent", "properties", "name", "type"), "keyword"},
		{"manager.name is a keyword", lookup(props, "manager", "properties", "name", "type"), "keyword"},
		{"location is a keyword", lookup(props, "location", "type"), "keyword"},
		{"full_log is text", lookup(props, "full_log", "type"), "text"},
		{"data.srcip is a keyword, as Wazuh maps it", lookup(props, "data", "properties", "srcip", "type"), "keyword"},
		{"dates are not guessed from strings", lookup(tmpl, "mappings", "date_detection"), false},
	}
	for _, ch := range checks {
		t.Run(ch.name, func(t *testing.T) {
			g, _ := json.Marshal(ch.got)
			w, _ := json.Marshal(ch.want)
			if string(g) != string(w) {
				t.Errorf("got %s, want %s", g, w)
			}
		})
	}
	t.Run("decoded strings are mapped as keywords", func(t *testing.T) {
		dts, _ := lookup(tmpl, "mappings", "dynamic_templates").([]any)
		found := slices.ContainsFunc(dts, func(dt any) bool {
			for _, v := range dt.(map[string]any) {
				if lookup(v, "match_mapping_type") == "string" && lookup(v, "mapping", "type") == "keyword" {
					return true
				}
			}
			return false
		})
		if !found {
			t.Errorf("no dynamic template maps strings to keyword: %v", dts)
		}
	})
}

func TestTemplateFollowsTheOptions(t *testing.T) {
	b, err := Template(Options{IndexPrefix: "tld-alerts-", Shards: 1, Replicas: 2})
	if err != nil {
		t.Fatal(err)
	}
	var tmpl map[string]any
	if err := json.Unmarshal(b, &tmpl); err != nil {
		t.Fatal(err)
	}
	if got := lookup(tmpl, "index_patterns"); len(got.([]any)) != 1 || got.([]any)[0] != "tld-alerts-*" {
		t.Errorf("index_patterns %v", got)
	}
	idx := lookup(tmpl, "settings", "index")
	if lookup(idx, "number_of_shards") != "1" || lookup(idx, "number_of_replicas") != "2" || lookup(idx, "auto_expand_replicas") != "false" {
		t.Errorf("settings %v", idx)
	}
}

func TestTemplateInstallation(t *testing.T) {
	tests := []struct {
		name      string
		install   bool
		overwrite bool
		existing  bool
		status    int
		wantPuts  int
		wantHeads int
		wantErr   string
	}{
		{name: "no template request is made when installation is off", install: false},
		{name: "a missing template is installed", install: true, wantPuts: 1, wantHeads: 1},
		{name: "an existing template is kept", install: true, existing: true, wantHeads: 1},
		{name: "an existing template is replaced when asked", install: true, overwrite: true, existing: true, wantPuts: 1},
		{name: "a refused template is a clear error", install: true, overwrite: true, status: http.StatusBadRequest, wantPuts: 1,
			wantErr: `install index template "wazuh" for wazuh-alerts-4.x-*`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCluster(t)
			c.templateStatus = tt.status
			if tt.existing {
				c.templates["wazuh"] = json.RawMessage(`{"index_patterns":["wazuh-alerts-4.x-*"],"order":0}`)
			}
			opts := c.options()
			opts.TemplateInstall, opts.TemplateOverwrite = tt.install, tt.overwrite
			o, err := New(t.Context(), opts)
			if o != nil {
				defer o.Close()
			}
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("New: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("New error %v, want one saying %q", err, tt.wantErr)
			}
			if tt.wantErr != "" && !strings.Contains(err.Error(), "illegal_argument_exception") {
				t.Errorf("error %q does not carry the cluster's reason", err)
			}
			if c.tmplPuts != tt.wantPuts || c.tmplHeads != tt.wantHeads {
				t.Errorf("%d puts and %d existence checks, want %d and %d", c.tmplPuts, c.tmplHeads, tt.wantPuts, tt.wantHeads)
			}
			if tt.existing && !tt.overwrite && string(c.templates["wazuh"]) != `{"index_patterns":["wazuh-alerts-4.x-*"],"order":0}` {
				t.Errorf("the existing template was changed")
			}
		})
	}
}
