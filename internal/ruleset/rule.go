package ruleset

import (
	"strconv"
	"strings"

	"github.com/threatlockdown/tld/internal/ruleset/expr"
	"github.com/threatlockdown/tld/internal/xmlw"
)

// FieldMatch is a <field name="…"> condition.
type FieldMatch struct {
	Name   string
	Lower  string // Name in lower case, for case-insensitive lookups
	Static StaticField
	Expr   *expr.Expr
}

// ListLookup is a <list> condition against a CDB list.
type ListLookup struct {
	Field      string // srcip, user, or a dynamic field name
	Static     StaticField
	Lookup     string // match_key, not_match_key, match_key_value, not_match_key_value, address_match_key, not_address_match_key, address_match_key_value, not_address_match_key_value
	CheckValue *expr.Expr
	Path       string
	Pos        string
}

// Options of a rule's <options> element.
type Options struct {
	NoFullLog    bool
	NoLog        bool
	AlertByEmail bool
	NoEmailAlert bool
	NoCounter    bool
}

// Info is one <info type="…"> element.
type Info struct {
	Type  string
	Value string
}

// CompiledRules are the <compiled_rule> functions analysisd ships (and
// the analysis engine implements).
var CompiledRules = map[string]bool{
	"comp_srcuser_dstuser": true, "check_id_size": true, "comp_mswin_targetuser_calleruser_diff": true,
	"is_simple_http_request": true, "is_valid_crawler": true,
}

// DefaultTimeframe is the timeframe, in seconds, of a correlation rule
// that sets none (analysisd's default_timeframe).
const DefaultTimeframe = 360

// Rule is one <rule> block with its place in the rule tree.
type Rule struct {
	ID    int
	Level int
	// Accuracy is the rule's accuracy attribute (default true); a rule with
	// accuracy="0" sorts after all others among its siblings.
	Accuracy    bool
	MaxSize     int
	Frequency   int
	Timeframe   int
	Ignore      int
	NoAlert     bool
	Overwrite   bool
	Description string
	Groups      []string // plain groups, outer <group name> first
	Compliance  Compliance
	Mitre       []string
	Info        []Info
	Options     Options

	DecodedAs   string
	Category    string
	SrcIP       []*expr.Expr // any may match
	DstIP       []*expr.Expr
	Match       *expr.Expr
	Regex       *expr.Expr
	Fields      []FieldMatch
	Static      []StaticMatch // srcip, user, url… options
	ProgramName *expr.Expr
	Hostname    *expr.Expr
	Location    *expr.Expr
	SrcGeoIP    *expr.Expr
	DstGeoIP    *expr.Expr
	Time        *TimeRange
	Weekday     *Weekdays
	Lists       []ListLookup
	CheckDiff   bool
	IfFTS       bool
	// CompiledRule names one of analysisd's built-in check functions.
	CompiledRule string

	IfSID          []int
	IfGroup        string
	IfLevel        int
	IfMatchedSID   int
	IfMatchedGroup string
	Same           []string // same_* / not_same_* field names (Wazuh's context options)
	Different      []string
	NotSame        []string
	GlobalFreq     bool

	IgnoreFields        []string // <ignore> field list: ignore alerts with the same values
	CheckIfIgnoredField []string

	Pos      string
	File     string
	Parent   *Rule
	Children []*Rule
}

// StaticMatch tests one of the static fields (or user, which tries dstuser
// then srcuser, as analysisd does).
type StaticMatch struct {
	Option string // the element name: srcip, user, url…
	Field  StaticField
	Expr   *expr.Expr
}

// Compliance groups, taken out of <group> as Wazuh's alerts show them.
type Compliance struct {
	PCIDSS, GDPR, HIPAA, NIST80053, TSC, GPG13, CIS []string
}

var compliancePrefixes = []struct {
	prefix string
	dst    func(*Compliance) *[]string
}{
	{"pci_dss_", func(c *Compliance) *[]string { return &c.PCIDSS }},
	{"gdpr_", func(c *Compliance) *[]string { return &c.GDPR }},
	{"hipaa_", func(c *Compliance) *[]string { return &c.HIPAA }},
	{"nist_800_53_", func(c *Compliance) *[]string { return &c.NIST80053 }},
	{"tsc_", func(c *Compliance) *[]string { return &c.TSC }},
	{"gpg13_", func(c *Compliance) *[]string { return &c.GPG13 }},
	{"cis_", func(c *Compliance) *[]string { return &c.CIS }},
}

// addGroups splits a comma-separated group list into plain and compliance groups.
func (r *Rule) addGroups(list string) {
	for _, g := range strings.Split(list, ",") {
		g = strings.TrimSpace(g)
		if g == "" {
			continue
		}
		matched := false
		for _, cp := range compliancePrefixes {
			if strings.HasPrefix(g, cp.prefix) && len(g) > len(cp.prefix) {
				dst := cp.dst(&r.Compliance)
				*dst = append(*dst, g[len(cp.prefix):])
				matched = true
				break
			}
		}
		if !matched {
			r.Groups = append(r.Groups, g)
		}
	}
}

// HasGroup reports whether the rule is in group g (plain groups only).
func (r *Rule) HasGroup(g string) bool {
	for _, x := range r.Groups {
		if x == g {
			return true
		}
	}
	return false
}

var staticRuleOptions = map[string]StaticField{
	"srcport": FieldSrcPort, "dstport": FieldDstPort,
	"user": FieldDstUser, "srcuser": FieldSrcUser, "dstuser": FieldDstUser,
	"url": FieldURL, "id": FieldID, "status": FieldStatus, "action": FieldAction,
	"extra_data": FieldExtraData, "data": FieldData, "protocol": FieldProtocol,
	"system_name": FieldSystemName, "command": FieldCommand,
}

// Default expression types of rule options, as Wazuh 4.x compiles them.
var staticRuleDefaultType = map[string]expr.Type{
	"srcport": expr.OSMatch, "dstport": expr.OSMatch, "user": expr.OSMatch, "srcuser": expr.OSMatch, "dstuser": expr.OSMatch,
	"url": expr.OSMatch, "id": expr.OSMatch, "status": expr.OSMatch, "action": expr.String,
	"extra_data": expr.OSMatch, "data": expr.OSMatch, "protocol": expr.OSMatch, "system_name": expr.OSMatch,
	"command": expr.OSMatch,
}

func atoiAttr(c *collector, n *xmlw.Node, name string, min, max int) (int, bool) {
	v, ok := n.Attr(name)
	if !ok {
		return 0, false
	}
	i, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || i < min || i > max {
		c.errorf(n.Pos(), "<%s %s=%q>: want a whole number from %d to %d", n.Name, name, v, min, max)
		return 0, false
	}
	return i, true
}

// parseRule reads one <rule> inside a <group name="groups">.
func parseRule(c *collector, n *xmlw.Node, groups string, file string) *Rule {
	r := &Rule{Pos: n.Pos(), File: file}
	id, ok := atoiAttr(c, n, "id", 0, 999999)
	if !ok {
		if _, has := n.Attr("id"); !has {
			c.errorf(n.Pos(), "<rule> without an id attribute")
		}
		return nil
	}
	r.ID = id
	if lvl, ok := atoiAttr(c, n, "level", 0, 16); ok {
		r.Level = lvl
	} else if _, has := n.Attr("level"); !has {
		c.errorf(n.Pos(), "rule %d has no level attribute", id)
		return nil
	}
	r.MaxSize, _ = atoiAttr(c, n, "maxsize", 1, 9999)
	r.Frequency, _ = atoiAttr(c, n, "frequency", 2, 9999)
	r.Timeframe, _ = atoiAttr(c, n, "timeframe", 1, 99999)
	r.Ignore, _ = atoiAttr(c, n, "ignore", 0, 1<<30)
	r.Accuracy = true
	if v, ok := atoiAttr(c, n, "accuracy", 0, 9999); ok {
		r.Accuracy = v != 0
	}
	if v, ok := n.Attr("noalert"); ok {
		r.NoAlert = strings.TrimSpace(v) != "0" && strings.TrimSpace(v) != "no"
	}
	if v, ok := n.Attr("overwrite"); ok {
		r.Overwrite = isTrue(v)
	}
	for _, a := range n.Attrs {
		switch a.Name {
		case "id", "level", "maxsize", "frequency", "timeframe", "ignore", "noalert", "overwrite", "accuracy":
		default:
			c.warnf(n.Pos(), "rule %d: unknown attribute %s ignored", id, a.Name)
		}
	}
	r.addGroups(groups)

	acc := newAccumulator()
	for _, ch := range n.Children {
		name := ch.Name
		text := ch.Text
		switch {
		case name == "description":
			// analysisd turns the first line break into a space.
			r.Description = strings.TrimSpace(strings.Replace(text, "\n", " ", 1))
		case name == "group":
			r.addGroups(text)
		case name == "mitre":
			for _, m := range ch.Children {
				if m.Name != "id" {
					c.warnf(m.Pos(), "rule %d: unknown <mitre> option <%s> ignored", id, m.Name)
					continue
				}
				if t := strings.TrimSpace(m.Text); t != "" {
					r.Mitre = append(r.Mitre, t)
				}
			}
		case name == "info":
			typ, _ := ch.Attr("type")
			r.Info = append(r.Info, Info{Type: typ, Value: strings.TrimSpace(text)})
		case name == "options":
			for _, o := range strings.Split(text, ",") {
				switch strings.TrimSpace(o) {
				case "no_full_log":
					r.Options.NoFullLog = true
				case "no_log":
					r.Options.NoLog = true
				case "alert_by_email":
					r.Options.AlertByEmail = true
				case "no_email_alert":
					r.Options.NoEmailAlert = true
				case "no_counter":
					r.Options.NoCounter = true
				case "no_ar", "":
				default:
					c.errorf(ch.Pos(), "rule %d: unknown option %q", id, strings.TrimSpace(o))
				}
			}
		case name == "decoded_as":
			r.DecodedAs = strings.TrimSpace(text)
		case name == "category":
			r.Category = strings.TrimSpace(text)
		case name == "match" || name == "regex" || name == "program_name" || name == "hostname" ||
			name == "location" || name == "srcgeoip" || name == "dstgeoip" ||
			(staticRuleDefaultType[name] != "" && name != "srcip" && name != "dstip"):
			// analysisd appends the text of repeated elements to one pattern.
			acc.add(ch)
		case name == "srcip" || name == "dstip":
			// Repeated address elements form a list: any entry may match.
			if e := compileExpr(c, ch, expr.OSIP); e != nil {
				r.addAddress(name, e)
			}
		case name == "field":
			fname, ok := ch.Attr("name")
			if !ok || strings.TrimSpace(fname) == "" {
				c.errorf(ch.Pos(), "rule %d: <field> without a name attribute", id)
				continue
			}
			if e := compileExpr(c, ch, expr.OSRegex); e != nil {
				r.Fields = append(r.Fields, FieldMatch{Name: fname, Lower: strings.ToLower(fname), Static: LookupStatic(fname), Expr: e})
			}
		case name == "time":
			tr, err := parseTimeRange(text)
			if err != nil {
				c.errorf(ch.Pos(), "rule %d: <time>%s</time>: %v", id, text, err)
			}
			r.Time = tr
		case name == "weekday":
			wd, err := parseWeekdays(text)
			if err != nil {
				c.errorf(ch.Pos(), "rule %d: <weekday>%s</weekday>: %v", id, text, err)
			}
			r.Weekday = wd
		case name == "if_sid":
			// analysisd skips, with a warning, a rule whose if_sid holds
			// anything but digits, commas and spaces.
			if strings.Trim(text, "0123456789, ") != "" || strings.TrimSpace(text) == "" {
				c.warnf(ch.Pos(), "rule %d: <if_sid>%s</if_sid> is not a list of rule ids; the rule is skipped", id, text)
				return nil
			}
			for _, s := range strings.FieldsFunc(text, func(r rune) bool { return r == ',' || r == ' ' }) {
				sid, err := strconv.Atoi(s)
				if err != nil {
					c.errorf(ch.Pos(), "rule %d: <if_sid>: %q is not a rule id", id, s)
					continue
				}
				r.IfSID = append(r.IfSID, sid)
			}
		case name == "if_group":
			r.IfGroup = strings.TrimSpace(text)
		case name == "if_level":
			lvl, err := strconv.Atoi(strings.TrimSpace(text))
			if err != nil || lvl < 1 || lvl > 16 {
				c.errorf(ch.Pos(), "rule %d: <if_level>%s</if_level>: want 1 to 16", id, text)
			}
			r.IfLevel = lvl
		case name == "if_matched_sid":
			sid, err := strconv.Atoi(strings.TrimSpace(text))
			if err != nil {
				c.errorf(ch.Pos(), "rule %d: <if_matched_sid>: %q is not a rule id", id, text)
			}
			r.IfMatchedSID = sid
		case name == "if_matched_group":
			r.IfMatchedGroup = strings.TrimSpace(text)
		case name == "if_fts":
			r.IfFTS = true
		case name == "check_diff":
			r.CheckDiff = true
		case name == "global_frequency":
			r.GlobalFreq = true
		case name == "list":
			r.Lists = append(r.Lists, parseList(c, ch, id))
		case name == "ignore":
			r.IgnoreFields = append(r.IgnoreFields, splitList(text)...)
		case name == "check_if_ignored":
			r.CheckIfIgnoredField = append(r.CheckIfIgnoredField, splitList(text)...)
		case name == "same_field":
			r.Same = append(r.Same, strings.TrimSpace(text))
		case name == "not_same_field":
			r.NotSame = append(r.NotSame, strings.TrimSpace(text))
		case name == "different_field":
			r.Different = append(r.Different, strings.TrimSpace(text))
		case strings.HasPrefix(name, "same_"):
			r.Same = append(r.Same, contextFieldName(strings.TrimPrefix(name, "same_")))
		case strings.HasPrefix(name, "not_same_"):
			r.NotSame = append(r.NotSame, contextFieldName(strings.TrimPrefix(name, "not_same_")))
		case strings.HasPrefix(name, "different_"):
			r.Different = append(r.Different, contextFieldName(strings.TrimPrefix(name, "different_")))
		case name == "compiled_rule":
			fn := strings.TrimSpace(text)
			if !CompiledRules[fn] {
				c.errorf(ch.Pos(), "rule %d: unknown <compiled_rule> %q", id, fn)
			}
			r.CompiledRule = fn
		case name == "var":
		default:
			c.warnf(ch.Pos(), "rule %d: unknown option <%s> ignored", id, name)
		}
	}
	acc.compile(c, r)
	if (r.Frequency > 0 || r.IfMatchedSID != 0 || r.IfMatchedGroup != "") && r.Timeframe == 0 {
		// analysisd's default_timeframe.
		r.Timeframe = DefaultTimeframe
	}
	return r
}

// contextFieldName maps the suffix of same_*/different_* options to the
// field it compares.
func contextFieldName(s string) string {
	switch s {
	case "source_ip":
		return "srcip"
	case "src_port":
		return "srcport"
	case "dst_port":
		return "dstport"
	case "user":
		return "dstuser"
	}
	return s
}

func splitList(s string) []string {
	var out []string
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' }) {
		out = append(out, f)
	}
	return out
}

func parseList(c *collector, n *xmlw.Node, ruleID int) ListLookup {
	l := ListLookup{Path: strings.TrimSpace(n.Text), Pos: n.Pos(), Lookup: "match_key"}
	if v, ok := n.Attr("field"); ok {
		l.Field = strings.TrimSpace(v)
		l.Static = LookupStatic(l.Field)
	} else {
		c.errorf(n.Pos(), "rule %d: <list> without a field attribute", ruleID)
	}
	if v, ok := n.Attr("lookup"); ok {
		switch v {
		case "match_key", "not_match_key", "match_key_value", "not_match_key_value",
			"address_match_key", "not_address_match_key", "address_match_key_value", "not_address_match_key_value":
			l.Lookup = v
		default:
			c.errorf(n.Pos(), "rule %d: <list lookup=%q>: unknown lookup", ruleID, v)
		}
	}
	if v, ok := n.Attr("check_value"); ok {
		e, err := expr.Compile(expr.OSRegex, v, false)
		if err != nil {
			c.errorf(n.Pos(), "rule %d: <list check_value=%q>: %v", ruleID, v, err)
		}
		l.CheckValue = e
	}
	return l
}

func (r *Rule) addAddress(name string, e *expr.Expr) {
	if name == "srcip" {
		r.SrcIP = append(r.SrcIP, e)
	} else {
		r.DstIP = append(r.DstIP, e)
	}
}

// SortKey orders siblings as analysisd's rule list does: levels are
// multiplied by 100 unless accuracy="0", and level 0 counts as 99 so that
// silencing rules are tried first.
func (r *Rule) SortKey() int {
	l := r.Level
	if l == 0 {
		l = 99
	}
	if r.Accuracy {
		l *= 100
	}
	return l
}

// accumulator gathers the text of repeated rule options, which analysisd
// concatenates into one pattern, keeping the last type= and negate= seen.
type accumulator struct {
	order []string
	parts map[string]*accPart
}

type accPart struct {
	text string
	last *xmlw.Node
}

func newAccumulator() *accumulator { return &accumulator{parts: map[string]*accPart{}} }

func (a *accumulator) add(n *xmlw.Node) {
	p, ok := a.parts[n.Name]
	if !ok {
		p = &accPart{}
		a.parts[n.Name] = p
		a.order = append(a.order, n.Name)
	}
	p.text += n.Text
	p.last = n
}

func (a *accumulator) compile(c *collector, r *Rule) {
	for _, name := range a.order {
		p := a.parts[name]
		node := *p.last
		node.Text = p.text
		def := expr.OSMatch
		switch name {
		case "regex":
			def = expr.OSRegex
		case "match", "program_name", "hostname", "location", "srcgeoip", "dstgeoip":
		default:
			def = staticRuleDefaultType[name]
		}
		e := compileExpr(c, &node, def)
		if e == nil {
			continue
		}
		switch name {
		case "match":
			r.Match = e
		case "regex":
			r.Regex = e
		case "program_name":
			r.ProgramName = e
		case "hostname":
			r.Hostname = e
		case "location":
			r.Location = e
		case "srcgeoip":
			r.SrcGeoIP = e
		case "dstgeoip":
			r.DstGeoIP = e
		default:
			r.Static = append(r.Static, StaticMatch{Option: name, Field: staticRuleOptions[name], Expr: e})
		}
	}
}
