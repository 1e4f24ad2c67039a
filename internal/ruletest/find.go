package ruletest

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// FindOptions say which files Find picks in folders.
type FindOptions struct {
	// GeoIP keeps files named *geoip.ini, which runtests.py skips unless
	// run with --geoip (their rules need a GeoIP database).
	GeoIP bool
}

// Find expands paths into the test files to run: a file is taken as
// given; a folder gives its *.ini files (not those of sub-folders, as
// runtests.py lists its tests folder), sorted by name, without the
// *geoip.ini ones unless opts.GeoIP.
func Find(paths []string, opts FindOptions) ([]string, error) {
	var out []string
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("find rule tests: %w", err)
		}
		if !fi.IsDir() {
			out = append(out, p)
			continue
		}
		entries, err := os.ReadDir(p)
		if err != nil {
			return nil, fmt.Errorf("find rule tests: %w", err)
		}
		var names []string
		for _, e := range entries {
			n := e.Name()
			if e.IsDir() || !strings.HasSuffix(n, ".ini") {
				continue
			}
			if !opts.GeoIP && strings.HasSuffix(n, "geoip.ini") {
				continue
			}
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			out = append(out, filepath.Join(p, n))
		}
	}
	return out, nil
}
