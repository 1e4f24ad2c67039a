package analysis

import (
	"encoding/json"
	"testing"

	"github.com/threatlockdown/tld/internal/alert"
	"github.com/threatlockdown/tld/internal/ruleset"
)

func TestJSONDecoderFlattensAsWazuh(t *testing.T) {
	cases := []struct {
		name  string
		in    string
		null  string
		want  map[string]string
		stat  map[ruleset.StaticField]string
		wantE bool
	}{
		{name: "nested objects become dotted names",
			in: `{"a":{"b":{"c":"x"}},"d":"y"}`, want: map[string]string{"a.b.c": "x", "d": "y"}},
		{name: "numbers keep their literal text",
			in: `{"i":42,"f":1.5,"big":1700000000000,"neg":-3e2}`, want: map[string]string{"i": "42", "f": "1.5", "big": "1700000000000", "neg": "-3e2"}},
		{name: "booleans are words",
			in: `{"t":true,"f":false}`, want: map[string]string{"t": "true", "f": "false"}},
		{name: "null is the word null by default",
			in: `{"n":null}`, want: map[string]string{"n": "null"}},
		{name: "null can be empty",
			in: `{"n":null}`, null: ruleset.JSONNullEmpty, want: map[string]string{"n": ""}},
		{name: "null can be discarded",
			in: `{"n":null,"m":"v"}`, null: ruleset.JSONNullDiscard, want: map[string]string{"m": "v"}},
		{name: "arrays are kept as compact JSON",
			in: `{"arr":[1, "two", {"x": null}]}`, want: map[string]string{"arr": `[1,"two",{"x":null}]`}},
		{name: "escapes are decoded",
			in: `{"s":"a\"b\\c\u00e9\n"}`, want: map[string]string{"s": "a\"b\\cé\n"}},
		{name: "well-known keys fill static fields",
			in: `{"srcip":"1.2.3.4","dstuser":"bob","user":"alice"}`, want: map[string]string{"user": "alice"},
			stat: map[ruleset.StaticField]string{ruleset.FieldSrcIP: "1.2.3.4", ruleset.FieldDstUser: "bob"}},
		{name: "a malformed document yields no field at all",
			in: `{"a":"b","c":}`, want: map[string]string{}, wantE: true},
		{name: "a truncated document yields no field at all",
			in: `{"a":"b","c":{"d":"e"`, want: map[string]string{}, wantE: true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := &Decoded{}
			err := decodeJSON(d, c.in, c.null)
			if (err != nil) != c.wantE {
				t.Fatalf("err = %v, want error %v", err, c.wantE)
			}
			if len(d.dynamic) != len(c.want) {
				t.Fatalf("fields %+v, want %v", d.dynamic, c.want)
			}
			for k, v := range c.want {
				if got, ok := d.Dynamic(k); !ok || got != v {
					t.Errorf("%s = %q (%v), want %q", k, got, ok, v)
				}
			}
			for f, v := range c.stat {
				if got, ok := d.Static(f); !ok || got != v {
					t.Errorf("static %s = %q, want %q", f.Name(), got, v)
				}
			}
		})
	}
}

func TestArraysAreWrittenAsArraysInAlerts(t *testing.T) {
	d := &Decoded{}
	if err := decodeJSON(d, `{"a":{"list":["x","y"]}}`, ""); err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(&alert.Alert{Data: d.Fields()})
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Data struct {
			A struct {
				List []string `json:"list"`
			} `json:"a"`
		} `json:"data"`
	}
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatalf("%v in %s", err, b)
	}
	if len(got.Data.A.List) != 2 {
		t.Errorf("data = %s", b)
	}
}

func FuzzDecodeJSON(f *testing.F) {
	for _, s := range []string{`{"a":1}`, `{"a":{"b":[1,2,{"c":null}]}}`, `{"s":"\ud83d\ude00"}`, `{`, `{"a":"\u12"}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d := &Decoded{}
		err := decodeJSON(d, s, "")
		valid := json.Valid([]byte(s))
		if err == nil && !valid {
			// We accept trailing data after the object, as cJSON does.
			return
		}
		if err != nil && valid && len(s) > 0 && s[0] == '{' {
			t.Fatalf("valid object rejected: %q: %v", s, err)
		}
	})
}
