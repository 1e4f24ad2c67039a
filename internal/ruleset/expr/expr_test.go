package expr

import (
	"errors"
	"reflect"
	"testing"
)

func TestParseTypeFollowsWazuh(t *testing.T) {
	tests := []struct {
		name    string
		attr    string
		def     Type
		want    Type
		unknown bool
	}{
		{"no attribute keeps the default", "", OSRegex, OSRegex, false},
		{"osmatch is accepted", "osmatch", OSRegex, OSMatch, false},
		{"osregex is accepted", "osregex", OSMatch, OSRegex, false},
		{"pcre2 is accepted", "pcre2", OSMatch, PCRE2, false},
		{"the value is case-insensitive", "PCRE2", OSMatch, PCRE2, false},
		{"string cannot be asked for", "string", OSMatch, OSMatch, true},
		{"an unknown value keeps the default and reports it", "regex", OSRegex, OSRegex, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseType(tt.attr, tt.def)
			if got != tt.want || errors.Is(err, ErrUnknownType) != tt.unknown {
				t.Errorf("ParseType(%q, %q) = %q, %v; want %q, unknown=%v", tt.attr, tt.def, got, err, tt.want, tt.unknown)
			}
		})
	}
}

func TestMatchAppliesTypeAndNegate(t *testing.T) {
	tests := []struct {
		name    string
		typ     Type
		pattern string
		negate  bool
		subject string
		want    bool
	}{
		{"osmatch finds a literal ignoring case", OSMatch, "failed", false, "FAILED login", true},
		{"osmatch's own ! inverts", OSMatch, "!failed", false, "FAILED login", false},
		{"negate inverts osmatch", OSMatch, "failed", true, "FAILED login", false},
		{"negate and ! cancel out", OSMatch, "!failed", true, "FAILED login", true},
		{"osregex matches an escape", OSRegex, `\d+`, false, "port 22", true},
		{"negate inverts osregex", OSRegex, `\d+`, true, "port 22", false},
		{"pcre2 is case-sensitive", PCRE2, `failed`, false, "FAILED", false},
		{"negate inverts pcre2", PCRE2, `failed`, true, "FAILED", true},
		{"string is an exact comparison", String, "block", false, "block", true},
		{"string is case-sensitive", String, "block", false, "Block", false},
		{"string does not match a substring", String, "block", false, "blocked", false},
		{"negate inverts string", String, "block", true, "pass", true},
		{"an address matches itself", OSIP, "10.0.0.1", false, "10.0.0.1", true},
		{"a network matches its addresses", OSIP, "10.0.0.0/8", false, "10.2.3.4", true},
		{"a dotted netmask is a prefix", OSIP, "192.168.0.0/255.255.0.0", false, "192.168.7.7", true},
		{"a network does not match outside it", OSIP, "10.0.0.0/8", false, "11.0.0.1", false},
		{"a ! entry inverts", OSIP, "!10.0.0.0/8", false, "11.0.0.1", true},
		{"an IPv6 network matches its addresses", OSIP, "2001:db8::/32", false, "2001:db8::1", true},
		{"any matches every address", OSIP, "any", false, "::1", true},
		{"a subject that is not an address never matches", OSIP, "!10.0.0.0/8", false, "host", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := Compile(tt.typ, tt.pattern, tt.negate)
			if err != nil {
				t.Fatal(err)
			}
			got, err := e.Match(tt.subject)
			if err != nil || got != tt.want {
				t.Errorf("Match(%q) = %v, %v; want %v", tt.subject, got, err, tt.want)
			}
			if e.Type() != tt.typ || e.String() != tt.pattern || e.Negate() != tt.negate {
				t.Errorf("accessors = %q %q %v", e.Type(), e.String(), e.Negate())
			}
		})
	}
}

func TestExecuteIgnoresNegate(t *testing.T) {
	tests := []struct {
		name     string
		typ      Type
		pattern  string
		subject  string
		captures []string
		end      int
		ok       bool
	}{
		{"osregex captures and reports the end", OSRegex, `user (\S+) from`, "user bob from x", []string{"bob"}, 13, true},
		{"pcre2 captures and reports the end", PCRE2, `user (\S+) from`, "user bob from x", []string{"bob"}, 13, true},
		{"osmatch reports no position", OSMatch, "bob", "user bob", nil, -1, true},
		{"a miss is not inverted", OSRegex, `nobody`, "user bob", nil, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := Compile(tt.typ, tt.pattern, true)
			if err != nil {
				t.Fatal(err)
			}
			caps, end, ok, err := e.Execute(tt.subject)
			if err != nil || ok != tt.ok || end != tt.end || !reflect.DeepEqual(caps, tt.captures) {
				t.Errorf("Execute(%q) = %q, %d, %v, %v; want %q, %d, %v", tt.subject, caps, end, ok, err, tt.captures, tt.end, tt.ok)
			}
		})
	}
}

func TestMatchEndIsThePrematchOffset(t *testing.T) {
	e, err := Compile(OSRegex, `^sshd[\d+]: `, false)
	if err != nil {
		t.Fatal(err)
	}
	end, ok, err := e.MatchEnd("sshd[12]: Failed password")
	if err != nil || !ok || end != 10 {
		t.Errorf("MatchEnd = %d, %v, %v; want 10, true", end, ok, err)
	}
}

func TestCompileRejectsBadInput(t *testing.T) {
	for name, c := range map[string]struct {
		typ     Type
		pattern string
	}{
		"an unknown type":        {"glob", "x"},
		"a bad osregex escape":   {OSRegex, `\x`},
		"a bad pcre2 pattern":    {PCRE2, `(`},
		"an address that is not": {OSIP, "10.0.0.300"},
		"a prefix out of range":  {OSIP, "10.0.0.0/33"},
	} {
		t.Run(name+" is an error", func(t *testing.T) {
			if _, err := Compile(c.typ, c.pattern, false); err == nil {
				t.Errorf("Compile(%q, %q) succeeded", c.typ, c.pattern)
			}
		})
	}
}
