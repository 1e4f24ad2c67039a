package ruletest

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/threatlockdown/tld/internal/ruleset"
)

// WindowsRulesFile is the rule file runtests.py edits before a run.
const WindowsRulesFile = "0575-win-base_rules.xml"

// WindowsBaseRule is the rule it edits.
const WindowsBaseRule = "60000"

// EnableWindowsEventTests returns srcs changed as runtests.py changes the
// installed ruleset before it runs any test (its enable_win_eventlog_tests,
// skipped by its --skip-windows-eventchannel): in every rule file named
// 0575-win-base_rules.xml, rule 60000 loses its <decoded_as> and
// <category> (windows_eventchannel, ossec) and gets <decoded_as>json
// </decoded_as>, so that the Windows events the .ini files hold as JSON
// lines, which logtest decodes with the json decoder, reach the Windows
// rules. The change holds for the whole run, every test file included.
//
// Only the harness does this: the rule files on disk are not touched. A
// source on disk that holds such a file is served through an fs.FS rooted
// at the directory common to its paths, with that one file rewritten in
// memory; messages then name files as "root:relative/path". The rewrite
// keeps every line where it was, so positions in messages stay true.
// EnableWindowsEventTests returns how many files it rewrote.
func EnableWindowsEventTests(srcs []ruleset.Source) ([]ruleset.Source, int, error) {
	out := make([]ruleset.Source, len(srcs))
	n := 0
	for i, src := range srcs {
		files := windowsRuleFiles(src)
		over := make(map[string][]byte)
		for _, p := range files {
			data, err := readSourceFile(src, p)
			if err != nil {
				return nil, 0, fmt.Errorf("windows event tests: %w", err)
			}
			if nd, ok := EnableWindowsRule(data); ok {
				over[p] = nd
			}
		}
		if len(over) == 0 {
			out[i] = src
			continue
		}
		n += len(over)
		if src.FS == nil {
			var err error
			src, over, err = toFS(src, over)
			if err != nil {
				return nil, 0, fmt.Errorf("windows event tests: %w", err)
			}
		}
		src.FS = &overlayFS{base: src.FS, files: over}
		out[i] = src
	}
	return out, n, nil
}

// windowsRuleFiles lists the rule files of src named WindowsRulesFile, by
// the paths the loader will read them at.
func windowsRuleFiles(src ruleset.Source) []string {
	var out []string
	for _, d := range src.RuleDirs {
		p := joinPath(src, d, WindowsRulesFile)
		var err error
		if src.FS != nil {
			_, err = fs.Stat(src.FS, p)
		} else {
			_, err = os.Stat(p)
		}
		if err == nil && !excludedName(p, src.RuleExclude) {
			out = append(out, p)
		}
	}
	for _, f := range src.RuleFiles {
		if baseName(src, f) == WindowsRulesFile && !excludedName(f, src.RuleExclude) {
			out = append(out, f)
		}
	}
	return out
}

func joinPath(src ruleset.Source, dir, name string) string {
	if src.FS != nil {
		return path.Join(dir, name)
	}
	return filepath.Join(dir, name)
}

func baseName(src ruleset.Source, p string) string {
	if src.FS != nil {
		return path.Base(p)
	}
	return filepath.Base(p)
}

// excludedName mirrors the loader's test: an exclude names a base name, a
// path suffix or the whole path.
func excludedName(p string, excludes []string) bool {
	sp := filepath.ToSlash(p)
	base := path.Base(sp)
	for _, e := range excludes {
		e = filepath.ToSlash(strings.TrimSpace(e))
		if e != "" && (e == base || e == sp || strings.HasSuffix(sp, "/"+e)) {
			return true
		}
	}
	return false
}

func readSourceFile(src ruleset.Source, p string) ([]byte, error) {
	if src.FS != nil {
		return fs.ReadFile(src.FS, p)
	}
	return os.ReadFile(p)
}

// EnableWindowsRule rewrites rule 60000 of a Wazuh rule file as
// runtests.py does with ElementTree: the rule's first <decoded_as> and
// first <category> elements are removed and <decoded_as>json</decoded_as>
// is added as its last child. It works on the text (Wazuh rule files are
// not well-formed XML) and keeps every other byte and every line number.
// It reports false, and returns data unchanged, when there is no such rule.
func EnableWindowsRule(data []byte) ([]byte, bool) {
	bodyStart, bodyEnd, ok := findRule(data, WindowsBaseRule)
	if !ok {
		return data, false
	}
	body := data[bodyStart:bodyEnd]
	body = removeElement(body, "decoded_as")
	body = removeElement(body, "category")
	var b bytes.Buffer
	b.Grow(len(data) + 32)
	b.Write(data[:bodyStart])
	b.Write(body)
	b.WriteString("<decoded_as>json</decoded_as>")
	b.Write(data[bodyEnd:])
	return b.Bytes(), true
}

// scanTags calls fn at the offset of every '<' outside comments; fn
// returns where scanning resumes, or -1 to stop.
func scanTags(data []byte, from int, fn func(i int) int) {
	for i := from; i < len(data); {
		j := bytes.IndexByte(data[i:], '<')
		if j < 0 {
			return
		}
		i += j
		if bytes.HasPrefix(data[i:], []byte("<!--")) {
			k := bytes.Index(data[i+4:], []byte("-->"))
			if k < 0 {
				return
			}
			i += 4 + k + 3
			continue
		}
		next := fn(i)
		if next < 0 {
			return
		}
		if next <= i {
			next = i + 1
		}
		i = next
	}
}

// tagAt reports whether an element called name starts at data[i] ("<name"
// followed by white space, '>' or '/').
func tagAt(data []byte, i int, name string) bool {
	if !bytes.HasPrefix(data[i+1:], []byte(name)) {
		return false
	}
	k := i + 1 + len(name)
	return k < len(data) && (isSpace(data[k]) || data[k] == '>' || data[k] == '/')
}

// tagEnd returns the offset just past the '>' closing the tag at data[i],
// skipping quoted attribute values, and whether the tag closes itself.
func tagEnd(data []byte, i int) (int, bool, bool) {
	var quote byte
	for k := i + 1; k < len(data); k++ {
		c := data[k]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		case c == '>':
			return k + 1, data[k-1] == '/', true
		}
	}
	return 0, false, false
}

// attr returns the value of attribute name in the start tag data[i:end].
func attr(tag []byte, name string) (string, bool) {
	s := string(tag)
	for k := 0; k < len(s); {
		n := strings.Index(s[k:], name)
		if n < 0 {
			return "", false
		}
		k += n
		before := k > 0 && isSpace(s[k-1])
		rest := strings.TrimLeft(s[k+len(name):], asciiSpace)
		if before && strings.HasPrefix(rest, "=") {
			rest = strings.TrimLeft(rest[1:], asciiSpace)
			if rest != "" && (rest[0] == '"' || rest[0] == '\'') {
				if end := strings.IndexByte(rest[1:], rest[0]); end >= 0 {
					return rest[1 : 1+end], true
				}
			}
			return "", false
		}
		k += len(name)
	}
	return "", false
}

// findRule locates the body of <rule id="id">: from just past its start
// tag to the start of its "</rule".
func findRule(data []byte, id string) (int, int, bool) {
	bodyStart, bodyEnd := -1, -1
	scanTags(data, 0, func(i int) int {
		if !tagAt(data, i, "rule") {
			return i + 1
		}
		end, selfClosing, ok := tagEnd(data, i)
		if !ok {
			return -1
		}
		if v, _ := attr(data[i:end], "id"); selfClosing || strings.TrimSpace(v) != id {
			return end
		}
		bodyStart = end
		scanTags(data, end, func(j int) int {
			if bytes.HasPrefix(data[j:], []byte("</rule")) {
				bodyEnd = j
				return -1
			}
			return j + 1
		})
		return -1
	})
	if bodyStart < 0 || bodyEnd < 0 {
		return 0, 0, false
	}
	return bodyStart, bodyEnd, true
}

// removeElement drops the first element called name from body, up to the
// end of its closing tag, leaving the newlines it held so that the lines
// after it keep their numbers.
func removeElement(body []byte, name string) []byte {
	start, stop := -1, -1
	scanTags(body, 0, func(i int) int {
		if !tagAt(body, i, name) {
			return i + 1
		}
		end, selfClosing, ok := tagEnd(body, i)
		if !ok {
			return -1
		}
		if selfClosing {
			start, stop = i, end
			return -1
		}
		closing := []byte("</" + name)
		scanTags(body, end, func(j int) int {
			if bytes.HasPrefix(body[j:], closing) {
				if e, _, ok := tagEnd(body, j); ok {
					start, stop = i, e
				}
				return -1
			}
			return j + 1
		})
		return -1
	})
	if start < 0 {
		return body
	}
	out := make([]byte, 0, len(body))
	out = append(out, body[:start]...)
	out = append(out, bytes.Repeat([]byte("\n"), bytes.Count(body[start:stop], []byte("\n")))...)
	return append(out, body[stop:]...)
}
