package analysis

import (
	"errors"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/threatlockdown/tld/internal/ruleset"
)

// jsonStatic maps the top-level keys that Wazuh's JSON_Decoder stores in
// static fields instead of dynamic ones.
var jsonStatic = map[string]ruleset.StaticField{
	"srcip": ruleset.FieldSrcIP, "dstip": ruleset.FieldDstIP, "dstport": ruleset.FieldDstPort,
	"srcport": ruleset.FieldSrcPort, "protocol": ruleset.FieldProtocol, "action": ruleset.FieldAction,
	"srcuser": ruleset.FieldSrcUser, "dstuser": ruleset.FieldDstUser, "id": ruleset.FieldID,
	"status": ruleset.FieldStatus, "command": ruleset.FieldCommand, "url": ruleset.FieldURL,
	"data": ruleset.FieldData, "systemname": ruleset.FieldSystemName,
}

var errJSON = errors.New("malformed JSON")

// decodeJSON is the JSON_Decoder plugin: every scalar of the document
// becomes a field named by its dotted path. Numbers keep their literal
// text, booleans are "true"/"false", nulls follow <json_null_field>, and
// arrays are kept as compact JSON text (written back as arrays in alerts).
func decodeJSON(d *Decoded, input string, nullMode string) error {
	// A document that fails to parse yields no fields at all, as cJSON
	// rejects it whole in Wazuh.
	savedStatic, savedSet, savedLen := d.static, d.staticSet, len(d.dynamic)
	p := jsonParser{s: input, d: d, nullMode: nullMode}
	p.skipSpace()
	err := errJSON
	if p.i < len(p.s) && p.s[p.i] == '{' {
		err = p.object("")
	}
	if err != nil {
		d.static, d.staticSet, d.dynamic = savedStatic, savedSet, d.dynamic[:savedLen]
	}
	return err
}

type jsonParser struct {
	s        string
	i        int
	d        *Decoded
	nullMode string
	depth    int
}

const maxJSONDepth = 256

func (p *jsonParser) skipSpace() {
	for p.i < len(p.s) {
		switch p.s[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *jsonParser) store(key, val string, raw bool) {
	if key == "" {
		return
	}
	if f, ok := jsonStatic[key]; ok {
		p.d.SetStatic(f, val)
		return
	}
	p.d.AddDynamic(key, val, raw)
}

func (p *jsonParser) object(prefix string) error {
	p.depth++
	if p.depth > maxJSONDepth {
		return errJSON
	}
	defer func() { p.depth-- }()
	p.i++ // '{'
	p.skipSpace()
	if p.i < len(p.s) && p.s[p.i] == '}' {
		p.i++
		return nil
	}
	for {
		p.skipSpace()
		k, err := p.str()
		if err != nil {
			return err
		}
		key := k
		if prefix != "" {
			key = prefix + "." + k
		}
		p.skipSpace()
		if p.i >= len(p.s) || p.s[p.i] != ':' {
			return errJSON
		}
		p.i++
		p.skipSpace()
		if err := p.value(key); err != nil {
			return err
		}
		p.skipSpace()
		if p.i >= len(p.s) {
			return errJSON
		}
		switch p.s[p.i] {
		case ',':
			p.i++
		case '}':
			p.i++
			return nil
		default:
			return errJSON
		}
	}
}

func (p *jsonParser) value(key string) error {
	if p.i >= len(p.s) {
		return errJSON
	}
	switch c := p.s[p.i]; {
	case c == '{':
		return p.object(key)
	case c == '[':
		start := p.i
		if err := p.skipValue(); err != nil {
			return err
		}
		p.store(key, compactJSON(p.s[start:p.i]), true)
		return nil
	case c == '"':
		v, err := p.str()
		if err != nil {
			return err
		}
		p.store(key, v, false)
		return nil
	case c == 't' || c == 'f' || c == 'n':
		for _, lit := range []string{"true", "false", "null"} {
			if len(p.s)-p.i >= len(lit) && p.s[p.i:p.i+len(lit)] == lit {
				p.i += len(lit)
				if lit == "null" {
					switch p.nullMode {
					case ruleset.JSONNullDiscard:
					case ruleset.JSONNullEmpty:
						p.store(key, "", false)
					default:
						p.store(key, "null", false)
					}
					return nil
				}
				p.store(key, lit, false)
				return nil
			}
		}
		return errJSON
	case c == '-' || (c >= '0' && c <= '9'):
		start := p.i
		p.i++
		for p.i < len(p.s) {
			c := p.s[p.i]
			if (c >= '0' && c <= '9') || c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-' {
				p.i++
				continue
			}
			break
		}
		num := p.s[start:p.i]
		if _, err := strconv.ParseFloat(num, 64); err != nil {
			return errJSON
		}
		p.store(key, num, false)
		return nil
	}
	return errJSON
}

// skipValue moves past one JSON value, checking its syntax.
func (p *jsonParser) skipValue() error {
	p.depth++
	if p.depth > maxJSONDepth {
		return errJSON
	}
	defer func() { p.depth-- }()
	p.skipSpace()
	if p.i >= len(p.s) {
		return errJSON
	}
	switch c := p.s[p.i]; {
	case c == '{' || c == '[':
		closer := byte('}')
		if c == '[' {
			closer = ']'
		}
		p.i++
		p.skipSpace()
		if p.i < len(p.s) && p.s[p.i] == closer {
			p.i++
			return nil
		}
		for {
			p.skipSpace()
			if c == '{' {
				if _, err := p.str(); err != nil {
					return err
				}
				p.skipSpace()
				if p.i >= len(p.s) || p.s[p.i] != ':' {
					return errJSON
				}
				p.i++
			}
			if err := p.skipValue(); err != nil {
				return err
			}
			p.skipSpace()
			if p.i >= len(p.s) {
				return errJSON
			}
			if p.s[p.i] == ',' {
				p.i++
				continue
			}
			if p.s[p.i] == closer {
				p.i++
				return nil
			}
			return errJSON
		}
	case c == '"':
		_, err := p.str()
		return err
	default:
		sub := jsonParser{s: p.s, i: p.i, d: &Decoded{}, nullMode: ruleset.JSONNullDiscard}
		if err := sub.value(""); err != nil {
			return err
		}
		p.i = sub.i
		return nil
	}
}

// str reads a JSON string at p.i, unescaping it.
func (p *jsonParser) str() (string, error) {
	if p.i >= len(p.s) || p.s[p.i] != '"' {
		return "", errJSON
	}
	p.i++
	start := p.i
	// Fast path: no escapes.
	for p.i < len(p.s) {
		c := p.s[p.i]
		if c == '"' {
			v := p.s[start:p.i]
			p.i++
			return v, nil
		}
		if c == '\\' {
			break
		}
		if c < 0x20 {
			return "", errJSON
		}
		p.i++
	}
	buf := []byte(p.s[start:p.i])
	for p.i < len(p.s) {
		c := p.s[p.i]
		switch {
		case c == '"':
			p.i++
			return string(buf), nil
		case c == '\\':
			if p.i+1 >= len(p.s) {
				return "", errJSON
			}
			e := p.s[p.i+1]
			p.i += 2
			switch e {
			case '"', '\\', '/':
				buf = append(buf, e)
			case 'b':
				buf = append(buf, '\b')
			case 'f':
				buf = append(buf, '\f')
			case 'n':
				buf = append(buf, '\n')
			case 'r':
				buf = append(buf, '\r')
			case 't':
				buf = append(buf, '\t')
			case 'u':
				r, ok := p.hex4()
				if !ok {
					return "", errJSON
				}
				if utf16.IsSurrogate(r) {
					if p.i+1 < len(p.s) && p.s[p.i] == '\\' && p.s[p.i+1] == 'u' {
						p.i += 2
						r2, ok := p.hex4()
						if !ok {
							return "", errJSON
						}
						r = utf16.DecodeRune(r, r2)
					} else {
						r = utf8.RuneError
					}
				}
				buf = utf8.AppendRune(buf, r)
			default:
				return "", errJSON
			}
		case c < 0x20:
			return "", errJSON
		default:
			buf = append(buf, c)
			p.i++
		}
	}
	return "", errJSON
}

func (p *jsonParser) hex4() (rune, bool) {
	if p.i+4 > len(p.s) {
		return 0, false
	}
	v, err := strconv.ParseUint(p.s[p.i:p.i+4], 16, 32)
	if err != nil {
		return 0, false
	}
	p.i += 4
	return rune(v), true
}

// compactJSON removes insignificant white space from valid JSON text.
func compactJSON(s string) string {
	needs := false
	inStr := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if inStr {
			if c == '\\' {
				i++
			} else if c == '"' {
				inStr = false
			}
			continue
		}
		if c == '"' {
			inStr = true
		} else if c == ' ' || c == '\t' || c == '\n' || c == '\r' {
			needs = true
			break
		}
	}
	if !needs {
		return s
	}
	out := make([]byte, 0, len(s))
	inStr = false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if inStr {
			out = append(out, c)
			if c == '\\' && i+1 < len(s) {
				i++
				out = append(out, s[i])
			} else if c == '"' {
				inStr = false
			}
			continue
		}
		switch c {
		case '"':
			inStr = true
			out = append(out, c)
		case ' ', '\t', '\n', '\r':
		default:
			out = append(out, c)
		}
	}
	return string(out)
}
