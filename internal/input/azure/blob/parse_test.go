package blob

import (
	"bufio"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
)

// These tests need no emulator.

type parsed struct {
	records  []string // "offset:data"
	problems []string // "offset:reason prefix"
	resume   int64
}

func collectParse(t testing.TB, kind, data string, max int) parsed {
	var p parsed
	emit := func(off int64, b []byte) error {
		p.records = append(p.records, fmt.Sprintf("%d:%s", off, b))
		return nil
	}
	problem := func(off int64, reason string) {
		p.problems = append(p.problems, fmt.Sprintf("%d:%s", off, reason))
	}
	r := bufio.NewReaderSize(strings.NewReader(data), 16) // small: lines cross buffer boundaries
	var err error
	switch kind {
	case "text":
		p.resume, err = parseText(r, 0, max, emit, problem)
	case "inline":
		p.resume, err = parseInline(r, 0, max, emit, problem)
	case "file":
		err = parseFile(r, 0, max, emit, problem)
	}
	if err != nil {
		t.Fatalf("parse %s: %v", kind, err)
	}
	return p
}

// hasPrefixes reports whether each got[i] starts with want[i].
func hasPrefixes(got, want []string) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		if !strings.HasPrefix(got[i], want[i]) {
			return false
		}
	}
	return true
}

func TestParsers(t *testing.T) {
	long := strings.Repeat("x", 40)
	cases := []struct {
		name     string
		kind     string
		data     string
		records  []string
		problems []string // prefixes
		resume   int64    // -1: not checked (json_file)
	}{
		{"text: lines keep their offsets; CR and blank lines dropped", "text", "a\r\n\nbb\n  \ncc",
			[]string{"0:a", "4:bb", "10:cc"}, nil, 10},
		{"text: a terminated last line resumes after it", "text", "a\nb\n", []string{"0:a", "2:b"}, nil, 4},
		{"text: a line over the limit is skipped and reported", "text", "ok\n" + long + "\nok2\n",
			[]string{"0:ok", "44:ok2"}, []string{"3:line longer than 32 bytes"}, 48},
		{"text: a line of exactly the limit is kept", "text", strings.Repeat("y", 32) + "\n",
			[]string{"0:" + strings.Repeat("y", 32)}, nil, 33},
		{"inline: JSON lines", "inline", "{\"a\":1}\n{\"b\":2}\n", []string{`0:{"a":1}`, `8:{"b":2}`}, nil, 16},
		{"inline: objects back to back", "inline", `{"a":1}{"b":"}{"} {"c":[{}]}`,
			[]string{`0:{"a":1}`, `7:{"b":"}{"}`, `18:{"c":[{}]}`}, nil, 28},
		{"inline: a pretty-printed object", "inline", "{\n  \"a\": {\n    \"b\": 1\n  }\n}\n",
			[]string{"0:{\n  \"a\": {\n    \"b\": 1\n  }\n}"}, nil, 28},
		{"inline: strings may hold braces and escaped quotes", "inline", `{"a":"}\"{"}`, []string{`0:{"a":"}\"{"}`}, nil, 12},
		{"inline: a cut-short last object resumes at its start", "inline", "{\"a\":1}\n{\"b\":",
			[]string{`0:{"a":1}`}, []string{"8:JSON object cut short at the end"}, 8},
		{"inline: a broken line does not take the next lines with it", "inline", "{\"a\":\"x\n{\"b\":2}\n",
			[]string{`8:{"b":2}`}, []string{"0:JSON object cut short (a line"}, 16},
		{"inline: junk is skipped to the next line starting with '{'", "inline", "junk {\"no\":1}\n  {\"no\":2}\n{\"yes\":3}",
			[]string{`25:{"yes":3}`}, []string{"0:data that is not a JSON object"}, 34},
		{"inline: an invalid object is reported", "inline", "{\"a\": tru}\n{\"b\":1}",
			[]string{`11:{"b":1}`}, []string{"0:invalid JSON object"}, 18},
		{"inline: an object over the limit is skipped", "inline", `{"a":"` + long + `"}` + "\n{\"b\":1}",
			[]string{`49:{"b":1}`}, []string{"0:JSON object longer than 32 bytes"}, 56},
		{"file: the records of a diagnostic-settings document", "file", `{"other": {"x": [1]}, "records": [ {"a":1} , {"b":[2]} ]}`,
			[]string{`35:{"a":1}`, `45:{"b":[2]}`}, nil, -1},
		{"file: an array of records", "file", ` [{"a":1},{"b":2}]`, []string{`2:{"a":1}`, `10:{"b":2}`}, nil, -1},
		{"file: a document cut short keeps the complete records", "file", `{"records": [{"a":1},{"b":`,
			[]string{`13:{"a":1}`}, []string{"21:JSON document cut short after 1 records"}, -1},
		{"file: broken JSON is reported where it breaks", "file", `{"records": [{"a":1},{"b":2]}`,
			[]string{`13:{"a":1}`}, []string{"21:invalid JSON after 1 records"}, -1},
		{"file: records that are not objects are reported", "file", `[1, {"a":1}]`,
			[]string{`4:{"a":1}`}, []string{"1:record is not a JSON object"}, -1},
		{"file: an object without records is reported", "file", `{"a":1}`,
			nil, []string{`0:a JSON object without a "records" array`}, -1},
		{"file: JSON lines are not a document", "file", "{\"records\":[]}\n{\"records\":[]}\n",
			nil, []string{"15:data after the JSON document"}, -1},
		{"file: a scalar is not a document", "file", `"text"`, nil, []string{"0:not a JSON object"}, -1},
		{"file: spaces only", "file", " \n", nil, []string{"0:no JSON document"}, -1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := collectParse(t, tc.kind, tc.data, 32)
			if !slices.Equal(got.records, tc.records) {
				t.Errorf("records\n got %q\nwant %q", got.records, tc.records)
			}
			if !hasPrefixes(got.problems, tc.problems) {
				t.Errorf("problems\n got %q\nwant %q", got.problems, tc.problems)
			}
			if tc.resume >= 0 && got.resume != tc.resume {
				t.Errorf("resume at %d, want %d", got.resume, tc.resume)
			}
		})
	}
}

func TestNameFilter(t *testing.T) {
	cases := []struct {
		filter string
		name   string
		want   bool
	}{
		{"*", "any/thing", true},
		{"", "any/thing", true},
		{".json", "a/b/PT1H.json", true},
		{".json", "a/b/PT1H.json.gz", true}, // as Wazuh: "contains"
		{".json", "a/b/PT1H.log", false},
		{"*.json", "x.json", true},
		{`"*.log"`, "x.log", true}, // quotes dropped, as Wazuh does
		{"y=*/PT1H*.json", "y=2024/m=01/PT1H.json", true},
		{"y=*/PT1H*.json", "y=2024/m=01/PT1H-1.json", true},
		{"y=*/PT1H*.json", "x=2024/PT1H.json", false},
		{"PT1H*.json", "PT1H.log", false},
		{".JSON", "a.json", false}, // blob names are case-sensitive
	}
	for _, tc := range cases {
		if got := newNameFilter(tc.filter).match(tc.name); got != tc.want {
			t.Errorf("filter %q on %q = %v, want %v", tc.filter, tc.name, got, tc.want)
		}
	}
}

func TestEventTexts(t *testing.T) {
	t.Run("text lines as Wazuh's azure-storage decoder expects them", func(t *testing.T) {
		cases := []struct{ tag, line, want string }{
			{"diag", "2018/03/30 10:40:23 INFO Running", "azure_tag: azure-storage. azure_storage_tag: diag. 2018/03/30 10:40:23 INFO Running"},
			{"", "x", "azure_tag: azure-storage. x"},
		}
		for _, tc := range cases {
			if got := textEvent(tc.tag, []byte(tc.line)); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		}
	})
	t.Run("json_inline objects with the tags first", func(t *testing.T) {
		cases := []struct{ tag, obj, want string }{
			{"t", `{"a": 1}`, `{"azure_tag": "azure-storage", "azure_storage_tag": "t", "a": 1}`},
			{"t", `{ }`, `{"azure_tag": "azure-storage", "azure_storage_tag": "t"}`},
			{`q"<&>`, `{"a":1}`, `{"azure_tag": "azure-storage", "azure_storage_tag": "q\"<&>", "a":1}`},
			{"t", "{\n \"a\": [1,\n 2]\n}", `{"azure_tag": "azure-storage", "azure_storage_tag": "t", "a":[1,2]}`},
			{"t", `{"a":1,"azure_tag":"old"}`, `{"azure_tag": "azure-storage", "azure_storage_tag": "t", "a": 1}`},
		}
		for _, tc := range cases {
			got := inlineEvent(tc.tag, []byte(tc.obj))
			if got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
			if !json.Valid([]byte(got)) {
				t.Errorf("not JSON: %s", got)
			}
		}
	})
	t.Run("json_file records with the tags last, replaced where present", func(t *testing.T) {
		cases := []struct{ tag, rec, want string }{
			{"t", `{"a":1,"b":{"c":"d"}}`, `{"a": 1, "b": {"c":"d"}, "azure_tag": "azure-storage", "azure_storage_tag": "t"}`},
			{"t", `{"azure_storage_tag":"x","a":1}`, `{"azure_storage_tag": "t", "a": 1, "azure_tag": "azure-storage"}`},
			{"", `{}`, `{"azure_tag": "azure-storage"}`},
		}
		for _, tc := range cases {
			got, err := fileEvent(tc.tag, []byte(tc.rec))
			if err != nil || got != tc.want {
				t.Errorf("got  %s (%v)\nwant %s", got, err, tc.want)
			}
		}
	})
}

func TestSniff(t *testing.T) {
	cases := []struct {
		name    string
		data    string
		base    int64
		problem string // prefix; "" for text
	}{
		{"plain text", "hello\n", 0, ""},
		{"a byte order mark is dropped", "\xEF\xBB\xBFhello", 3, ""},
		{"a NUL byte is binary", "ab\x00cd", 0, "byte 2: binary data"},
		{"gzip is binary", "\x1f\x8b\x08\x08\xa5\xb2\xc3\xd4\xe5\xf6", 0, "byte 1: not UTF-8 text"},
		{"a few Latin-1 letters are text", "caf\xe9 cr\xe8me br\xfbl\xe9e, and more words", 0, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			base, problem := sniff(bufio.NewReader(strings.NewReader(tc.data)))
			if base != tc.base || !strings.HasPrefix(problem, tc.problem) || (tc.problem == "") != (problem == "") {
				t.Errorf("sniff = %d, %q; want %d, %q", base, problem, tc.base, tc.problem)
			}
		})
	}
}

// FuzzParseInline checks that any content is parsed without panic, that
// every record is valid JSON found at its offset, and that the resume
// offset is within the blob.
func FuzzParseInline(f *testing.F) {
	for _, s := range []string{"{\"a\":1}\n{\"b\":", "{\n\"a\":\"}\\\"{\"\n}{}", "junk\n{\"x\":[{}]}", "{\"a\":\"\n{"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data string) {
		p := collectParse(t, "inline", data, 64)
		for _, r := range p.records {
			off, obj, _ := strings.Cut(r, ":")
			var o int
			fmt.Sscan(off, &o)
			if !json.Valid([]byte(obj)) || !strings.HasPrefix(data[o:], obj) {
				t.Fatalf("record %q not valid JSON at offset %d of %q", obj, o, data)
			}
		}
		if p.resume < 0 || p.resume > int64(len(data)) {
			t.Fatalf("resume %d outside the blob (%d bytes)", p.resume, len(data))
		}
	})
}

// FuzzParseFile checks that any content is parsed without panic and that
// every record is a JSON object.
func FuzzParseFile(f *testing.F) {
	for _, s := range []string{`{"records":[{"a":1},{"b":`, `[{"a":1}]`, `{"records":5}`, "[1,{}]"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data string) {
		p := collectParse(t, "file", data, 64)
		for _, r := range p.records {
			_, obj, _ := strings.Cut(r, ":")
			if !json.Valid([]byte(obj)) || obj[0] != '{' {
				t.Fatalf("record %q is not a JSON object", obj)
			}
		}
	})
}
