package plugindecoders

import (
	"strings"
	"testing"
)

// The logs from Wazuh's SonicWall.ini and from the plugin's comment.
const (
	sonicNATMapping   = `id=NSA3600  sn=C0EAE4599999 time="2019-02-27 12:55:40 UTC" fw=2.228.169.242 pri=5 c=0 m=1197 msg="NAT Mapping" n=4748427 src=10.12.14.9::X0-V500 dst=217.56.236.4::X3 proto=icmp note="Source: 2.228.169.242, 63130, Destination: 217.56.236.4, 8, Protocol: 1" rule="17 (LAN->WAN)"`
	sonicIPv6Dropped  = `id=firewall sn=C0EAE4599999 time="2019-02-15 09:45:17 UTC" fw=2.228.169.242 pri=5 c=512 m=1233 msg="Unhandled link-local or multicast IPv6 packet dropped" n=56642 srcV6=fe80::9851:b780:9d9d:a29e src=:49702:X0-V514 dstV6=ff02::1:3 dst=:5355 srcMac=90:e6:ba:32:5c:45 dstMac=33:33:00:01:00:03 proto=udp/5355`
	sonicTCPDropped   = `id=firewall sn=00301E0526B1 time="2004-04-01 10:39:35" fw=67.32.44.2 pri=5 c=64 m=36 msg="TCP connection dropped" n=2686 src=67.101.200.27:4507:WAN dst=67.32.44.2:445:LAN rule=0`
	sonicOpened       = `id=firewall sn=000SERIAL time="2007-01-03 14:48:06" fw=1.1.1.1 pri=6 c=262144 m=98 msg="Connection Opened" n=23419 src=2.2.2.2:36701:WAN dst=1.1.1.1:50000:WAN proto=tcp/50000`
	sonicVPNFailed    = `id=NSA3500BR sn=0017C5DFCEEC time="2019-03-14 16:37:19 UTC" fw=172.29.169.2 pri=1 c=32 m=1388 msg="IPSec VPN Decryption Failed" n=1064050271 src=37.186.204.2 dst=172.29.168.2 note="Replay check failure."`
	sonicLoginDenied  = `id=firewall sn=000SERIAL time="2007-01-03 14:48:07" fw=1.1.1.1 pri=1 c=32 m=30 msg="Administrator login denied due to bad credentials" n=7 src=2.2.2.2:36701:WAN dst=1.1.1.1:50000:WAN`
	sonicSiteDenied   = `id=NSA2650GG sn=18B169D79980 time="2019-03-18 08:33:45 UTC" fw=83.211.91.146 pri=3 c=4 m=14 msg="Web site access denied" app=49177 appName="General HTTPS" n=838005 src=192.168.0.62:54993:X0:pc048.example.com dst=151.101.242.49:443:X1 srcMac=c8:9c:dc:fd:9d:02 dstMac=1a:b1:69:d7:99:80 proto=tcp/https dstname=example.com arg=/ code=49 Category="Freeware/Software Downloads"`
	sonicWebSiteHit   = `id=firewall sn=0006B1234567 time="2007-01-03 14:48:06" fw=1.1.1.1 pri=6 c=1024 m=97 msg="Web site hit" n=12 src=192.168.1.10:3456:LAN dst=64.233.161.99:80:WAN proto=tcp/http op=1 result=200 dstname=www.google.com arg=/search?q=wazuh`
	sonicClosedICMP   = `id=firewall sn=000SERIAL time="2007-01-03 14:48:06" fw=1.1.1.1 pri=6 c=1024 m=537 msg="Connection Closed" n=5 src=10.0.0.1:1024:X0 dst=10.0.0.2:80:X1 proto=icmp note="x"`
	sonicHeaderPrefix = "Jan  3 13:45:36 192.168.5.1 "
)

func TestSonicWallDecoder(t *testing.T) {
	syslog := Result{Type: TypeSyslog}
	firewall := Result{Type: TypeFirewall}
	runCases(t, SonicWall, []pluginCase{
		{"addresses without ports leave only status and id (SonicWall.ini acl log 1)",
			sonicNATMapping, []string{"status=5", "id=1197"}, syslog},
		{"IPv6 addresses leave only status and id (SonicWall.ini acl log 2)",
			sonicIPv6Dropped, []string{"status=5", "id=1233"}, syslog},
		{"message 36 is a firewall drop; a word other than proto= after the addresses sets no protocol (acl log 3)",
			sonicTCPDropped,
			[]string{"status=5", "id=36", "srcip=67.101.200.27", "srcport=4507", "dstip=67.32.44.2", "dstport=445", "action=drop"}, firewall},
		{"message 98 is a firewall pass with the protocol before '/' (ac2)",
			sonicHeaderPrefix + sonicOpened,
			[]string{"status=6", "id=98", "srcip=2.2.2.2", "srcport=36701", "dstip=1.1.1.1", "dstport=50000", "protocol=tcp", "action=pass"}, firewall},
		{"category 32 without ports stays syslog (ac3 log 1)",
			sonicVPNFailed, []string{"status=1", "id=1388"}, syslog},
		{"category 32 with ports is an IDS event (ac3 log 2)",
			sonicHeaderPrefix + sonicLoginDenied,
			[]string{"status=1", "id=30", "srcip=2.2.2.2", "srcport=36701", "dstip=1.1.1.1", "dstport=50000"}, Result{Type: TypeIDS}},
		{"an address with a host name after the interface still parses; srcMac is not proto= (ac4)",
			sonicSiteDenied,
			[]string{"status=3", "id=14", "srcip=192.168.0.62", "srcport=54993", "dstip=151.101.242.49", "dstport=443"}, syslog},
		{"message 97 is a proxy hit: the id becomes the HTTP result and the url dstname+arg",
			sonicWebSiteHit,
			[]string{"status=6", "id=97", "srcip=192.168.1.10", "srcport=3456", "dstip=64.233.161.99", "dstport=80", "protocol=tcp", "id=200", "url=www.google.com/search?q=wazuh"},
			Result{Type: TypeSquid}},
		{"a proxy hit whose arg is not last keeps id 97 and no url",
			strings.Replace(sonicWebSiteHit, "arg=/search?q=wazuh", "arg=/ code=1", 1),
			[]string{"status=6", "id=97", "srcip=192.168.1.10", "srcport=3456", "dstip=64.233.161.99", "dstport=80", "protocol=tcp"},
			Result{Type: TypeSquid}},
		{"a proxy hit ending at its addresses has nothing to search",
			`pri=6 c=1024 m=97 src=1.1.1.1:1:X dst=2.2.2.2:2:X`,
			[]string{"status=6", "id=97", "srcip=1.1.1.1", "srcport=1", "dstip=2.2.2.2", "dstport=2"},
			Result{Type: TypeSquid}},
		{"message 537 is a firewall close, and the protocol runs on past a space up to six bytes",
			sonicClosedICMP,
			[]string{"status=6", "id=537", "srcip=10.0.0.1", "srcport=1024", "dstip=10.0.0.2", "dstport=80", "protocol=icmp n", "action=close"}, firewall},
		{"the protocol stops at byte 0x01",
			"pri=6 c=1 m=2 src=1.1.1.1:1:X dst=2.2.2.2:2:X proto=t\x01cp",
			[]string{"status=6", "id=2", "srcip=1.1.1.1", "srcport=1", "dstip=2.2.2.2", "dstport=2", "protocol=t"}, syslog},
		{"proto= followed by '/' sets an empty protocol",
			"pri=6 c=1 m=2 src=1.1.1.1:1:X dst=2.2.2.2:2:X proto=/udp",
			[]string{"status=6", "id=2", "srcip=1.1.1.1", "srcport=1", "dstip=2.2.2.2", "dstport=2", "protocol="}, syslog},
		{"category 32 wins over a firewall message id",
			"pri=6 c=32 m=98 src=1.1.1.1:1:X dst=2.2.2.2:2:X",
			[]string{"status=6", "id=98", "srcip=1.1.1.1", "srcport=1", "dstip=2.2.2.2", "dstport=2"}, Result{Type: TypeIDS}},
		{"category 320 is not 32",
			"pri=6 c=320 m=37 src=1.1.1.1:1:X dst=2.2.2.2:2:X",
			[]string{"status=6", "id=37", "srcip=1.1.1.1", "srcport=1", "dstip=2.2.2.2", "dstport=2", "action=drop"}, firewall},
		{"message ids compare whole: 980 is nothing special",
			"pri=6 c=1 m=980 src=1.1.1.1:1:X dst=2.2.2.2:2:X",
			[]string{"status=6", "id=980", "srcip=1.1.1.1", "srcport=1", "dstip=2.2.2.2", "dstport=2"}, syslog},
		{"a two-digit priority does not match", `pri=10 c=1 m=98 src=1.1.1.1:1:X dst=2.2.2.2:2:X`, nil, syslog},
		{"the priority group needs its trailing space", `pri=1 c=1 m=98`, nil, syslog},
		{"addresses before the priority are not found",
			"src=1.1.1.1:1:X dst=2.2.2.2:2:X pri=6 c=1 m=98 ", []string{"status=6", "id=98"}, syslog},
		{"a log that is not SonicWall's still makes the event syslog", "hello world", nil, syslog},
		{"an empty log still makes the event syslog", "", nil, syslog},
	}, plainFields)
}
