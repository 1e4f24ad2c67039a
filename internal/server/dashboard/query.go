package dashboard

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/threatlockdown/tld/internal/server/query"
)

// The request parsers are the REST API's, so a dashboard URL and an API
// call with the same parameters select the same alerts.
var (
	parseFilter        = query.ParseFilter
	parsePage          = query.ParsePage
	parsePostureFilter = query.ParsePostureFilter
)

// formQuery is the request's query as the parsers should see it. A GET
// form sends every field, filled or not, so empty values are dropped
// ("from=" means no from, not a bad time); and a typed "from" wins over
// the range select, which always holds a value, so picking a start date
// does not also require switching the select to "custom".
func formQuery(r *http.Request) url.Values {
	q := r.URL.Query()
	for k, vals := range q {
		kept := vals[:0]
		for _, v := range vals {
			if strings.TrimSpace(v) != "" {
				kept = append(kept, v)
			}
		}
		if len(kept) == 0 {
			delete(q, k)
		} else {
			q[k] = kept
		}
	}
	if _, ok := q["from"]; ok {
		delete(q, "range")
	}
	return q
}

// Query parameter names, as internal/server/query reads them.
var (
	timeParams    = []string{"range", "from", "to"}
	filterParams  = []string{"group", "rule", "level_min", "level_max", "agent", "location", "technique", "tactic", "q"}
	pageParams    = []string{"limit", "offset", "sort", "order"}
	postureParams = []string{"subscription", "resource_group", "resource_type", "severity", "state", "q"}
)

// ranges are the choices of the time-range selector.
var ranges = query.Ranges

// defaultRange is what the query parser uses when no time is given.
const defaultRange = "24h"

// keep returns the values of v for the given keys only, so a link carries
// the state that matters to its target and nothing else.
func keep(v url.Values, keys ...[]string) url.Values {
	out := url.Values{}
	for _, ks := range keys {
		for _, k := range ks {
			if vals, ok := v[k]; ok {
				out[k] = append([]string(nil), vals...)
			}
		}
	}
	return out
}

// href joins a path and a query; values are encoded by url.Values, so no
// alert field can change the link's scheme or break out of its parameter.
func href(path string, v url.Values) string {
	if len(v) == 0 {
		return path
	}
	return path + "?" + v.Encode()
}

// with returns a copy of v with key set to val (or removed when val is
// empty) and paging reset, as any change of filter starts at page one.
func with(v url.Values, kv ...string) url.Values {
	out := url.Values{}
	for k, vals := range v {
		if k == "offset" {
			continue
		}
		out[k] = append([]string(nil), vals...)
	}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "" {
			out.Del(kv[i])
		} else {
			out.Set(kv[i], kv[i+1])
		}
	}
	return out
}

// formValue is what a filter input shows for key: repeated parameters are
// joined with commas, which the parser splits again for the keys listed
// in commaParams; agent and location values may hold commas, so their
// input shows the first value only.
func formValue(v url.Values, key string) string {
	if commaParams[key] {
		return strings.Join(v[key], ",")
	}
	return v.Get(key)
}

var commaParams = map[string]bool{
	"group": true, "rule": true, "technique": true, "tactic": true,
	"subscription": true, "resource_group": true, "resource_type": true, "severity": true, "state": true,
}

// activeRange is the range the page shows, for the selector: empty when
// the user gave an explicit from/to.
func activeRange(v url.Values) string {
	if r := v.Get("range"); r != "" {
		return r
	}
	if v.Get("from") != "" || v.Get("to") != "" {
		return ""
	}
	return defaultRange
}
