package blob

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"hash/maphash"
	"io"
	"unicode/utf8"
)

// sniffBytes is how much of a blob's start is looked at to tell text from
// binary data.
const sniffBytes = 8 << 10

var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// sniff looks at the start of a blob. It drops a UTF-8 byte order mark
// (returning the offset of the first byte after it), and returns a problem
// when the blob is binary: a NUL byte, or more than one byte in four that
// is not UTF-8 (compressed data, images: about half their bytes are). Text
// in another encoding, with a few non-ASCII letters, is read with its
// invalid bytes replaced.
func sniff(br *bufio.Reader) (base int64, problem string) {
	head, _ := br.Peek(sniffBytes)
	if bytes.HasPrefix(head, utf8BOM) {
		br.Discard(len(utf8BOM))
		head, base = head[len(utf8BOM):], int64(len(utf8BOM))
	}
	if i := bytes.IndexByte(head, 0); i >= 0 {
		return base, fmt.Sprintf("byte %d: binary data (a NUL byte), not text: blob skipped", base+int64(i))
	}
	if len(head) >= sniffBytes-len(utf8BOM) {
		head = trimPartialRune(head)
	}
	if bad := invalidUTF8Bytes(head); bad > 0 && bad*4 > len(head) {
		return base, fmt.Sprintf("byte %d: not UTF-8 text (binary or compressed data?): blob skipped", base+int64(firstInvalidUTF8(head)))
	}
	return base, ""
}

// trimPartialRune drops an incomplete UTF-8 sequence at the end of b, which
// the bytes after b may complete.
func trimPartialRune(b []byte) []byte {
	for i := len(b) - 1; i >= 0 && i >= len(b)-utf8.UTFMax; i-- {
		if utf8.RuneStart(b[i]) {
			if !utf8.FullRune(b[i:]) {
				return b[:i]
			}
			break
		}
	}
	return b
}

func invalidUTF8Bytes(b []byte) int {
	bad := 0
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		if r == utf8.RuneError && n == 1 {
			bad++
		}
		b = b[n:]
	}
	return bad
}

func validUTF8(b []byte) bool { return utf8.Valid(b) }

// firstInvalidUTF8 is the index of the first byte of b that is not part of
// a valid UTF-8 sequence, or len(b).
func firstInvalidUTF8(b []byte) int {
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n == 1 {
			return i
		}
		i += n
	}
	return len(b)
}

func toValidUTF8(b []byte) []byte { return bytes.ToValidUTF8(b, []byte("\uFFFD")) }

// hashingReader counts and hashes what is read through it. When mark >= 0
// it also keeps the hash of the first mark bytes, to recognise content read
// before. It remembers the first read error other than io.EOF.
type hashingReader struct {
	r       io.Reader
	h       hash.Hash
	n       int64
	mark    int64
	markSum string // set once mark bytes were read
	err     error
}

func newHashingReader(r io.Reader, mark int64) *hashingReader {
	return &hashingReader{r: r, h: sha256.New(), mark: mark}
}

func (h *hashingReader) Read(p []byte) (int, error) {
	n, err := h.r.Read(p)
	if n > 0 {
		b := p[:n]
		if h.mark >= 0 && h.markSum == "" && h.n+int64(n) >= h.mark {
			k := h.mark - h.n
			h.h.Write(b[:k])
			h.markSum = hex.EncodeToString(h.h.Sum(nil))
			b = b[k:]
		}
		h.h.Write(b)
		h.n += int64(n)
	}
	if err != nil && !errors.Is(err, io.EOF) && h.err == nil {
		h.err = err
	}
	return n, err
}

// marked reports whether the first mark bytes were read.
func (h *hashingReader) marked() bool { return h.markSum != "" }

// sum is the hash of everything read.
func (h *hashingReader) sum() string { return hex.EncodeToString(h.h.Sum(nil)) }

// occurrences numbers identical records within a blob (0 for the first,
// 1 for its next copy...), so that two identical lines of one blob get two
// event ids, and a record keeps its id when the blob is read again.
type occurrences struct {
	seed maphash.Seed
	n    map[uint64]int
}

func newOccurrences() *occurrences {
	return &occurrences{seed: maphash.MakeSeed(), n: map[uint64]int{}}
}

func (o *occurrences) next(b []byte) int {
	h := maphash.Bytes(o.seed, b)
	k := o.n[h]
	o.n[h] = k + 1
	return k
}
