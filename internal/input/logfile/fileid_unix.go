//go:build unix

package logfile

import (
	"io/fs"
	"syscall"
)

// fileID returns the device and inode that identify an open file for as long
// as it exists, whatever it is renamed to.
func fileID(fi fs.FileInfo) (dev, ino uint64) {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return uint64(st.Dev), uint64(st.Ino)
	}
	return 0, 0
}
