package xmlw

import (
	"errors"
	"strings"
	"testing"
)

func TestApplyVariables(t *testing.T) {
	cases := []struct {
		name string
		in   string
		want string
		err  string
		line int
	}{
		{name: "variables in attributes and text (Wazuh's own test)",
			in: `<var name="var1">value1</var><var name="var2">value2</var>` +
				`<root attr1="$var1" attr2="1">$var2</root>` +
				`<root attr1="blah$var1" attr2="1">blah$var2</root>` +
				`<root attr1="blah$var1$var2 blah" attr2="1">blah$var2$var1 blah</root>`,
			want: `<root attr1="value1" attr2="1">value2</root>` +
				`<root attr1="blahvalue1" attr2="1">blahvalue2</root>` +
				`<root attr1="blahvalue1value2 blah" attr2="1">blahvalue2value1 blah</root>`},
		{name: "without any variable a $ means nothing", in: `<root>$var</root>`, want: `<root>$var</root>`},
		{name: "an unknown variable is an error once one is defined",
			in: "<var name=\"test\">content</var>\n<root>$var</root>", err: "unknown variable: $var", line: 2},
		{name: "a use before the first definition is left alone",
			in: `<root>$X</root><var name="X">1</var>`, want: `<root>$X</root>`},
		{name: "a use before a later definition is an error",
			in: `<var name="A">1</var><r>x $B</r><var name="B">2</var>`, err: "unknown variable: $B"},
		{name: "names compare without case", in: `<VAR NAME="Foo">1</VAR><r>$FOO.x</r>`, want: `<r>1.x</r>`},
		{name: "the first definition of a name wins", in: `<var name="a">1</var><var name="A">2</var><r>x$a</r>`, want: `<r>x1</r>`},
		{name: "names end at $ . | , and space",
			in:   `<var name="A">1</var><var name="B">2</var><r>$A|$B,$A.x $B$A</r>`,
			want: `<r>1|2,1.x 21</r>`},
		{name: "a name runs to any other byte", in: `<var name="A">1</var><r>$A)</r>`, err: "unknown variable: $A)"},
		{name: "dynamic fields $(x) are left alone",
			in:   `<var name="MS_FREQ">8</var><rule frequency="$MS_FREQ"><description>x $(win.data) y ($(a)) $MS_FREQ</description></rule>`,
			want: `<rule frequency="8"><description>x $(win.data) y ($(a)) 8</description></rule>`},
		{name: "a lone $ is left alone", in: `<var name="A">1</var><r>^a$|b$ $</r>`, want: `<r>^a$|b$ $</r>`},
		{name: "text of two bytes or fewer is left alone", in: `<var name="A">1</var><r>$A</r><s>$Q</s>`, want: `<r>$A</r><s>$Q</s>`},
		{name: "variable values are raw text", in: `<var name="BAD">core_dumped|failure|error</var><match>$BAD</match>`,
			want: `<match>core_dumped|failure|error</match>`},
		{name: "nested definitions are removed too",
			in: `<group name="g"><var name="LVL">5</var><rule level="$LVL"></rule></group>`, want: `<group name="g"><rule level="5"></rule></group>`},
		{name: "only name is allowed on a variable", in: `<var test="test"></var>`, err: `only "name" is allowed`},
		{name: "a variable needs a name", in: `<var>content</var><root>$var</root>`, err: "no name set for variable"},
		{name: "a nameless variable takes the next name attribute, as in Wazuh",
			in:   `<var>value</var><group name="G1"><rule>x $G1</rule></group>`,
			want: `<group name="G1"><rule>x value</rule></group>`},
		{name: "a variable name of 256 bytes", in: `<var name="` + strings.Repeat("c", 256) + `">t</var><r/>`, err: "longer than 255"},
		{name: "a reference of 256 bytes", in: `<var name="t">c</var><r>$` + strings.Repeat("c", 265) + `</r>`, err: "longer than 255"},
		{name: "an attribute named var defines a variable and hides the attributes from it on",
			in:   `<var name="A">1</var><a x="1" var="y" name="N">t</a><b>x $N</b>`,
			want: `<a x="1">t</a><b>x y</b>`},
		{name: "an attribute named var followed by another attribute is an error, as in Wazuh",
			in: `<a x="1" var="y" z="2">t</a>`, err: `only "name" is allowed`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			nodes, err := Parse("v.xml", []byte(tc.in))
			if err != nil {
				t.Fatal(err)
			}
			nodes, err = ApplyVariables(nodes)
			if tc.err != "" {
				var se *SyntaxError
				if !errors.As(err, &se) || !strings.Contains(se.Msg, tc.err) {
					t.Fatalf("got %v, want an error containing %q", err, tc.err)
				}
				if tc.line != 0 && se.Line != tc.line {
					t.Errorf("error at line %d, want %d", se.Line, tc.line)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := render(nodes); got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}
