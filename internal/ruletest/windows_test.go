package ruletest

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/threatlockdown/tld/internal/ruleset"
)

func TestEnableWindowsRuleRewritesRule60000Only(t *testing.T) {
	in := `<!-- <rule id="60000" level="0"><category>ossec</category></rule> -->
<group name="windows,">
  <rule id="59999" level="0">
    <category>ossec</category>
    <decoded_as>windows_eventchannel</decoded_as>
  </rule>
  <rule level="0" id='60000'>
    <category>ossec</category>
    <!-- <decoded_as>x</decoded_as> -->
    <decoded_as>windows_eventchannel</decoded_as>
    <field name="win.system.providerName">\.+</field>
  </rule>
</group>
`
	want := `<!-- <rule id="60000" level="0"><category>ossec</category></rule> -->
<group name="windows,">
  <rule id="59999" level="0">
    <category>ossec</category>
    <decoded_as>windows_eventchannel</decoded_as>
  </rule>
  <rule level="0" id='60000'>
    
    <!-- <decoded_as>x</decoded_as> -->
    
    <field name="win.system.providerName">\.+</field>
  <decoded_as>json</decoded_as></rule>
</group>
`
	got, ok := EnableWindowsRule([]byte(in))
	if !ok {
		t.Fatal("rule 60000 not found")
	}
	if string(got) != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	if bytes.Count(got, []byte("\n")) != strings.Count(in, "\n") {
		t.Error("the rewrite moved lines")
	}
}

func TestEnableWindowsRuleLeavesOtherFilesAlone(t *testing.T) {
	for _, in := range []string{
		"",
		`<group name="x,"><rule id="600001" level="3"><decoded_as>a</decoded_as></rule></group>`,
		`<!-- <rule id="60000" level="0"></rule> -->`,
		`<rule id="60000" level="0"/>`,
		`<rule id="60000" level="0"><decoded_as>a</decoded_as>`,
	} {
		if got, ok := EnableWindowsRule([]byte(in)); ok || string(got) != in {
			t.Errorf("EnableWindowsRule(%q) = %q, %v; want it unchanged", in, got, ok)
		}
	}
}

func TestEnableWindowsEventTestsOverlaysOneFile(t *testing.T) {
	src := testSource()
	out, n, err := EnableWindowsEventTests([]ruleset.Source{src, {Name: "other", RuleDirs: []string{"missing"}, Optional: true}})
	if err != nil {
		t.Fatal(err)
	}
	if n != 1 || len(out) != 2 {
		t.Fatalf("rewrote %d files into %d sources", n, len(out))
	}
	if out[1].FS != nil {
		t.Error("a source without the Windows rules was changed")
	}
	s := out[0]
	if s.FS == nil || len(s.RuleDirs) != 1 || s.RuleDirs[0] != "rules" || s.DecoderDirs[0] != "decoders" {
		t.Fatalf("source %+v: want an FS rooted at testdata/ruleset", s)
	}
	data, err := fs.ReadFile(s.FS, "rules/"+WindowsRulesFile)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(data, []byte("<decoded_as>json</decoded_as></rule>")) || bytes.Contains(data, []byte("<category>ossec")) {
		t.Errorf("the served file is not rewritten:\n%s", data)
	}
	onDisk, err := os.ReadFile(filepath.Join("testdata", "ruleset", "rules", WindowsRulesFile))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(onDisk, []byte("<decoded_as>windows_eventchannel</decoded_as>")) {
		t.Error("the file on disk was changed")
	}
	if other, err := fs.ReadFile(s.FS, "rules/0100-demo_rules.xml"); err != nil || len(other) == 0 {
		t.Errorf("other files are not served: %v", err)
	}
	if f, err := s.FS.Open("rules/" + WindowsRulesFile); err != nil {
		t.Error(err)
	} else {
		fi, _ := f.Stat()
		if fi.Size() != int64(len(data)) {
			t.Errorf("Stat size %d, want %d", fi.Size(), len(data))
		}
		f.Close()
	}

	set, err := ruleset.Load(out...)
	if err != nil {
		t.Fatal(err)
	}
	r := set.ByID[60000]
	if r == nil || r.DecodedAs != "json" || r.Category != "" {
		t.Errorf("rule 60000 loads as %+v, want decoded_as json and no category", r)
	}
	if !strings.HasPrefix(r.Pos, s.Name+":rules/"+WindowsRulesFile+":") {
		t.Errorf("rule 60000 is at %q, want it under %q", r.Pos, s.Name)
	}
}

func TestEnableWindowsEventTestsHonoursExcludes(t *testing.T) {
	src := testSource()
	src.RuleExclude = []string{WindowsRulesFile}
	out, n, err := EnableWindowsEventTests([]ruleset.Source{src})
	if err != nil || n != 0 || out[0].FS != nil {
		t.Errorf("an excluded file was rewritten: n=%d err=%v", n, err)
	}
}

func TestFindSkipsGeoIPFilesInFolders(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{"b.ini", "a.ini", "x_geoip.ini", "notes.txt"} {
		if err := os.WriteFile(filepath.Join(dir, n), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(dir, "sub.ini"), 0o755); err != nil {
		t.Fatal(err)
	}
	explicit := filepath.Join(dir, "x_geoip.ini")
	got, err := Find([]string{dir, explicit}, FindOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{filepath.Join(dir, "a.ini"), filepath.Join(dir, "b.ini"), explicit}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("Find = %v, want %v", got, want)
	}
	got, _ = Find([]string{dir}, FindOptions{GeoIP: true})
	if len(got) != 3 {
		t.Errorf("with GeoIP, Find = %v, want three files", got)
	}
	if _, err := Find([]string{filepath.Join(dir, "missing")}, FindOptions{}); err == nil {
		t.Error("a missing path gave no error")
	}
}
