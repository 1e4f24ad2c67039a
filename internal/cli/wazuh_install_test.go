package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestAnExistingWazuhInstallationKeepsItsRuleset points tld at a Wazuh
// layout — etc/ossec.conf naming ruleset/decoders and ruleset/rules, with
// Wazuh's own ruleset on disk — and expects Wazuh's ruleset to be used as
// is, in place of the built-in one.
func TestAnExistingWazuhInstallationKeepsItsRuleset(t *testing.T) {
	shared := filepath.Join(repoRoot(t), "..", "shared", "wazuh-ruleset")
	if _, err := os.Stat(shared); err != nil {
		t.Skip("../shared/wazuh-ruleset not found")
	}
	home := t.TempDir()
	for _, d := range []string{"decoders", "rules"} {
		if err := os.MkdirAll(filepath.Join(home, "ruleset"), 0o755); err != nil {
			t.Fatal(err)
		}
		if out, err := exec.Command("cp", "-r", filepath.Join(shared, d), filepath.Join(home, "ruleset", d)).CombinedOutput(); err != nil {
			t.Fatalf("copy: %v %s", err, out)
		}
	}
	if err := os.MkdirAll(filepath.Join(home, "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("cp", "-r", filepath.Join(shared, "lists"), filepath.Join(home, "etc", "lists")).CombinedOutput(); err != nil {
		t.Fatalf("copy: %v %s", err, out)
	}
	conf := filepath.Join(home, "etc", "ossec.conf")
	writeFile(t, conf, `<ossec_config>
  <ruleset>
    <decoder_dir>ruleset/decoders</decoder_dir>
    <rule_dir>ruleset/rules</rule_dir>
    <rule_exclude>0215-policy_rules.xml</rule_exclude>
    <list>etc/lists/audit-keys</list>
    <list>etc/lists/amazon/aws-eventnames</list>
    <list>etc/lists/security-eventchannel</list>
    <list>etc/lists/malicious-ioc/malicious-ip</list>
    <list>etc/lists/malicious-ioc/malicious-domains</list>
    <list>etc/lists/malicious-ioc/malware-hashes</list>
  </ruleset>
</ossec_config>
`)
	var out, errb bytes.Buffer
	in := strings.NewReader("Feb  9 11:44:56 someserver sshd[1234]: Failed password for root from 10.0.0.1 port 22 ssh2\n")
	if code := Main(context.Background(), []string{"logtest", "--json", "-c", conf}, IO{In: in, Out: &out, Err: &errb}); code != 0 {
		t.Fatalf("logtest exit %d: %s", code, errb.String())
	}
	var res struct {
		Decoder struct{ Name string } `json:"decoder"`
		Rule    struct{ ID string }   `json:"rule"`
	}
	if err := json.Unmarshal(out.Bytes(), &res); err != nil {
		t.Fatalf("%v: %s", err, out.String())
	}
	if res.Decoder.Name != "sshd" || res.Rule.ID != "5760" {
		t.Errorf("decoder %q rule %q, want Wazuh's sshd decoder and rule 5760 (sshd authentication failed, a child of 5716)", res.Decoder.Name, res.Rule.ID)
	}
	if strings.Contains(errb.String(), "already defined") {
		t.Errorf("the built-in ruleset was loaded too:\n%s", errb.String())
	}
}
