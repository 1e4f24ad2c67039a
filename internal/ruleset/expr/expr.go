// Package expr is ThreatLockDown's w_expression_t: a pattern of one of the
// flavours Wazuh rules and decoders use, chosen by the element's type=
// attribute, with the element's negate= attribute applied on top.
//
// Default type of each option when type= is absent (Wazuh 4.x, rules.c and
// decode-xml.c):
//
//	Rules
//	  <match>                                    osmatch
//	  <regex>                                    osregex
//	  <field name="...">                         osregex
//	  <srcgeoip> <dstgeoip> <srcport> <dstport>  osmatch
//	  <user> <url> <id> <status> <data>          osmatch
//	  <extra_data> <hostname> <program_name>     osmatch
//	  <location> <protocol> <system_name>        osmatch
//	  <action>                                   string (exact, case-sensitive)
//	  <srcip> <dstip>                            IP list (no type= attribute)
//	  <if_matched_regex>                         always osregex (no type=)
//	  <if_matched_group>                         always osmatch (no type=)
//	  <list check_value="...">                   always osregex
//	Decoders
//	  <prematch>                                 osregex (osregex or pcre2 only)
//	  <regex>                                    osregex (osregex or pcre2 only)
//	  <program_name>                             osmatch (osmatch, osregex or pcre2)
//
// The type= attribute accepts osmatch, osregex and pcre2 in any case; Wazuh
// warns about any other value and keeps the default (ParseType reports it
// as an error along with the default). "string" is never accepted as an
// attribute value: it is only <action>'s default. negate="yes" inverts the
// result of Match; Wazuh compiles every rule and decoder expression without
// OS_CASE_SENSITIVE, so osmatch and osregex ignore ASCII case, while pcre2
// is case-sensitive unless the pattern says (?i).
package expr

import (
	"errors"
	"fmt"
	"strings"

	"github.com/threatlockdown/tld/internal/ruleset/osmatch"
	"github.com/threatlockdown/tld/internal/ruleset/osregex"
	"github.com/threatlockdown/tld/internal/ruleset/pcre2"
)

// Type names an expression flavour, as written in a type= attribute.
type Type string

// The expression types of Wazuh 4.x (w_exp_type_t).
const (
	OSMatch Type = "osmatch"
	OSRegex Type = "osregex"
	PCRE2   Type = "pcre2"
	// String is an exact, case-sensitive comparison (strcmp). It is the
	// default of a rule's <action> and cannot be asked for with type=.
	String Type = "string"
	// OSIP is an address or network, as in a rule's <srcip> and <dstip>:
	// see Compile.
	OSIP Type = "osip"
)

// ErrUnknownType is wrapped by ParseType's error for a type= value Wazuh
// does not know.
var ErrUnknownType = errors.New("unknown expression type")

// ParseType reads a type= attribute value. An empty value means def. For
// an unknown value it returns def together with an error wrapping
// ErrUnknownType: Wazuh warns and uses the default, so a loader may log the
// error and carry on with the returned type.
func ParseType(attr string, def Type) (Type, error) {
	switch v := strings.ToLower(attr); v {
	case "":
		return def, nil
	case string(OSMatch), string(OSRegex), string(PCRE2):
		return Type(v), nil
	default:
		return def, fmt.Errorf("type %q: %w (want osmatch, osregex or pcre2)", attr, ErrUnknownType)
	}
}

// Expr is a compiled expression. It is safe for concurrent use.
type Expr struct {
	typ     Type
	raw     string
	negate  bool
	match   *osmatch.Matcher
	regex   *osregex.Regex
	pcre    *pcre2.Regex
	network *network
}

// Compile builds an expression of type t. negate is the element's
// negate="yes". An OSIP pattern is one address, optionally with a /prefix
// length or an IPv4 /netmask, "any", and an optional leading "!" that
// inverts it, as Wazuh's OS_IsValidIP reads one <srcip> entry.
func Compile(t Type, pattern string, negate bool) (*Expr, error) {
	e := &Expr{typ: t, raw: pattern, negate: negate}
	var err error
	switch t {
	case OSMatch:
		e.match, err = osmatch.Compile(pattern)
	case OSRegex:
		e.regex, err = osregex.Compile(pattern)
	case PCRE2:
		e.pcre, err = pcre2.Compile(pattern)
	case String:
	case OSIP:
		e.network, err = parseNetwork(pattern)
	default:
		return nil, fmt.Errorf("expression type %q: %w", t, ErrUnknownType)
	}
	if err != nil {
		return nil, err
	}
	return e, nil
}

// Type returns the expression's flavour.
func (e *Expr) Type() Type { return e.typ }

// String returns the pattern as written.
func (e *Expr) String() string { return e.raw }

// Negate reports whether the expression was compiled with negate="yes".
func (e *Expr) Negate() bool { return e.negate }

// NumGroups returns the number of capture groups (0 for types without).
func (e *Expr) NumGroups() int {
	switch {
	case e.regex != nil:
		return e.regex.NumGroups()
	case e.pcre != nil:
		return e.pcre.NumGroups()
	}
	return 0
}

// Match reports whether s matches, with negate applied, as analysisd tests
// a rule option. The only error is a pcre2 time-out; the boolean is then
// what Wazuh would have concluded from a failed match (no match, inverted
// by negate), so a caller that only logs the error stays faithful.
func (e *Expr) Match(s string) (bool, error) {
	var ok bool
	var err error
	switch e.typ {
	case OSMatch:
		ok = e.match.Match(s)
	case OSRegex:
		ok = e.regex.Match(s)
	case PCRE2:
		ok, err = e.pcre.Match(s)
	case String:
		ok = s == e.raw
	case OSIP:
		ok = e.network.contains(s)
	}
	return ok != e.negate, err
}

// MatchEnd matches s as a decoder <prematch> (compiled without substring
// capture) and returns the offset just after the match, where
// after_prematch and after_parent continue. negate is not applied.
// osmatch, string and OSIP expressions report no position: end is -1.
func (e *Expr) MatchEnd(s string) (end int, ok bool, err error) {
	switch e.typ {
	case OSRegex:
		end, ok = e.regex.MatchEnd(s)
		return end, ok, nil
	case PCRE2:
		_, end, ok, err = e.pcre.Execute(s)
		return end, ok, err
	}
	ok, err = e.Match(s)
	return -1, ok != e.negate, err
}

// Execute matches s as a decoder <regex> (compiled with substring capture)
// and returns the captures and the offset just after the match, where an
// after_regex decoder continues. negate is not applied: Wazuh never negates
// an expression it captures from. osmatch, string and OSIP expressions
// capture nothing and report end -1.
func (e *Expr) Execute(s string) (captures []string, end int, ok bool, err error) {
	switch e.typ {
	case OSRegex:
		captures, end, ok = e.regex.Execute(s)
		return captures, end, ok, nil
	case PCRE2:
		return e.pcre.Execute(s)
	}
	ok, err = e.Match(s)
	return nil, -1, ok != e.negate, err
}
