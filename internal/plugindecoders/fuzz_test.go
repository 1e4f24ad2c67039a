package plugindecoders

import (
	"strings"
	"testing"
)

// fieldsSeen records the static fields a plugin set, for fuzz checks.
type fieldsSeen struct {
	ruleRecorder
	static map[string][]string
}

func newFieldsSeen() *fieldsSeen {
	return &fieldsSeen{ruleRecorder: *newRuleRecorder("1", "1002", "5716"), static: map[string][]string{}}
}

func (f *fieldsSeen) SetStatic(name, value string) {
	f.static[name] = append(f.static[name], value)
}

// cut is the input as the C code sees it.
func cut(s string) string {
	if i := strings.IndexByte(s, 0); i >= 0 {
		return s[:i]
	}
	return s
}

// checkFromInput fails unless every value of the named fields is part of
// the input.
func checkFromInput(t *testing.T, f *fieldsSeen, in string, names ...string) {
	t.Helper()
	for _, n := range names {
		for _, v := range f.static[n] {
			if !strings.Contains(in, v) {
				t.Fatalf("%s=%q is not part of the input %q", n, v, in)
			}
		}
	}
}

func checkOnce(t *testing.T, f *fieldsSeen) {
	t.Helper()
	for n, vs := range f.static {
		if len(vs) > 1 {
			t.Fatalf("%s set %d times: %q", n, len(vs), vs)
		}
	}
}

func checkOneOf(t *testing.T, f *fieldsSeen, name string, allowed ...string) {
	t.Helper()
	for _, v := range f.static[name] {
		ok := false
		for _, a := range allowed {
			ok = ok || v == a
		}
		if !ok {
			t.Fatalf("%s=%q, want one of %q", name, v, allowed)
		}
	}
}

func FuzzPF(f *testing.F) {
	f.Add(samplePF)
	f.Add("rule 2/(match) block in on xl0:  > : i")
	f.Add("Mar 30 17:47:40.390143 rule 2/(match) pass in on lo0: 127.0.0.1 > 127.0.0.1: icmp: echo reply")
	f.Add(") p: 1.2.3.4.5.6 > ::\x00udp")
	f.Fuzz(func(t *testing.T, in string) {
		fs := newFieldsSeen()
		res, ok := Decode(PF, in, fs)
		if !ok || res != (Result{}) {
			t.Fatalf("Decode = %+v, %v; PF changes nothing but fields", res, ok)
		}
		checkOnce(t, fs)
		checkOneOf(t, fs, "action", "pass", "block")
		checkOneOf(t, fs, "protocol", "UDP", "ICMP", "TCP")
		checkFromInput(t, fs, cut(in), "srcip", "srcport", "dstip", "dstport")
		if len(fs.static["dstip"]) > 0 && len(fs.static["srcip"]) == 0 {
			t.Fatalf("dstip without srcip")
		}
	})
}

func FuzzSonicWall(f *testing.F) {
	for _, s := range []string{sonicNATMapping, sonicOpened, sonicLoginDenied, sonicWebSiteHit, sonicClosedICMP,
		"pri=6 c=1 m=2 src=1.1.1.1:1:X dst=2.2.2.2:2:X proto=t\x01cp"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		fs := newFieldsSeen()
		res, ok := Decode(SonicWall, in, fs)
		if !ok {
			t.Fatal("SonicWall_Decoder unknown")
		}
		switch res.Type {
		case TypeSyslog, TypeIDS, TypeFirewall, TypeSquid:
		default:
			t.Fatalf("type %q", res.Type)
		}
		if res.Relocated || res.LogReplaced || res.GeneratedRule != "" {
			t.Fatalf("SonicWall_Decoder changed more than the type: %+v", res)
		}
		checkOneOf(t, fs, "action", "pass", "drop", "close")
		checkFromInput(t, fs, cut(in), "status", "id", "srcip", "srcport", "dstip", "dstport", "protocol")
		for _, p := range fs.static["protocol"] {
			if len(p) > sonicProtoMax || strings.ContainsAny(p, "/\x01") {
				t.Fatalf("protocol %q", p)
			}
		}
		if len(fs.static["id"]) > 2 || len(fs.static["status"]) > 1 {
			t.Fatalf("fields set too often: %q", fs.static)
		}
	})
}

func FuzzSymantecWS(f *testing.F) {
	f.Add("20070717,73614,1=5,11=1.2.3.4,1106=News,60=http://news.bbc.co.uk/,10=userX,1000=212.58.240.42,2=27")
	f.Add("20070717,1,3=12345678,10=bob")
	f.Add("d,t,10=,11=,60=")
	f.Fuzz(func(t *testing.T, in string) {
		fs := newFieldsSeen()
		res, ok := Decode(SymantecWS, in, fs)
		if !ok || res != (Result{}) {
			t.Fatalf("Decode = %+v, %v; SymantecWS changes nothing but fields", res, ok)
		}
		checkOnce(t, fs)
		checkFromInput(t, fs, cut(in), "dstuser", "srcip", "url", "id")
		for n, max := range map[string]int{"dstuser": symantecMaxShort, "srcip": symantecMaxShort, "url": symantecMaxURL, "id": symantecIDLen} {
			for _, v := range fs.static[n] {
				if len(v) > max {
					t.Fatalf("%s has %d bytes, more than %d", n, len(v), max)
				}
			}
		}
		for _, id := range fs.static["id"] {
			if !strings.HasPrefix(id, "2=") && !strings.HasPrefix(id, "3=") {
				t.Fatalf("id %q", id)
			}
		}
	})
}

func FuzzOSSECAlert(f *testing.F) {
	f.Add(sampleAlert)
	f.Add("Alert Level:5; Rule: 5716 - x; Location: y;  z")
	f.Add("ossec: Alert Level: 5; Rule: 1 - x; Location: y; srcip: 1.2.3.4; the log")
	f.Add("ossec: Alert Level: 5; Rule: 1 - x; Location: y; ")
	f.Fuzz(func(t *testing.T, in string) {
		fs := newFieldsSeen()
		res, ok := Decode(OSSECAlert, in, fs)
		if !ok || res.Type != TypeOSSECAlert {
			t.Fatalf("Decode = %+v, %v", res, ok)
		}
		c := cut(in)
		checkFromInput(t, fs, c, "srcip", "dstuser")
		if res.GeneratedRule != "" && (!res.Relocated || !res.LogReplaced || !fs.HasRule(res.GeneratedRule)) {
			t.Fatalf("a generated rule without the rest: %+v", res)
		}
		if res.LogReplaced && (len(res.Log) > maxAlertLog || !strings.Contains(c, res.Log)) {
			t.Fatalf("log %q", res.Log)
		}
		if !res.Relocated && (len(fs.static) > 0 || res.LogReplaced) {
			t.Fatalf("changes without relocation: %+v %q", res, fs.static)
		}
		if len(res.NewLocation(strings.Repeat("p", 300))) > maxLocation {
			t.Fatalf("location longer than %d bytes", maxLocation)
		}
	})
}
