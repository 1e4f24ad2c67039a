package analysis

import "strings"

// compiledRules are analysisd's <compiled_rule> functions: checks written
// in code that a rule can require, reproduced from their C definitions.
var compiledRules = map[string]func(d *Decoded) bool{
	// comp_srcuser_dstuser: both users, when decoded, are the same.
	"comp_srcuser_dstuser": func(d *Decoded) bool {
		src, ok1 := d.Static(staticSrcUser)
		dst, ok2 := d.Static(staticDstUser)
		return !ok1 || !ok2 || src == dst
	},
	// check_id_size: the id is at least 10 bytes long.
	"check_id_size": func(d *Decoded) bool {
		id, ok := d.Static(staticID)
		return ok && len(id) >= 10
	},
	// comp_mswin_targetuser_calleruser_diff: a Windows event whose
	// "Target Account Name" and "Caller User Name" differ.
	"comp_mswin_targetuser_calleruser_diff": func(d *Decoded) bool {
		t := strings.Index(d.Log, "Target Account Name")
		c := strings.Index(d.Log, "Caller User Name")
		if t < 0 || c < 0 {
			return false
		}
		tc := strings.IndexByte(d.Log[t:], ':')
		cc := strings.IndexByte(d.Log[c:], ':')
		if tc < 0 || cc < 0 {
			return false
		}
		target, caller := d.Log[t+tc+1:], d.Log[c+cc+1:]
		for i := 0; i < len(target); i++ {
			if i >= len(caller) || target[i] != caller[i] {
				return true
			}
			if target[i] == '\t' || (target[i] == ' ' && i+1 < len(target) && target[i+1] == ' ') {
				break
			}
		}
		return false
	},
	// is_simple_http_request: a URL without a query string.
	"is_simple_http_request": func(d *Decoded) bool {
		url, ok := d.Static(staticURL)
		return ok && (url == "/" || !strings.Contains(url, "?"))
	},
	// is_valid_crawler: the request comes from a known search-engine range.
	"is_valid_crawler": func(d *Decoded) bool {
		for _, p := range []string{"66.249.", "72.14.", "209.85.", "65.55.", "207.46.", "74.6.", "72.30.", "67.195."} {
			if strings.HasPrefix(d.Log, p) {
				return true
			}
		}
		return false
	},
}
