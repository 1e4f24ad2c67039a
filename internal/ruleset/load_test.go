package ruleset

import (
	"errors"
	"strings"
	"testing"
	"testing/fstest"
)

func load(t *testing.T, decoders, rules string) (*Set, error) {
	t.Helper()
	fs := fstest.MapFS{
		"decoders/d.xml": {Data: []byte(decoders)},
		"rules/r.xml":    {Data: []byte(rules)},
	}
	return Load(Source{Name: "test", FS: fs, DecoderDirs: []string{"decoders"}, RuleDirs: []string{"rules"}})
}

const jsonDecoder = `<decoder name="json"><prematch>^{</prematch><plugin_decoder>JSON_Decoder</plugin_decoder></decoder>`

func ids(rs []*Rule) string {
	var out []string
	for _, r := range rs {
		out = append(out, itoa(r.ID))
	}
	return strings.Join(out, ",")
}

func TestSiblingsAreOrderedByLevelThenLoadOrder(t *testing.T) {
	set, err := load(t, jsonDecoder, `<group name="g,">
  <rule id="101" level="3"><decoded_as>json</decoded_as><description>root</description></rule>
  <rule id="102" level="5"><if_sid>101</if_sid><description>a</description></rule>
  <rule id="103" level="0"><if_sid>101</if_sid><description>b</description></rule>
  <rule id="104" level="10"><if_sid>101</if_sid><description>c</description></rule>
  <rule id="105" level="5"><if_sid>101</if_sid><description>d</description></rule>
  <rule id="106" level="7"><if_group>g</if_group><description>e</description></rule>
</group>`)
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(set.ByID[101].Children); got != "103,104,106,102,105" {
		t.Errorf("children of 101 = %s, want 103,104,106,102,105 (level 0 first, then level desc, then load order)", got)
	}
}

func TestOverwriteReplacesARuleInPlace(t *testing.T) {
	set, err := load(t, jsonDecoder, `<group name="g,">
  <rule id="101" level="3"><decoded_as>json</decoded_as><description>root</description></rule>
  <rule id="102" level="5"><if_sid>101</if_sid><description>old</description></rule>
  <rule id="103" level="6"><if_sid>102</if_sid><description>child</description></rule>
  <rule id="102" level="9" overwrite="yes"><if_sid>101</if_sid><description>new</description></rule>
</group>`)
	if err != nil {
		t.Fatal(err)
	}
	r := set.ByID[102]
	if r.Description != "new" || r.Level != 9 || ids(r.Children) != "103" || ids(set.ByID[101].Children) != "102" {
		t.Errorf("rule 2 = %q level %d children %s; parent's children %s", r.Description, r.Level, ids(r.Children), ids(set.ByID[101].Children))
	}
}

func TestEveryProblemIsReportedWithItsLine(t *testing.T) {
	_, err := load(t, jsonDecoder+`
<decoder name="child"><parent>missing</parent></decoder>`, `<group name="g,">
  <rule id="101" level="3"><decoded_as>nodecoder</decoded_as><description>x</description></rule>
  <rule id="102" level="3"><if_sid>77</if_sid><description>x</description></rule>
  <rule id="101" level="3"><description>dup</description></rule>
  <rule id="104" level="99"><description>bad level</description></rule>
  <rule id="105" level="3"><regex>(unclosed</regex><description>x</description></rule>
</group>`)
	var le *LoadError
	if !errors.As(err, &le) {
		t.Fatalf("err = %v", err)
	}
	want := []string{
		"test:decoders/d.xml:2: error: decoder \"child\": parent decoder \"missing\"",
		"test:rules/r.xml:2: error: rule 101: <decoded_as>nodecoder",
		"test:rules/r.xml:3: error: rule 102: <if_sid> names rule 77",
		"test:rules/r.xml:5: error: <rule level=\"99\">",
		"test:rules/r.xml:6: error: <regex>(unclosed</regex>",
	}
	msg := err.Error()
	if !strings.Contains(le.Problems.Warnings().String(), "rule 101 is already defined at test:rules/r.xml:2; this one is skipped") {
		t.Errorf("a duplicate id should be a warning (analysisd skips it): %v", le.Problems)
	}
	for _, w := range want {
		if !strings.Contains(msg, w) {
			t.Errorf("errors lack %q:\n%s", w, msg)
		}
	}
}

func TestComplianceGroupsAreSeparated(t *testing.T) {
	set, err := load(t, jsonDecoder, `<group name="syslog,pci_dss_10.2.4,">
  <rule id="101" level="3"><decoded_as>json</decoded_as><group>gdpr_IV_35.7.d,hipaa_164.312.b,nist_800_53_AU.14,tsc_CC6.8,gpg13_7.1,auth,</group><description>x</description></rule>
</group>`)
	if err != nil {
		t.Fatal(err)
	}
	r := set.ByID[101]
	c := r.Compliance
	if strings.Join(r.Groups, ",") != "syslog,auth" || c.PCIDSS[0] != "10.2.4" || c.GDPR[0] != "IV_35.7.d" || c.HIPAA[0] != "164.312.b" || c.NIST80053[0] != "AU.14" || c.TSC[0] != "CC6.8" || c.GPG13[0] != "7.1" {
		t.Errorf("groups %v compliance %+v", r.Groups, c)
	}
}

func TestRulesWithoutParentHangBelowTheirCategoryTemplate(t *testing.T) {
	set, err := load(t, jsonDecoder, `<group name="g,">
  <rule id="1" level="0" noalert="1"><category>syslog</category><description>syslog template</description></rule>
  <rule id="2" level="0" noalert="1"><category>firewall</category><description>firewall template</description></rule>
  <rule id="200" level="3"><match>x</match><description>syslog rule</description></rule>
  <rule id="201" level="3"><category>firewall</category><match>y</match><description>firewall rule</description></rule>
</group>`)
	if err != nil {
		t.Fatal(err)
	}
	if ids(set.Rules) != "1,2" || ids(set.ByID[1].Children) != "200" || ids(set.ByID[2].Children) != "201" {
		t.Errorf("top %s; below 1: %s; below 2: %s", ids(set.Rules), ids(set.ByID[1].Children), ids(set.ByID[2].Children))
	}
}

func TestRepeatedOptionsAreConcatenatedAsAnalysisdDoes(t *testing.T) {
	set, err := load(t, jsonDecoder, `<group name="g,">
  <rule id="100" level="3"><match>abc</match><match>def</match><srcip>10.0.0.1</srcip><srcip>10.0.0.2</srcip><description>x</description></rule>
  <rule id="101" level="3" frequency="4"><if_matched_sid>100</if_matched_sid><description>y</description></rule>
</group>`)
	if err != nil {
		t.Fatal(err)
	}
	r := set.ByID[100]
	if r.Match.String() != "abcdef" || len(r.SrcIP) != 2 {
		t.Errorf("match %q, %d srcip entries", r.Match.String(), len(r.SrcIP))
	}
	if f := set.ByID[101]; f.Timeframe != DefaultTimeframe || ids(set.ByID[100].Children) != "101" {
		t.Errorf("timeframe %d, children of 100: %s", f.Timeframe, ids(set.ByID[100].Children))
	}
}
