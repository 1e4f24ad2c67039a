package pcre2

import (
	"fmt"
	"strings"
)

// Character sets PCRE2 uses without UCP, as code point ranges.
var (
	setDigit  = []rune{'0', '9'}
	setWord   = []rune{'0', '9', 'A', 'Z', '_', '_', 'a', 'z'}
	setSpace  = []rune{'\t', '\r', ' ', ' '} // \t \n \v \f \r and space
	setHSpace = []rune{'\t', '\t', ' ', ' ', 0xA0, 0xA0}
	setVSpace = []rune{'\n', '\r', 0x85, 0x85}
)

var hSpaceUTF = []rune{'\t', '\t', ' ', ' ', 0xA0, 0xA0, 0x1680, 0x1680, 0x180E, 0x180E,
	0x2000, 0x200A, 0x202F, 0x202F, 0x205F, 0x205F, 0x3000, 0x3000}

var vSpaceUTF = []rune{'\n', '\r', 0x85, 0x85, 0x2028, 0x2029}

var posixClasses = map[string][]rune{
	"alpha":  {'A', 'Z', 'a', 'z'},
	"digit":  {'0', '9'},
	"alnum":  {'0', '9', 'A', 'Z', 'a', 'z'},
	"upper":  {'A', 'Z'},
	"lower":  {'a', 'z'},
	"space":  {'\t', '\r', ' ', ' '},
	"blank":  {'\t', '\t', ' ', ' '},
	"punct":  {'!', '/', ':', '@', '[', '`', '{', '~'},
	"xdigit": {'0', '9', 'A', 'F', 'a', 'f'},
	"word":   {'0', '9', 'A', 'Z', '_', '_', 'a', 'z'},
	"cntrl":  {0, 0x1F, 0x7F, 0x7F},
	"graph":  {'!', '~'},
	"print":  {' ', '~'},
	"ascii":  {0, 0x7F},
}

// class translates a [...] character class.
func (t *translator) class() error {
	start := t.i
	t.i++
	t.out.WriteByte('[')
	if t.i < len(t.src) && t.src[t.i] == '^' {
		t.out.WriteByte('^')
		t.i++
	}
	first := true
	for {
		if t.i >= len(t.src) {
			return fmt.Errorf("missing ] for the class at offset %d", start)
		}
		c := t.src[t.i]
		switch {
		case c == ']' && !first:
			t.out.WriteByte(']')
			t.i++
			return nil
		case c == '[':
			if err := t.posixClass(); err != nil {
				return err
			}
		case c == '\\':
			if err := t.classEscape(); err != nil {
				return err
			}
		case c == '-':
			t.out.WriteByte('-')
			t.i++
		default:
			if err := t.literal(true); err != nil {
				return err
			}
		}
		first = false
	}
}

// posixClass expands [:name:] and [:^name:] inside a class; any other "["
// is a literal.
func (t *translator) posixClass() error {
	rest := t.src[t.i:]
	if len(rest) > 2 && rest[1] == ':' {
		if end := strings.Index(rest[2:], ":]"); end >= 0 {
			name := rest[2 : end+2]
			neg := strings.HasPrefix(name, "^")
			ranges, ok := posixClasses[strings.TrimPrefix(name, "^")]
			if !ok {
				return fmt.Errorf("unknown POSIX class [:%s:]", name)
			}
			t.writeRanges(ranges, neg)
			t.i += end + 4
			return nil
		}
	}
	t.out.WriteString(`\[`)
	t.i++
	return nil
}

func (t *translator) classEscape() error {
	at := t.i
	if t.i+1 >= len(t.src) {
		return fmt.Errorf(`pattern ends with a backslash`)
	}
	c := t.src[t.i+1]
	t.i += 2
	if ranges, neg, ok := t.shorthand(c); ok && (!t.ucp || strings.IndexByte("hHvV", c) >= 0) {
		t.writeRanges(ranges, neg)
		return nil
	}
	switch c {
	case 'd', 'D', 'w', 'W', 's', 'S': // with UCP
		t.out.WriteByte('\\')
		t.out.WriteByte(c)
	case 'b':
		t.codePoint(0x08)
	case 'e':
		t.codePoint(0x1B)
	case 'a', 'f', 'n', 'r', 't':
		t.out.WriteByte('\\')
		t.out.WriteByte(c)
	case 'x', 'o', '0':
		r, err := t.codeEscape(c)
		if err != nil {
			return err
		}
		t.emitLiteral(r, true)
	case '1', '2', '3', '4', '5', '6', '7', '8', '9':
		t.i--
		return t.numericEscape(true)
	case 'N':
		if t.i < len(t.src) && t.src[t.i] == '{' {
			r, err := t.namedCodePoint()
			if err != nil {
				return err
			}
			t.emitLiteral(r, true)
			return nil
		}
		return fmt.Errorf(`\N is not allowed in a class (offset %d)`, at)
	case 'p', 'P':
		t.i -= 2
		return t.escape()
	case 'Q':
		t.quote(t.quotedRun(), true)
	case 'E':
	default:
		if isAlnum(c) {
			return fmt.Errorf(`unsupported escape \%c in a class at offset %d`, c, at)
		}
		t.i--
		return t.literal(true)
	}
	return nil
}

// shorthand returns the ranges of a class escape (\d, \w, \s, \h, \v and
// their upper-case complements) and whether it is negated.
func (t *translator) shorthand(c byte) (ranges []rune, negated, ok bool) {
	switch c {
	case 'd', 'D':
		ranges = setDigit
	case 'w', 'W':
		ranges = setWord
	case 's', 'S':
		ranges = setSpace
	case 'h', 'H':
		ranges = setHSpace
		if t.utf {
			ranges = hSpaceUTF
		}
	case 'v', 'V':
		ranges = setVSpace
		if t.utf {
			ranges = vSpaceUTF
		}
	default:
		return nil, false, false
	}
	return ranges, c >= 'A' && c <= 'Z', true
}

// writeRanges writes ranges (pairs of bounds) as class items, or their
// complement within the subject's alphabet.
func (t *translator) writeRanges(ranges []rune, negated bool) {
	if negated {
		ranges = complement(ranges, t.runeMax())
	}
	for k := 0; k+1 < len(ranges); k += 2 {
		t.classChar(ranges[k])
		if ranges[k+1] != ranges[k] {
			t.out.WriteByte('-')
			t.classChar(ranges[k+1])
		}
	}
}

func (t *translator) classChar(r rune) {
	if r <= 0xFFFF || t.re2 {
		t.codePoint(r)
		return
	}
	t.out.WriteRune(r)
}

// complement returns the ranges of [0, max] not covered by the sorted,
// disjoint ranges given.
func complement(ranges []rune, max rune) []rune {
	var out []rune
	next := rune(0)
	for k := 0; k+1 < len(ranges); k += 2 {
		if ranges[k] > next {
			out = append(out, next, ranges[k]-1)
		}
		next = ranges[k+1] + 1
	}
	if next <= max {
		out = append(out, next, max)
	}
	return out
}
