package config

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strings"
)

// AuthFile is an Azure credentials file named by <auth_path>: lines of
// "key = value". A Log Analytics or Graph block needs application_id and
// application_key; a storage block needs account_name and account_key.
type AuthFile struct {
	Path           string
	ApplicationID  string
	ApplicationKey Secret
	AccountName    string
	AccountKey     Secret
	// Pos gives the line of each key found.
	Pos map[string]Pos
}

var authKeys = map[string]bool{"application_id": true, "application_key": true, "account_name": true, "account_key": true}

// ReadAuthFile reads an Azure credentials file. Each line is "key = value";
// spaces around the key and the value are dropped, the value runs to the end
// of the line (it may hold "=", as storage keys do), and blank lines and
// lines starting with "#" are skipped (Wazuh's module allows neither). It
// returns warnings (an unknown or repeated key, a file that group or others
// may read) and an error, *Errors, listing every malformed line and every
// placeholder left from a guide; or the error of reading the file.
func ReadAuthFile(path string) (*AuthFile, Diagnostics, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	var c collector
	if fi, err := os.Stat(path); err == nil && fi.Mode().Perm()&0o077 != 0 {
		c.warnf(Pos{File: path, Line: 1}, "credentials file is readable by group or others (mode %04o): chmod 600 it", fi.Mode().Perm())
	}
	af := &AuthFile{Path: path, Pos: make(map[string]Pos)}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	line := 0
	for sc.Scan() {
		line++
		p := Pos{File: path, Line: line}
		text := strings.TrimSpace(strings.TrimSuffix(sc.Text(), "\r"))
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		k, v, ok := strings.Cut(text, "=")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if !ok || k == "" {
			c.errorf(p, `line is not "key = value"`)
			continue
		}
		if !authKeys[k] {
			c.warnf(p, "unknown key %q ignored (want application_id and application_key, or account_name and account_key)", k)
			continue
		}
		if v == "" {
			c.errorf(p, "%s has no value", k)
			continue
		}
		if ph := placeholderRE.FindString(v); ph != "" {
			c.errorf(p, "%s", placeholderMsg(k, ph))
			continue
		}
		if prev, dup := af.Pos[k]; dup {
			c.warnf(p, "%s repeated (first at line %d): the last one is used", k, prev.Line)
		}
		af.Pos[k] = p
		switch k {
		case "application_id":
			af.ApplicationID = v
		case "application_key":
			af.ApplicationKey = NewSecret(v)
		case "account_name":
			af.AccountName = v
		case "account_key":
			af.AccountKey = NewSecret(v)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, nil, fmt.Errorf("read %s: %w", path, err)
	}
	warns, err := c.split()
	if err != nil {
		return nil, warns, err
	}
	return af, warns, nil
}

// CheckCredentials reads the credentials files of the enabled azure-logs
// blocks and checks that each holds the keys its block needs. Load does not
// read them, so that a configuration can be checked away from its host; call
// this before running. It returns the warnings and *Errors listing every
// problem.
func (c *Config) CheckCredentials() (Diagnostics, error) {
	var col collector
	seen := map[string]*AuthFile{}
	read := func(at Pos, path string) *AuthFile {
		if af, ok := seen[path]; ok {
			return af
		}
		af, warns, err := ReadAuthFile(path)
		col.diags = append(col.diags, warns...)
		if e, ok := err.(*Errors); ok {
			col.diags = append(col.diags, e.Diagnostics...)
		} else if err != nil {
			col.errorf(at, "<auth_path> %s: %v", path, unwrapPathError(err))
		}
		seen[path] = af
		return af
	}
	need := func(at Pos, path string, af *AuthFile, k1, v1, k2 string, v2 Secret) {
		if af == nil {
			return
		}
		var missing []string
		if v1 == "" {
			missing = append(missing, k1)
		}
		if v2.IsZero() {
			missing = append(missing, k2)
		}
		if len(missing) > 0 {
			col.errorf(at, "credentials file %s has no %s", path, strings.Join(missing, " or "))
		}
	}
	for _, az := range c.AzureLogs {
		if az.Disabled {
			continue
		}
		for _, api := range append(append([]AzureAPI(nil), az.LogAnalytics...), az.Graph...) {
			if api.AuthPath == "" {
				continue
			}
			af := read(api.Pos, api.AuthPath)
			if af != nil {
				need(api.Pos, api.AuthPath, af, "application_id", af.ApplicationID, "application_key", af.ApplicationKey)
			}
		}
		for _, s := range az.Storage {
			if s.AuthPath == "" {
				continue
			}
			af := read(s.Pos, s.AuthPath)
			if af != nil {
				need(s.Pos, s.AuthPath, af, "account_name", af.AccountName, "account_key", af.AccountKey)
			}
		}
	}
	return col.split()
}
