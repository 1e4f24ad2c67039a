package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestAlertsQueriesTheStoreAfterARun(t *testing.T) {
	data := t.TempDir()
	conf := filepath.Join(repoRoot(t), "etc", "quickstart", "ossec.conf")
	if code, stdout, stderr := runMain(t, "run", "-c", conf, "--data", data, "--once"); code != 0 {
		t.Fatalf("run: exit %d\n%s\n%s", code, stdout, stderr)
	}
	// Without its saved positions a second run reads every event again,
	// as after a crash before the checkpoint: the store keeps one copy.
	if err := os.RemoveAll(filepath.Join(data, "state")); err != nil {
		t.Fatal(err)
	}
	if code, stdout, stderr := runMain(t, "run", "-c", conf, "--data", data, "--once"); code != 0 || !strings.Contains(stdout, "Read 14 event(s)") {
		t.Fatalf("second run: exit %d\n%s\n%s", code, stdout, stderr)
	}

	t.Run("json gives each alert of the group whole, once", func(t *testing.T) {
		code, stdout, stderr := runMain(t, "alerts", "--data", data, "--group", "azure", "--json", "--limit", "100")
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		lines := strings.Split(strings.TrimSpace(stdout), "\n")
		rules := map[string]int{}
		for _, l := range lines {
			var a alertLine
			if err := json.Unmarshal([]byte(l), &a); err != nil {
				t.Fatalf("not an alert: %v\n%s", err, l)
			}
			rules[a.Rule.ID]++
		}
		if rules["100200"] != 6 || rules["100201"] != 1 || rules["100205"] != 1 {
			t.Errorf("alerts of group azure by rule: %v", rules)
		}
	})
	t.Run("the table filters by level, technique and time", func(t *testing.T) {
		_, stdout, _ := runMain(t, "alerts", "--data", data, "--technique", "T1609", "--level", "10", "--since", "1h")
		if !strings.Contains(stdout, "100205") || strings.Contains(stdout, "100201") || !strings.Contains(stdout, "1 of 1 matching alert(s)") {
			t.Errorf("technique T1609:\n%s", stdout)
		}
		_, stdout, _ = runMain(t, "alerts", "--data", data, "--level", "11")
		if !strings.Contains(stdout, "0 of 0 matching") {
			t.Errorf("level 11 and above:\n%s", stdout)
		}
	})
	t.Run("bad input is reported", func(t *testing.T) {
		if code, _, stderr := runMain(t, "alerts", "--data", t.TempDir()); code != 1 || !strings.Contains(stderr, "no alert store") {
			t.Errorf("no store: exit %d, %s", code, stderr)
		}
		if code, _, stderr := runMain(t, "alerts", "--data", data, "--since", "yesterday"); code != 2 || !strings.Contains(stderr, "--since") {
			t.Errorf("bad --since: exit %d, %s", code, stderr)
		}
	})
}

func TestPrintableNeutralisesTerminalControl(t *testing.T) {
	for _, tt := range []struct {
		in   string
		n    int
		want string
	}{
		{"plain", 100, "plain"},
		{"\x1b]0;pwned\x07title", 100, "\ufffd]0;pwned\ufffdtitle"},
		{"\u202eevil", 100, "\ufffdevil"},
		{"abcdef", 3, "abc…"},
	} {
		if got := printable(tt.in, tt.n); got != tt.want {
			t.Errorf("printable(%q, %d) = %q, want %q", tt.in, tt.n, got, tt.want)
		}
	}
}
