// Package predecode is analysisd's pre-decoding ("Phase 1" in
// wazuh-logtest): it recognises the header in front of an event's text,
// extracts its timestamp, hostname and program name, and finds where the
// text that decoders see starts.
//
// It follows OS_CleanMSG (src/analysisd/cleanevent.c) of Wazuh 4.x byte for
// byte, including its quirks, because decoders select on program_name and
// match against what follows the header: a header recognised differently
// changes which decoder and rule fire. The formats are recognised by the
// punctuation at fixed offsets, never by parsing the date, in this order:
//
//	Dec 29 10:00:01 host prog[123]: msg            syslog (day may be " 9")
//	2015-04-16 21:51:02,805 host prog: msg         proftpd 1.3.5
//	2007-06-14T15:48:55-04:00 host prog: msg       ISO 8601, also with .fraction
//	2015 Dec 29 10:00:01 host prog: msg            syslog with year first
//	2021-04-21 10:16:09.404756-0700 host prog: msg macOS ULS (log --style syslog)
//	Mon Apr 17 18:27:14 2006 1 10.0.0.1 ...        xferlog
//	01/28-09:13:16.240702  [**] ...                snort
//	01/28/1979-09:13:16.240702  [**] ...           suricata
//	[Fri Feb 11 18:06:35 2004] [warn] ...          apache error log
//	[Time 2006.12.28 15:53:55 UTC] [Sender sshd]...macOS ASL
//	1140804070.368  11623 ...                      squid
//
// The first five dates are followed by a hostname and a program name, and
// macOS ASL names both in its own entries; the other formats have neither.
// Anything else is not a header and the whole text is the message. That
// includes a syslog priority such as "<134>": remoted strips it from what
// it receives over the network, but a file or logtest line keeps it.
//
// Parse works on one event's text, without the "id:location:" framing of
// analysisd's queue. Wazuh bounds that whole frame to OS_MAXSTR (65536
// bytes) before pre-decoding; Parse itself imposes no limit and needs none,
// since it only looks at fixed offsets and scans forward.
package predecode

import "strings"

// Header is what pre-decoding extracted.
type Header struct {
	// Timestamp is the date as written in the log, which Wazuh prints
	// verbatim as predecoder.timestamp. Empty for the macOS ASL format,
	// whose date Wazuh skips without recording.
	Timestamp string
	// Hostname is the host named in a syslog-style header, or the [Host]
	// entry of a macOS ASL line. Empty when there is none: Wazuh then uses
	// the manager's name for local events. For events from agents Wazuh
	// always uses the agent's name instead (see ParseLocation).
	Hostname string
	// ProgramName is the program named in the header, without "[pid]".
	ProgramName string
	// Message is the log after the header: what decoders and
	// <match>/<regex> see (analysisd's lf->log).
	Message string
	// Found reports that a header was recognised. Timestamp, Hostname and
	// ProgramName may still be empty: a syslog date followed by something
	// that is not a hostname yields only a Timestamp.
	Found bool
}

// Parse pre-decodes one event's text. The strings in the result are
// substrings of log, so Parse does not allocate. Message is a suffix of
// log except in two cases where Wazuh cuts it at a '[' or ']': the macOS
// ASL format (the text of the [Message ...] entry) and an AIX header whose
// pid is not closed by "]: ".
func Parse(log string) Header {
	n := len(log)

	// The first bytes, padded with NULs as the C string would be, are where
	// every format is recognised. A month written "Mär" (German March,
	// UTF-8) is read as "Mar" so that its line is recognised too; offsets
	// into log are not shifted for it, which is why such a timestamp loses
	// its last character in Wazuh, as it does here.
	var p [32]byte
	if n >= 3 && log[1] == 0xC3 && log[2] == 0xA4 {
		p[0], p[1] = 'M', 'a'
		copy(p[2:], log[3:])
	} else {
		copy(p[:], log)
	}

	if off := syslogDate(&p, n); off > 0 {
		return parseSyslog(log, off)
	}

	switch {
	case n >= 28 && p[3] == ' ' && p[7] == ' ' && p[10] == ' ' &&
		p[13] == ':' && p[16] == ':' && p[19] == ' ' && p[24] == ' ' && p[26] == ' ':
		// xferlog: "Mon Apr 17 18:27:14 2006 1 64.160.42.130 ..."
		return Header{Timestamp: log[:24], Message: log[25:], Found: true}

	case n >= 24 && p[2] == '/' && p[5] == '-' && p[8] == ':' && p[11] == ':' &&
		p[14] == '.' && p[21] == ' ':
		// snort: "01/28-09:13:16.240702  [**]"; Wazuh skips two
		// characters after the date, assuming two spaces.
		return Header{Timestamp: log[:21], Message: log[23:], Found: true}

	case n >= 26 && p[2] == '/' && p[5] == '/' && p[10] == '-' && p[13] == ':' &&
		p[16] == ':' && p[19] == '.' && p[26] == ' ':
		// suricata: "01/28/1979-09:13:16.240702  [**]", also two
		// characters skipped. A 27-byte line makes Wazuh read past the
		// end of its buffer; here the message is empty.
		return Header{Timestamp: log[:26], Message: log[min(28, n):], Found: true}

	case n >= 27 && p[0] == '[' && p[4] == ' ' && p[8] == ' ' && p[11] == ' ' &&
		p[14] == ':' && p[17] == ':' && p[20] == ' ' && p[25] == ']':
		// apache: "[Fri Feb 11 18:06:35 2004] [warn] ..."; the timestamp
		// is inside the brackets.
		return Header{Timestamp: log[1:25], Message: log[27:], Found: true}

	case n >= 26 && p[0] == '[' && p[1] == 'T' && p[5] == ' ' && p[10] == '.' &&
		p[13] == '.' && p[16] == ' ' && p[19] == ':':
		return parseASL(log)

	case n >= 32 && p[0] == '1' && isDigit(p[1]) && isDigit(p[2]) && isDigit(p[3]) &&
		p[10] == '.' && isDigit(p[13]) && p[14] == ' ' && (p[21] == ' ' || p[22] == ' '):
		// squid: "1140804070.368  11623 ...". Wazuh cuts the timestamp
		// at the last of the spaces after it, so the others stay in it.
		i := 14
		for i < n && log[i] == ' ' {
			i++
		}
		return Header{Timestamp: log[:i-1], Message: log[i:], Found: true}
	}

	return Header{Message: log}
}

// syslogDate recognises the dates that are followed by a hostname and a
// program name. It returns where the hostname may start (one space later
// is also accepted), or 0. The date is everything before that offset but
// its last byte, whatever that byte is.
func syslogDate(p *[32]byte, n int) int {
	// "Dec 29 10:00:01 " and "Feb  9 11:44:56 ".
	if n >= 17 && p[3] == ' ' && p[6] == ' ' && p[9] == ':' && p[12] == ':' && p[15] == ' ' {
		return 16
	}
	// "2015-04-16 21:51:02,805 " (proftpd 1.3.5).
	if n >= 24 && p[4] == '-' && p[7] == '-' && p[10] == ' ' && p[13] == ':' &&
		p[16] == ':' && p[19] == ',' {
		return 24
	}
	if n >= 33 && p[4] == '-' && p[7] == '-' && p[10] == 'T' && p[13] == ':' && p[16] == ':' {
		// "2007-06-14T15:48:55-04:00 " (syslog-ng isodate).
		if p[22] == ':' && p[25] == ' ' {
			return 26
		}
		if p[19] == '.' {
			switch {
			case p[26] == ':': // "2022-12-19T15:02:53.288+00:00 "
				return 30
			case p[29] == ':': // "2009-05-22T09:36:46.214994-07:00 " (rsyslog)
				return 33
			default: // "2019-11-11T01:02:03.123456+0100 ", or any other fraction
				return 32
			}
		}
	}
	// "2015 Dec 29 10:00:01 ".
	if n >= 21 && isDigit(p[0]) && p[4] == ' ' && p[8] == ' ' && p[11] == ' ' &&
		p[14] == ':' && p[17] == ':' && p[20] == ' ' {
		return 21
	}
	// "2021-04-21 10:16:09.404756-0700 " (macOS ULS, log --style syslog).
	if n >= 33 && isDigit(p[0]) && p[4] == '-' && p[7] == '-' && p[10] == ' ' &&
		p[13] == ':' && p[16] == ':' && p[19] == '.' && (p[26] == '-' || p[26] == '+') &&
		p[31] == ' ' {
		return 32
	}
	return 0
}

// parseSyslog reads the hostname and program name that follow a syslog
// date ending at off.
func parseSyslog(log string, off int) Header {
	h := Header{Timestamp: log[:off-1], Found: true}

	start := off
	if at(log, start) == ' ' {
		start++
	}
	end := scanName(log, start)

	var next int
	switch {
	case at(log, end) == ':' && at(log, end+1) == ' ':
		// No hostname, as Solaris 8/9 write: the word is the program.
		h.ProgramName = log[start:end]
		next = end + 2
	case at(log, end) != ' ':
		// Not a hostname: the date alone is the header.
		h.Message = log[start:]
		return h
	default:
		h.Hostname = log[start:end]
		msg := end + 1
		prog, n, ok := programName(log, msg)
		h.ProgramName = prog
		if !ok {
			h.Message = log[msg:n]
			return h
		}
		next = n
	}
	h.Message = log[skipSolarisID(log, next):]
	return h
}

// programName reads the program name at i, in one of the forms
//
//	prog: msg       (the space is optional)
//	prog[123]: msg  (the space is optional)
//	prog[123] msg
//	auth|security:info prog: msg  (AIX)
//
// It returns the name and where the message starts. When Wazuh gives up
// it returns false and where the message ends instead: the message then
// starts at i, and the name is empty except in one AIX case.
func programName(log string, i int) (name string, next int, ok bool) {
	end := scanName(log, i)
	switch c := at(log, end); {
	case c == ':':
		next = end + 1
		if at(log, next) == ' ' {
			next++
		}
		return log[i:end], next, true

	case c == '[' && isDigit(at(log, end+1)):
		j := skipDigits(log, end+2)
		switch {
		case at(log, j) == ']' && at(log, j+1) == ':':
			j += 2
			if at(log, j) == ' ' {
				j++
			}
			return log[i:end], j, true
		case at(log, j) == ']' && at(log, j+1) == ' ':
			// Some systems omit the colon after the pid.
			return log[i:end], j + 2, true
		}
		return "", len(log), false

	case c == '|' && isLower(at(log, end+1)):
		return aixProgramName(log, end+2)
	}
	return "", len(log), false
}

// aixProgramName reads what follows "auth|" in an AIX header,
// "auth|security:info prog: msg". AIX names are stricter than the others:
// the space after the colon is required.
func aixProgramName(log string, i int) (name string, next int, ok bool) {
	i = skipAlnum(log, i) // facility
	if at(log, i) != ':' {
		return "", len(log), false
	}
	i = skipAlnum(log, i+1) // severity
	if at(log, i) != ' ' {
		return "", len(log), false
	}
	i++
	end := scanName(log, i)
	switch {
	case at(log, end) == ':' && at(log, end+1) == ' ':
		return log[i:end], end + 2, true
	case at(log, end) == '[' && isDigit(at(log, end+1)):
		j := skipDigits(log, end+2)
		if at(log, j) == ']' && at(log, j+1) == ':' && at(log, j+2) == ' ' {
			return log[i:end], j + 3, true
		}
		// Wazuh has already cut the string at the '[' and keeps the
		// name, but puts the message back where the program name
		// started, so the message ends at the '['.
		return log[i:end], end, false
	}
	// Wazuh never terminates the name in this case: it runs to the end of
	// the log, and the message starts where the name's characters stop.
	return log[i:], end, true
}

// skipSolarisID skips a Solaris "[ID 123 auth.notice] " tag at i. Like
// Wazuh it skips the byte after the ']' unseen, and stops at the end.
func skipSolarisID(log string, i int) int {
	if strings.HasPrefix(log[i:], "[ID ") {
		if j := strings.IndexByte(log[i+4:], ']'); j >= 0 {
			return min(i+4+j+2, len(log))
		}
	}
	return i
}

// parseASL reads the macOS ASL format (Mac OS X up to 10.11):
//
//	[Time 2006.12.28 15:53:55 UTC] [Facility auth] [Sender sshd] [PID 483] [Message error: ...] [Level 3] [Host mac]
//
// The first [Sender] is the program name and the first [Message] the
// message; [Host] is the hostname and ends the scan, so entries after it
// are ignored. The date is not kept. Without a [Message] entry before
// [Host], the message is the line from byte 25, which is still inside the
// date's brackets (" UTC] [Facility ..."), as in Wazuh.
func parseASL(log string) Header {
	h := Header{Message: log[25:], Found: true}
	haveProgram, haveMessage := false, false

	i := strings.IndexByte(log[25:], '[')
	if i < 0 {
		return h
	}
	i += 25
	for {
		i++ // past '['
		rest := log[i:]
		switch {
		case !haveProgram && strings.HasPrefix(rest, "Sender "):
			v, ok := bracketValue(log, i+len("Sender "))
			if !ok {
				return h
			}
			h.ProgramName, haveProgram = v, true
			i += len("Sender ") + len(v) + 1
		case !haveMessage && strings.HasPrefix(rest, "Message "):
			v, ok := bracketValue(log, i+len("Message "))
			h.Message, haveMessage = v, true
			if !ok {
				return h
			}
			i += len("Message ") + len(v) + 1
		case strings.HasPrefix(rest, "Host "):
			if v, ok := bracketValue(log, i+len("Host ")); ok {
				h.Hostname = v
			}
			return h
		}
		j := strings.IndexByte(log[i:], '[')
		if j < 0 {
			return h
		}
		i += j
	}
}

// bracketValue returns the text from i up to the next ']', and false with
// the rest of the log when there is none.
func bracketValue(log string, i int) (string, bool) {
	j := strings.IndexByte(log[i:], ']')
	if j < 0 {
		return log[i:], false
	}
	return log[i : i+j], true
}

// at returns log[i], or NUL past the end, as reading the C string would.
func at(log string, i int) byte {
	if i < len(log) {
		return log[i]
	}
	return 0
}

// scanName returns the end of the run of hostname characters at i.
func scanName(log string, i int) int {
	for i < len(log) && nameChar[log[i]] {
		i++
	}
	return i
}

func skipDigits(log string, i int) int {
	for i < len(log) && isDigit(log[i]) {
		i++
	}
	return i
}

func skipAlnum(log string, i int) int {
	for i < len(log) && (isDigit(log[i]) || isLower(log[i]) || ('A' <= log[i] && log[i] <= 'Z')) {
		i++
	}
	return i
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }
func isLower(c byte) bool { return 'a' <= c && c <= 'z' }

// nameChar is Wazuh's hostname_map: the bytes a hostname or a program name
// is made of. Besides letters, digits, '-', '_' and '.', it admits '@' and
// '/' (so "user@host" or "postfix/smtpd" is one name) and '(' and ')'.
var nameChar = func() (t [256]bool) {
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c] = true
		t[c-'a'+'A'] = true
	}
	for _, c := range "-_./@()" {
		t[c] = true
	}
	return t
}()
