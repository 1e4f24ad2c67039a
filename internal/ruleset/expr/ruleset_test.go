package expr

import (
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// rulesetDir finds the shared Wazuh ruleset beside the repository.
func rulesetDir(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for range 8 {
		candidate := filepath.Join(dir, "shared", "wazuh-ruleset")
		if fi, err := os.Stat(candidate); err == nil && fi.IsDir() {
			return candidate
		}
		dir = filepath.Dir(dir)
	}
	t.Skip("shared/wazuh-ruleset not found next to the repository")
	return ""
}

type element struct {
	name  string
	attrs map[string]string
	text  string
}

var (
	commentRE = regexp.MustCompile(`(?s)<!--.*?-->`)
	blockRE   = regexp.MustCompile(`(?s)<(rule|decoder)\b[^>]*>(.*?)</(?:rule|decoder)>`)
	attrRE    = regexp.MustCompile(`([\w.-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')`)
)

// unescapedLT returns the index of the first '<' in s not escaped by an odd
// run of backslashes, which is how Wazuh's XML reader allows "\<" in text.
func unescapedLT(s string) int {
	for i := 0; i < len(s); i++ {
		if s[i] != '<' {
			continue
		}
		n := 0
		for j := i - 1; j >= 0 && s[j] == '\\'; j-- {
			n++
		}
		if n%2 == 0 {
			return i
		}
	}
	return -1
}

// children lists the leaf elements of a rule or decoder body.
func children(body string) []element {
	var out []element
	for {
		i := unescapedLT(body)
		if i < 0 {
			return out
		}
		body = body[i+1:]
		end := strings.IndexByte(body, '>')
		if end < 0 || strings.HasPrefix(body, "/") {
			if end < 0 {
				return out
			}
			body = body[end+1:]
			continue
		}
		tag := body[:end]
		body = body[end+1:]
		if strings.HasSuffix(tag, "/") {
			continue
		}
		name, rest, _ := strings.Cut(tag, " ")
		e := element{name: name, attrs: map[string]string{}}
		for _, m := range attrRE.FindAllStringSubmatch(rest, -1) {
			e.attrs[m[1]] = m[2] + m[3]
		}
		j := unescapedLT(body)
		if j < 0 {
			return out
		}
		if !strings.HasPrefix(body[j:], "</"+name+">") {
			continue // a container such as <mitre>: its children come next
		}
		e.text = body[:j]
		body = body[j:]
		out = append(out, e)
	}
}

var ruleDefaults = map[string]Type{
	"match": OSMatch, "regex": OSRegex, "field": OSRegex,
	"srcgeoip": OSMatch, "dstgeoip": OSMatch, "srcport": OSMatch, "dstport": OSMatch,
	"user": OSMatch, "url": OSMatch, "id": OSMatch, "status": OSMatch, "data": OSMatch,
	"extra_data": OSMatch, "hostname": OSMatch, "program_name": OSMatch,
	"location": OSMatch, "protocol": OSMatch, "system_name": OSMatch, "action": String,
}

var decoderDefaults = map[string]Type{"prematch": OSRegex, "regex": OSRegex, "program_name": OSMatch}

// TestEveryRulesetPatternCompiles compiles each expression of the Wazuh
// ruleset the way analysisd does: element texts of the same option are
// concatenated, type= picks the flavour (an unknown type falls back to the
// default) and options without type= use their defaults.
func TestEveryRulesetPatternCompiles(t *testing.T) {
	root := rulesetDir(t)
	var files []string
	for _, sub := range []string{"rules", "decoders", "testing/ruleset"} {
		m, _ := filepath.Glob(filepath.Join(root, sub, "*.xml"))
		files = append(files, m...)
	}
	if len(files) == 0 {
		t.Fatal("no ruleset files")
	}
	counts := map[Type]int{}
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		text := commentRE.ReplaceAllString(string(data), "")
		for _, b := range blockRE.FindAllStringSubmatch(text, -1) {
			defaults := ruleDefaults
			if b[1] == "decoder" {
				defaults = decoderDefaults
			}
			joined := map[string]string{}
			types := map[string]Type{}
			compile := func(what string, typ Type, pattern string) {
				if _, err := Compile(typ, pattern, false); err != nil {
					t.Errorf("%s: <%s> %s %q: %v", filepath.Base(file), what, typ, pattern, err)
				}
				counts[typ]++
			}
			for _, e := range children(b[2]) {
				switch {
				case e.name == "srcip" || e.name == "dstip":
					compile(e.name, OSIP, e.text)
				case e.name == "if_matched_regex":
					compile(e.name, OSRegex, e.text)
				case e.name == "if_matched_group":
					compile(e.name, OSMatch, e.text)
				case e.name == "list":
					if v, ok := e.attrs["check_value"]; ok {
						compile("list check_value", OSRegex, v)
					}
				case defaults[e.name] != "":
					typ, err := ParseType(e.attrs["type"], defaults[e.name])
					if err != nil && !errors.Is(err, ErrUnknownType) {
						t.Fatal(err)
					}
					if e.name == "field" {
						compile("field name="+e.attrs["name"], typ, e.text)
						continue
					}
					joined[e.name] += e.text
					types[e.name] = typ
				}
			}
			for name, pattern := range joined {
				compile(name, types[name], pattern)
			}
		}
	}
	t.Logf("compiled %d files: %v", len(files), counts)
	if counts[OSRegex] < 1000 || counts[OSMatch] < 1000 || counts[PCRE2] < 100 {
		t.Errorf("suspiciously few expressions: %v", counts)
	}
}
