package logfile

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/threatlockdown/tld/internal/event"
)

var update = flag.Bool("update", false, "rewrite the .golden files from the current output")

// TestFixtures reads each file of testdata/ (.json files as JSON lines, the
// others as syslog) and compares the events and problems with its .golden.
func TestFixtures(t *testing.T) {
	inputs, err := filepath.Glob("testdata/*")
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range inputs {
		if strings.HasSuffix(path, ".golden") {
			continue
		}
		t.Run(filepath.Base(path), func(t *testing.T) {
			format := event.FormatSyslog
			if filepath.Ext(path) == ".json" {
				format = event.FormatJSON
			}
			h := newHarness(t)
			e := newEmitter(t, ackAll)
			if err := h.once(newInput(t, []Spec{{Location: path, Format: format}}, Options{}), e); err != nil {
				t.Fatal(err)
			}
			var b strings.Builder
			for _, ev := range e.events() {
				fmt.Fprintf(&b, "event %s: %s\n", ev.Format, ev.Log)
			}
			for _, p := range h.probs.all() {
				fmt.Fprintf(&b, "problem %s: %s\n", filepath.Base(p.Source), p.Reason)
			}
			golden := path + ".golden"
			if *update {
				if err := os.WriteFile(golden, []byte(b.String()), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if got := b.String(); got != string(want) {
				t.Errorf("%s differs:\ngot:\n%s\nwant:\n%s", golden, got, want)
			}
		})
	}
}
