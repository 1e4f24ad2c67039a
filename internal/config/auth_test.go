package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeFile(t *testing.T, dir, name, content string, mode os.FileMode) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil { // whatever the umask
		t.Fatal(err)
	}
	return p
}

func TestReadAuthFile(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		name    string
		content string
		mode    os.FileMode
		warns   []string
		errs    []string
		check   func(*testing.T, *AuthFile)
	}{
		{name: "application credentials", mode: 0o600,
			content: "application_id = 8b7a-c14\napplication_key = w22~x.y=z==\n",
			check: func(t *testing.T, af *AuthFile) {
				if af.ApplicationID != "8b7a-c14" || af.ApplicationKey.Reveal() != "w22~x.y=z==" {
					t.Errorf("got %q %q", af.ApplicationID, af.ApplicationKey.Reveal())
				}
				if af.Pos["application_key"].Line != 2 {
					t.Errorf("positions %v", af.Pos)
				}
			}},
		{name: "storage credentials with CRLF, comments and blank lines", mode: 0o400,
			content: "# storage\r\n\r\naccount_name=tldstorage\r\naccount_key =  bm90IGEga2V5==  \r\n",
			check: func(t *testing.T, af *AuthFile) {
				if af.AccountName != "tldstorage" || af.AccountKey.Reveal() != "bm90IGEga2V5==" {
					t.Errorf("got %q %q", af.AccountName, af.AccountKey.Reveal())
				}
			}},
		{name: "a file others may read", mode: 0o644,
			content: "application_id = a\napplication_key = b\n",
			warns:   []string{":1: warning: credentials file is readable by group or others (mode 0644): chmod 600 it"}},
		{name: "the walkthrough's placeholders", mode: 0o600,
			content: "application_id = <SERVICE_PRINCIPAL_APPLICATION_ID>\napplication_key = <CLIENT_SECRET_VALUE>\n",
			errs: []string{
				":1: error: application_id still holds the placeholder <SERVICE_PRINCIPAL_APPLICATION_ID>: replace it with the Application (client) ID",
				":2: error: application_key still holds the placeholder <CLIENT_SECRET_VALUE>: replace it with the value of a client secret",
			}},
		{name: "malformed lines", mode: 0o600,
			content: "application_id\n= value\napplication_key =\ntenant = x\napplication_id = a\napplication_id = b\n",
			errs:    []string{`:1: error: line is not "key = value"`, `:2: error: line is not "key = value"`, ":3: error: application_key has no value"},
			warns:   []string{`:4: warning: unknown key "tenant" ignored`, ":6: warning: application_id repeated (first at line 5): the last one is used"}},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := writeFile(t, dir, "cred"+string(rune('a'+i)), tc.content, tc.mode)
			af, warns, err := ReadAuthFile(p)
			var got []string
			for _, w := range warns {
				got = append(got, w.String())
			}
			var e *Errors
			if errors.As(err, &e) {
				for _, d := range e.Diagnostics {
					got = append(got, d.String())
				}
			} else if err != nil {
				t.Fatal(err)
			}
			want := append(append([]string(nil), tc.warns...), tc.errs...)
			if len(got) != len(want) {
				t.Fatalf("got %q\nwant %q", got, want)
			}
			for _, w := range want {
				found := false
				for _, g := range got {
					if strings.HasPrefix(g, p+w) {
						found = true
					}
				}
				if !found {
					t.Errorf("no diagnostic %q in %q", p+w, got)
				}
			}
			if tc.check != nil {
				if af == nil {
					t.Fatal("no AuthFile")
				}
				tc.check(t, af)
			}
			if (len(tc.errs) > 0) != (af == nil) {
				t.Errorf("AuthFile %v with errors %v", af != nil, err)
			}
		})
	}
	if _, _, err := ReadAuthFile(filepath.Join(dir, "missing")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

func TestCheckCredentials(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "la", "application_id = a\napplication_key = b\n", 0o600)
	writeFile(t, dir, "half", "application_id = a\n", 0o600)
	writeFile(t, dir, "st", "account_name = n\naccount_key = k==\n", 0o600)
	conf := `<ossec_config>
  <wodle name="azure-logs">
    <log_analytics><auth_path>la</auth_path><tenantdomain>t</tenantdomain>
      <request><query>q</query><workspace>w</workspace></request></log_analytics>
    <graph><auth_path>half</auth_path><tenantdomain>t</tenantdomain>
      <request><query>q</query></request></graph>
    <graph><auth_path>nowhere</auth_path><tenantdomain>t</tenantdomain>
      <request><query>q</query></request></graph>
    <storage><auth_path>st</auth_path><container name="c"/></storage>
    <storage><auth_path>la</auth_path><container name="c"/></storage>
  </wodle>
  <wodle name="azure-logs">
    <disabled>yes</disabled>
    <graph><auth_path>nowhere-either</auth_path><tenantdomain>t</tenantdomain>
      <request><query>q</query></request></graph>
  </wodle>
</ossec_config>`
	path := writeFile(t, dir, "ossec.conf", conf, 0o644)
	cfg, _, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	_, err = cfg.CheckCredentials()
	var e *Errors
	if !errors.As(err, &e) {
		t.Fatalf("got %v, want *Errors", err)
	}
	msg := err.Error()
	for _, want := range []string{
		"ossec.conf:5: error: credentials file " + filepath.Join(dir, "half") + " has no application_key",
		"ossec.conf:7: error: <auth_path> " + filepath.Join(dir, "nowhere") + ": no such file or directory",
		"ossec.conf:10: error: credentials file " + filepath.Join(dir, "la") + " has no account_name or account_key",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("no error %q in:\n%s", want, msg)
		}
	}
	if len(e.Diagnostics) != 3 {
		t.Errorf("%d errors, want 3 (the disabled wodle is not checked):\n%s", len(e.Diagnostics), msg)
	}
}

func TestPlaceholdersInAnySetting(t *testing.T) {
	conf := `<ossec_config>
  <wodle name="azure-logs">
    <storage>
      <account_name><STORAGE_ACCOUNT></account_name>
      <account_key><ACCOUNT_KEY></account_key>
      <container name="c"><path><PATH></path></container>
    </storage>
    <graph>
      <application_id><SERVICE_PRINCIPAL_APPLICATION_ID></application_id>
      <application_key><CLIENT_SECRET_VALUE></application_key>
      <tenantdomain>x.<PRIMARY_DOMAIN></tenantdomain>
      <request><query>auditLogs/<QUERY></query></request>
    </graph>
  </wodle>
  <localfile><log_format>syslog</log_format><location>/var/log/<FILE></location></localfile>
</ossec_config>`
	_, _, err := Parse("p.conf", []byte(conf))
	var e *Errors
	if !errors.As(err, &e) {
		t.Fatalf("got %v", err)
	}
	want := []string{
		"p.conf:4: error: account_name still holds the placeholder <STORAGE_ACCOUNT>: replace it with the real value",
		"p.conf:5: error: account_key still holds the placeholder <ACCOUNT_KEY>",
		"p.conf:6: error: path still holds the placeholder <PATH>",
		"p.conf:9: error: application_id still holds the placeholder <SERVICE_PRINCIPAL_APPLICATION_ID>",
		"p.conf:10: error: application_key still holds the placeholder <CLIENT_SECRET_VALUE>",
		"p.conf:11: error: tenantdomain still holds the placeholder <PRIMARY_DOMAIN>",
		"p.conf:12: error: query still holds the placeholder <QUERY>",
		"p.conf:15: error: location still holds the placeholder <FILE>",
	}
	if len(e.Diagnostics) != len(want) {
		t.Fatalf("got %d errors, want %d:\n%v", len(e.Diagnostics), len(want), err)
	}
	for i, w := range want {
		if !strings.HasPrefix(e.Diagnostics[i].String(), w) {
			t.Errorf("got  %s\nwant %s…", e.Diagnostics[i], w)
		}
	}
}
