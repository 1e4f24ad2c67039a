package plugindecoders

import "strings"

// decodePF is PF_Decoder, for OpenBSD pf logs as tcpdump prints them:
//
//	Mar 30 15:32:33.483712 rule 2/(match) pass in on xl0: 140.211.166.3.6667 > 192.168.2.10.16290: P 7408:7677(269) ack 1773 win 2520
//
// It sets action (pass or block, from the first letter after "(match) "),
// srcip and srcport from the address after the interface, dstip and dstport
// from the address after " > ", and protocol from the first word after that
// (UDP for "udp…", ICMP for "icmp…", TCP for anything else).
func decodePF(log string, f Fields) {
	// The action follows the first ')' and one space.
	i := strings.IndexByte(log, ')')
	if i < 0 {
		return
	}
	i++
	if at(log, i) != ' ' {
		return
	}
	i++
	switch at(log, i) {
	case 'p':
		f.SetStatic("action", "pass")
	case 'b':
		f.SetStatic("action", "block")
	default:
		return
	}

	// The source address follows the next ": " and ends at a space.
	i = indexFrom(log, i, ':')
	if i < 0 {
		return
	}
	i++
	if at(log, i) != ' ' {
		return
	}
	i++
	end := indexFrom(log, i, ' ')
	if end < 0 {
		return
	}
	setPFAddress(f, "srcip", "srcport", log[i:end])

	i = end + 1
	if at(log, i) != '>' {
		return
	}
	i++
	if at(log, i) != ' ' {
		return
	}
	i++
	// The destination ends at the next ':', whatever it is part of.
	end = indexFrom(log, i, ':')
	if end < 0 {
		return
	}
	setPFAddress(f, "dstip", "dstport", log[i:end])

	i = end + 1
	for i < len(log) && log[i] == ' ' {
		i++
	}
	if i == len(log) {
		return
	}
	switch log[i] {
	case 'u':
		f.SetStatic("protocol", "UDP")
	case 'i':
		f.SetStatic("protocol", "ICMP")
	default:
		f.SetStatic("protocol", "TCP")
	}
}

// setPFAddress splits tcpdump's "a.b.c.d.port" at its fourth dot. Without a
// fourth dot (no port, or not IPv4) the whole text is the address.
func setPFAddress(f Fields, ipName, portName, addr string) {
	dots := 0
	for k := 0; k < len(addr); k++ {
		if addr[k] != '.' {
			continue
		}
		dots++
		if dots == 4 {
			f.SetStatic(ipName, addr[:k])
			f.SetStatic(portName, addr[k+1:])
			return
		}
	}
	f.SetStatic(ipName, addr)
}
