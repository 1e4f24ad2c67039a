package plugindecoders

import (
	"fmt"
	"testing"

	"github.com/threatlockdown/tld/internal/ruleset/osregex"
)

func TestScratch(t *testing.T) {
	prid, _ := osregex.Compile(`pri=(\d) c=(\d+) m=(\d+) `)
	sdip, _ := osregex.Compile(`src=(\d+.\d+.\d+.\d+):(\d+):\S+ dst=(\d+.\d+.\d+.\d+):(\d+):`)
	prox, _ := osregex.Compile(`result=(\d+) dstname=(\S+) arg=(\S+)$`)
	logs := []string{
		`id=NSA3600  sn=C0EAE4599999 time="2019-02-27 12:55:40 UTC" fw=2.228.169.242 pri=5 c=0 m=1197 msg="NAT Mapping" n=4748427 src=10.12.14.9::X0-V500 dst=217.56.236.4::X3 proto=icmp note="Source: 2.228.169.242, 63130, Destination: 217.56.236.4, 8, Protocol: 1" rule="17 (LAN->WAN)"`,
		`id=firewall sn=000SERIAL time="2007-01-03 14:48:07" fw=1.1.1.1 pri=1 c=32 m=30 msg="Administrator login denied due to bad credentials" n=7 src=2.2.2.2:36701:WAN dst=1.1.1.1:50000:WAN`,
		`id=firewall sn=000SERIAL time="2007-01-03 14:48:06" fw=1.1.1.1 pri=6 c=262144 m=98 msg="Connection Opened" n=23419 src=2.2.2.2:36701:WAN dst=1.1.1.1:50000:WAN proto=tcp/50000`,
		`id=NSA2650GG sn=18B169D79980 time="2019-03-19 06:44:01 UTC" fw=83.211.91.146 pri=3 c=4 m=14 msg="Web site access denied" app=49177 appName="General HTTPS" n=856789 src=192.168.0.46:59668:X0:nb020.example.com dst=34.194.213.204:443:X1:example.com srcMac=a0:ce:c8:13:99:c5 dstMac=1a:b1:69:d7:99:80 proto=tcp/https dstname=example.com arg=/ code=49 Category="Freeware/Software Downloads"`,
		`id=firewall sn=00301E0526B1 time="2004-04-01 10:39:35" fw=67.32.44.2 pri=5 c=64 m=36 msg="TCP connection dropped" n=2686 src=67.101.200.27:4507:WAN dst=67.32.44.2:445:LAN rule=0`,
	}
	for _, l := range logs {
		c, end, ok := prid.Execute(l)
		fmt.Printf("prid %q %d %v rest=%q\n", c, end, ok, l[end:min(end+20, len(l))])
		if !ok {
			continue
		}
		c2, end2, ok2 := sdip.Execute(l[end-1:])
		fmt.Printf("sdip %q %d %v\n", c2, end2, ok2)
	}
	fmt.Println(prox.Execute(` result=200 dstname=www.x.com arg=/index.html`))
}
