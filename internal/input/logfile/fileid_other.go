//go:build !unix

package logfile

import "io/fs"

// fileID has no inode to report on this platform: file identity then rests on
// the hash of the file's first bytes, and a rotation by rename is noticed only
// when the new file's first bytes differ.
func fileID(fs.FileInfo) (dev, ino uint64) { return 0, 0 }
