package blob

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/threatlockdown/tld/internal/config"
	"github.com/threatlockdown/tld/internal/event"
	"github.com/threatlockdown/tld/internal/pipeline"
)

// blobFixture is a blob a test writes before collecting.
type blobFixture struct {
	container string // suffix of the test's container name
	name      string
	data      []byte
}

// wazuhInline is what Wazuh's module sends for a json_inline line.
func wazuhInline(tag, line string) string {
	return `{"azure_tag": "azure-storage", "azure_storage_tag": "` + tag + `", ` + line[1:]
}

func wazuhText(tag, line string) string {
	return "azure_tag: azure-storage. azure_storage_tag: " + tag + ". " + line
}

// fileRecords decodes the records of a {"records": [...]} document.
func fileRecords(t *testing.T, data []byte) []map[string]any {
	var doc struct{ Records []map[string]any }
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	return doc.Records
}

func TestCollectReadsEachContentTypeAsWazuhDoes(t *testing.T) {
	sampleJSON := sharedSample(t, "storage_events_json")
	sampleInline := sharedSample(t, "storage_events_inline")
	var inlineLines []string
	for _, l := range strings.Split(string(sampleInline), "\n") {
		if l != "" {
			inlineLines = append(inlineLines, wazuhInline("diag", l))
		}
	}

	cases := []struct {
		name       string
		tag        string
		containers []config.AzureContainer // Name: suffix of a container the test creates
		blobs      []blobFixture
		want       []string // event texts, in any order
		check      func(t *testing.T, evs []event.Event)
		problems   []string // each is a substring of one reported "source: reason"
	}{
		{
			name:       "json_file blobs of Azure diagnostic settings give one event per record, tags added at the end",
			tag:        "diag",
			containers: []config.AzureContainer{{Name: "c", ContentType: "json_file"}},
			blobs:      []blobFixture{{"c", "resourceId=/X/y=2022/m=04/d=02/h=08/m=00/PT1H.json", sampleJSON}},
			check: func(t *testing.T, evs []event.Event) {
				recs := fileRecords(t, sampleJSON)
				if len(evs) != len(recs) || len(recs) == 0 {
					t.Fatalf("got %d events, want %d", len(evs), len(recs))
				}
				for i, ev := range evs {
					want := recs[i]
					want["azure_tag"], want["azure_storage_tag"] = "azure-storage", "diag"
					if got := decodeJSON(t, ev.Log); !reflect.DeepEqual(got, want) {
						t.Errorf("event %d:\n got %v\nwant %v", i, got, want)
					}
					if !strings.HasSuffix(ev.Log, `, "azure_tag": "azure-storage", "azure_storage_tag": "diag"}`) {
						t.Errorf("event %d: tags not last, as Wazuh adds them: %s", i, ev.Log)
					}
				}
			},
		},
		{
			name:       "json_inline blobs give one event per line, exactly as Wazuh sends them",
			tag:        "diag",
			containers: []config.AzureContainer{{Name: "c", ContentType: "json_inline"}},
			blobs:      []blobFixture{{"c", "signin/inline.json", sampleInline}},
			want:       inlineLines,
		},
		{
			name:       "json_file blobs may be a top-level array of records",
			tag:        "t",
			containers: []config.AzureContainer{{Name: "c", ContentType: "json_file"}},
			blobs:      []blobFixture{{"c", "a.json", []byte(`[{"a":1}, {"b":"x","c":{"d":[1,2]}}]`)}},
			want: []string{
				`{"a": 1, "azure_tag": "azure-storage", "azure_storage_tag": "t"}`,
				`{"b": "x", "c": {"d":[1,2]}, "azure_tag": "azure-storage", "azure_storage_tag": "t"}`,
			},
		},
		{
			name:       "json_inline reads objects back to back and pretty-printed objects",
			tag:        "t",
			containers: []config.AzureContainer{{Name: "c", ContentType: "json_inline"}},
			blobs:      []blobFixture{{"c", "x.json", []byte("{\"a\":1}{\"b\":2} {\"c\":3}\n{\n  \"d\": {\n    \"e\": [1, 2]\n  }\n}\n")}},
			want: []string{
				`{"azure_tag": "azure-storage", "azure_storage_tag": "t", "a":1}`,
				`{"azure_tag": "azure-storage", "azure_storage_tag": "t", "b":2}`,
				`{"azure_tag": "azure-storage", "azure_storage_tag": "t", "c":3}`,
				`{"azure_tag": "azure-storage", "azure_storage_tag": "t", "d":{"e":[1,2]}}`,
			},
		},
		{
			name:       "text blobs give one event per line with Wazuh's prefix, blank lines skipped",
			tag:        "t",
			containers: []config.AzureContainer{{Name: "c"}},
			blobs:      []blobFixture{{"c", "app.log", []byte("first line\r\n\r\nsecond line\n   \nthird, no newline")}},
			want:       []string{wazuhText("t", "first line"), wazuhText("t", "second line"), wazuhText("t", "third, no newline")},
		},
		{
			name:       "blobs under the path are read at any depth, others not",
			tag:        "t",
			containers: []config.AzureContainer{{Name: "c", Path: "/logs/"}},
			blobs: []blobFixture{
				{"c", "logs/a.log", []byte("a\n")},
				{"c", "logs/x/b.log", []byte("b\n")},
				{"c", "logs/x/y/z/c.log", []byte("c\n")},
				{"c", "logs/with space/é+%.log", []byte("odd name\n")},
				{"c", "other/d.log", []byte("d\n")},
				{"c", "logsmore.log", []byte("e\n")},
			},
			want: []string{wazuhText("t", "a"), wazuhText("t", "b"), wazuhText("t", "c"), wazuhText("t", "odd name")},
		},
		{
			name: "the blobs filter selects names containing it, a '*' matching anything between parts",
			tag:  "t",
			containers: []config.AzureContainer{
				{Name: "ext", Blobs: ".json"},
				{Name: "glob", Blobs: "y=*/PT1H*.json"},
			},
			blobs: []blobFixture{
				{"ext", "a.json", []byte("a\n")},
				{"ext", "sub/b.json", []byte("b\n")},
				{"ext", "c.log", []byte("c\n")},
				{"ext", "d.json.bak", []byte("d\n")}, // Wazuh matches it too: the test is "contains"
				{"glob", "y=2024/m=01/PT1H.json", []byte("e\n")},
				{"glob", "y=2024/m=01/PT1H-2.json", []byte("f\n")},
				{"glob", "x=2024/m=01/PT1H.json", []byte("g\n")},
			},
			want: []string{wazuhText("t", "a"), wazuhText("t", "b"), wazuhText("t", "d"), wazuhText("t", "e"), wazuhText("t", "f")},
		},
		{
			name:       "an empty blob is reported and skipped, the others are read",
			tag:        "t",
			containers: []config.AzureContainer{{Name: "c", ContentType: "json_inline"}},
			blobs: []blobFixture{
				{"c", "empty.json", nil},
				{"c", "ok.json", []byte(`{"ok":true}` + "\n")},
			},
			want:     []string{`{"azure_tag": "azure-storage", "azure_storage_tag": "t", "ok":true}`},
			problems: []string{"c/empty.json: empty blob"},
		},
		{
			name:       "a json_file cut short gives its complete records and reports the cut with its offset",
			tag:        "t",
			containers: []config.AzureContainer{{Name: "c", ContentType: "json_file"}},
			blobs: []blobFixture{
				{"c", "cut.json", []byte(`{"records": [{"a":1},{"b":2},{"c":`)},
				{"c", "ok.json", []byte(`{"records": [{"d":4}]}`)},
			},
			want: []string{
				`{"a": 1, "azure_tag": "azure-storage", "azure_storage_tag": "t"}`,
				`{"b": 2, "azure_tag": "azure-storage", "azure_storage_tag": "t"}`,
				`{"d": 4, "azure_tag": "azure-storage", "azure_storage_tag": "t"}`,
			},
			problems: []string{"c/cut.json: byte 29: JSON document cut short after 2 records"},
		},
		{
			name:       "a json_inline blob with a broken object gives the others and reports it with its offset",
			tag:        "t",
			containers: []config.AzureContainer{{Name: "c", ContentType: "json_inline"}},
			blobs: []blobFixture{
				{"c", "last.json", []byte("{\"a\":1}\n{\"b\":2}\n{\"c\": [1,")},
				{"c", "middle.json", []byte("{\"d\":1}\n{\"e\": \n{\"f\":3}\nnot json\n{\"g\":4}\n")},
			},
			want: []string{
				`{"azure_tag": "azure-storage", "azure_storage_tag": "t", "a":1}`,
				`{"azure_tag": "azure-storage", "azure_storage_tag": "t", "b":2}`,
				`{"azure_tag": "azure-storage", "azure_storage_tag": "t", "d":1}`,
				`{"azure_tag": "azure-storage", "azure_storage_tag": "t", "f":3}`,
				`{"azure_tag": "azure-storage", "azure_storage_tag": "t", "g":4}`,
			},
			problems: []string{
				"c/last.json: byte 16: JSON object cut short at the end of the blob",
				"c/middle.json: byte 8: JSON object cut short",
				"c/middle.json: byte 23: data that is not a JSON object",
			},
		},
		{
			name:       "a binary blob is reported and skipped; text in another encoding is read, its bad bytes replaced",
			tag:        "t",
			containers: []config.AzureContainer{{Name: "c"}},
			blobs: []blobFixture{
				{"c", "logs.gz", []byte("\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03\xcb\x48\xcd\xc9\xc9\x57")},
				{"c", "latin1.log", []byte("caf\xe9 au lait, ol\xe9\n")},
			},
			want: []string{wazuhText("t", "caf\uFFFD au lait, ol\uFFFD")},
			problems: []string{
				"c/logs.gz: byte 3: binary data",
				"c/latin1.log: byte 3: not valid UTF-8",
			},
		},
		{
			name:       "without a tag, events carry azure_tag only, as Wazuh's module sends them",
			containers: []config.AzureContainer{{Name: "i", ContentType: "json_inline"}, {Name: "t"}},
			blobs: []blobFixture{
				{"i", "a.json", []byte(`{"a":1}`)},
				{"t", "a.log", []byte("line\n")},
			},
			want: []string{`{"azure_tag": "azure-storage", "a":1}`, "azure_tag: azure-storage. line"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			names := map[string]string{}
			for i, cc := range tc.containers {
				names[cc.Name] = e.container(cc.Name)
				tc.containers[i].Name = names[cc.Name]
			}
			for _, b := range tc.blobs {
				e.put(names[b.container], b.name, b.data)
			}
			c := e.collector(e.config(tc.tag, tc.containers...))
			evs, probs := e.collect(c)

			if tc.want != nil {
				got, want := logsOf(evs), slices.Clone(tc.want)
				slices.Sort(got)
				slices.Sort(want)
				if !slices.Equal(got, want) {
					t.Errorf("events:\n got %q\nwant %q", got, want)
				}
			}
			if tc.check != nil {
				tc.check(t, evs)
			}
			checkEvents(t, tc.tag, evs)
			checkProblems(t, probs, tc.problems)

			// A second pass, and a new collector on the same state, read
			// nothing new and report nothing again.
			for _, again := range []*Collector{c, e.collector(e.config(tc.tag, tc.containers...))} {
				evs, probs := e.collect(again)
				if len(evs) > 0 || len(probs) > 0 {
					t.Errorf("another pass read %d events and reported %v; want nothing", len(evs), probs)
				}
			}
		})
	}
}

// checkEvents checks what every event must be: located "Azure", JSON with
// the tags or text with Wazuh's prefix, with a unique id.
func checkEvents(t *testing.T, tag string, evs []event.Event) {
	t.Helper()
	ids := map[string]bool{}
	for _, ev := range evs {
		if ev.Location != "Azure" || ev.ID == "" || ids[ev.ID] {
			t.Errorf("event location %q id %q (repeated: %v): %s", ev.Location, ev.ID, ids[ev.ID], ev.Log)
		}
		ids[ev.ID] = true
		switch ev.Format {
		case event.FormatJSON:
			m := decodeJSON(t, ev.Log)
			if m["azure_tag"] != "azure-storage" {
				t.Errorf("azure_tag = %v in %s", m["azure_tag"], ev.Log)
			}
			if tag != "" && m["azure_storage_tag"] != tag {
				t.Errorf("azure_storage_tag = %v, want %q in %s", m["azure_storage_tag"], tag, ev.Log)
			}
		case event.FormatSyslog:
			if !strings.HasPrefix(ev.Log, "azure_tag: azure-storage. ") {
				t.Errorf("text event without Wazuh's prefix: %s", ev.Log)
			}
		default:
			t.Errorf("format %q: %s", ev.Format, ev.Log)
		}
	}
}

// checkProblems checks that each wanted substring is in one problem, and
// that there is no other problem.
func checkProblems(t *testing.T, got []pipeline.Problem, want []string) {
	t.Helper()
	texts := make([]string, len(got))
	for i, p := range got {
		texts[i] = p.Source + ": " + p.Reason
	}
	used := make([]bool, len(texts))
	for _, w := range want {
		found := false
		for i, s := range texts {
			if !used[i] && strings.Contains(s, w) {
				used[i], found = true, true
				break
			}
		}
		if !found {
			t.Errorf("no problem %q among %q", w, texts)
		}
	}
	for i, s := range texts {
		if !used[i] {
			t.Errorf("unexpected problem %q", s)
		}
	}
}

// eventsContaining filters events whose text contains s.
func eventsContaining(evs []event.Event, s string) []event.Event {
	var out []event.Event
	for _, ev := range evs {
		if strings.Contains(ev.Log, s) {
			out = append(out, ev)
		}
	}
	return out
}
