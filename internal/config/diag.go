package config

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Pos is where a setting was written.
type Pos struct {
	File string
	Line int
}

// String returns "file:line", or "" for the zero Pos (a default value).
func (p Pos) String() string {
	if p.File == "" {
		return ""
	}
	return p.File + ":" + strconv.Itoa(p.Line)
}

// MarshalText encodes p as "file:line" ("" for the zero Pos).
func (p Pos) MarshalText() ([]byte, error) { return []byte(p.String()), nil }

// IsValid reports whether p names a place in a file.
func (p Pos) IsValid() bool { return p.File != "" }

// Severity tells whether a problem stops tld from starting.
type Severity int

const (
	// Warning is reported and does not stop tld: an unknown tag, a deprecated
	// option, a section that tld does not run yet.
	Warning Severity = iota
	// Error is a bad value: tld refuses to start.
	Error
)

func (s Severity) String() string {
	if s == Error {
		return "error"
	}
	return "warning"
}

// MarshalText encodes s as "error" or "warning".
func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// Diagnostic is one problem found in a configuration, with its place.
type Diagnostic struct {
	File     string
	Line     int
	Severity Severity
	Msg      string
}

// String returns "file:line: error: msg".
func (d Diagnostic) String() string {
	if d.File == "" {
		return d.Severity.String() + ": " + d.Msg
	}
	return fmt.Sprintf("%s:%d: %s: %s", d.File, d.Line, d.Severity, d.Msg)
}

// Diagnostics is a list of problems, in the order of the files and lines.
type Diagnostics []Diagnostic

// String returns one diagnostic per line.
func (ds Diagnostics) String() string {
	var b strings.Builder
	for i, d := range ds {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(d.String())
	}
	return b.String()
}

// Errors is the error returned when a configuration has bad values. It
// lists every one of them.
type Errors struct {
	Diagnostics Diagnostics
}

// Error prints each problem on its own line.
func (e *Errors) Error() string { return e.Diagnostics.String() }

// collector gathers diagnostics while decoding.
type collector struct {
	diags Diagnostics
}

func (c *collector) add(p Pos, sev Severity, format string, args ...any) {
	c.diags = append(c.diags, Diagnostic{File: p.File, Line: p.Line, Severity: sev, Msg: fmt.Sprintf(format, args...)})
}

func (c *collector) errorf(p Pos, format string, args ...any) { c.add(p, Error, format, args...) }
func (c *collector) warnf(p Pos, format string, args ...any)  { c.add(p, Warning, format, args...) }

// split sorts the diagnostics by place (keeping the order of those at the
// same line) and returns the warnings and, when there are errors, *Errors.
func (c *collector) split() (Diagnostics, error) {
	slices.SortStableFunc(c.diags, func(a, b Diagnostic) int {
		return cmp.Or(cmp.Compare(a.File, b.File), cmp.Compare(a.Line, b.Line))
	})
	var warns, errs Diagnostics
	for _, d := range c.diags {
		if d.Severity == Error {
			errs = append(errs, d)
		} else {
			warns = append(warns, d)
		}
	}
	if len(errs) > 0 {
		return warns, &Errors{Diagnostics: errs}
	}
	return warns, nil
}
