package plugindecoders

import "strings"

// Value limits of SymantecWS_Decoder: it copies values into a buffer and
// stops at these lengths.
const (
	symantecMaxShort = 128  // user name and address
	symantecMaxURL   = 1024 // URL
	symantecIDLen    = 9    // id: the "3=…"/"2=…" item itself, commas and all
)

// decodeSymantecWS is SymantecWS_Decoder, for Symantec Web Security logs:
// a date, a time, then comma-separated numbered items.
//
//	20070717,73614,1=5,11=1.2.3.4,1106=News,60=http://news.bbc.co.uk/,10=userX,1000=212.58.240.42,2=27
//
// Item 10 is dstuser, 11 srcip and 60 url; each is cut at 128 bytes (1024
// for the URL). The first item starting "3=" or "2=" gives the id: the nine
// bytes from there, across commas ("3=1,2=1"). Only the first occurrence of
// each counts.
//
// analysisd meant to skip the date and the time but only skips the date (it
// searches for the second comma from the first one), so the scan starts at
// the time; a time never looks like an item.
func decodeSymantecWS(log string, f Fields) {
	i := strings.IndexByte(log, ',')
	if i < 0 {
		return
	}
	i++
	var haveUser, haveIP, haveURL, haveID bool
	for {
		rest := log[i:]
		switch {
		case strings.HasPrefix(rest, "10="):
			i += 3
			v := symantecValue(log, &i, symantecMaxShort)
			if !haveUser {
				f.SetStatic("dstuser", v)
				haveUser = true
			}
		case strings.HasPrefix(rest, "11="):
			i += 3
			v := symantecValue(log, &i, symantecMaxShort)
			if !haveIP {
				f.SetStatic("srcip", v)
				haveIP = true
			}
		case strings.HasPrefix(rest, "60="):
			i += 3
			v := symantecValue(log, &i, symantecMaxURL)
			if !haveURL {
				f.SetStatic("url", v)
				haveURL = true
			}
		case strings.HasPrefix(rest, "3="), strings.HasPrefix(rest, "2="):
			n := min(symantecIDLen, len(rest))
			i += n
			if !haveID {
				f.SetStatic("id", rest[:n])
				haveID = true
			}
		}
		// The next item follows the next comma after wherever reading
		// stopped, which may be inside a value cut short.
		next := indexFrom(log, i, ',')
		if next < 0 {
			return
		}
		i = next + 1
	}
}

// symantecValue reads from *i up to a comma, the end, or limit bytes, and
// leaves *i after what it read.
func symantecValue(log string, i *int, limit int) string {
	start := *i
	end := start
	for end < len(log) && end-start < limit && log[end] != ',' {
		end++
	}
	*i = end
	return log[start:end]
}
