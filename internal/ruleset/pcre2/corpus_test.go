package pcre2

import (
	"bufio"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// The differential test and the benchmarks read Wazuh's ruleset from
// /work/shared/wazuh-ruleset, found by walking up from the package
// directory; without it they are skipped.

// rulesetDir returns the Wazuh ruleset directory, or skips tb.
func rulesetDir(tb testing.TB) string {
	tb.Helper()
	dir, err := os.Getwd()
	if err != nil {
		tb.Fatal(err)
	}
	for {
		candidate := filepath.Join(dir, "shared", "wazuh-ruleset")
		if fi, err := os.Stat(candidate); err == nil && fi.IsDir() {
			return candidate
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			tb.Skip("no shared/wazuh-ruleset above the package directory")
		}
		dir = parent
	}
}

// rulesetPattern is one type="pcre2" element of the ruleset.
type rulesetPattern struct {
	pattern string
	where   string // file:line
	element string // prematch, regex, field...
}

var openTag = regexp.MustCompile(`<(\w+)\b[^>]*\btype="pcre2"[^>]*>`)

// rulesetPatterns returns every type="pcre2" expression of the decoders,
// rules and test ruleset, in file order. Each is on one line in Wazuh's
// files; the text between the tags is taken as is (the files use no XML
// entities in these elements).
func rulesetPatterns(tb testing.TB, root string) []rulesetPattern {
	tb.Helper()
	var files []string
	for _, sub := range []string{"decoders", "rules", filepath.Join("testing", "ruleset")} {
		err := filepath.WalkDir(filepath.Join(root, sub), func(path string, d os.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if !d.IsDir() && strings.HasSuffix(path, ".xml") {
				files = append(files, path)
			}
			return nil
		})
		if err != nil {
			tb.Fatal(err)
		}
	}
	sort.Strings(files)
	var out []rulesetPattern
	for _, path := range files {
		data, err := os.ReadFile(path)
		if err != nil {
			tb.Fatal(err)
		}
		for n, line := range strings.Split(string(data), "\n") {
			for _, m := range openTag.FindAllStringSubmatchIndex(line, -1) {
				tag := line[m[2]:m[3]]
				rest := line[m[1]:]
				end := strings.Index(rest, "</"+tag+">")
				if end < 0 {
					tb.Fatalf("%s:%d: <%s type=\"pcre2\"> is not closed on its line", path, n+1, tag)
				}
				rel, _ := filepath.Rel(root, path)
				out = append(out, rulesetPattern{pattern: rest[:end], where: rel + ":" + strconv.Itoa(n+1), element: tag})
			}
		}
	}
	return out
}

// rulesetLogs returns the value of every "log N pass|fail = ..." line of
// the ruleset's .ini tests, in file order.
func rulesetLogs(tb testing.TB, root string) []string {
	tb.Helper()
	files, err := filepath.Glob(filepath.Join(root, "testing", "tests", "*.ini"))
	if err != nil {
		tb.Fatal(err)
	}
	sort.Strings(files)
	var out []string
	for _, path := range files {
		f, err := os.Open(path)
		if err != nil {
			tb.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 0, 1<<16), 1<<22)
		for sc.Scan() {
			line := sc.Text()
			if !strings.HasPrefix(line, "log ") {
				continue
			}
			if _, v, ok := strings.Cut(line, " = "); ok {
				out = append(out, v)
			}
		}
		if err := sc.Err(); err != nil {
			tb.Fatal(err)
		}
		f.Close()
	}
	return out
}
