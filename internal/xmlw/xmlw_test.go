package xmlw

import (
	"errors"
	"strings"
	"testing"
)

// render writes nodes back in the form Wazuh's own tests use: every element
// as <name a="v">text children</name>.
func render(nodes []*Node) string {
	var b strings.Builder
	var walk func([]*Node)
	walk = func(ns []*Node) {
		for _, n := range ns {
			b.WriteString("<" + n.Name)
			for _, a := range n.Attrs {
				b.WriteString(" " + a.Name + `="` + a.Value + `"`)
			}
			b.WriteString(">" + n.Text)
			walk(n.Children)
			b.WriteString("</" + n.Name + ">")
		}
	}
	walk(nodes)
	return b.String()
}

type parseCase struct {
	name string
	in   string
	opt  Options
	want string // rendering, when no error is expected
	err  string // part of the error message
	line int    // line of the error
}

func runParseCases(t *testing.T, cases []parseCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			nodes, err := ParseOptions("test.xml", []byte(tc.in), tc.opt)
			if tc.err != "" {
				var se *SyntaxError
				if !errors.As(err, &se) {
					t.Fatalf("got %v (%s), want a *SyntaxError containing %q", err, render(nodes), tc.err)
				}
				if !strings.Contains(se.Msg, tc.err) {
					t.Errorf("error %q does not contain %q", se.Msg, tc.err)
				}
				if tc.line != 0 && se.Line != tc.line {
					t.Errorf("error at line %d, want %d (%v)", se.Line, tc.line, err)
				}
				if se.File != "test.xml" {
					t.Errorf("error names file %q", se.File)
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if got := render(nodes); got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}

// The cases of Wazuh's own unit tests of os_xml (tests/os_xml), then the
// quirks found by reading its reader.
func TestParseAcceptsWhatWazuhAccepts(t *testing.T) {
	runParseCases(t, []parseCase{
		{name: "an empty document has no elements", in: "", want: ""},
		{name: "an empty element", in: "<root></root>", want: "<root></root>"},
		{name: "a self-closed element", in: "<root/>", want: "<root></root>"},
		{name: "a self-closed element with a space", in: "<root />", want: "<root></root>"},
		{name: "several top-level elements", in: "<root1></root1><root2></root2><root3/>",
			want: "<root1></root1><root2></root2><root3></root3>"},
		{name: "nested children",
			in:   "<root1><child1></child1></root1><root2><child1></child1><child2/><child3><child3.1></child3.1></child3></root2><root3></root3>",
			want: "<root1><child1></child1></root1><root2><child1></child1><child2></child2><child3><child3.1></child3.1></child3></root2><root3></root3>"},
		{name: "text before a child is dropped", in: "<root>value1<child/>value2</root>",
			want: "<root>value2<child></child></root>"},
		{name: "two attributes", in: `<root attr1="test" attr2="1"></root>`, want: `<root attr1="test" attr2="1"></root>`},
		{name: "attributes separated by newline and tab", in: "<root attr1=\"test\"\nattr2=\"test\"\tattr3=\"test\"></root>",
			want: `<root attr1="test" attr2="test" attr3="test"></root>`},
		{name: "a slash inside a value", in: `<root attr1="test/test"></root>`, want: `<root attr1="test/test"></root>`},
		{name: "whitespace runs between attributes", in: "<root attr1=\"test\"\n\t  \t\n  \n\t  \nattr2=\"test\"></root>",
			want: `<root attr1="test" attr2="test"></root>`},
		{name: "whitespace before the first attribute", in: "<root\n\t  \t\n  \n\t  \nattr1=\"test\"></root>",
			want: `<root attr1="test"></root>`},
		{name: "whitespace after the equal sign", in: "<root attr1=\n\t  \t\n  \n\t  \n\"test\"></root>",
			want: `<root attr1="test"></root>`},
		{name: "an attribute then space and slash", in: `<root attr="test" />`, want: `<root attr="test"></root>`},
		{name: "an attribute then slash", in: `<root attr="test"/>`, want: `<root attr="test"></root>`},
		{name: "single quotes may hold double quotes", in: `<a b='x"y'/>`, want: `<a b="x"y"></a>`},
		{name: "an OSSEC comment", in: "<root1/><!comment!><root2/>", want: "<root1></root1><root2></root2>"},
		{name: "an XML comment", in: "<root1/><!--comment--><root2/>", want: "<root1></root1><root2></root2>"},
		{name: "a comment holding !", in: "<root1/><! comment with ! !><root2/>", want: "<root1></root1><root2></root2>"},
		{name: "a comment holding -", in: "<root1/><! comment with - --><root2/>", want: "<root1></root1><root2></root2>"},
		{name: "a comment holding --", in: "<!-- a -- b -- c --><a/>", want: "<a></a>"},
		{name: "--- then > closes a comment", in: "<!-- a ---><a/>", want: "<a></a>"},
		{name: "a comment inside text is removed", in: "<a>x<!-- c -->y</a>", want: "<a>xy</a>"},
		{name: "a comment inside a tag name is removed", in: "<ro<!--x-->ot></root>", want: "<root></root>"},
		{name: "a comment spanning lines", in: "<!--\n<a>\n-->\n<b/>", want: "<b></b>"},
		{name: "escaped < and > in text stay escaped", in: `<root1>\</root1\></root1>`, want: `<root1>\</root1\></root1>`},
		{name: "an escaped backslash before a closing tag", in: `<field>E:\\</field>`, want: `<field>E:\\</field>`},
		{name: "three backslashes escape the <", in: `<a>\\\<b</a>`, want: `<a>\\\<b</a>`},
		{name: "an escaped backslash before a child", in: `<a>x\\<b/></a>`, want: `<a><b></b></a>`},
		{name: "a regex with \\< and \\>", in: `<prematch>\<log>\.+\</log></prematch>`, want: `<prematch>\<log>\.+\</log></prematch>`},
		{name: "raw ampersands and entities are kept", in: `<a>x &amp; y & z &lt;</a>`, want: `<a>x &amp; y & z &lt;</a>`},
		{name: "text is not trimmed", in: "<a>  x \n</a>", want: "<a>  x \n</a>"},
		{name: "text between top-level elements is ignored", in: "junk <a/> more junk", want: "<a></a>"},
		{name: "an escaped < at the top level is ignored", in: `\<a/><b/>`, want: "<b></b>"},
		{name: "an XML declaration is skipped", in: "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<a/>", want: "<a></a>"},
		{name: "a byte order mark is ignored", in: "\ufeff<a/>", want: "<a></a>"},
		{name: "the > after a child closed with attributes and / becomes text",
			in: `<a><b x="1"/></a>`, want: `<a>><b x="1"></b></a>`},
		{name: "the > after a child closed with space and / becomes text",
			in: "<a><b />\n</a>", want: "<a>>\n<b></b></a>"},
		{name: "the > after a child closed with / alone is consumed", in: "<a><b/></a>", want: "<a><b></b></a>"},
		{name: "carriage returns end a tag name", in: "<a\r\nb=\"1\">x</a>", want: `<a b="1">x</a>`},
		{name: "an attribute may hold <", in: `<a b="<c"/>`, want: `<a b="<c"></a>`},
		{name: "an empty tag name", in: "<></>", want: "<></>"},
		{name: "a tag name holding an escaped <", in: `<a\<b></a\<b>`, want: `<a\<b></a\<b>`},
		{name: "a closed element after a self-closed one", in: "<x><a/><b>t</b></x>", want: "<x><a></a><b>t</b></x>"},
		{name: "a placeholder as text", in: "<t><PRIMARY_DOMAIN></t>", opt: Options{Placeholders: true},
			want: "<t><PRIMARY_DOMAIN></t>"},
		{name: "a placeholder amid text", in: "<t>x <ID_2> y</t>", opt: Options{Placeholders: true},
			want: "<t>x <ID_2> y</t>"},
		{name: "lowercase tags are still elements with placeholders on", in: "<t><u>x</u></t>", opt: Options{Placeholders: true},
			want: "<t><u>x</u></t>"},
		{name: "text of 2047 bytes within Wazuh's limits", in: "<a>" + strings.Repeat("x", 2047) + "</a>", opt: Options{WazuhLimits: true},
			want: "<a>" + strings.Repeat("x", 2047) + "</a>"},
		{name: "text of 2048 bytes without limits", in: "<a>" + strings.Repeat("x", 2048) + "</a>",
			want: "<a>" + strings.Repeat("x", 2048) + "</a>"},
		{name: "1024 levels of nesting", in: strings.Repeat("<a>", 1024) + strings.Repeat("</a>", 1024),
			want: strings.Repeat("<a>", 1024) + strings.Repeat("</a>", 1024)},
	})
}

func TestParseRejectsWhatWazuhRejects(t *testing.T) {
	runParseCases(t, []parseCase{
		{name: "an element not closed", in: "<root>", err: "element <root> not closed", line: 1},
		{name: "an inner element not closed", in: "<a>\n<b>\n</a>", err: "element <b> (line 2) not closed: found </a>", line: 3},
		{name: "a name ended by / then junk", in: "<root/{>", err: "element <root/{> not closed"},
		{name: "a different closing tag", in: "<root></root2>", err: "element <root> (line 1) not closed: found </root2>", line: 1},
		{name: "a space in a closing tag", in: "<a>x</a >", err: "found </a >"},
		{name: "a comment not closed", in: "<a/>\n<!-- comment", err: "comment not closed", line: 2},
		{name: "CDATA is an unclosed comment", in: "<a><![CDATA[x]]></a>", err: "comment not closed"},
		{name: "a closing tag without an opening one", in: "</root>", err: "closing tag </root> without an opening tag", line: 1},
		{name: "> inside an attribute value", in: `<root attr="attribute></root>`, err: `attribute "attr" of <root> not closed`},
		{name: "a comment inside an attribute value", in: `<a b="<!-- x -->"/>`, err: "not closed"},
		{name: "an unquoted value", in: "<root attr=attribute></root>", err: `attribute "attr" of <root> not followed by a " or '`},
		{name: "end of file in an attribute name", in: "<root attr", err: "end of file while reading an attribute"},
		{name: "end of file after =", in: "<root attr=", err: "not followed by"},
		{name: "junk between = and the quote", in: `<root attr=  test"test"/>`, err: "not followed by"},
		{name: "end of file after the closing quote", in: "<root attr=''", err: "bad attribute closing for attr=\"\""},
		{name: "junk after the closing quote", in: "<root attr='test'test/>", err: "bad attribute closing for attr=\"test\""},
		{name: "end of file in a value", in: "<root attr='", err: "end of file while reading an attribute"},
		{name: "a repeated attribute", in: "<root attr='test' attr2='test' attr='test123'></root>", err: `attribute "attr" of <root> already defined`},
		{name: "an attribute without value", in: "<root attr></root>", err: `attribute "attr" of <root> has no value`},
		{name: "a first attribute without value", in: "<root attr attr2='test'></root>", err: `attribute "attr" of <root> has no value`},
		{name: "a space before =", in: `<a b ="1"/>`, err: `attribute "b" of <a> has no value`},
		{name: "a raw < in text", in: "<a>1 < 2</a>", err: "has no value"},
		{name: "a placeholder without the option", in: "<t>\n<PRIMARY_DOMAIN></t>", err: "element <PRIMARY_DOMAIN> (line 2) not closed: found </t>", line: 2},
		{name: "a processing instruction not closed", in: "<?xml version='1.0'", err: "processing instruction"},
		{name: "text of 2048 bytes beyond Wazuh's limits", in: "<a>" + strings.Repeat("x", 2048) + "</a>", opt: Options{WazuhLimits: true}, err: "limit"},
		{name: "an attribute of 2048 bytes beyond Wazuh's limits", in: `<a b="` + strings.Repeat("x", 2048) + `"/>`, opt: Options{WazuhLimits: true}, err: "limit"},
		{name: "1025 levels of nesting", in: strings.Repeat("<a>", 1025) + strings.Repeat("</a>", 1025), err: "nested more than 1024"},
		{name: "a tag cut by the end of file", in: "<a", err: "tag <a not finished"},
	})
}

func TestLinesCountFromOne(t *testing.T) {
	in := "<root1/>\n<root2/>\n<!--\n\n-->\n<root3\nattr='1'>\n<child>x</child></root3>"
	nodes, err := Parse("f.xml", []byte(in))
	if err != nil {
		t.Fatal(err)
	}
	got := []int{nodes[0].Line, nodes[1].Line, nodes[2].Line, nodes[2].Children[0].Line}
	want := []int{1, 2, 6, 8}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("lines %v, want %v", got, want)
			break
		}
	}
	if p := nodes[2].Pos(); p != "f.xml:6" {
		t.Errorf("Pos() = %q", p)
	}
}

func TestNodeAccessors(t *testing.T) {
	nodes, err := Parse("f.xml", []byte(`<rule id="1" level="3"><if_sid>5</if_sid><match>a</match><match>b</match></rule>`))
	if err != nil {
		t.Fatal(err)
	}
	n := nodes[0]
	if v, ok := n.Attr("level"); !ok || v != "3" {
		t.Errorf(`Attr("level") = %q, %v`, v, ok)
	}
	if _, ok := n.Attr("Level"); ok {
		t.Error("Attr compares names exactly")
	}
	if c := n.Child("match"); c == nil || c.Text != "a" {
		t.Errorf(`Child("match") = %+v`, c)
	}
	if c := n.Child("regex"); c != nil {
		t.Errorf(`Child("regex") = %+v`, c)
	}
}

func TestSyntaxErrorNamesFileAndLine(t *testing.T) {
	_, err := Parse("rules/x.xml", []byte("<group>\n<rule>\n</group>"))
	if err == nil || !strings.HasPrefix(err.Error(), "rules/x.xml:3: ") {
		t.Errorf("error = %v, want it to start with rules/x.xml:3:", err)
	}
}

func TestParseFile(t *testing.T) {
	if _, err := ParseFile("testdata/does-not-exist.xml"); err == nil {
		t.Error("ParseFile of a missing file succeeded")
	}
}
