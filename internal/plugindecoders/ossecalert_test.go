package plugindecoders

import (
	"strings"
	"testing"
)

// What logcollector's read_ossecalert forwards for an alert with a source
// address and a user.
const sampleAlert = "ossec: Alert Level: 5; Rule: 5716 - sshd: authentication failed.; Location: (web1) 10.0.0.5->/var/log/secure; srcip: 10.1.1.1; user: root;  Nov 11 10:00:01 web1 sshd[123]: Failed password for root from 10.1.1.1 port 22 ssh2"

func TestOSSECAlertDecoder(t *testing.T) {
	alertOnly := Result{Type: TypeOSSECAlert}
	relocated := func(loc string) Result {
		return Result{Type: TypeOSSECAlert, Relocated: true, AlertLocation: loc}
	}
	parsed := func(loc, log, rule string) Result {
		return Result{Type: TypeOSSECAlert, Relocated: true, AlertLocation: loc, LogReplaced: true, Log: log, GeneratedRule: rule}
	}
	long := strings.Repeat("L", 5000)
	runCases(t, OSSECAlert, []pluginCase{
		{"a forwarded alert gives srcip, dstuser, its location, its log and its rule",
			sampleAlert,
			[]string{"srcip=10.1.1.1", "dstuser=root"},
			parsed("(web1) 10.0.0.5->/var/log/secure", "Nov 11 10:00:01 web1 sshd[123]: Failed password for root from 10.1.1.1 port 22 ssh2", "5716")},
		{"after a syslog header (program name ossec) the log starts at Alert Level",
			"Alert Level: 3; Rule: 1002 - Unknown problem somewhere in the system.; Location: /var/log/messages;  Jan  1 00:00:00 host kernel: error",
			nil, parsed("/var/log/messages", "Jan  1 00:00:00 host kernel: error", "1002")},
		{"the original log may hold ';' and newlines",
			"ossec: Alert Level: 3; Rule: 1002 - x; Location: a;  line one; still\nline two",
			nil, parsed("a", "line one; still\nline two", "1002")},
		{"an unknown rule leaves only the alert type",
			strings.Replace(sampleAlert, "5716", "99999", 1), nil, alertOnly},
		{"a rule id is looked up as written: 05716 is not 5716",
			strings.Replace(sampleAlert, "5716", "05716", 1), nil, alertOnly},
		{"a ';' in the rule description hides the location",
			"ossec: Alert Level: 5; Rule: 5716 - a; b; Location: x;  log", nil, alertOnly},
		{"the prefix is compared on 18 bytes, so 'Alert Levels' passes",
			"ossec: Alert Levels 5; Rule: 5716 - x; Location: y;  z", nil, parsed("y", "z", "5716")},
		{"the short prefix needs only 'Alert Level:'",
			"Alert Level:5; Rule: 5716 - x; Location: y;  z", nil, parsed("y", "z", "5716")},
		{"any log that is not an alert leaves only the alert type", "ossec: Agent started: 'web1'", nil, alertOnly},
		{"an empty log leaves only the alert type", "", nil, alertOnly},
		{"no ';' after the level stops", "ossec: Alert Level: 5 Rule: 5716 - x", nil, alertOnly},
		{"no ':' after the level stops", "ossec: Alert Level: 5; Rule 5716", nil, alertOnly},
		{"':' not followed by a space stops", "ossec: Alert Level: 5; Rule:5716 - x", nil, alertOnly},
		{"an id not followed by a space stops", "ossec: Alert Level: 5; Rule: 5716", nil, alertOnly},
		{"a second space makes the id empty, which no rule has", "ossec: Alert Level: 5; Rule:  5716 - x; Location: y;  z", nil, alertOnly},
		{"no ';' after the rule stops", "ossec: Alert Level: 5; Rule: 5716 - x", nil, alertOnly},
		{"a missing Location item stops", "ossec: Alert Level: 5; Rule: 5716 - x; Place: y;  z", nil, alertOnly},
		{"Location is case-sensitive", "ossec: Alert Level: 5; Rule: 5716 - x; location: y;  z", nil, alertOnly},
		{"an unterminated location stops before relocating", "ossec: Alert Level: 5; Rule: 5716 - x; Location: y", nil, alertOnly},
		{"an unterminated item stops after relocating",
			"ossec: Alert Level: 5; Rule: 5716 - x; Location: y; srcip: 1.2.3.4", nil, relocated("y")},
		{"a single space before the log reads it as an item and stops",
			"ossec: Alert Level: 5; Rule: 5716 - x; Location: y; srcip: 1.2.3.4; the log",
			[]string{"srcip=1.2.3.4"}, relocated("y")},
		{"items other than srcip and user are skipped, and a repeated one is set again",
			"ossec: Alert Level: 5; Rule: 5716 - x; Location: y; id: 7; srcip: 1.1.1.1; srcip: 2.2.2.2;  z",
			[]string{"srcip=1.1.1.1", "srcip=2.2.2.2"}, parsed("y", "z", "5716")},
		{"an item name needs its colon and space",
			"ossec: Alert Level: 5; Rule: 5716 - x; Location: y; srcip:1.1.1.1; user:root;  z",
			nil, parsed("y", "z", "5716")},
		{"an empty original log is still a parsed alert",
			"ossec: Alert Level: 5; Rule: 5716 - x; Location: y;  ", nil, parsed("y", "", "5716")},
		{"nothing after the location is an empty log",
			"ossec: Alert Level: 5; Rule: 5716 - x; Location: y;", nil, parsed("y", "", "5716")},
		{"the original log is cut at 4094 bytes",
			"ossec: Alert Level: 5; Rule: 5716 - x; Location: y;  " + long, nil, parsed("y", long[:4094], "5716")},
	}, func() (Fields, *recorder) {
		r := newRuleRecorder("1002", "5716")
		return r, &r.recorder
	})
}

func TestOSSECAlertWithoutARuleIndexKnowsNoRule(t *testing.T) {
	rec := &recorder{}
	res, _ := Decode(OSSECAlert, sampleAlert, rec)
	if res != (Result{Type: TypeOSSECAlert}) || len(rec.calls) != 0 {
		t.Fatalf("got %+v and calls %q, want only the alert type", res, rec.calls)
	}
}
