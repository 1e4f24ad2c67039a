package query

import (
	"net/url"
	"reflect"
	"testing"
)

// FuzzParseFilter checks that whatever ParseFilter accepts, EncodeFilter
// writes back to the same filter.
func FuzzParseFilter(f *testing.F) {
	for _, seed := range []string{
		"", "range=all", "range=7d&group=a,b&level_min=3", "from=2025-01-02T03:04:05.123%2B01:00&to=2025-02-01",
		"agent=x,y&location=%2Fvar%2Flog&q=hello+world&technique=T1098&tactic=Persistence",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		v, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		flt, err := ParseFilter(v, now)
		if err != nil {
			return
		}
		back, err := ParseFilter(EncodeFilter(flt), now)
		if err != nil {
			t.Fatalf("re-parse of %q: %v", EncodeFilter(flt).Encode(), err)
		}
		if !reflect.DeepEqual(back, flt) {
			t.Fatalf("round trip of %q:\n got %+v\nwant %+v", raw, back, flt)
		}
	})
}
