package xmlw

import (
	"bytes"
	"errors"
	"testing"
)

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"",
		"<root></root>",
		`<group name="syslog,"><rule id="1" level="3"><match>$BAD</match></rule></group>`,
		`<var name="BAD">x|y</var><r a="$BAD">$BAD $(f)</r>`,
		`<prematch>\<log>\.+\</log></prematch><f>E:\\</f>`,
		"<!-- a -- b --->\n<a><b x='1'/></a>",
		"<?xml version=\"1.0\"?><a><![CDATA[x]]></a>",
		"<ossec_config><wodle name=\"azure-logs\"><log_analytics><tenantdomain><PRIMARY_DOMAIN></tenantdomain></log_analytics></wodle></ossec_config>",
		"<a\r\nb=\"1\">x</a>\n</b>",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		lines := bytes.Count(data, []byte("\n")) + 1
		for _, opt := range []Options{{}, {Placeholders: true}, {WazuhLimits: true}} {
			nodes, err := ParseOptions("fuzz.xml", data, opt)
			if err != nil {
				var se *SyntaxError
				if !errors.As(err, &se) {
					t.Fatalf("error of type %T: %v", err, err)
				}
				if se.Line < 1 || se.Line > lines {
					t.Fatalf("error line %d outside 1..%d: %v", se.Line, lines, err)
				}
				continue
			}
			checkLines(t, nodes, lines)
			if opt.WazuhLimits {
				// Within the limits, the default reading is the same.
				plain, err := Parse("fuzz.xml", data)
				if err != nil || render(plain) != render(nodes) {
					t.Fatalf("limits changed the reading: %v", err)
				}
			}
			nodes, err = ApplyVariables(nodes)
			if err != nil {
				var se *SyntaxError
				if !errors.As(err, &se) || se.Line < 1 || se.Line > lines {
					t.Fatalf("bad variable error: %v", err)
				}
				continue
			}
			checkLines(t, nodes, lines)
		}
	})
}

func checkLines(t *testing.T, nodes []*Node, lines int) {
	t.Helper()
	for _, n := range nodes {
		if n.Line < 1 || n.Line > lines {
			t.Fatalf("element <%s> at line %d outside 1..%d", n.Name, n.Line, lines)
		}
		if n.File != "fuzz.xml" {
			t.Fatalf("element <%s> in file %q", n.Name, n.File)
		}
		checkLines(t, n.Children, lines)
	}
}
