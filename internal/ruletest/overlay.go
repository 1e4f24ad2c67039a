package ruletest

import (
	"bytes"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/threatlockdown/tld/internal/ruleset"
)

// toFS turns a source of OS paths into one over os.DirFS rooted at the
// directory common to all its paths; over's keys are re-keyed likewise.
// Absolute exclude paths under the root become relative; base-name and
// suffix excludes keep working as they are.
func toFS(src ruleset.Source, over map[string][]byte) (ruleset.Source, map[string][]byte, error) {
	var all []string
	all = append(all, src.DecoderDirs...)
	all = append(all, src.RuleDirs...)
	for _, f := range src.DecoderFiles {
		all = append(all, filepath.Dir(f))
	}
	for _, f := range src.RuleFiles {
		all = append(all, filepath.Dir(f))
	}
	for _, l := range src.Lists {
		all = append(all, filepath.Dir(l.Path))
	}
	root := ""
	for i, p := range all {
		abs, err := filepath.Abs(p)
		if err != nil {
			return src, nil, err
		}
		if i == 0 {
			root = abs
			continue
		}
		for !within(abs, root) {
			root = filepath.Dir(root)
		}
	}
	rel := func(p string) (string, error) {
		abs, err := filepath.Abs(p)
		if err != nil {
			return "", err
		}
		r, err := filepath.Rel(root, abs)
		if err != nil {
			return "", err
		}
		return filepath.ToSlash(r), nil
	}
	var firstErr error
	relAll := func(ps []string) []string {
		out := make([]string, len(ps))
		for i, p := range ps {
			r, err := rel(p)
			if err != nil && firstErr == nil {
				firstErr = err
			}
			out[i] = r
		}
		return out
	}
	relExcludes := func(ps []string) []string {
		out := make([]string, len(ps))
		for i, p := range ps {
			out[i] = p
			if filepath.IsAbs(p) {
				if r, err := rel(p); err == nil && within(filepath.Clean(p), root) {
					out[i] = r
				}
			}
		}
		return out
	}
	dst := src
	if abs, err := filepath.Abs(src.Name); err != nil || abs != root {
		dst.Name = root
	}
	dst.FS = os.DirFS(root)
	dst.DecoderDirs = relAll(src.DecoderDirs)
	dst.RuleDirs = relAll(src.RuleDirs)
	dst.DecoderFiles = relAll(src.DecoderFiles)
	dst.RuleFiles = relAll(src.RuleFiles)
	dst.DecoderExclude = relExcludes(src.DecoderExclude)
	dst.RuleExclude = relExcludes(src.RuleExclude)
	dst.Lists = make([]ruleset.ListFile, len(src.Lists))
	for i, l := range src.Lists {
		r, err := rel(l.Path)
		if err != nil && firstErr == nil {
			firstErr = err
		}
		dst.Lists[i] = ruleset.ListFile{Path: r, Name: l.Name}
	}
	nover := make(map[string][]byte, len(over))
	for p, data := range over {
		r, err := rel(p)
		if err != nil && firstErr == nil {
			firstErr = err
		}
		nover[r] = data
	}
	if firstErr != nil {
		return src, nil, firstErr
	}
	return dst, nover, nil
}

func within(p, dir string) bool {
	if p == dir {
		return true
	}
	if !strings.HasSuffix(dir, string(filepath.Separator)) {
		dir += string(filepath.Separator)
	}
	return strings.HasPrefix(p, dir)
}

// overlayFS serves files from base, some of them replaced by new content.
type overlayFS struct {
	base  fs.FS
	files map[string][]byte
}

func (o *overlayFS) Open(name string) (fs.File, error) {
	if data, ok := o.files[name]; ok {
		return &memFile{name: path.Base(name), r: bytes.NewReader(data), size: int64(len(data))}, nil
	}
	return o.base.Open(name)
}

func (o *overlayFS) ReadFile(name string) ([]byte, error) {
	if data, ok := o.files[name]; ok {
		return bytes.Clone(data), nil
	}
	return fs.ReadFile(o.base, name)
}

func (o *overlayFS) ReadDir(name string) ([]fs.DirEntry, error) {
	return fs.ReadDir(o.base, name)
}

func (o *overlayFS) Stat(name string) (fs.FileInfo, error) {
	if data, ok := o.files[name]; ok {
		return memInfo{name: path.Base(name), size: int64(len(data))}, nil
	}
	return fs.Stat(o.base, name)
}

type memFile struct {
	name string
	r    *bytes.Reader
	size int64
}

func (f *memFile) Stat() (fs.FileInfo, error) { return memInfo{name: f.name, size: f.size}, nil }
func (f *memFile) Read(p []byte) (int, error) { return f.r.Read(p) }
func (f *memFile) Close() error               { return nil }

type memInfo struct {
	name string
	size int64
}

func (i memInfo) Name() string       { return i.name }
func (i memInfo) Size() int64        { return i.size }
func (i memInfo) Mode() fs.FileMode  { return 0o444 }
func (i memInfo) ModTime() time.Time { return time.Time{} }
func (i memInfo) IsDir() bool        { return false }
func (i memInfo) Sys() any           { return nil }
