package plugindecoders

import (
	"reflect"
	"strings"
	"testing"
)

// recorder is a Fields that keeps every call, in order: "name=value" for a
// static field, "+name=value" for a dynamic one.
type recorder struct {
	calls []string
}

func (r *recorder) SetStatic(name, value string)  { r.calls = append(r.calls, name+"="+value) }
func (r *recorder) AddDynamic(name, value string) { r.calls = append(r.calls, "+"+name+"="+value) }

// ruleRecorder also knows which rules are loaded, by their decimal ids.
type ruleRecorder struct {
	recorder
	rules map[string]bool
}

func (r *ruleRecorder) HasRule(id string) bool { return r.rules[id] }

func newRuleRecorder(ids ...string) *ruleRecorder {
	r := &ruleRecorder{rules: map[string]bool{}}
	for _, id := range ids {
		r.rules[id] = true
	}
	return r
}

// pluginCase is one log run through one plugin and what it must produce.
type pluginCase struct {
	name  string
	input string
	calls []string
	res   Result
}

func runCases(t *testing.T, plugin string, cases []pluginCase, newFields func() (Fields, *recorder)) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f, rec := newFields()
			res, ok := Decode(plugin, tc.input, f)
			if !ok {
				t.Fatalf("Decode(%q) reports an unknown plugin", plugin)
			}
			if !reflect.DeepEqual(rec.calls, tc.calls) {
				t.Errorf("fields\n got %q\nwant %q", rec.calls, tc.calls)
			}
			if res != tc.res {
				t.Errorf("result\n got %+v\nwant %+v", res, tc.res)
			}
		})
	}
}

func plainFields() (Fields, *recorder) {
	r := &recorder{}
	return r, r
}

func TestKnownNamesTheFourPlugins(t *testing.T) {
	for _, name := range []string{"PF_Decoder", "SonicWall_Decoder", "SymantecWS_Decoder", "OSSECAlert_Decoder"} {
		if !Known(name) {
			t.Errorf("Known(%q) = false, want true", name)
		}
	}
	for _, name := range []string{"JSON_Decoder", "pf_decoder", "PF_Decoder ", "", "Foo_Decoder"} {
		if Known(name) {
			t.Errorf("Known(%q) = true, want false", name)
		}
	}
}

func TestDecodeRejectsAnUnknownPlugin(t *testing.T) {
	rec := &recorder{}
	res, ok := Decode("JSON_Decoder", `{"a":1}`, rec)
	if ok || res != (Result{}) || len(rec.calls) != 0 {
		t.Fatalf("Decode(JSON_Decoder) = %+v, %v, calls %q; want nothing and false", res, ok, rec.calls)
	}
}

func TestDecodeAcceptsNilFields(t *testing.T) {
	for _, name := range []string{PF, SonicWall, SymantecWS, OSSECAlert} {
		if _, ok := Decode(name, samplePF, nil); !ok {
			t.Errorf("Decode(%q, nil fields) not ok", name)
		}
	}
}

func TestDecodeStopsAtANulByteAsTheCCodeDoes(t *testing.T) {
	rec := &recorder{}
	Decode(SymantecWS, "20070717,73613,10=alice\x00,11=10.0.0.1", rec)
	want := []string{"dstuser=alice"}
	if !reflect.DeepEqual(rec.calls, want) {
		t.Fatalf("calls %q, want %q", rec.calls, want)
	}
}

func TestNewLocationJoinsAndCutsAt254Bytes(t *testing.T) {
	r := Result{AlertLocation: "(web1) 10.0.0.5->/var/log/secure"}
	if got, want := r.NewLocation("relay"), "relay|(web1) 10.0.0.5->/var/log/secure"; got != want {
		t.Errorf("NewLocation = %q, want %q", got, want)
	}
	r.AlertLocation = strings.Repeat("x", 300)
	got := r.NewLocation("relay")
	if len(got) != 254 || !strings.HasPrefix(got, "relay|xxx") {
		t.Errorf("NewLocation of a long location has %d bytes (%.20q…), want 254 starting relay|", len(got), got)
	}
}
