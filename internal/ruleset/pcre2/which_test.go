package pcre2

import (
	"testing"
	"time"
)

func TestWhichTimeout(t *testing.T) {
	root := rulesetDir(t)
	logs := rulesetLogs(t, root)
	for _, p := range rulesetPatterns(t, root) {
		if p.element != "prematch" {
			continue
		}
		re, _ := Compile(p.pattern)
		for _, l := range logs {
			st := time.Now()
			_, _, _, err := re.Execute(l)
			if d := time.Since(st); d > 5*time.Millisecond || err != nil {
				t.Logf("%q len=%d %v %v", p.pattern, len(l), d, err)
			}
		}
	}
}
