package logfile

import (
	"fmt"
	"path/filepath"
	"strings"
	"time"
)

// hasGlob reports whether a location is a wildcard pattern. logcollector
// looks for the same three characters.
func hasGlob(loc string) bool { return strings.ContainsAny(loc, "*?[") }

// hasDate reports whether a location carries strftime conversions.
func hasDate(loc string) bool { return strings.Contains(loc, "%") }

// expand returns the files a location names at time now: strftime
// conversions first (against local time, as logcollector does), then the
// wildcards. A plain path is returned as is, whether or not it exists.
func expand(loc string, now time.Time) ([]string, error) {
	if hasDate(loc) {
		loc = strftime(loc, now.Local())
	}
	if !hasGlob(loc) {
		return []string{loc}, nil
	}
	paths, err := filepath.Glob(loc)
	if err != nil {
		return nil, fmt.Errorf("expand %q: %w", loc, err)
	}
	return paths, nil
}

// checkLocation rejects a location that can never name a file.
func checkLocation(loc string) error {
	if strings.TrimSpace(loc) == "" {
		return fmt.Errorf("empty location")
	}
	if hasGlob(loc) {
		// Match checks the whole pattern's syntax whatever the name.
		if _, err := filepath.Match(strftime(loc, time.Now()), ""); err != nil {
			return fmt.Errorf("location %q: %w", loc, err)
		}
	}
	return nil
}
