package config

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse checks that no document makes Parse panic, and that every
// diagnostic names a line of the document.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.conf")
	for _, file := range files {
		if data, err := os.ReadFile(file); err == nil {
			f.Add(data)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		lines := bytes.Count(data, []byte("\n")) + 1
		cfg, warns, err := Parse("testdata/fuzz.conf", data)
		var e *Errors
		if err != nil && !errors.As(err, &e) {
			t.Fatalf("error of type %T: %v", err, err)
		}
		if err == nil && cfg == nil {
			t.Fatalf("no config and no error")
		}
		all := append(Diagnostics(nil), warns...)
		if e != nil {
			all = append(all, e.Diagnostics...)
		}
		for _, d := range all {
			if d.File != "testdata/fuzz.conf" || d.Line < 1 || d.Line > lines {
				t.Fatalf("diagnostic outside the document: %v", d)
			}
		}
	})
}
