package plugindecoders

import (
	"fmt"
	"strings"

	"github.com/threatlockdown/tld/internal/ruleset/osregex"
)

// SonicWall_Decoder's three OSRegex patterns, as analysisd compiles them.
// In OSRegex an unescaped '.' is a literal dot.
var (
	sonicPriority = mustCompile(`pri=(\d) c=(\d+) m=(\d+) `)
	sonicAddrs    = mustCompile(`src=(\d+.\d+.\d+.\d+):(\d+):\S+ dst=(\d+.\d+.\d+.\d+):(\d+):`)
	sonicProxy    = mustCompile(`result=(\d+) dstname=(\S+) arg=(\S+)$`)
)

func mustCompile(pattern string) *osregex.Regex {
	re, err := osregex.Compile(pattern)
	if err != nil {
		panic(fmt.Sprintf("plugindecoders: compile %q: %v", pattern, err))
	}
	return re
}

// sonicProtoMax is how many bytes of "proto=" SonicWall_Decoder keeps.
const sonicProtoMax = 6

// decodeSonicWall is SonicWall_Decoder, for SonicWall firewall syslog:
//
//	id=firewall sn=000SERIAL time="2007-01-03 14:48:06" fw=1.1.1.1 pri=6 c=262144 m=98 msg="Connection Opened" n=23419 src=2.2.2.2:36701:WAN dst=1.1.1.1:50000:WAN proto=tcp/50000
//
// "pri=" gives status, "m=" the id and "c=" the category. Then "src=" and
// "dst=", which must both carry an IPv4 address, a port and an interface,
// give srcip, srcport, dstip and dstport, and a "proto=" right after them
// gives protocol (up to '/', at most six bytes). Only when all that parsed
// does the event get a type other than syslog and, for some message ids, an
// action: category 32 is an IDS event; ids 98, 597 and 598 are firewall
// "pass", 36, 37, 38, 173 and 174 firewall "drop", 537 firewall "close"; id
// 97 is a web proxy (squid) event whose id becomes the HTTP result and whose
// url is dstname followed by arg.
func decodeSonicWall(log string, f Fields) Result {
	res := Result{Type: TypeSyslog}

	caps, end, ok := sonicPriority.Execute(log)
	if !ok || len(caps) < 3 {
		return res
	}
	status, category, id := caps[0], caps[1], caps[2]
	f.SetStatic("status", status)
	f.SetStatic("id", id)

	// analysisd goes on from the last byte of the previous match (the
	// pattern's trailing space or ':'); osregex reports the offset after it.
	pos := lastMatched(end)
	caps, end, ok = sonicAddrs.Execute(log[pos:])
	if !ok || len(caps) < 4 {
		return res
	}
	f.SetStatic("srcip", caps[0])
	f.SetStatic("srcport", caps[1])
	f.SetStatic("dstip", caps[2])
	f.SetStatic("dstport", caps[3])
	pos += lastMatched(end)

	// rest is where a proxy message's "result=" search starts: after the
	// protocol when there is one, else after the space that follows the
	// addresses; -1 when no space follows them.
	rest := indexFrom(log, pos, ' ')
	if rest >= 0 {
		rest++
		if strings.HasPrefix(log[rest:], "proto=") {
			rest += len("proto=")
			start := rest
			// analysisd's isValidChar accepts every byte but NUL and 0x01.
			for rest < len(log) && rest-start < sonicProtoMax && log[rest] != 0x01 && log[rest] != '/' {
				rest++
			}
			f.SetStatic("protocol", log[start:rest])
		}
	}

	switch {
	case category == "32":
		res.Type = TypeIDS
	case id == "98" || id == "597" || id == "598":
		res.Type = TypeFirewall
		f.SetStatic("action", "pass")
	case id == "38" || id == "36" || id == "173" || id == "174" || id == "37":
		res.Type = TypeFirewall
		f.SetStatic("action", "drop")
	case id == "537":
		res.Type = TypeFirewall
		f.SetStatic("action", "close")
	case id == "97":
		res.Type = TypeSquid
		if rest < 0 {
			return res
		}
		caps, _, ok := sonicProxy.Execute(log[rest:])
		if !ok || len(caps) < 1 {
			return res
		}
		f.SetStatic("id", caps[0])
		if len(caps) >= 3 {
			f.SetStatic("url", caps[1]+caps[2])
		}
	}
	return res
}

// lastMatched turns osregex's offset after a match back into the offset of
// the last matched byte, which is what OSRegex_Execute returns.
func lastMatched(end int) int {
	if end > 0 {
		return end - 1
	}
	return 0
}
