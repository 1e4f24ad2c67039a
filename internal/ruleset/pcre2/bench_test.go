package pcre2

import (
	"errors"
	"testing"
)

// syslogLines are typical events that none of hotPatterns matches.
var syslogLines = []string{
	"Oct 15 21:07:00 linux-server sshd[29205]: Failed password for invalid user admin from 10.0.0.5 port 4242 ssh2",
	"Dec 10 01:02:03 host CRON[12345]: pam_unix(cron:session): session opened for user root by (uid=0)",
	"2024-05-17T10:11:12.123456+02:00 web01 kernel: [UFW BLOCK] IN=eth0 OUT= MAC=00:16:3e:aa:bb:cc SRC=203.0.113.9 DST=198.51.100.2 LEN=60 PROTO=TCP SPT=51234 DPT=22",
	"Jan  5 09:15:42 mail postfix/smtpd[4242]: connect from unknown[192.0.2.44]",
	"Mar  3 12:00:01 ns1 named[812]: client 198.51.100.7#53127 (example.com): query (cache) 'example.com/A/IN' denied",
}

// hotPatterns are decoder prematches of Wazuh's ruleset that run against
// every event.
var hotPatterns = []struct{ name, pattern string }{
	{"ftd", `[^%]*%FTD-[0-7]-[^:\s]+[:\s].*`},
	{"time-ip", `\s\d+:\d+:\d+\s\w+:\s\S+\s\d+.\d+.\d+.\d+`},
	{"csv-date", `^[^,]*,\d+\/\d+\/\d+\s\d+:\d+:\d+,\d+,\w+,`},
	{"cef-f5", `CEF:0\|F5\|ASM\|[^\|]+\|(.+)|CEF:0\|F5\|[^\|]+\|[^\|]+\|.+`},
	{"ecp", `,ECP\.Request,`},
	{"hex-pid", `^\S+\s[^\[]+\[\d+\]:\s[0-9a-fA-F]+:\d+:\s`},
	{"levels", `^\d+\/\d+\/\d+\s\d+:\d+:\d+\sINFO:\s\w+\s\w+|^\d+\/\d+\/\d+\s\d+:\d+:\d+\sWARNING:\s\w+\s\w+|^\d+\/\d+\/\d+\s\d+:\d+:\d+\sERROR:\s\w+\s\w+|^\d+\/\d+\/\d+\s\d+:\d+:\d+\sCRITICAL:\s\w+\s\w+`},
	{"nocase", `(?i)\\(c|w)script\.exe.+\.(bat|cmd|lnk|pif|vbs|vbe|js|wsh|ps1)`},
}

// BenchmarkMiss measures a prematch against events it does not match: the
// cost every event pays for every such decoder. One op is one line.
func BenchmarkMiss(b *testing.B) {
	for _, hp := range hotPatterns {
		re, err := Compile(hp.pattern)
		if err != nil {
			b.Fatal(err)
		}
		for _, line := range syslogLines {
			if ok, _ := re.Match(line); ok {
				b.Fatalf("%s matches %q", hp.name, line)
			}
		}
		b.Run(hp.name+"/match", func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				if _, err := re.Match(syslogLines[i%len(syslogLines)]); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(hp.name+"/execute", func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				if _, _, _, err := re.Execute(syslogLines[i%len(syslogLines)]); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkRulesetPrematches runs every pcre2 <prematch> of the ruleset
// over the test logs, as analysisd tries the root decoders on each event.
// One op is one event against all of them. Time-outs are counted, as
// analysisd would log them and go on.
func BenchmarkRulesetPrematches(b *testing.B) {
	root := rulesetDir(b)
	var res []*Regex
	for _, p := range rulesetPatterns(b, root) {
		if p.element != "prematch" {
			continue
		}
		re, err := Compile(p.pattern)
		if err != nil {
			b.Fatal(err)
		}
		res = append(res, re)
	}
	logs := rulesetLogs(b, root)
	timeouts := 0
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		line := logs[i%len(logs)]
		for _, re := range res {
			if _, _, _, err := re.Execute(line); errors.Is(err, ErrTimeout) {
				timeouts++
			} else if err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(timeouts)/float64(b.N), "timeouts/op")
}

// BenchmarkCompileRuleset compiles every pcre2 expression of the ruleset.
func BenchmarkCompileRuleset(b *testing.B) {
	patterns := rulesetPatterns(b, rulesetDir(b))
	b.ReportAllocs()
	for b.Loop() {
		for _, p := range patterns {
			if _, err := Compile(p.pattern); err != nil {
				b.Fatal(err)
			}
		}
	}
}
