package server

import (
	"io/fs"
	"testing/fstest"
)

// testFS is a one-file asset tree.
type testFS struct{}

func (testFS) Open(name string) (fs.File, error) {
	return fstest.MapFS{"app.css": {Data: []byte("body{}")}}.Open(name)
}
