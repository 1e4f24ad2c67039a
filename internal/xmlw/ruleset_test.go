package xmlw

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// sharedDir is the reference data beside the repository.
const sharedDir = "../../../shared"

func rulesetFiles(t testing.TB) []string {
	t.Helper()
	if _, err := os.Stat(sharedDir); err != nil {
		t.Skipf("reference data not found at %s", sharedDir)
	}
	var files []string
	for _, dir := range []string{
		"wazuh-ruleset/rules", "wazuh-ruleset/decoders", "wazuh-ruleset/testing/ruleset",
		"ossec-ruleset/rules", "ossec-ruleset/decoders",
	} {
		m, err := filepath.Glob(filepath.Join(sharedDir, dir, "*.xml"))
		if err != nil {
			t.Fatal(err)
		}
		if len(m) == 0 {
			t.Errorf("no files in %s", dir)
		}
		files = append(files, m...)
	}
	return files
}

func TestEveryRulesetFileParses(t *testing.T) {
	for _, f := range rulesetFiles(t) {
		nodes, err := ParseFile(f)
		if err != nil {
			t.Errorf("%v", err)
			continue
		}
		if len(nodes) == 0 {
			t.Errorf("%s: no elements", f)
		}
		if _, err := ApplyVariables(nodes); err != nil {
			t.Errorf("%v", err)
		}
		// Wazuh loads these files with its size limits; so must they pass them.
		data, _ := os.ReadFile(f)
		if _, err := ParseOptions(f, data, Options{WazuhLimits: true}); err != nil {
			t.Errorf("with Wazuh's limits: %v", err)
		}
	}
}

// A few texts of the ruleset, as Wazuh reads them.
func TestRulesetTextsAreRaw(t *testing.T) {
	files := rulesetFiles(t)
	find := func(suffix string) []*Node {
		for _, f := range files {
			if strings.HasSuffix(f, suffix) {
				nodes, err := ParseFile(f)
				if err != nil {
					t.Fatal(err)
				}
				nodes, err = ApplyVariables(nodes)
				if err != nil {
					t.Fatal(err)
				}
				return nodes
			}
		}
		t.Fatalf("no file %s", suffix)
		return nil
	}
	var texts []string
	var walk func([]*Node)
	walk = func(ns []*Node) {
		for _, n := range ns {
			texts = append(texts, n.Text)
			walk(n.Children)
		}
	}
	walk(find("wazuh-ruleset/decoders/0300-sophos_decoders.xml"))
	walk(find("wazuh-ruleset/rules/0020-syslog_rules.xml"))
	walk(find("wazuh-ruleset/rules/0800-sysmon_id_1.xml"))
	for _, want := range []string{
		`\<log>\.+\</log>`, // \< kept as written
		`E:\\`,             // \\ before </field> is an escaped backslash
	} {
		found := false
		for _, s := range texts {
			if s == want {
				found = true
			}
		}
		if !found {
			t.Errorf("no element with text %q", want)
		}
	}
	for _, s := range texts {
		if strings.Contains(s, "$BAD_WORDS") {
			t.Errorf("$BAD_WORDS not substituted in %q", s)
		}
	}
}

func BenchmarkParseRuleset(b *testing.B) {
	files := rulesetFiles(b)
	var data [][]byte
	total := 0
	for _, f := range files {
		d, err := os.ReadFile(f)
		if err != nil {
			b.Fatal(err)
		}
		data = append(data, d)
		total += len(d)
	}
	b.SetBytes(int64(total))
	b.ReportAllocs()
	for b.Loop() {
		for i, d := range data {
			nodes, err := Parse(files[i], d)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := ApplyVariables(nodes); err != nil {
				b.Fatal(err)
			}
		}
	}
}
