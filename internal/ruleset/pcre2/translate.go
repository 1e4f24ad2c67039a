package pcre2

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// translation is a PCRE2 pattern rewritten for regexp2, which follows .NET
// syntax and semantics. The rewrite keeps PCRE2's meaning where the two
// differ in ways Wazuh patterns can notice:
//
//   - Subjects are matched byte by byte (PCRE2 without UTF), so each byte
//     is handed to regexp2 as the rune of the same value and non-ASCII
//     bytes in the pattern become those runes too. A leading (*UTF)
//     switches to matching code points of valid UTF-8, as in PCRE2.
//   - \d \w \s \h \v and POSIX classes are ASCII sets as in PCRE2 without
//     UCP, not .NET's Unicode ones; \v is vertical space, not VT.
//   - Named groups are numbered in order with the unnamed ones, as PCRE2
//     does (.NET numbers them last), and named references become numbered.
//   - \Q...\E, \x{...}, \o{...}, \N, \N{U+...}, \R, \g{n}, \k{name},
//     (?P<name>...), (?P=name) and (*FAIL) are rewritten.
//
// Constructs .NET cannot express (recursion, subroutine calls, possessive
// quantifiers, branch reset, \K, backtracking verbs...) are compile errors.
//
// The same walk also writes the pattern in the syntax of Go's regexp
// package (see re2.go): goPattern, exact when goApprox is empty, else a
// pattern matching at least what the PCRE2 one matches (lookarounds
// dropped, back references as ".*"...), which is still good enough to
// derive the literals a match must contain. goPattern is empty when not
// even that holds.
type translation struct {
	pattern   string
	goPattern string
	goApprox  string // why goPattern only approximates the pattern
	dollar    bool   // goPattern has a $ or \Z, written as \z or $
	utf       bool
	ucp       bool
	groups    int
}

// runeMax is the largest subject rune: a byte, or any code point in UTF mode.
func (t *translator) runeMax() rune {
	if t.utf {
		return utf8.MaxRune
	}
	return 0xFF
}

type translator struct {
	src    string
	i      int
	out    bytes.Buffer
	utf    bool
	ucp    bool
	groups int            // groups opened so far
	total  int            // all groups, known after the numbering pass
	names  map[string]int // group names to numbers, from the numbering pass
	emit   bool           // false during the numbering pass
	// ungreedy is PCRE2's U flag, which .NET lacks: it swaps the meaning
	// of "?" after a quantifier. scopes saves it at each open group.
	ungreedy bool
	scopes   []scope

	// re2 asks for Go regexp syntax instead of .NET's. approx then records
	// the first construct written as a wider one, broken the first one
	// that cannot be written at all, caseless whether an "i" flag occurs.
	re2      bool
	approx   string
	broken   string
	caseless bool
	dollar   bool // a $ or \Z was written
}

// scope is what a ")" must restore and write.
type scope struct {
	ungreedy bool
	// cut, when not -1, is the output length to truncate to: the group
	// was a lookaround the Go form leaves out.
	cut int
	// closer replaces ")" when not empty.
	closer string
}

func translate(pattern string) (translation, error) {
	tr, err := translateTo(pattern, false)
	if err != nil {
		return translation{}, err
	}
	// The Go walk accepts whatever the .NET one does.
	gt, err := translateTo(pattern, true)
	if err != nil {
		return translation{}, err
	}
	tr.goPattern, tr.goApprox, tr.dollar = gt.goPattern, gt.goApprox, gt.dollar
	return tr, nil
}

// translateTo rewrites pattern for regexp2 or, with re2, for Go.
func translateTo(pattern string, re2 bool) (translation, error) {
	t := &translator{src: pattern, names: map[string]int{}, re2: re2}
	if err := t.startVerbs(); err != nil {
		return translation{}, err
	}
	if t.utf && !utf8.ValidString(pattern) {
		return translation{}, fmt.Errorf("pattern is not valid UTF-8")
	}
	start := t.i
	// First pass: number the groups so that forward references to names
	// resolve; second pass: emit.
	if err := t.body(); err != nil {
		return translation{}, err
	}
	t.i, t.total, t.groups, t.emit = start, t.groups, 0, true
	t.ungreedy, t.scopes = false, nil
	t.out.Reset()
	if err := t.body(); err != nil {
		return translation{}, err
	}
	tr := translation{utf: t.utf, ucp: t.ucp, groups: t.groups}
	if !re2 {
		tr.pattern = t.out.String()
		return tr, nil
	}
	switch {
	case t.ucp:
		// \d, \w, \b... are Unicode-aware in .NET, ASCII in Go.
		t.broken = "(*UCP)"
	case t.utf && t.caseless:
		// .NET folds subject characters with Unicode's lower-case mapping
		// (U+0130 and U+212A become ASCII letters), Go with its folding
		// orbits: not even the literals are safe to derive.
		t.broken = "(*UTF) with case-insensitive matching"
	}
	if t.broken != "" {
		tr.goApprox = t.broken
		return tr, nil
	}
	tr.goPattern, tr.goApprox, tr.dollar = t.out.String(), t.approx, t.dollar
	return tr, nil
}

// approximate notes that the Go form is only a wider pattern, because of
// what (the first reason is kept).
func (t *translator) approximate(what string) {
	if t.approx == "" {
		t.approx = what
	}
}

// codePoint writes r as an escape both dialects read in and out of classes.
func (t *translator) codePoint(r rune) {
	if t.re2 {
		fmt.Fprintf(&t.out, `\x{%X}`, r)
		return
	}
	fmt.Fprintf(&t.out, `\u%04X`, r)
}

// startVerbs consumes the option-setting verbs PCRE2 accepts at the very
// start of a pattern.
func (t *translator) startVerbs() error {
	for strings.HasPrefix(t.src[t.i:], "(*") {
		end := strings.IndexByte(t.src[t.i:], ')')
		if end < 0 {
			return fmt.Errorf("unterminated (* verb")
		}
		verb := t.src[t.i+2 : t.i+end]
		name, _, _ := strings.Cut(verb, "=")
		switch name {
		case "UTF":
			t.utf = true
		case "UCP":
			t.ucp = true
		case "LF", "BSR_UNICODE", "BSR_ANYCRLF", "NO_AUTO_POSSESS", "NO_START_OPT",
			"NO_DOTSTAR_ANCHOR", "NO_JIT", "LIMIT_MATCH", "LIMIT_DEPTH", "LIMIT_HEAP", "LIMIT_RECURSION":
			// No effect on which subjects match.
		case "CR", "CRLF", "ANYCRLF", "ANY", "NUL", "NOTEMPTY", "NOTEMPTY_ATSTART":
			return fmt.Errorf("(*%s) is not supported", verb)
		default:
			return nil // a backtracking verb: handled in the body
		}
		t.i += end + 1
	}
	return nil
}

func (t *translator) body() error {
	for t.i < len(t.src) {
		c := t.src[t.i]
		switch c {
		case '\\':
			if err := t.escape(); err != nil {
				return err
			}
		case '[':
			if err := t.class(); err != nil {
				return err
			}
		case '(':
			if err := t.group(); err != nil {
				return err
			}
		case '*', '+', '?':
			t.out.WriteByte(c)
			t.i++
			if err := t.quantifierSuffix(); err != nil {
				return err
			}
		case ')':
			closer := ")"
			if n := len(t.scopes); n > 0 {
				sc := t.scopes[n-1]
				t.ungreedy = sc.ungreedy
				t.scopes = t.scopes[:n-1]
				switch {
				case sc.cut >= 0:
					// An empty group keeps a quantifier after it valid.
					t.out.Truncate(sc.cut)
					closer = "(?:)"
				case sc.closer != "":
					closer = sc.closer
				}
			}
			t.out.WriteString(closer)
			t.i++
		case '{':
			if n := quantifierLen(t.src[t.i:]); n > 0 {
				t.quantifier(t.src[t.i : t.i+n])
				t.i += n
				if err := t.quantifierSuffix(); err != nil {
					return err
				}
			} else {
				t.out.WriteString(`\{`)
				t.i++
			}
		case '.', '^', '$', '|':
			t.dollar = t.dollar || c == '$'
			t.out.WriteByte(c)
			t.i++
		default:
			if err := t.literal(false); err != nil {
				return err
			}
		}
	}
	return nil
}

// quantifierSuffix reads a lazy "?" after a quantifier, applies the U
// flag, and rejects a possessive "+".
func (t *translator) quantifierSuffix() error {
	lazy := false
	if t.i < len(t.src) {
		switch t.src[t.i] {
		case '?':
			lazy = true
			t.i++
		case '+':
			return fmt.Errorf("possessive quantifier at offset %d is not supported", t.i)
		}
	}
	if lazy != t.ungreedy {
		t.out.WriteByte('?')
	}
	return nil
}

// open records that a group starts, saving the flags it may change.
func (t *translator) open() { t.openAs(-1, "") }

// openAs records a group start with what its ")" must do (see scope).
func (t *translator) openAs(cut int, closer string) {
	t.scopes = append(t.scopes, scope{ungreedy: t.ungreedy, cut: cut, closer: closer})
}

// quantifier writes a {n}, {n,} or {n,m} quantifier. Go reads a count
// with a leading zero as literal text, so its form drops those zeros.
func (t *translator) quantifier(q string) {
	if !t.re2 {
		t.out.WriteString(q)
		return
	}
	lo, hi, comma := strings.Cut(q[1:len(q)-1], ",")
	t.out.WriteByte('{')
	t.out.WriteString(trimZeros(lo))
	if comma {
		t.out.WriteByte(',')
		if hi != "" {
			t.out.WriteString(trimZeros(hi))
		}
	}
	t.out.WriteByte('}')
}

func trimZeros(digits string) string {
	if d := strings.TrimLeft(digits, "0"); d != "" {
		return d
	}
	return "0"
}

// quantifierLen returns the length of a {n}, {n,} or {n,m} quantifier at
// the start of s, or 0 when the brace is a literal.
func quantifierLen(s string) int {
	i := 1
	digits := func() int {
		j := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		return i - j
	}
	if digits() == 0 {
		return 0
	}
	if i < len(s) && s[i] == ',' {
		i++
		digits()
	}
	if i < len(s) && s[i] == '}' {
		return i + 1
	}
	return 0
}

// literal copies one pattern character (a byte, or a UTF-8 sequence in UTF
// mode) as a literal.
func (t *translator) literal(inClass bool) error {
	r, n := t.nextRune()
	t.i += n
	t.emitLiteral(r, inClass)
	return nil
}

func (t *translator) nextRune() (rune, int) {
	if t.utf {
		return utf8.DecodeRuneInString(t.src[t.i:])
	}
	return rune(t.src[t.i]), 1
}

// emitLiteral writes r so that regexp2 matches exactly that character. In
// byte mode a non-ASCII byte is kept out of case folding: PCRE2 without UTF
// folds ASCII letters only.
func (t *translator) emitLiteral(r rune, inClass bool) {
	switch {
	case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '_', r == ' ':
		t.out.WriteRune(r)
	case r < 0x20 || r == 0x7f:
		t.codePoint(r)
	case r == '-' && inClass:
		// regexp2 reads "\-" in a class as a hyphen that can neither
		// start nor end a range: [\--\/] would lose its range.
		t.codePoint(r)
	case r < 0x80:
		t.out.WriteByte('\\')
		t.out.WriteRune(r)
	case !t.utf && !inClass:
		t.out.WriteString(`(?-i:`)
		t.codePoint(r)
		t.out.WriteByte(')')
	case r <= 0xFFFF:
		t.codePoint(r)
	default:
		t.out.WriteRune(r)
	}
}

func (t *translator) escape() error {
	at := t.i
	if t.i+1 >= len(t.src) {
		return fmt.Errorf(`pattern ends with a backslash`)
	}
	c := t.src[t.i+1]
	t.i += 2
	if !t.ucp {
		if ranges, neg, ok := t.shorthand(c); ok {
			t.out.WriteByte('[')
			t.writeRanges(ranges, neg)
			t.out.WriteByte(']')
			return nil
		}
	} else if strings.IndexByte("dDwWsS", c) >= 0 {
		t.out.WriteByte('\\') // with UCP, which has no Go form
		t.out.WriteByte(c)
		return nil
	}
	switch c {
	case 'h', 'H', 'v', 'V': // with UCP
		ranges, neg, _ := t.shorthand(c)
		t.out.WriteByte('[')
		t.writeRanges(ranges, neg)
		t.out.WriteByte(']')
	case 'R':
		t.out.WriteString(`(?:\r\n|[`)
		t.writeRanges(t.vspace(), false)
		t.out.WriteString(`])`)
	case 'N':
		if t.i < len(t.src) && t.src[t.i] == '{' {
			r, err := t.namedCodePoint()
			if err != nil {
				return err
			}
			t.emitLiteral(r, false)
			return nil
		}
		t.out.WriteString(`[^\n]`)
	case 'b', 'B':
		if t.ucp || t.re2 {
			// Go's \b is on ASCII word characters, as PCRE2's without UCP.
			t.out.WriteByte('\\')
			t.out.WriteByte(c)
			break
		}
		// Word boundaries on PCRE2's ASCII word characters, not .NET's.
		const w = `[0-9A-Za-z_]`
		if c == 'b' {
			t.out.WriteString(`(?:(?<=` + w + `)(?!` + w + `)|(?<!` + w + `)(?=` + w + `))`)
		} else {
			t.out.WriteString(`(?:(?<=` + w + `)(?=` + w + `)|(?<!` + w + `)(?!` + w + `))`)
		}
	case 'G':
		if t.re2 {
			// At the start of the only match attempt \G is \A; Go
			// lacks it, so it is left out of a wider pattern.
			t.approximate(`\G`)
			t.out.WriteString(`(?:)`)
			break
		}
		t.out.WriteString(`\G`)
	case 'Z':
		if t.re2 {
			// Go has no \Z. It is \z where the RE2 path runs: on
			// subjects that do not end with a newline.
			t.dollar = true
			t.out.WriteString(`\z`)
			break
		}
		t.out.WriteString(`\Z`)
	case 'e':
		t.codePoint(0x1B) // Go has no \e
	case 'A', 'z', 'a', 'f', 'n', 'r', 't':
		t.out.WriteByte('\\')
		t.out.WriteByte(c)
	case 'c':
		if t.i >= len(t.src) {
			return fmt.Errorf(`\c at end of pattern`)
		}
		x := t.src[t.i]
		if x < 0x20 || x > 0x7e {
			return fmt.Errorf(`\c must be followed by a printable ASCII character`)
		}
		if x >= 'a' && x <= 'z' {
			x -= 'a' - 'A'
		}
		t.i++
		t.emitLiteral(rune(x^0x40), false)
	case 'x', 'o', '0':
		r, err := t.codeEscape(c)
		if err != nil {
			return err
		}
		t.emitLiteral(r, false)
	case 'p', 'P':
		// Unicode properties: .NET spells the common ones the same way,
		// Go not always; their sets may differ too.
		if t.re2 && t.broken == "" {
			t.broken = fmt.Sprintf(`\%c`, c)
		}
		t.out.WriteByte('\\')
		t.out.WriteByte(c)
		if t.i < len(t.src) && t.src[t.i] == '{' {
			end := strings.IndexByte(t.src[t.i:], '}')
			if end < 0 {
				return fmt.Errorf(`unterminated \%c{`, c)
			}
			t.out.WriteString(t.src[t.i : t.i+end+1])
			t.i += end + 1
		} else if t.i < len(t.src) {
			t.out.WriteByte('{')
			t.out.WriteByte(t.src[t.i])
			t.out.WriteByte('}')
			t.i++
		}
	case 'Q':
		t.quote(t.quotedRun(), false)
	case 'E':
		// A stray \E is ignored.
	case 'g', 'k':
		return t.backref(c, at)
	case '1', '2', '3', '4', '5', '6', '7', '8', '9':
		t.i--
		return t.numericEscape(false)
	default:
		if isAlnum(c) {
			return fmt.Errorf(`unsupported escape \%c at offset %d`, c, at)
		}
		t.i--
		return t.literal(false)
	}
	return nil
}

func (t *translator) vspace() []rune {
	if t.utf {
		return vSpaceUTF
	}
	return setVSpace
}

func isAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

func (t *translator) quote(s string, inClass bool) {
	for k := 0; k < len(s); {
		r, n := rune(s[k]), 1
		if t.utf {
			r, n = utf8.DecodeRuneInString(s[k:])
		}
		t.emitLiteral(r, inClass)
		k += n
	}
}

// namedCodePoint reads {U+hhhh} after \N; PCRE2 allows it in UTF mode only.
func (t *translator) namedCodePoint() (rune, error) {
	end := strings.IndexByte(t.src[t.i:], '}')
	if end < 0 || !strings.HasPrefix(t.src[t.i:], "{U+") {
		return 0, fmt.Errorf(`\N{ must be \N{U+hex}`)
	}
	if !t.utf {
		return 0, fmt.Errorf(`\N{U+...} needs UTF mode`)
	}
	v, err := strconv.ParseUint(t.src[t.i+3:t.i+end], 16, 32)
	t.i += end + 1
	if err != nil || v > utf8.MaxRune {
		return 0, fmt.Errorf(`bad code point in \N{U+...}`)
	}
	return rune(v), nil
}

// codeEscape reads \xhh, \x{h...}, \o{o...} or \0oo (the escape letter is
// already consumed) and checks the value fits the subject's alphabet.
func (t *translator) codeEscape(kind byte) (rune, error) {
	var v uint64
	var err error
	switch {
	case (kind == 'x' || kind == 'o') && t.i < len(t.src) && t.src[t.i] == '{':
		end := strings.IndexByte(t.src[t.i:], '}')
		if end < 0 {
			return 0, fmt.Errorf(`unterminated \%c{`, kind)
		}
		base := 16
		if kind == 'o' {
			base = 8
		}
		v, err = strconv.ParseUint(strings.TrimSpace(t.src[t.i+1:t.i+end]), base, 32)
		t.i += end + 1
	case kind == 'x':
		n := 0
		for n < 2 && t.i+n < len(t.src) && isHex(t.src[t.i+n]) {
			n++
		}
		if n > 0 {
			v, err = strconv.ParseUint(t.src[t.i:t.i+n], 16, 32)
		}
		t.i += n
	case kind == 'o':
		return 0, fmt.Errorf(`\o must be followed by {`)
	default: // \0 and up to two more octal digits
		n := 0
		for n < 2 && t.i+n < len(t.src) && t.src[t.i+n] >= '0' && t.src[t.i+n] <= '7' {
			n++
		}
		if n > 0 {
			v, err = strconv.ParseUint(t.src[t.i:t.i+n], 8, 32)
		}
		t.i += n
	}
	if err != nil {
		return 0, fmt.Errorf(`bad \%c escape: %v`, kind, err)
	}
	if rune(v) > t.runeMax() || v >= 0xD800 && v <= 0xDFFF {
		return 0, fmt.Errorf(`character code 0x%X is out of range`, v)
	}
	return rune(v), nil
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// numericEscape reads \n...: a back reference when n < 10 or that many
// groups exist, otherwise up to three octal digits, as PCRE2 decides.
func (t *translator) numericEscape(inClass bool) error {
	j := t.i
	for j < len(t.src) && t.src[j] >= '0' && t.src[j] <= '9' {
		j++
	}
	n, _ := strconv.Atoi(t.src[t.i:j])
	if !inClass && (n < 10 || n <= t.total || !t.emit) {
		t.i = j
		t.backrefTo(n)
		return nil
	}
	k := t.i
	for k < len(t.src) && k < t.i+3 && t.src[k] >= '0' && t.src[k] <= '7' {
		k++
	}
	if k == t.i {
		return fmt.Errorf(`bad escape \%c`, t.src[t.i])
	}
	v, _ := strconv.ParseUint(t.src[t.i:k], 8, 32)
	t.i = k
	if rune(v) > t.runeMax() {
		return fmt.Errorf(`octal escape out of range`)
	}
	t.emitLiteral(rune(v), inClass)
	return nil
}

// quotedRun consumes the text of a \Q…\E quotation (the \Q already read),
// up to \E or the end of the pattern.
func (t *translator) quotedRun() string {
	end := strings.Index(t.src[t.i:], `\E`)
	if end < 0 {
		quoted := t.src[t.i:]
		t.i = len(t.src)
		return quoted
	}
	quoted := t.src[t.i : t.i+end]
	t.i += end + 2
	return quoted
}
