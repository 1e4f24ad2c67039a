package plugindecoders

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the .golden files in testdata from the current output")

// goldenRules are the rules the OSSECAlert_Decoder samples refer to.
var goldenRules = []string{"1002", "5503", "5716", "31101"}

// TestSamplesMatchGoldenFiles runs every log of testdata/<plugin>.log (one
// per line, '#' starts a comment) through its plugin and compares what it
// extracts with testdata/<plugin>.golden.
func TestSamplesMatchGoldenFiles(t *testing.T) {
	for file, plugin := range map[string]string{
		"pf": PF, "sonicwall": SonicWall, "symantecws": SymantecWS, "ossecalert": OSSECAlert,
	} {
		t.Run(file, func(t *testing.T) {
			logs := readSamples(t, filepath.Join("testdata", file+".log"))
			var out strings.Builder
			for _, log := range logs {
				f := newRuleRecorder(goldenRules...)
				res, _ := Decode(plugin, log, f)
				fmt.Fprintf(&out, "log: %s\n", log)
				for _, c := range f.calls {
					fmt.Fprintf(&out, "  field %s\n", c)
				}
				writeResult(&out, res)
				out.WriteString("\n")
			}
			path := filepath.Join("testdata", file+".golden")
			if *update {
				if err := os.WriteFile(path, []byte(out.String()), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if got := out.String(); got != string(want) {
				t.Errorf("%s differs (run go test -update after checking):\n--- got\n%s\n--- want\n%s", path, got, want)
			}
		})
	}
}

func writeResult(out *strings.Builder, r Result) {
	if r.Type != "" {
		fmt.Fprintf(out, "  type %s\n", r.Type)
	}
	if r.Relocated {
		fmt.Fprintf(out, "  location %s\n", r.NewLocation("relay"))
	}
	if r.LogReplaced {
		fmt.Fprintf(out, "  log %s\n", r.Log)
	}
	if r.GeneratedRule != "" {
		fmt.Fprintf(out, "  rule %s\n", r.GeneratedRule)
	}
}

func readSamples(t *testing.T, path string) []string {
	t.Helper()
	fh, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	var logs []string
	sc := bufio.NewScanner(fh)
	for sc.Scan() {
		if line := sc.Text(); line != "" && !strings.HasPrefix(line, "#") {
			logs = append(logs, line)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return logs
}
