package pcre2

import (
	"fmt"
	"strconv"
	"strings"
)

// backref rewrites \g and \k references to PCRE2's group numbers.
func (t *translator) backref(kind byte, at int) error {
	rest := t.src[t.i:]
	var ref string
	switch {
	case kind == 'k' && len(rest) > 0 && (rest[0] == '<' || rest[0] == '\'' || rest[0] == '{'):
		closer := map[byte]byte{'<': '>', '\'': '\'', '{': '}'}[rest[0]]
		end := strings.IndexByte(rest[1:], closer)
		if end < 0 {
			return fmt.Errorf(`unterminated \k reference at offset %d`, at)
		}
		ref = rest[1 : end+1]
		t.i += end + 2
	case kind == 'g' && len(rest) > 0 && rest[0] == '{':
		end := strings.IndexByte(rest, '}')
		if end < 0 {
			return fmt.Errorf(`unterminated \g reference at offset %d`, at)
		}
		ref = rest[1:end]
		t.i += end + 1
	case kind == 'g' && len(rest) > 0 && (rest[0] == '-' || rest[0] == '+' || rest[0] >= '0' && rest[0] <= '9'):
		j := 1
		for j < len(rest) && rest[j] >= '0' && rest[j] <= '9' {
			j++
		}
		ref = rest[:j]
		t.i += j
	case kind == 'g':
		return fmt.Errorf(`subroutine call \g at offset %d is not supported`, at)
	default:
		return fmt.Errorf(`bad \k reference at offset %d`, at)
	}
	n, err := t.resolve(ref)
	if err != nil {
		return fmt.Errorf("reference at offset %d: %w", at, err)
	}
	t.backrefTo(n)
	return nil
}

// backrefTo writes a reference to group n. Go has none: its form is any
// text, which is wider.
func (t *translator) backrefTo(n int) {
	if t.re2 {
		t.approximate("a back reference")
		t.out.WriteString(`(?s:.*)`)
		return
	}
	fmt.Fprintf(&t.out, `\k<%d>`, n)
}

// resolve turns a group reference (number, relative number or name) into
// an absolute group number.
func (t *translator) resolve(ref string) (int, error) {
	if n, err := strconv.Atoi(ref); err == nil {
		switch {
		case strings.HasPrefix(ref, "-"):
			n = t.groups + 1 + n
		case strings.HasPrefix(ref, "+"):
			n = t.groups + n
		}
		if n <= 0 {
			return 0, fmt.Errorf("group %q does not exist", ref)
		}
		return n, nil
	}
	if n, ok := t.names[ref]; ok {
		return n, nil
	}
	if !t.emit {
		return 1, nil // numbering pass: names may be defined further on
	}
	return 0, fmt.Errorf("no group named %q", ref)
}

// group translates what follows "(".
func (t *translator) group() error {
	at := t.i
	rest := t.src[t.i:]
	switch {
	case strings.HasPrefix(rest, "(*"):
		end := strings.IndexByte(rest, ')')
		if end < 0 {
			return fmt.Errorf("unterminated (* at offset %d", at)
		}
		switch verb := rest[2:end]; verb {
		case "FAIL", "F":
			if t.re2 {
				t.out.WriteString(`[^\x00-\x{10FFFF}]`) // an empty class
			} else {
				t.out.WriteString("(?!)")
			}
			t.i += end + 1
			return nil
		default:
			return fmt.Errorf("(*%s) at offset %d is not supported", verb, at)
		}
	case !strings.HasPrefix(rest, "(?"):
		t.groups++
		t.open()
		t.out.WriteByte('(')
		t.i++
		return nil
	}
	rest = rest[2:]
	switch {
	case strings.HasPrefix(rest, "#"):
		end := strings.IndexByte(rest, ')')
		if end < 0 {
			return fmt.Errorf("unterminated comment at offset %d", at)
		}
		t.i += 2 + end + 1
	case strings.HasPrefix(rest, ":"), strings.HasPrefix(rest, "="), strings.HasPrefix(rest, "!"),
		strings.HasPrefix(rest, "<="), strings.HasPrefix(rest, "<!"), strings.HasPrefix(rest, ">"):
		n := 3
		if rest[0] == '<' {
			n = 4
		}
		switch {
		case !t.re2 || rest[0] == ':':
			t.open()
			t.out.WriteString(t.src[t.i : t.i+n])
		case rest[0] == '>':
			// An atomic group matches a subset of what (?:...) does.
			t.approximate("an atomic group")
			t.open()
			t.out.WriteString("(?:")
		default:
			// A lookaround is zero-width: leaving it out widens the
			// pattern.
			t.approximate("a lookaround")
			t.openAs(t.out.Len(), "")
		}
		t.i += n
	case strings.HasPrefix(rest, "<"), strings.HasPrefix(rest, "'"), strings.HasPrefix(rest, "P<"):
		skip := 1
		if rest[0] == 'P' {
			skip = 2
		}
		closer := byte('>')
		if rest[0] == '\'' {
			closer = '\''
		}
		end := strings.IndexByte(rest[skip:], closer)
		if end < 0 {
			return fmt.Errorf("unterminated group name at offset %d", at)
		}
		name := rest[skip : skip+end]
		t.groups++
		if _, dup := t.names[name]; dup && !t.emit {
			return fmt.Errorf("duplicate group name %q", name)
		}
		t.names[name] = t.groups
		t.open()
		t.out.WriteByte('(')
		t.i += 2 + skip + end + 1
	case strings.HasPrefix(rest, "P="):
		end := strings.IndexByte(rest, ')')
		if end < 0 {
			return fmt.Errorf("unterminated (?P= at offset %d", at)
		}
		n, err := t.resolve(rest[2:end])
		if err != nil {
			return fmt.Errorf("reference at offset %d: %w", at, err)
		}
		t.backrefTo(n)
		t.i += 2 + end + 1
	case strings.HasPrefix(rest, "("):
		// Conditional: only a group-number condition has the same syntax.
		end := strings.IndexByte(rest, ')')
		if _, err := strconv.Atoi(rest[1:max(end, 1)]); end < 0 || err != nil {
			return fmt.Errorf("conditional group at offset %d is not supported", at)
		}
		if t.re2 {
			// Either branch, or nothing when there is no "no" branch.
			t.approximate("a conditional group")
			t.openAs(-1, ")|)")
			t.out.WriteString("(?:(?:")
		} else {
			t.open()
			t.out.WriteString(t.src[t.i : t.i+2+end+1])
		}
		t.i += 2 + end + 1
	default:
		return t.flags(rest, at)
	}
	return nil
}

// flags handles (?imsxU-imsxU) and (?imsxU-imsxU:...). Anything else
// after "(?" is recursion, a subroutine call, branch reset or a callout,
// which regexp2 cannot run.
func (t *translator) flags(rest string, at int) error {
	j := 0
	for j < len(rest) && strings.IndexByte("imsxU-", rest[j]) >= 0 {
		j++
	}
	if j == 0 || j >= len(rest) || (rest[j] != ')' && rest[j] != ':') {
		return fmt.Errorf("group syntax (?%s at offset %d is not supported", firstN(rest, 4), at)
	}
	if rest[j] == ':' {
		t.open()
	}
	var kept strings.Builder
	on := true
	for _, f := range rest[:j] {
		switch f {
		case '-':
			on = false
			kept.WriteRune(f)
		case 'U':
			t.ungreedy = on
		case 'x':
			if t.re2 && t.broken == "" {
				// Go has no extended mode; in it literals are not
				// what they seem.
				t.broken = "(?x)"
			}
			kept.WriteRune(f)
		case 'i':
			t.caseless = t.caseless || on
			kept.WriteRune(f)
		default:
			kept.WriteRune(f)
		}
	}
	flags := strings.TrimSuffix(kept.String(), "-")
	switch {
	case flags != "":
		t.out.WriteString("(?" + flags + string(rest[j]))
	case rest[j] == ':':
		t.out.WriteString("(?:")
	}
	t.i += 2 + j + 1
	return nil
}

func firstN(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
