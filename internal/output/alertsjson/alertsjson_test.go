package alertsjson

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/threatlockdown/tld/internal/alert"
	"github.com/threatlockdown/tld/internal/pipeline"
)

func TestPartialRecordsLeftByACrashAreDropped(t *testing.T) {
	cases := []struct {
		name, sep, before, after string
	}{
		{"a complete file is kept", "\n", "{\"a\":1}\n{\"b\":2}\n", "{\"a\":1}\n{\"b\":2}\n"},
		{"half a JSON line is cut off", "\n", "{\"a\":1}\n{\"b\":", "{\"a\":1}\n"},
		{"a file holding only half a line is emptied", "\n", "{\"b\":", ""},
		{"half a text alert is cut back to the last blank line", "\n\n", "** Alert 1\nRule: 1\n\n** Alert 2\nRule:", "** Alert 1\nRule: 1\n\n"},
		{"a long partial line beyond the first window is cut", "\n", "{\"a\":1}\n" + strings.Repeat("x", 300<<10), "{\"a\":1}\n"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "f")
			if err := os.WriteFile(p, []byte(c.before), 0o600); err != nil {
				t.Fatal(err)
			}
			dropped, err := dropPartialRecord(p, c.sep)
			if err != nil {
				t.Fatal(err)
			}
			got, _ := os.ReadFile(p)
			if string(got) != c.after {
				t.Errorf("file = %q, want %q", got, c.after)
			}
			if dropped != int64(len(c.before)-len(c.after)) {
				t.Errorf("dropped %d bytes, want %d", dropped, len(c.before)-len(c.after))
			}
		})
	}
}

func TestAlertsAreDurableAfterFlushAndHostileTextStaysOneLine(t *testing.T) {
	dir := t.TempDir()
	o, err := New(Options{Dir: dir, AlertsJSON: true, AlertsLog: true, ArchiveJSON: true})
	if err != nil {
		t.Fatal(err)
	}
	a := &alert.Alert{Timestamp: time.Unix(0, 0).UTC(), ID: "x1", Manager: "m", Location: "loc",
		FullLog: "line1\nline2 </script>", Rule: &alert.Rule{ID: "5", Level: 3, Description: "d\ne", Groups: []string{"g"}}}
	if err := o.Write(context.Background(), pipeline.Records{Alerts: []*alert.Alert{a}, Archives: []*alert.Alert{a}}); err != nil {
		t.Fatal(err)
	}
	if err := o.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"alerts.json", "archives.json"} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if strings.Count(string(b), "\n") != 1 {
			t.Fatalf("%s holds %q: want one line", name, b)
		}
		var back map[string]any
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if back["full_log"] != a.FullLog {
			t.Errorf("%s full_log = %q", name, back["full_log"])
		}
	}
	text, _ := os.ReadFile(filepath.Join(dir, "alerts.log"))
	if !strings.Contains(string(text), `line1\nline2`) || !strings.Contains(string(text), "Rule: 5 (level 3) -> 'd\\ne'") {
		t.Errorf("alerts.log = %q", text)
	}
	if err := o.Close(); err != nil {
		t.Fatal(err)
	}
}
