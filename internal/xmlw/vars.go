package xmlw

import (
	"strings"
)

// Limits of Wazuh's variables (XML_VARIABLE_MAXSIZE).
const varMaxSize = 256

// ApplyVariables resolves variables as Wazuh's rule and decoder loaders do
// (OS_ApplyVariables) and returns the nodes without the variable definitions.
// It changes the nodes in place.
//
//   - An element named "var" (in any case, at any depth) defines a variable:
//     its first attribute must be "name" (any case), and its raw Text is the
//     value. As in Wazuh, a <var> without attributes takes the first attribute
//     of the elements after it, which must then be a "name".
//   - Definitions apply to what follows them in document order (an element,
//     then its attributes, then its children). Before the first definition
//     nothing is substituted and "$" means nothing.
//   - In the Text and attribute values of other elements, "$NAME" is replaced
//     by the value of NAME (names compare without case). A name ends at "$",
//     ".", "|", ",", " " or the end of the string. A text of 2 bytes or fewer
//     is left alone. "$(field)" — the dynamic fields of rule descriptions —
//     is left as is, and so is a "$" followed at once by a terminator.
//   - Any other unknown name is an error, as in Wazuh.
//   - An attribute named "var" is, in Wazuh, a variable definition too; it
//     and the attributes after it disappear from the element.
func ApplyVariables(nodes []*Node) ([]*Node, error) {
	var items []item
	for _, n := range nodes {
		items = flatten(items, n, 0)
	}
	var defs []varDef
	for i, it := range items {
		if it.isVar() {
			name, err := varName(items, i)
			if err != nil {
				return nil, err
			}
			value := it.node.Text
			if it.attr >= 0 {
				value = it.node.Attrs[it.attr].Value
			}
			defs = append(defs, varDef{name: name, value: value})
			continue
		}
		if len(defs) == 0 {
			continue
		}
		s := &it.node.Text
		if it.attr >= 0 {
			s = &it.node.Attrs[it.attr].Value
		}
		v, err := substitute(*s, defs, it.node)
		if err != nil {
			return nil, err
		}
		*s = v
	}
	return strip(nodes), nil
}

type item struct {
	node  *Node
	attr  int // index in node.Attrs, or -1 for the element itself
	depth int
}

func (it item) isVar() bool {
	if it.attr < 0 {
		return strings.EqualFold(it.node.Name, "var")
	}
	return strings.EqualFold(it.node.Attrs[it.attr].Name, "var")
}

// flatten lists n in Wazuh's internal order: the element, its attributes (at
// the element's depth), then its children.
func flatten(items []item, n *Node, depth int) []item {
	items = append(items, item{node: n, attr: -1, depth: depth})
	for i := range n.Attrs {
		items = append(items, item{node: n, attr: i, depth: depth})
	}
	for _, c := range n.Children {
		items = flatten(items, c, depth+1)
	}
	return items
}

// varName finds the name of the variable defined at items[i]: the first plain
// attribute among the items that follow it at its depth or deeper.
func varName(items []item, i int) (string, error) {
	def := items[i]
	for _, it := range items[i+1:] {
		if it.depth < def.depth {
			break
		}
		if it.attr < 0 || it.isVar() {
			continue
		}
		a := it.node.Attrs[it.attr]
		if !strings.EqualFold(a.Name, "name") {
			return "", &SyntaxError{File: it.node.File, Line: it.node.Line,
				Msg: `only "name" is allowed as an attribute for a variable`}
		}
		if len(a.Value) >= varMaxSize {
			return "", &SyntaxError{File: it.node.File, Line: it.node.Line,
				Msg: "variable name longer than 255 bytes"}
		}
		return a.Value, nil
	}
	return "", &SyntaxError{File: def.node.File, Line: def.node.Line, Msg: "no name set for variable"}
}

type varDef struct{ name, value string }

func isVarEnd(c byte) bool {
	return c == '$' || c == '.' || c == '|' || c == ',' || c == ' '
}

func substitute(s string, defs []varDef, n *Node) (string, error) {
	if len(s) <= 2 || strings.IndexByte(s, '$') < 0 {
		return s, nil
	}
	var b strings.Builder
	i := 0
	for i < len(s) {
		if s[i] != '$' {
			j := strings.IndexByte(s[i:], '$')
			if j < 0 {
				b.WriteString(s[i:])
				break
			}
			b.WriteString(s[i : i+j])
			i += j
			continue
		}
		j := i + 1
		for j < len(s) && !isVarEnd(s[j]) {
			if j-(i+1) >= varMaxSize-1 {
				return "", &SyntaxError{File: n.File, Line: n.Line, Msg: "variable name longer than 255 bytes"}
			}
			j++
		}
		name := s[i+1 : j]
		switch v, ok := lookup(defs, name); {
		case ok:
			b.WriteString(v)
		case name == "" || name[0] == '(':
			b.WriteString(s[i:j])
		default:
			return "", &SyntaxError{File: n.File, Line: n.Line, Msg: "unknown variable: $" + name}
		}
		// The byte that ended the name is read again: it may start another.
		i = j
	}
	return b.String(), nil
}

func lookup(defs []varDef, name string) (string, bool) {
	for _, d := range defs {
		if strings.EqualFold(d.name, name) {
			return d.value, true
		}
	}
	return "", false
}

// strip removes variable definitions, as Wazuh's node access does: elements
// named "var", and the attributes from one named "var" on.
func strip(nodes []*Node) []*Node {
	out := nodes[:0]
	for _, n := range nodes {
		if strings.EqualFold(n.Name, "var") {
			continue
		}
		for i, a := range n.Attrs {
			if strings.EqualFold(a.Name, "var") {
				n.Attrs = n.Attrs[:i]
				break
			}
		}
		n.Children = strip(n.Children)
		out = append(out, n)
	}
	return out
}
