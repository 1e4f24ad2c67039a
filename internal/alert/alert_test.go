package alert

import (
	"bytes"
	"encoding/json"
	"testing"
)

func TestWriteStringMatchesEncodingJSON(t *testing.T) {
	for _, s := range []string{
		"", "plain text 123", `quote " and \ backslash`, "<script>&amp;</script>", "tab\tnew\nline\r\x00\x1f",
		"del \x7f", "héllo wörld", "invalid \xff\xfe utf-8", "line sep \u2028 para \u2029", "emoji 🙂",
	} {
		var b bytes.Buffer
		writeString(&b, s)
		want, _ := json.Marshal(s)
		if b.String() != string(want) {
			t.Errorf("writeString(%q) = %s, want %s", s, b.String(), want)
		}
	}
}

// Any string, valid UTF-8 or not, is written exactly as encoding/json
// writes it.
func FuzzWriteStringMatchesEncodingJSON(f *testing.F) {
	for _, s := range []string{"", "a\"b\\c", "<&>", "\x00\x1f\x7f", "é\xff\u2028\u2029🙂", `{"k":"v <x>"}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var b bytes.Buffer
		writeString(&b, s)
		want, _ := json.Marshal(s)
		if b.String() != string(want) {
			t.Fatalf("writeString(%q) = %s, want %s", s, b.String(), want)
		}
	})
}

func BenchmarkMarshalJSON(b *testing.B) {
	a := &Alert{
		ID: "1730000000.1", Manager: "tld", FullLog: "Nov 25 10:00:00 web-01 sshd[123]: Failed password for root from 203.0.113.5 port 22 ssh2",
		Rule:  &Rule{ID: "5712", Level: 10, Description: "sshd: brute force", Groups: []string{"syslog", "sshd"}},
		Agent: Agent{ID: "001", Name: "web-01"}, Location: "/var/log/auth.log",
		Data: Fields{{Key: "srcip", Value: "203.0.113.5"}, {Key: "dstuser", Value: "root"}, {Key: "azure.resource.id", Value: "/subscriptions/x"}},
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := a.MarshalJSON(); err != nil {
			b.Fatal(err)
		}
	}
}

func TestJSONIsEncodedOnceAndCannotBeChangedThroughAnAppend(t *testing.T) {
	a := &Alert{ID: "1", Location: "x <y>", Rule: &Rule{ID: "5", Level: 3, Description: "d"}}
	want, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	first := a.JSON()
	if !bytes.Equal(first, want) {
		t.Fatalf("JSON() = %s\nwant     %s", first, want)
	}
	_ = append(first, '\n', 'X')
	if second := a.JSON(); !bytes.Equal(second, want) || &second[0] != &first[0] {
		t.Errorf("second call: %s (shared: %v)", second, &second[0] == &first[0])
	}
}

// Dotted field names nest as Wazuh's JSON output nests them; a later
// value for a key replaces the earlier one, and a nested name under a key
// that already holds a value is kept under its full name.
func TestFieldsNestByDottedNames(t *testing.T) {
	for _, tt := range []struct {
		name   string
		fields Fields
		want   string
	}{
		{"flat names keep their order", Fields{{Key: "b", Value: "1"}, {Key: "a", Value: "2"}}, `{"b":"1","a":"2"}`},
		{"dotted names nest", Fields{{Key: "azure.resource.id", Value: "x"}, {Key: "azure.resource.type", Value: "y"}, {Key: "azure.tag", Value: "z"}},
			`{"azure":{"resource":{"id":"x","type":"y"},"tag":"z"}}`},
		{"a repeated key keeps its place and takes the last value", Fields{{Key: "a", Value: "1"}, {Key: "b", Value: "2"}, {Key: "a", Value: "3"}},
			`{"a":"3","b":"2"}`},
		{"a nested name under a value keeps its full name", Fields{{Key: "a", Value: "1"}, {Key: "a.b", Value: "2"}, {Key: "a.b", Value: "3"}},
			`{"a":"1","a.b":"3"}`},
		{"raw JSON values are written as they are", Fields{{Key: "list", Value: `["x","y"]`, Raw: true}, {Key: "bad", Value: `[x`, Raw: true}},
			`{"list":["x","y"],"bad":"[x"}`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			tt.fields.write(&b)
			if b.String() != tt.want {
				t.Fatalf("got %s\nwant %s", b.String(), tt.want)
			}
		})
	}
}
