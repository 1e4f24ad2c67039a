package plugindecoders

import (
	"strings"
	"testing"
)

func TestSymantecWSDecoder(t *testing.T) {
	long := strings.Repeat("a", 200)
	longURL := "http://x/" + strings.Repeat("p", 2000)
	runCases(t, SymantecWS, []pluginCase{
		{"a login gives srcip, dstuser and the id items together (plugin comment)",
			"20070717,73613,1=5,11=10.1.1.3,10=userc,3=1,2=1",
			[]string{"srcip=10.1.1.3", "dstuser=userc", "id=3=1,2=1"}, Result{}},
		{"an access gives the url too, and id 2=27 (plugin comment)",
			"20070717,73614,1=5,11=1.2.3.4,1106=News,60=http://news.bbc.co.uk/,10=userX,1000=212.58.240.42,2=27",
			[]string{"srcip=1.2.3.4", "url=http://news.bbc.co.uk/", "dstuser=userX", "id=2=27"}, Result{}},
		{"a failed login is id 3=2,2=1 (decoder file example, rule 7410)",
			"20070717,73559,1=5,11=2.3.4.5,10=userb,3=2,2=1",
			[]string{"srcip=2.3.4.5", "dstuser=userb", "id=3=2,2=1"}, Result{}},
		{"items 100 and 1106 are not 10 or 11 (decoder file example)",
			"20070717,73556,1=5,100=Logoff due to timeout.,11=1.2.3.4,10=usera,3=1,2=2",
			[]string{"srcip=1.2.3.4", "dstuser=usera", "id=3=1,2=2"}, Result{}},
		{"a configuration event has only an id (decoder file example)",
			"20070717,30517,1=3,41=SWS-3.0.1.86/vendor-config,100=Version 3.0.6,3=7,2=29",
			[]string{"id=3=7,2=29"}, Result{}},
		{"the id is nine bytes, and the scan resumes from where it stopped",
			"20070717,1,3=12345678,10=bob",
			[]string{"id=3=1234567", "dstuser=bob"}, Result{}},
		{"an id that swallows the next item's start hides that item",
			"20070717,1,3=1,10=bob",
			[]string{"id=3=1,10=bo"}, Result{}},
		{"the time field is scanned as an item, since only the date is skipped",
			"20070717,10=eve,11=1.1.1.1",
			[]string{"dstuser=eve", "srcip=1.1.1.1"}, Result{}},
		{"only the first of each item counts",
			"d,t,10=a,10=b,11=1.1.1.1,11=2.2.2.2,60=u1,60=u2,2=1,3=2",
			[]string{"dstuser=a", "srcip=1.1.1.1", "url=u1", "id=2=1,3=2"}, Result{}},
		{"user names are cut at 128 bytes",
			"d,t,10=" + long + ",11=9.9.9.9",
			[]string{"dstuser=" + long[:128], "srcip=9.9.9.9"}, Result{}},
		{"URLs are cut at 1024 bytes",
			"d,t,60=" + longURL,
			[]string{"url=" + longURL[:1024]}, Result{}},
		{"empty values are set empty",
			"d,t,10=,11=,60=",
			[]string{"dstuser=", "srcip=", "url="}, Result{}},
		{"a key at the very end is an empty value",
			"d,t,11=",
			[]string{"srcip="}, Result{}},
		{"a log without a comma gives nothing", "20070717 73613 10=bob", nil, Result{}},
		{"a log of one comma gives nothing", ",", nil, Result{}},
		{"an empty log gives nothing", "", nil, Result{}},
	}, plainFields)
}
