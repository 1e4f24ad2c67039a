package predecode

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

type parseCase struct {
	name string
	log  string
	want Header
}

// parseCases are the header styles of the log lines in Wazuh's .ini rule
// tests, then the other formats and the corner cases of OS_CleanMSG.
var parseCases = []parseCase{
	// Classic syslog, as in the ruleset's .ini tests.
	{
		name: "syslog with a one-digit day and a pid gives sshd on someserver",
		log:  `Feb  9 11:44:56 someserver sshd[1234]: error: Could not stat AuthorizedKeysCommand "/usr/local/sbin/ssh-ldap-authorized_keys": No such file or directory`,
		want: Header{Timestamp: "Feb  9 11:44:56", Hostname: "someserver", ProgramName: "sshd", Found: true,
			Message: `error: Could not stat AuthorizedKeysCommand "/usr/local/sbin/ssh-ldap-authorized_keys": No such file or directory`},
	},
	{
		name: "syslog with a two-digit day and a pid",
		log:  "Jul 18 10:51:43 localhost NetworkManager[1366]: <warn> (enp1s0) firewall zone remove failed",
		want: Header{Timestamp: "Jul 18 10:51:43", Hostname: "localhost", ProgramName: "NetworkManager", Found: true,
			Message: "<warn> (enp1s0) firewall zone remove failed"},
	},
	{
		name: "syslog without a pid",
		log:  "Jul 18 09:21:57 localhost kernel: nouveau E[  PGRAPH][0000:0f:00.0] DATA_ERROR BEGIN_END_ACTIVE",
		want: Header{Timestamp: "Jul 18 09:21:57", Hostname: "localhost", ProgramName: "kernel", Found: true,
			Message: "nouveau E[  PGRAPH][0000:0f:00.0] DATA_ERROR BEGIN_END_ACTIVE"},
	},
	{
		name: "an IP address is a hostname",
		log:  "Sep  9 00:31:10 192.168.1.1 cef: CEF:0|FireEye|MPS|7.9.3.616878|MC|YYYY|7|rt=Sep 09 2017",
		want: Header{Timestamp: "Sep  9 00:31:10", Hostname: "192.168.1.1", ProgramName: "cef", Found: true,
			Message: "CEF:0|FireEye|MPS|7.9.3.616878|MC|YYYY|7|rt=Sep 09 2017"},
	},
	{
		name: "a dotted hostname and a program name in capitals",
		log:  "May  4 18:23:02 some.host.name ASM: CEF:0|F5|ASM|14.1.2|Illegal HTTP status in response",
		want: Header{Timestamp: "May  4 18:23:02", Hostname: "some.host.name", ProgramName: "ASM", Found: true,
			Message: "CEF:0|F5|ASM|14.1.2|Illegal HTTP status in response"},
	},
	{
		name: "only one space after the program name is skipped",
		log:  "May 19 00:22:05 freepbx-a pacemakerd[1310]:   notice: crm_add_logfile: Additional logging",
		want: Header{Timestamp: "May 19 00:22:05", Hostname: "freepbx-a", ProgramName: "pacemakerd", Found: true,
			Message: "  notice: crm_add_logfile: Additional logging"},
	},
	{
		name: "a message that is JSON follows the header",
		log:  `May  6 10:59:37 XXXXX ERAServer[5032]: {"event_type":"Threat_Event"}`,
		want: Header{Timestamp: "May  6 10:59:37", Hostname: "XXXXX", ProgramName: "ERAServer", Found: true,
			Message: `{"event_type":"Threat_Event"}`},
	},
	{
		name: "a line without a hostname makes the first word the program name",
		log:  "Jan 22 18:34:00 filterlog: 65,,,0,vmx1,match,pass,out,4,0x0",
		want: Header{Timestamp: "Jan 22 18:34:00", ProgramName: "filterlog", Found: true,
			Message: "65,,,0,vmx1,match,pass,out,4,0x0"},
	},
	{
		name: "a Solaris [ID] tag after the program name is skipped",
		log:  "Aug 18 07:30:25 192.168.1.5 sshd[20247]: [ID 800047 auth.notice] Failed none for root from 192.168.1.1 port 36942 ssh2",
		want: Header{Timestamp: "Aug 18 07:30:25", Hostname: "192.168.1.5", ProgramName: "sshd", Found: true,
			Message: "Failed none for root from 192.168.1.1 port 36942 ssh2"},
	},
	{
		name: "a word that is not a program name leaves the hostname and the whole message",
		log:  "May  5 04:26:19 hostname alert process[20175]: 01011111:0: MCP Connection %s, exiting",
		want: Header{Timestamp: "May  5 04:26:19", Hostname: "hostname", Found: true,
			Message: "alert process[20175]: 01011111:0: MCP Connection %s, exiting"},
	},
	{
		name: "last message repeated has a hostname but no program name",
		log:  "Feb  9 11:44:56 someserver last message repeated 3 times",
		want: Header{Timestamp: "Feb  9 11:44:56", Hostname: "someserver", Found: true,
			Message: "last message repeated 3 times"},
	},

	// The other dates Wazuh reads a hostname and program name after.
	{
		name: "a year before the syslog date",
		log:  "2015 Nov 13 13:40:01 ether rsyslogd-2177: imuxsock begins to drop messages",
		want: Header{Timestamp: "2015 Nov 13 13:40:01", Hostname: "ether", ProgramName: "rsyslogd-2177", Found: true,
			Message: "imuxsock begins to drop messages"},
	},
	{
		name: "a year before the syslog date and no hostname",
		log:  "2014 Dec 20 09:29:47 WinEvtLog: Microsoft-Windows-Sysmon/Operational: INFORMATION(1): Microsoft-Windows-Sysmon",
		want: Header{Timestamp: "2014 Dec 20 09:29:47", ProgramName: "WinEvtLog", Found: true,
			Message: "Microsoft-Windows-Sysmon/Operational: INFORMATION(1): Microsoft-Windows-Sysmon"},
	},
	{
		name: "ISO 8601 with a zone gives a hostname and a program name",
		log:  `2021-07-08T11:01:06-03:00 XXX.XXX.XXX.XXX db[32167]:  category="Event" subcategory="Authentication"`,
		want: Header{Timestamp: "2021-07-08T11:01:06-03:00", Hostname: "XXX.XXX.XXX.XXX", ProgramName: "db", Found: true,
			Message: ` category="Event" subcategory="Authentication"`},
	},
	{
		name: "ISO 8601 with microseconds as rsyslog writes it",
		log:  "2013-10-30T14:51:21.901728+01:00 srv sshd[12664]: Postponed keyboard-interactive for invalid user warez",
		want: Header{Timestamp: "2013-10-30T14:51:21.901728+01:00", Hostname: "srv", ProgramName: "sshd", Found: true,
			Message: "Postponed keyboard-interactive for invalid user warez"},
	},
	{
		name: "ISO 8601 with milliseconds",
		log:  "2022-12-19T15:02:53.288+00:00 wazuh-agent01 sshd[223468]: LOG BODY",
		want: Header{Timestamp: "2022-12-19T15:02:53.288+00:00", Hostname: "wazuh-agent01", ProgramName: "sshd", Found: true,
			Message: "LOG BODY"},
	},
	{
		name: "ISO 8601 with microseconds and a zone without a colon",
		log:  "2019-11-11T01:02:03.123456+0100 host01 prog: message text",
		want: Header{Timestamp: "2019-11-11T01:02:03.123456+0100", Hostname: "host01", ProgramName: "prog", Found: true,
			Message: "message text"},
	},
	{
		name: "ISO 8601 with a fraction and no zone is cut at a fixed length",
		log:  `2021-04-06T14:54:38.677Z,WIN-03FGEGKLSPR,ECP.Request,"S:TIME=4365"`,
		want: Header{Timestamp: "2021-04-06T14:54:38.677Z,WIN-03", Found: true,
			Message: `GEGKLSPR,ECP.Request,"S:TIME=4365"`},
	},
	{
		name: "ISO 8601 with a fraction and a hostname but no program name",
		log:  "2021-07-08T13:45:20.966330-03:00 10.132.128.10 date=2021-07-08 time=13:45:21.846 device_id=XXXXXXXX",
		want: Header{Timestamp: "2021-07-08T13:45:20.966330-03:00", Hostname: "10.132.128.10", Found: true,
			Message: "date=2021-07-08 time=13:45:21.846 device_id=XXXXXXXX"},
	},
	{
		name: "ISO 8601 in a line shorter than 34 bytes is not a header",
		log:  "2007-06-14T15:48:55-04:00 h p: m",
		want: Header{Message: "2007-06-14T15:48:55-04:00 h p: m"},
	},
	{
		name: "a colon after the program name needs no space",
		log:  "2015 Dec 29 10:00:01 wazuh-agent01 AUTH:INFO sshd[223468]: LOG BODY",
		want: Header{Timestamp: "2015 Dec 29 10:00:01", Hostname: "wazuh-agent01", ProgramName: "AUTH", Found: true,
			Message: "INFO sshd[223468]: LOG BODY"},
	},
	{
		name: "the proftpd date with milliseconds after a comma",
		log:  "2015-04-16 21:51:02,805 wazuh-agent01 proftpd[223468]: LOG BODY",
		want: Header{Timestamp: "2015-04-16 21:51:02,805", Hostname: "wazuh-agent01", ProgramName: "proftpd", Found: true,
			Message: "LOG BODY"},
	},
	{
		name: "the macOS unified log date with two spaces before the hostname",
		log:  "2020-03-23 06:47:42.801612-0700  localhost sshd[3186]: error: PAM: unknown user for illegal user badguy from 192.168.33.1",
		want: Header{Timestamp: "2020-03-23 06:47:42.801612-0700", Hostname: "localhost", ProgramName: "sshd", Found: true,
			Message: "error: PAM: unknown user for illegal user badguy from 192.168.33.1"},
	},
	{
		name: "the macOS unified log date with a positive zone",
		log:  "2023-01-23 03:32:35.380619+0100 localhost screensharingd[27383]: Authentication: FAILED",
		want: Header{Timestamp: "2023-01-23 03:32:35.380619+0100", Hostname: "localhost", ProgramName: "screensharingd", Found: true,
			Message: "Authentication: FAILED"},
	},
	{
		name: "a German month with an umlaut is read but loses the last digit of its time",
		log:  "Mär 02 17:30:52 host01 sshd[42]: Accepted publickey",
		want: Header{Timestamp: "Mär 02 17:30:5", Hostname: "host01", ProgramName: "sshd", Found: true,
			Message: "Accepted publickey"},
	},

	// Hostnames and program names.
	{
		name: "a hostname may hold @ and / and a program name a slash",
		log:  "Dec 29 10:00:01 user@mail/relay postfix/smtpd[99]: connect from unknown[10.0.0.1]",
		want: Header{Timestamp: "Dec 29 10:00:01", Hostname: "user@mail/relay", ProgramName: "postfix/smtpd", Found: true,
			Message: "connect from unknown[10.0.0.1]"},
	},
	{
		name: "a program name may hold parentheses",
		log:  "Dec 29 10:00:01 host01 sshd(pam_unix)[123]: session opened for user root",
		want: Header{Timestamp: "Dec 29 10:00:01", Hostname: "host01", ProgramName: "sshd(pam_unix)", Found: true,
			Message: "session opened for user root"},
	},
	{
		name: "a pid without a colon after it",
		log:  "Dec 29 10:00:01 host01 prog[123] message text",
		want: Header{Timestamp: "Dec 29 10:00:01", Hostname: "host01", ProgramName: "prog", Found: true,
			Message: "message text"},
	},
	{
		name: "a pid with a colon and no space",
		log:  "Dec 29 10:00:01 host01 prog[123]:message text",
		want: Header{Timestamp: "Dec 29 10:00:01", Hostname: "host01", ProgramName: "prog", Found: true,
			Message: "message text"},
	},
	{
		name: "a pid that is not all digits gives no program name",
		log:  "Dec 29 10:00:01 host01 prog[12a]: message text",
		want: Header{Timestamp: "Dec 29 10:00:01", Hostname: "host01", Found: true,
			Message: "prog[12a]: message text"},
	},
	{
		name: "a bracket without digits gives no program name",
		log:  "Dec 29 10:00:01 host01 prog[x]: message text",
		want: Header{Timestamp: "Dec 29 10:00:01", Hostname: "host01", Found: true,
			Message: "prog[x]: message text"},
	},
	{
		name: "a colon right after the hostname gives an empty program name",
		log:  "Dec 29 10:00:01 host01 : message text",
		want: Header{Timestamp: "Dec 29 10:00:01", Hostname: "host01", Found: true,
			Message: "message text"},
	},
	{
		name: "an extra space after the date is skipped",
		log:  "Dec 29 10:00:01  host01 prog: message text",
		want: Header{Timestamp: "Dec 29 10:00:01", Hostname: "host01", ProgramName: "prog", Found: true,
			Message: "message text"},
	},
	{
		name: "a second extra space leaves an empty hostname and no program name",
		log:  "Dec 29 10:00:01   host01 prog: message text",
		want: Header{Timestamp: "Dec 29 10:00:01", Found: true,
			Message: "host01 prog: message text"},
	},
	{
		name: "an IPv6 address is not a hostname",
		log:  "Dec 29 10:00:01 ::1 sshd[1]: message text",
		want: Header{Timestamp: "Dec 29 10:00:01", Found: true,
			Message: "::1 sshd[1]: message text"},
	},
	{
		name: "a date followed only by a word gives the word as message",
		log:  "Dec 29 10:00:01 h",
		want: Header{Timestamp: "Dec 29 10:00:01", Found: true, Message: "h"},
	},
	{
		name: "a [ID] tag without its bracket is kept",
		log:  "Dec 29 10:00:01 host01 sshd: [ID 800047 auth.notice Failed none",
		want: Header{Timestamp: "Dec 29 10:00:01", Hostname: "host01", ProgramName: "sshd", Found: true,
			Message: "[ID 800047 auth.notice Failed none"},
	},
	{
		name: "a [ID] tag that ends the line leaves an empty message",
		log:  "Dec 29 10:00:01 host01 sshd: [ID 800047 auth.notice]",
		want: Header{Timestamp: "Dec 29 10:00:01", Hostname: "host01", ProgramName: "sshd", Found: true},
	},
	{
		name: "an AIX facility and severity come before the program name",
		log:  "Dec 29 10:00:01 aixhost auth|security:info sshd: Accepted password",
		want: Header{Timestamp: "Dec 29 10:00:01", Hostname: "aixhost", ProgramName: "sshd", Found: true,
			Message: "Accepted password"},
	},
	{
		name: "an AIX program name with a pid",
		log:  "Dec 29 10:00:01 aixhost auth|security:info sshd[4242]: Accepted password",
		want: Header{Timestamp: "Dec 29 10:00:01", Hostname: "aixhost", ProgramName: "sshd", Found: true,
			Message: "Accepted password"},
	},
	{
		name: "an AIX pid without a colon keeps the name and cuts the message at the bracket",
		log:  "Dec 29 10:00:01 aixhost auth|security:info sshd[4242] Accepted password",
		want: Header{Timestamp: "Dec 29 10:00:01", Hostname: "aixhost", ProgramName: "sshd", Found: true,
			Message: "auth|security:info sshd"},
	},
	{
		name: "an AIX program name without a colon runs to the end of the line",
		log:  "Dec 29 10:00:01 aixhost auth|security:info sshd Accepted password",
		want: Header{Timestamp: "Dec 29 10:00:01", Hostname: "aixhost", ProgramName: "sshd Accepted password", Found: true,
			Message: " Accepted password"},
	},
	{
		name: "an AIX facility without a severity gives no program name",
		log:  "Dec 29 10:00:01 aixhost auth|security sshd: Accepted password",
		want: Header{Timestamp: "Dec 29 10:00:01", Hostname: "aixhost", Found: true,
			Message: "auth|security sshd: Accepted password"},
	},

	// Formats with a date and no hostname.
	{
		name: "the xferlog date",
		log:  "Mon Apr 17 18:27:14 2006 1 64.160.42.130 5450 /home/user/file b _ o r user ftp 0 * c",
		want: Header{Timestamp: "Mon Apr 17 18:27:14 2006", Found: true,
			Message: "1 64.160.42.130 5450 /home/user/file b _ o r user ftp 0 * c"},
	},
	{
		name: "the snort date skips two characters after it",
		log:  "01/28-09:13:16.240702  [**] [1:2003:8] SQL Worm propagation attempt [**]",
		want: Header{Timestamp: "01/28-09:13:16.240702", Found: true,
			Message: "[**] [1:2003:8] SQL Worm propagation attempt [**]"},
	},
	{
		name: "the suricata date with a year",
		log:  "01/28/1979-09:13:16.240702  [**] [1:2003:8] ET POLICY [**]",
		want: Header{Timestamp: "01/28/1979-09:13:16.240702", Found: true,
			Message: "[**] [1:2003:8] ET POLICY [**]"},
	},
	{
		name: "the suricata date ending the line leaves an empty message",
		log:  "01/28/1979-09:13:16.240702 ",
		want: Header{Timestamp: "01/28/1979-09:13:16.240702", Found: true},
	},
	{
		name: "the apache error log date is taken from inside its brackets",
		log:  "[Fri Dec 13 06:59:54 2013] [error] [client 12.34.65.78] PHP Notice:",
		want: Header{Timestamp: "Fri Dec 13 06:59:54 2013", Found: true,
			Message: "[error] [client 12.34.65.78] PHP Notice:"},
	},
	{
		name: "the squid date keeps all but the last space after it",
		log:  "1140701044.525   1231 192.168.1.201 TCP_DENIED/400 1536 GET ahmet - NONE/- text/html",
		want: Header{Timestamp: "1140701044.525  ", Found: true,
			Message: "1231 192.168.1.201 TCP_DENIED/400 1536 GET ahmet - NONE/- text/html"},
	},

	// macOS ASL.
	{
		name: "macOS ASL gives the sender, the message entry and the host but no timestamp",
		log:  "[Time 2006.12.28 15:53:55 UTC] [Facility auth] [Sender sshd] [PID 483] [Message error: PAM: Authentication failure for username from 192.168.0.2] [Level 3] [UID -2] [GID -2] [Host Hostname]",
		want: Header{Hostname: "Hostname", ProgramName: "sshd", Found: true,
			Message: "error: PAM: Authentication failure for username from 192.168.0.2"},
	},
	{
		name: "macOS ASL stops at the host entry and the message starts in the date",
		log:  "[Time 2006.11.02 14:02:11 UTC] [Facility auth] [Host robert-wyatts-emac] [Sender sshd] [Message refused connect]",
		want: Header{Hostname: "robert-wyatts-emac", Found: true,
			Message: " UTC] [Facility auth] [Host robert-wyatts-emac] [Sender sshd] [Message refused connect]"},
	},
	{
		name: "macOS ASL uses only the first message entry",
		log:  "[Time 2006.11.02 14:02:11 UTC] [Message first] [Message second] [Sender sshd]",
		want: Header{ProgramName: "sshd", Found: true, Message: "first"},
	},
	{
		name: "macOS ASL with an unclosed message entry takes the rest of the line",
		log:  "[Time 2006.11.02 14:02:11 UTC] [Sender sshd] [Message refused connect from 59.124.44.34",
		want: Header{ProgramName: "sshd", Found: true, Message: "refused connect from 59.124.44.34"},
	},
	{
		name: "macOS ASL with an unclosed sender entry has no program name",
		log:  "[Time 2006.11.02 14:02:11 UTC] [Message hello] [Sender sshd",
		want: Header{Found: true, Message: "hello"},
	},

	// Lines without a header Wazuh knows.
	{
		name: "a syslog priority prefix is not a header",
		log:  "<134>Sep 19 13:35:00 bigip-4.pme-ds.f5.com ASM:CEF:0|F5|ASM|11.3.0|Successful Request",
		want: Header{Message: "<134>Sep 19 13:35:00 bigip-4.pme-ds.f5.com ASM:CEF:0|F5|ASM|11.3.0|Successful Request"},
	},
	{
		name: "a syslog date with milliseconds is not a header",
		log:  "Dec 29 10:00:01.123 host01 prog: message text",
		want: Header{Message: "Dec 29 10:00:01.123 host01 prog: message text"},
	},
	{
		name: "a date with the year after the day is not a header",
		log:  "Oct 03 2018 17:34:08: %ASA-4-106023: Deny udp src office:1.1.1.1/3217",
		want: Header{Message: "Oct 03 2018 17:34:08: %ASA-4-106023: Deny udp src office:1.1.1.1/3217"},
	},
	{
		name: "an apache 2.4 date with microseconds is not a header",
		log:  "[Thu Oct 23 15:17:55.926067 2014] [ssl:info] [pid 18838] AH02008: SSL library error",
		want: Header{Message: "[Thu Oct 23 15:17:55.926067 2014] [ssl:info] [pid 18838] AH02008: SSL library error"},
	},
	{
		name: "a Cisco ASA message is not a header",
		log:  "%ASA-7-710004: TCP connection limit exceeded from 192.168.0.1/11",
		want: Header{Message: "%ASA-7-710004: TCP connection limit exceeded from 192.168.0.1/11"},
	},
	{
		name: "a JSON document is not a header",
		log:  `{"win":{"system":{"eventID":"4625"}}}`,
		want: Header{Message: `{"win":{"system":{"eventID":"4625"}}}`},
	},
	{
		name: "a syslog date without anything after it is too short",
		log:  "Dec 29 10:00:01 ",
		want: Header{Message: "Dec 29 10:00:01 "},
	},
	{
		name: "an empty log has no header",
		log:  "",
		want: Header{},
	},
}

func TestParse(t *testing.T) {
	for _, tc := range parseCases {
		t.Run(tc.name, func(t *testing.T) {
			got := Parse(tc.log)
			if got != tc.want {
				t.Errorf("Parse(%q)\n got  %+v\n want %+v", tc.log, got, tc.want)
			}
		})
	}
}

func TestParseLocation(t *testing.T) {
	tests := []struct {
		name     string
		location string
		want     Origin
		ok       bool
	}{
		{
			name:     "an agent's location gives its id and name",
			location: "[001] (web01) 10.0.0.5->/var/log/secure",
			want:     Origin{AgentID: "001", AgentName: "web01", Location: "(web01) 10.0.0.5->/var/log/secure", Remote: true},
			ok:       true,
		},
		{
			name:     "an agent module's location",
			location: "[015] (DESKTOP) any->fim_registry",
			want:     Origin{AgentID: "015", AgentName: "DESKTOP", Location: "(DESKTOP) any->fim_registry", Remote: true},
			ok:       true,
		},
		{
			name:     "a local file is the manager's",
			location: "/var/log/syslog",
			want:     Origin{AgentID: "000", Location: "/var/log/syslog"},
			ok:       true,
		},
		{
			name:     "an old agent location without an id is the manager's",
			location: "(web01) 10.0.0.5->/var/log/secure",
			want:     Origin{AgentID: "000", Location: "(web01) 10.0.0.5->/var/log/secure"},
			ok:       true,
		},
		{
			name:     "an agent id alone leaves an empty location and name",
			location: "[001]",
			want:     Origin{AgentID: "001", Remote: true},
			ok:       true,
		},
		{
			name:     "an agent location without a name in parentheses has an empty name",
			location: "[001] 10.0.0.5->/var/log/secure",
			want:     Origin{AgentID: "001", Location: "10.0.0.5->/var/log/secure", Remote: true},
			ok:       true,
		},
		{
			name:     "an unclosed name is empty",
			location: "[001] (web01 10.0.0.5->/var/log/secure",
			want:     Origin{AgentID: "001", Location: "(web01 10.0.0.5->/var/log/secure", Remote: true},
			ok:       true,
		},
		{
			name:     "an unclosed agent id is rejected",
			location: "[001 (web01) 10.0.0.5->/var/log/secure",
			ok:       false,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := ParseLocation(tc.location)
			if ok != tc.ok || got != tc.want {
				t.Errorf("ParseLocation(%q) = %+v, %v; want %+v, %v", tc.location, got, ok, tc.want, tc.ok)
			}
		})
	}
}

// rulesetTests is where Wazuh's .ini rule tests are in the shared tree.
const rulesetTests = "../../../shared/wazuh-ruleset/testing/tests"

// iniLogs returns the value of every "log N pass|fail = ..." line of the
// .ini files in dir.
func iniLogs(t testing.TB, dir string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.ini"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Skipf("no .ini rule tests in %s", dir)
	}
	var logs []string
	for _, name := range files {
		f, err := os.Open(name)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			line := sc.Text()
			if !strings.HasPrefix(line, "log ") {
				continue
			}
			if _, v, ok := strings.Cut(line, " = "); ok {
				logs = append(logs, v)
			}
		}
		err = sc.Err()
		f.Close()
		if err != nil {
			t.Fatalf("read %s: %v", name, err)
		}
	}
	return logs
}

func TestParseRulesetLogs(t *testing.T) {
	logs := iniLogs(t, rulesetTests)
	found, withProgram := 0, 0
	for _, log := range logs {
		h := Parse(log)
		checkHeader(t, log, h)
		if h.Found {
			found++
		}
		if h.ProgramName != "" {
			withProgram++
		}
	}
	t.Logf("%d log lines: a header recognised in %d, a program name in %d", len(logs), found, withProgram)
}

// checkHeader checks what holds for any input: every part of the header
// comes from the log, and the message is what follows the header except
// in the two formats where Wazuh cuts it at a bracket.
func checkHeader(t *testing.T, log string, h Header) {
	t.Helper()
	for _, part := range []string{h.Timestamp, h.Hostname, h.ProgramName, h.Message} {
		if !strings.Contains(log, part) {
			t.Fatalf("Parse(%q) = %+v: %q is not part of the log", log, h, part)
		}
	}
	if !strings.HasSuffix(log, h.Message) && !strings.ContainsAny(log, "[]") {
		t.Fatalf("Parse(%q) = %+v: the message is not a suffix of the log", log, h)
	}
	if !h.Found && (h != Header{Message: log}) {
		t.Fatalf("Parse(%q) = %+v: no header found, yet the message is not the whole log", log, h)
	}
}

func FuzzParse(f *testing.F) {
	for _, tc := range parseCases {
		f.Add(tc.log)
	}
	f.Fuzz(func(t *testing.T, log string) {
		checkHeader(t, log, Parse(log))
		ParseLocation(log)
	})
}

var sink Header

func BenchmarkParse(b *testing.B) {
	logs := map[string]string{
		"syslog":  "Feb  9 11:44:56 someserver sshd[1234]: Failed password for invalid user admin from 192.168.1.1 port 22 ssh2",
		"iso8601": "2013-10-30T14:51:21.901728+01:00 srv sshd[12664]: Postponed keyboard-interactive for invalid user warez",
		"json":    `{"win":{"system":{"eventID":"4625","channel":"Security"}}}`,
	}
	for name, log := range logs {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				sink = Parse(log)
			}
		})
	}
	b.Run("ruleset", func(b *testing.B) {
		lines := iniLogs(b, rulesetTests)
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			sink = Parse(lines[i%len(lines)])
		}
	})
}
