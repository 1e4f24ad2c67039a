package ruleset

import (
	"strings"

	"github.com/threatlockdown/tld/internal/ruleset/expr"
	"github.com/threatlockdown/tld/internal/xmlw"
)

// Offset says where in the log a decoder's prematch, regex or plugin starts
// looking, as Wazuh's offset attribute.
type Offset int

const (
	FromStart Offset = iota
	AfterParent
	AfterPrematch
	AfterRegex
)

// OrderField is one capture destination from a decoder's <order>.
type OrderField struct {
	Name   string
	Static StaticField // NotStatic for a dynamic field
}

// JSON null handling of the JSON_Decoder plugin (<json_null_field>).
const (
	JSONNullEmpty   = "empty"
	JSONNullDiscard = "discard"
	JSONNullString  = "string"
)

// Decoder is one <decoder> block.
type Decoder struct {
	// Name is the name in the file. ReportedName is what alerts and
	// <decoded_as> see: a child decoder reports its parent's name unless
	// it has <use_own_name>.
	Name         string
	ReportedName string
	Parent       *Decoder
	ParentName   string
	Type         string

	ProgramName    *expr.Expr
	Prematch       *expr.Expr
	PrematchOffset Offset
	Regex          *expr.Expr
	RegexOffset    Offset
	Order          []OrderField
	FTS            []string
	Accumulate     bool
	UseOwnName     bool
	Plugin         string
	PluginOffset   Offset
	JSONNull       string

	// GetNext chains sibling decoders with the same name: after this
	// one's regex, the next sibling's regex runs too.
	GetNext  bool
	Children []*Decoder
	Pos      string
	typeSet  bool
}

// pluginNames are the plugin decoders analysis runs.
var pluginNames = map[string]bool{
	"JSON_Decoder": true, "OSSECAlert_Decoder": true, "PF_Decoder": true,
	"SonicWall_Decoder": true, "SymantecWS_Decoder": true,
}

func parseOffset(n *xmlw.Node, allowed ...Offset) (Offset, bool) {
	v, ok := n.Attr("offset")
	if !ok {
		return FromStart, true
	}
	var o Offset
	switch strings.TrimSpace(v) {
	case "after_parent":
		o = AfterParent
	case "after_prematch":
		o = AfterPrematch
	case "after_regex":
		o = AfterRegex
	default:
		return FromStart, false
	}
	for _, a := range allowed {
		if a == o {
			return o, true
		}
	}
	return FromStart, false
}

// compileExpr compiles an element's text with its type= and negate=
// attributes, using def when type= is absent.
func compileExpr(c *collector, n *xmlw.Node, def expr.Type) *expr.Expr {
	t := def
	if v, ok := n.Attr("type"); ok {
		pt, err := expr.ParseType(v, def)
		if err != nil {
			c.errorf(n.Pos(), "<%s>: %v", n.Name, err)
			return nil
		}
		t = pt
	}
	negate := false
	if v, ok := n.Attr("negate"); ok {
		switch strings.ToLower(strings.TrimSpace(v)) {
		case "yes", "true":
			negate = true
		case "no", "false":
		default:
			c.errorf(n.Pos(), "<%s negate=%q>: want yes or no", n.Name, v)
		}
	}
	e, err := expr.Compile(t, n.Text, negate)
	if err != nil {
		c.errorf(n.Pos(), "<%s>%s</%s>: %v", n.Name, n.Text, n.Name, err)
		return nil
	}
	return e
}

// parseDecoder reads one <decoder> element. Linking to the parent happens
// once every file is read.
func parseDecoder(c *collector, n *xmlw.Node) *Decoder {
	name, ok := n.Attr("name")
	name = strings.TrimSpace(name)
	if !ok || name == "" {
		c.errorf(n.Pos(), "<decoder> without a name attribute")
		return nil
	}
	// JSON nulls become the text "null" unless the decoder says otherwise.
	d := &Decoder{Name: name, ReportedName: name, Type: "syslog", Pos: n.Pos(), JSONNull: JSONNullString}
	// analysisd appends the text of repeated <prematch> and <regex>
	// elements into one pattern; the last element's attributes count.
	var prematch, regex *xmlw.Node
	for _, ch := range n.Children {
		switch ch.Name {
		case "parent":
			d.ParentName = strings.TrimSpace(ch.Text)
		case "program_name":
			d.ProgramName = compileExpr(c, ch, expr.OSMatch)
		case "prematch":
			prematch = appendText(prematch, ch)
			// An offset, once given, stays for the concatenated pattern.
			if _, has := ch.Attr("offset"); has {
				off, ok := parseOffset(ch, AfterParent)
				if !ok {
					c.errorf(ch.Pos(), "<prematch>: offset must be after_parent")
				}
				d.PrematchOffset = off
			}
		case "regex":
			regex = appendText(regex, ch)
			if _, has := ch.Attr("offset"); has {
				off, ok := parseOffset(ch, AfterParent, AfterPrematch, AfterRegex)
				if !ok {
					c.errorf(ch.Pos(), "<regex>: offset must be after_parent, after_prematch or after_regex")
				}
				d.RegexOffset = off
			}
		case "order":
			for _, f := range strings.Split(ch.Text, ",") {
				f = strings.TrimSpace(f)
				if f == "" {
					continue
				}
				d.Order = append(d.Order, OrderField{Name: f, Static: LookupStatic(f)})
			}
		case "fts":
			for _, f := range strings.Split(ch.Text, ",") {
				if f = strings.TrimSpace(f); f != "" {
					d.FTS = append(d.FTS, f)
				}
			}
		case "ftscomment":
		case "type":
			d.Type = strings.TrimSpace(ch.Text)
			d.typeSet = true
		case "plugin_decoder":
			p := strings.TrimSpace(ch.Text)
			if !pluginNames[p] {
				c.errorf(ch.Pos(), "unknown plugin decoder %q", p)
			}
			d.Plugin = p
			off, ok := parseOffset(ch, AfterParent, AfterPrematch)
			if !ok {
				c.errorf(ch.Pos(), "<plugin_decoder>: offset must be after_parent or after_prematch")
			}
			d.PluginOffset = off
		case "use_own_name":
			d.UseOwnName = isTrue(ch.Text)
		case "accumulate":
			d.Accumulate = true
		case "json_null_field":
			switch v := strings.TrimSpace(ch.Text); v {
			case JSONNullEmpty, JSONNullDiscard, JSONNullString:
				d.JSONNull = v
			default:
				c.errorf(ch.Pos(), "<json_null_field>: %q is not one of empty, discard, string", v)
			}
		case "var":
		default:
			c.warnf(ch.Pos(), "unknown decoder option <%s> ignored", ch.Name)
		}
	}
	if prematch != nil {
		d.Prematch = compileExpr(c, prematch, expr.OSRegex)
	}
	if regex != nil {
		d.Regex = compileExpr(c, regex, expr.OSRegex)
	}
	if d.Regex != nil && len(d.Order) == 0 {
		// Wazuh accepts it; captures are simply discarded.
		d.Order = nil
	}
	return d
}

// appendText returns a copy of n whose text follows acc's, as analysisd
// concatenates repeated elements.
func appendText(acc, n *xmlw.Node) *xmlw.Node {
	cp := *n
	if acc != nil {
		cp.Text = acc.Text + n.Text
	}
	return &cp
}

func isTrue(s string) bool {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "yes", "true", "1":
		return true
	}
	return false
}

// linkDecoders builds the decoder tree: children under their parents (a
// child with the same name as an earlier sibling is chained to it), and the
// list of top-level decoders in load order.
func linkDecoders(c *collector, all []*Decoder) []*Decoder {
	rootsByName := make(map[string][]*Decoder)
	var roots []*Decoder
	for _, d := range all {
		if d.ParentName == "" {
			rootsByName[d.Name] = append(rootsByName[d.Name], d)
			roots = append(roots, d)
			continue
		}
		parents := rootsByName[d.ParentName]
		if len(parents) == 0 {
			c.errorf(d.Pos, "decoder %q: parent decoder %q is not defined before it (a parent must be a top-level decoder)", d.Name, d.ParentName)
			continue
		}
		if !d.UseOwnName {
			d.ReportedName = d.ParentName
		}
		// analysisd adds a child below every top-level decoder of that name.
		for i, parent := range parents {
			child := d
			if i > 0 {
				cp := *d
				child = &cp
			}
			child.Parent = parent
			if !child.typeSet && parent.Type != "" {
				child.Type = parent.Type
			}
			addChild(parent, child)
		}
	}
	return roots
}

// addChild appends a child decoder; a child with the same name as an
// earlier sibling continues that sibling's regex chain, kept contiguous so
// the chain runs in file order.
func addChild(parent, d *Decoder) {
	last := -1
	for i, s := range parent.Children {
		if s.Name == d.Name {
			last = i
		}
	}
	if last < 0 {
		parent.Children = append(parent.Children, d)
		return
	}
	parent.Children[last].GetNext = true
	parent.Children = append(parent.Children, nil)
	copy(parent.Children[last+2:], parent.Children[last+1:])
	parent.Children[last+1] = d
}
