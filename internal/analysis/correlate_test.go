package analysis

import (
	"fmt"
	"testing"
	"time"

	"github.com/threatlockdown/tld/internal/event"
)

const correlationRules = `
<group name="corr,">
  <rule id="100050" level="10" frequency="4" timeframe="60">
    <if_matched_sid>100002</if_matched_sid>
    <same_source_ip />
    <description>brute force from $(srcip)</description>
  </rule>
</group>
`

const groupCorrelationRules = `
<group name="corr,">
  <rule id="100051" level="11" frequency="3" timeframe="60">
    <if_matched_group>authentication_failed</if_matched_group>
    <different_srcip />
    <description>failures from several addresses</description>
  </rule>
</group>
`

func failure(ip string) event.Event {
	return event.Event{Log: fmt.Sprintf("Feb  9 11:44:56 host sshd[1234]: Failed password for root from %s port 22 ssh2", ip), Location: "auth"}
}

func TestFrequencyRulesCountEarlierEventsAsAnalysisd(t *testing.T) {
	cases := []struct {
		name  string
		rules string
		ips   []string
		want  []int
	}{
		{"frequency 4 with same_source_ip fires on the fourth event from one address, and consumed events do not count again",
			correlationRules,
			[]string{"10.0.0.1", "10.0.0.1", "10.0.0.9", "10.0.0.1", "10.0.0.1", "10.0.0.1"},
			[]int{100002, 100002, 100002, 100002, 100050, 100002}},
		{"if_matched_group with different_srcip counts events of any rule in the group from other addresses",
			groupCorrelationRules,
			[]string{"10.0.0.1", "10.0.0.1", "10.0.0.2", "10.0.0.3"},
			[]int{100002, 100002, 100051, 100002}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			now := fixedNow
			e := newEngine(t, map[string]string{"a.xml": testRules, "b.xml": c.rules}, map[string]string{"test_decoders.xml": testDecoders})
			e.opts.Now = func() time.Time { return now }
			var got []int
			for _, ip := range c.ips {
				got = append(got, e.Analyze(failure(ip)).Rule.ID)
				now = now.Add(time.Second)
			}
			if fmt.Sprint(got) != fmt.Sprint(c.want) {
				t.Fatalf("rules %v, want %v", got, c.want)
			}
		})
	}
}

func TestFrequencyWindowExpires(t *testing.T) {
	now := fixedNow
	e := newEngine(t, map[string]string{"a.xml": testRules, "b.xml": correlationRules}, map[string]string{"test_decoders.xml": testDecoders})
	e.opts.Now = func() time.Time { return now }
	for i := 0; i < 6; i++ {
		res := e.Analyze(failure("10.0.0.1"))
		if res.Rule.ID != 100002 {
			t.Fatalf("event %d fired %d although the earlier ones are outside the 60 s timeframe", i+1, res.Rule.ID)
		}
		now = now.Add(61 * time.Second)
	}
}

func TestPreviousOutputListsTheCountedEvents(t *testing.T) {
	now := fixedNow
	e := newEngine(t, map[string]string{"a.xml": testRules, "b.xml": correlationRules}, map[string]string{"test_decoders.xml": testDecoders})
	e.opts.Now = func() time.Time { return now }
	var last Result
	for i := 0; i < 4; i++ {
		last = e.Analyze(failure("10.0.0.1"))
	}
	if last.Alert == nil || last.Alert.Rule.ID != "100050" || last.Alert.PreviousOutput == "" || last.Alert.Rule.Frequency != 4 {
		t.Fatalf("alert %+v", last.Alert)
	}
}
