package ruleset

import (
	"fmt"
	"strings"
)

// Severity tells whether a problem stops the ruleset from loading.
type Severity int

const (
	Warning Severity = iota
	Error
)

func (s Severity) String() string {
	if s == Error {
		return "error"
	}
	return "warning"
}

// Problem is one thing wrong with a rule, decoder or list file, with the
// place where it is.
type Problem struct {
	Pos      string // file:line
	Severity Severity
	Msg      string
}

func (p Problem) String() string { return fmt.Sprintf("%s: %s: %s", p.Pos, p.Severity, p.Msg) }

// Problems is every problem found while loading.
type Problems []Problem

// Errors returns only the problems that stop loading.
func (ps Problems) Errors() Problems {
	var out Problems
	for _, p := range ps {
		if p.Severity == Error {
			out = append(out, p)
		}
	}
	return out
}

// Warnings returns the problems that do not stop loading.
func (ps Problems) Warnings() Problems {
	var out Problems
	for _, p := range ps {
		if p.Severity == Warning {
			out = append(out, p)
		}
	}
	return out
}

// LoadError is returned when a ruleset has errors; it lists all of them.
type LoadError struct{ Problems Problems }

func (e *LoadError) Error() string {
	var b strings.Builder
	errs := e.Problems.Errors()
	fmt.Fprintf(&b, "ruleset has %d error(s):", len(errs))
	for _, p := range errs {
		b.WriteString("\n  ")
		b.WriteString(p.String())
	}
	return b.String()
}

type collector struct{ problems Problems }

func (c *collector) errorf(pos, format string, args ...any) {
	c.problems = append(c.problems, Problem{Pos: pos, Severity: Error, Msg: fmt.Sprintf(format, args...)})
}

func (c *collector) warnf(pos, format string, args ...any) {
	c.problems = append(c.problems, Problem{Pos: pos, Severity: Warning, Msg: fmt.Sprintf(format, args...)})
}

func (ps Problems) String() string {
	var b strings.Builder
	for _, p := range ps {
		b.WriteString(p.String())
		b.WriteByte('\n')
	}
	return b.String()
}
