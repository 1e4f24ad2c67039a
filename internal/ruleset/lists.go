package ruleset

import (
	"bufio"
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// List is a CDB list compiled from its text source ("key:value" lines).
type List struct {
	Path    string
	entries map[string]string
}

// Lookup returns the value stored for key.
func (l *List) Lookup(key string) (string, bool) {
	v, ok := l.entries[key]
	return v, ok
}

// Len is the number of keys.
func (l *List) Len() int { return len(l.entries) }

// listKey normalises the name rules use for a list: Wazuh refers to lists
// by path, with or without the ".cdb" suffix of the compiled file.
func listKey(p string) string {
	p = filepath.ToSlash(strings.TrimSpace(p))
	p = strings.TrimSuffix(p, ".cdb")
	return p
}

func loadList(c *collector, src *Source, lf ListFile, into map[string]*List) {
	p := lf.Path
	var data []byte
	var err error
	disp := p
	if src.FS != nil {
		data, err = fs.ReadFile(src.FS, p)
		disp = src.Name + ":" + p
	} else {
		data, err = os.ReadFile(p)
	}
	if err != nil {
		c.errorf(disp, "read list: %v", err)
		return
	}
	l := &List{Path: p, entries: make(map[string]string)}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	lineNo := 0
	for sc.Scan() {
		lineNo++
		line := strings.TrimRight(sc.Text(), "\r")
		if strings.TrimSpace(line) == "" || strings.HasPrefix(strings.TrimSpace(line), "#") {
			continue
		}
		key, val, ok := splitListLine(line)
		if !ok {
			c.warnf(disp+":"+itoa(lineNo), "list line has no key; skipped")
			continue
		}
		l.entries[key] = val
	}
	if err := sc.Err(); err != nil {
		c.errorf(disp, "read list: %v", err)
		return
	}
	// Rules name a list as <ruleset><list> wrote it; accept its file path too.
	if lf.Name != "" {
		into[listKey(lf.Name)] = l
	}
	into[listKey(p)] = l
}

// splitListLine splits "key:value"; a key may be quoted to hold colons.
func splitListLine(line string) (key, val string, ok bool) {
	if strings.HasPrefix(line, `"`) {
		end := strings.Index(line[1:], `"`)
		if end < 0 {
			return "", "", false
		}
		key = line[1 : end+1]
		rest := line[end+2:]
		rest = strings.TrimPrefix(rest, ":")
		return key, strings.Trim(rest, `"`), key != ""
	}
	i := strings.IndexByte(line, ':')
	if i < 0 {
		return line, "", line != ""
	}
	key, val = line[:i], line[i+1:]
	return key, strings.Trim(val, `"`), key != ""
}

func itoa(i int) string {
	var b [20]byte
	n := len(b)
	if i == 0 {
		return "0"
	}
	for i > 0 {
		n--
		b[n] = byte('0' + i%10)
		i /= 10
	}
	return string(b[n:])
}
