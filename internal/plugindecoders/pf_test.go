package plugindecoders

import "testing"

// samplePF is the first example of PF_Decoder's comment, after the syslog
// header "Mar 30 15:33:26 enigma pf: ".
const samplePF = "Mar 30 15:32:33.483712 rule 2/(match) pass in on xl0: 140.211.166.3.6667 > 192.168.2.10.16290: P 7408:7677(269) ack 1773 win 2520 <nop,nop,timestamp 3960674784 2860123562> (DF)"

func TestPFDecoder(t *testing.T) {
	full := []string{"action=pass", "srcip=140.211.166.3", "srcport=6667", "dstip=192.168.2.10", "dstport=16290", "protocol=TCP"}
	runCases(t, PF, []pluginCase{
		{"a passed TCP packet gives addresses, ports and TCP", samplePF, full, Result{}},
		{"the syslog header in front changes nothing",
			"Mar 30 15:33:26 enigma pf: " + samplePF, full, Result{}},
		{"a blocked packet is block",
			"Mar 30 15:47:05.522341 rule 4/(match) block in on lo0: 127.0.0.1.48784 > 127.0.0.1.23: S 1381529123:1381529123(0) win 16384 <mss 33184,nop,nop,sackOK,nop,wscale 0,[|tcp]> (DF) [tos 0x10]",
			[]string{"action=block", "srcip=127.0.0.1", "srcport=48784", "dstip=127.0.0.1", "dstport=23", "protocol=TCP"}, Result{}},
		{"udp after two spaces is UDP",
			"Mar 30 15:54:22.171929 rule 3/(match) pass out on xl0: 192.168.2.10.1514 > 192.168.2.190.1030:  udp 73",
			[]string{"action=pass", "srcip=192.168.2.10", "srcport=1514", "dstip=192.168.2.190", "dstport=1030", "protocol=UDP"}, Result{}},
		{"icmp addresses have no port",
			"Mar 30 17:47:40.390143 rule 2/(match) pass in on lo0: 127.0.0.1 > 127.0.0.1: icmp: echo reply",
			[]string{"action=pass", "srcip=127.0.0.1", "dstip=127.0.0.1", "protocol=ICMP"}, Result{}},
		{"an address with more dots splits at the fourth",
			"rule 1/(match) pass in on em0: 1.2.3.4.5.6 > 7.8.9.10.11: tcp",
			[]string{"action=pass", "srcip=1.2.3.4", "srcport=5.6", "dstip=7.8.9.10", "dstport=11", "protocol=TCP"}, Result{}},
		{"an IPv6 destination is cut at its first colon and the protocol guessed from the rest",
			"rule 1/(match) pass in on em0: fe80::1.546 > ff02::1.547: udp 50",
			[]string{"action=pass", "srcip=fe80::1.546", "dstip=ff02", "protocol=TCP"}, Result{}},
		{"any word starting with p is pass",
			"rule 9/(match) purge in on em0: 1.1.1.1 > 2.2.2.2: udp",
			[]string{"action=pass", "srcip=1.1.1.1", "dstip=2.2.2.2", "protocol=UDP"}, Result{}},
		{"the first ')' decides, even one before the rule",
			"(x) rule 2/(match) pass in on xl0: 1.1.1.1.1 > 2.2.2.2.2: udp", nil, Result{}},
		{"an unknown action stops before anything", "rule 2/(match) match in on xl0: 1.1.1.1.1 > 2.2.2.2.2: udp", nil, Result{}},
		{"a log without ')' gives nothing", "Mar 30 pass in on xl0: 1.1.1.1.1 > 2.2.2.2.2: udp", nil, Result{}},
		{"')' at the very end gives nothing", "rule 2/(match)", nil, Result{}},
		{"no interface colon keeps only the action", "rule 2/(match) pass in on xl0", []string{"action=pass"}, Result{}},
		{"a colon not followed by a space keeps only the action", "rule 2/(match) pass in on xl0:1.1.1.1", []string{"action=pass"}, Result{}},
		{"a source address without a following space keeps only the action", "rule 2/(match) pass in on xl0: 1.1.1.1.1", []string{"action=pass"}, Result{}},
		{"a source not followed by '> ' keeps action and source",
			"rule 2/(match) pass in on xl0: 1.1.1.1.1 < 2.2.2.2.2: udp",
			[]string{"action=pass", "srcip=1.1.1.1", "srcport=1"}, Result{}},
		{"'>' without a space keeps action and source",
			"rule 2/(match) pass in on xl0: 1.1.1.1.1 >2.2.2.2.2: udp",
			[]string{"action=pass", "srcip=1.1.1.1", "srcport=1"}, Result{}},
		{"a destination without a colon keeps action and source",
			"rule 2/(match) pass in on xl0: 1.1.1.1.1 > 2.2.2.2.2",
			[]string{"action=pass", "srcip=1.1.1.1", "srcport=1"}, Result{}},
		{"nothing after the destination sets no protocol",
			"rule 2/(match) pass in on xl0: 1.1.1.1.1 > 2.2.2.2.2:   ",
			[]string{"action=pass", "srcip=1.1.1.1", "srcport=1", "dstip=2.2.2.2", "dstport=2"}, Result{}},
		{"empty addresses are set empty",
			"rule 2/(match) block in on xl0:  > : i",
			[]string{"action=block", "srcip=", "dstip=", "protocol=ICMP"}, Result{}},
		{"an empty log gives nothing", "", nil, Result{}},
	}, plainFields)
}
