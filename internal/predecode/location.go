package predecode

import "strings"

// Origin is what analysisd reads from an event's location: the agent that
// sent it and where on that agent it was read.
type Origin struct {
	// AgentID is the id in brackets, "000" for the manager's own events.
	AgentID string
	// AgentName is the name in parentheses of an agent's location. For
	// events from agents Wazuh takes it as the event's hostname, whatever
	// the syslog header said; it is empty when the location has none.
	AgentName string
	// Location is the location without the "[id] " prefix, as Wazuh
	// reports it: "(web01) 10.0.0.5->/var/log/secure".
	Location string
	// Remote reports that the event came from an agent.
	Remote bool
}

// ParseLocation splits a location the way analysisd does. Events relayed
// by remoted carry "[001] (web01) 10.0.0.5->/var/log/secure"; any other
// location is the manager's own ("/var/log/syslog", "stdin"). It reports
// false for a location that starts with '[' but has no ']': analysisd
// drops such an event as badly formatted.
func ParseLocation(location string) (Origin, bool) {
	if !strings.HasPrefix(location, "[") {
		return Origin{AgentID: "000", Location: location}, true
	}
	end := strings.IndexByte(location, ']')
	if end < 0 {
		return Origin{}, false
	}
	o := Origin{AgentID: location[1:end], Remote: true}
	// Wazuh skips the ']' and the byte after it (the space), but only when
	// something follows the ']'.
	if len(location)-end > 1 {
		o.Location = location[end+2:]
	}
	if rest, ok := strings.CutPrefix(o.Location, "("); ok {
		if name, _, found := strings.Cut(rest, ")"); found {
			o.AgentName = name
		}
	}
	return o, true
}
