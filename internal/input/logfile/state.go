package logfile

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
)

// headSize is how much of a file's beginning is hashed to tell it from
// another file that got the same inode after the first was deleted.
const headSize = 1024

// fileState is a file's checkpoint, saved under the file's path. Offset is
// the start of the first line not yet acknowledged.
type fileState struct {
	Path string `json:"path"` // for people reading the state directory
	Dev  uint64 `json:"dev"`
	Ino  uint64 `json:"ino"`
	// Gen counts the times this inode was found truncated or rewritten at
	// this path; it keeps event ids of the new content apart from the old.
	Gen    uint64 `json:"gen,omitempty"`
	Offset int64  `json:"offset"`
	// Lines is the number of newlines before Offset, or -1 when unknown
	// (a file first read from its end); it gives problems a line number.
	Lines int64 `json:"lines"`
	// HeadLen bytes from the start of the file hash to HeadHash.
	HeadLen  int    `json:"head_len"`
	HeadHash string `json:"head_sha256"`
}

// sameFile reports whether st describes the file of the given identity.
func (st fileState) sameFile(dev, ino, gen uint64) bool {
	return st.Dev == dev && st.Ino == ino && st.Gen == gen
}

func hashHex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// readHead returns the first n bytes of f, or fewer if f is shorter.
func readHead(f *os.File, n int64) []byte {
	buf := make([]byte, n, headSize)
	got, err := f.ReadAt(buf, 0)
	if err != nil && err != io.EOF {
		return buf[:0]
	}
	return buf[:got]
}

// headMatches reports whether f still begins with the bytes st was saved
// over: with the same inode this tells "appended to" from "rewritten".
func headMatches(f *os.File, st fileState) bool {
	if st.HeadLen <= 0 {
		return true
	}
	if st.HeadLen > headSize {
		return false
	}
	head := readHead(f, int64(st.HeadLen))
	return len(head) == st.HeadLen && hashHex(head) == st.HeadHash
}
