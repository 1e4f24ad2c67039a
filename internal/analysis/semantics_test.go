package analysis

import (
	"testing"

	"github.com/threatlockdown/tld/internal/event"
)

const testDecoders = `
<decoder name="sshd">
  <program_name>^sshd</program_name>
</decoder>

<decoder name="sshd-fail">
  <parent>sshd</parent>
  <prematch>^Failed \S+ </prematch>
  <regex offset="after_prematch">^for (\S+) from (\S+) port (\d+)</regex>
  <order>user, srcip, srcport</order>
</decoder>

<decoder name="sshd-kv">
  <parent>sshd</parent>
  <regex>session=(\w+) </regex>
  <order>session</order>
</decoder>

<decoder name="sshd-kv">
  <parent>sshd</parent>
  <regex offset="after_regex">^user=(\w+)</regex>
  <order>kv.user</order>
</decoder>

<decoder name="custom-json">
  <prematch>^app: </prematch>
  <plugin_decoder offset="after_prematch">JSON_Decoder</plugin_decoder>
</decoder>
`

const testRules = `
<group name="test,">
  <rule id="100001" level="2">
    <decoded_as>sshd</decoded_as>
    <description>sshd event</description>
  </rule>
  <rule id="100002" level="5">
    <if_sid>100001</if_sid>
    <match>Failed</match>
    <user>root</user>
    <description>failed login for $(dstuser) from $(srcip)</description>
    <group>authentication_failed,pci_dss_10.2.4,gdpr_IV_35.7.d,</group>
    <mitre><id>T1110</id></mitre>
  </rule>
  <rule id="100003" level="9">
    <if_sid>100001</if_sid>
    <field name="session">^admin</field>
    <description>admin session $(session) by $(kv.user)</description>
  </rule>
  <rule id="100004" level="7" noalert="1">
    <if_sid>100001</if_sid>
    <match>NOALERT</match>
    <description>noalert parent</description>
  </rule>
  <rule id="100005" level="8">
    <if_sid>100004</if_sid>
    <match>child-matches</match>
    <description>child of a noalert rule</description>
  </rule>
  <rule id="100006" level="1">
    <if_sid>100001</if_sid>
    <match>NOALERT</match>
    <description>sibling tried after the noalert rule</description>
  </rule>
  <rule id="100007" level="0">
    <if_sid>100001</if_sid>
    <match>silence</match>
    <description>level 0 silences</description>
  </rule>
  <rule id="100008" level="6">
    <decoded_as>custom-json</decoded_as>
    <field name="user.name">alice</field>
    <description>app user $(user.name)</description>
  </rule>
</group>
`

func TestRuleSelectionFollowsAnalysisd(t *testing.T) {
	e := newEngine(t, map[string]string{"test_rules.xml": testRules}, map[string]string{"test_decoders.xml": testDecoders})
	cases := []struct {
		name, log, rule string
		alert           bool
		desc            string
	}{
		{"a child decoder's regex after its prematch fills static fields",
			"Feb  9 11:44:56 host sshd[1234]: Failed password for root from 10.0.0.1 port 22 ssh2",
			"100002", true, "failed login for root from 10.0.0.1"},
		{"a rule's <user> does not match another user",
			"Feb  9 11:44:56 host sshd[1234]: Failed password for bob from 10.0.0.1 port 22 ssh2",
			"100001", false, ""},
		{"a regex chain of same-named decoders continues after the previous regex",
			"Feb  9 11:44:56 host sshd[1234]: session=admin01 user=carol",
			"100003", true, "admin session admin01 by carol"},
		{"a matching noalert rule whose child matches yields the child",
			"Feb  9 11:44:56 host sshd[1234]: NOALERT child-matches",
			"100005", true, "child of a noalert rule"},
		{"a matching noalert rule without matching child lets the next sibling decide",
			"Feb  9 11:44:56 host sshd[1234]: NOALERT only",
			"100006", false, ""},
		{"a level 0 rule decides the event and silences it",
			"Feb  9 11:44:56 host sshd[1234]: please silence this",
			"100007", false, ""},
		{"a plugin decoder reads JSON after its prematch",
			`app: {"user":{"name":"alice"},"n":3}`,
			"100008", true, "app user alice"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := e.Analyze(event.Event{Log: c.log, Format: event.FormatSyslog, Location: "test"})
			got := ""
			if res.Rule != nil {
				got = itoa(res.Rule.ID)
			}
			if got != c.rule {
				t.Fatalf("rule %q, want %q", got, c.rule)
			}
			if (res.Alert != nil) != c.alert {
				t.Fatalf("alert = %v, want %v", res.Alert != nil, c.alert)
			}
			if c.alert && res.Alert.Rule.Description != c.desc {
				t.Errorf("description %q, want %q", res.Alert.Rule.Description, c.desc)
			}
		})
	}
}

func TestAlertCarriesComplianceAndDecoderAsWazuh(t *testing.T) {
	e := newEngine(t, map[string]string{"test_rules.xml": testRules}, map[string]string{"test_decoders.xml": testDecoders})
	res := e.Analyze(event.Event{ID: "abc", Log: "Feb  9 11:44:56 host sshd[1234]: Failed password for root from 10.0.0.1 port 22 ssh2", Location: "/var/log/auth.log"})
	a := res.Alert
	if a == nil {
		t.Fatal("no alert")
	}
	if a.Decoder.Name != "sshd" || a.Decoder.Parent != "sshd" {
		t.Errorf("decoder = %+v, want name and parent sshd (a child reports its parent's name)", a.Decoder)
	}
	if len(a.Rule.PCIDSS) != 1 || a.Rule.PCIDSS[0] != "10.2.4" || len(a.Rule.GDPR) != 1 {
		t.Errorf("compliance pci=%v gdpr=%v", a.Rule.PCIDSS, a.Rule.GDPR)
	}
	if contains(a.Rule.Groups, "pci_dss_10.2.4") || !contains(a.Rule.Groups, "authentication_failed") || a.Rule.Groups[0] != "test" {
		t.Errorf("groups = %v: want the outer group first and no compliance groups", a.Rule.Groups)
	}
	if a.Predecoder.ProgramName != "sshd" || a.Predecoder.Hostname != "host" {
		t.Errorf("predecoder = %+v", a.Predecoder)
	}
	if v, _ := a.Data.Get("srcport"); v != "22" {
		t.Errorf("srcport = %q", v)
	}
	if a.ID != "abc" || a.Location != "/var/log/auth.log" || a.Agent.ID != "000" {
		t.Errorf("id/location/agent = %q %q %+v", a.ID, a.Location, a.Agent)
	}
}

func itoa(i int) string {
	if i == 0 {
		return "0"
	}
	var b []byte
	for i > 0 {
		b = append([]byte{byte('0' + i%10)}, b...)
		i /= 10
	}
	return string(b)
}
