package osregex

import "github.com/threatlockdown/tld/internal/ruleset/asciifold"

// Escape classes of OSRegex. Each escape in a pattern is stored as a
// backslash followed by one of these codes, the same numbering Wazuh uses,
// so the executor can look two bytes ahead exactly as analysisd does.
const (
	classDigit     = 1  // \d  0-9
	classWord      = 2  // \w  A-Z a-z 0-9 and - @ _
	classSpace     = 3  // \s  the space character only
	classPunct     = 4  // \p  !"#$%&'()*+,-.:;<=>?[]{|}
	classOpen      = 5  // \(  a literal (
	classClose     = 6  // \)  a literal )
	classBackslash = 7  // \\  a literal backslash
	classNotDigit  = 8  // \D  anything but 0-9
	classNotWord   = 9  // \W  anything \w does not match
	classNotSpace  = 10 // \S  anything but a space
	classAny       = 11 // \.  any byte
	classTab       = 12 // \t  a tab
	classDollar    = 13 // \$  a literal $
	classPipe      = 14 // \|  a literal |
	classLess      = 15 // \<  a literal <
	numClasses     = 16
)

// escapeCode maps the character after a backslash to its class. Any other
// character after a backslash is a compile error in Wazuh.
var escapeCode = [256]byte{
	'd': classDigit, 'w': classWord, 's': classSpace, 'p': classPunct,
	'(': classOpen, ')': classClose, '\\': classBackslash,
	'D': classNotDigit, 'W': classNotWord, 'S': classNotSpace,
	'.': classAny, 't': classTab, '$': classDollar, '|': classPipe, '<': classLess,
}

// classes[code][c] reports whether byte c belongs to the escape class. The
// sets follow Wazuh's regexmap table, not POSIX: \w includes '-' and '@',
// \s is only the space (not tab), \p is a fixed punctuation list, and the
// tests are on the raw byte, never case-folded.
var classes = buildClasses()

func buildClasses() *[numClasses][256]bool {
	var t [numClasses][256]bool
	for i := 0; i < 256; i++ {
		c := byte(i)
		digit := c >= '0' && c <= '9'
		word := digit || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '-' || c == '@' || c == '_'
		punct := (c >= '!' && c <= '.') || (c >= ':' && c <= '?') ||
			c == '[' || c == ']' || c == '{' || c == '|' || c == '}'
		t[classDigit][i] = digit
		t[classWord][i] = word
		t[classSpace][i] = c == ' '
		t[classPunct][i] = punct
		t[classOpen][i] = c == '('
		t[classClose][i] = c == ')'
		t[classBackslash][i] = c == '\\'
		t[classNotDigit][i] = !digit
		t[classNotWord][i] = !word
		t[classNotSpace][i] = c != ' '
		t[classAny][i] = true
		t[classTab][i] = c == '\t'
		t[classDollar][i] = c == '$'
		t[classPipe][i] = c == '|'
		t[classLess][i] = c == '<'
	}
	return &t
}

// lower folds ASCII upper case only, like Wazuh's charmap: bytes above 127
// are compared as they are.
func lower(c byte) byte { return asciifold.Lower(c) }
