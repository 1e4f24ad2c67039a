package config

import (
	"fmt"
	"io"
	"log/slog"
)

// redacted is what a Secret shows instead of its value.
const redacted = "[REDACTED]"

// Secret holds a credential (an application key, an account key). Printing
// it, formatting it with any verb, logging it with slog and encoding it as
// JSON or text show "[REDACTED]" (or "" when it is empty), never the value;
// only Reveal returns the value. The value sits behind a pointer so that
// even reflection-based printing of a struct holding a Secret in an
// unexported field shows an address, not the value.
type Secret struct {
	v *string
}

// NewSecret wraps a credential.
func NewSecret(v string) Secret {
	if v == "" {
		return Secret{}
	}
	return Secret{v: &v}
}

// Reveal returns the credential. Call it only where the value is sent to the
// service that needs it.
func (s Secret) Reveal() string {
	if s.v == nil {
		return ""
	}
	return *s.v
}

// IsZero reports whether the secret is empty.
func (s Secret) IsZero() bool { return s.v == nil }

func (s Secret) shown() string {
	if s.v == nil {
		return ""
	}
	return redacted
}

// String returns "[REDACTED]", or "" when the secret is empty.
func (s Secret) String() string { return s.shown() }

// GoString keeps %#v from showing the value.
func (s Secret) GoString() string { return "config.Secret(" + fmt.Sprintf("%q", s.shown()) + ")" }

// Format makes every fmt verb (%v, %s, %d, %x, %q, ...) print the redacted
// form.
func (s Secret) Format(f fmt.State, verb rune) {
	switch {
	case verb == 'v' && f.Flag('#'):
		io.WriteString(f, s.GoString())
	case verb == 'q':
		fmt.Fprintf(f, "%q", s.shown())
	default:
		io.WriteString(f, s.shown())
	}
}

// MarshalJSON encodes the redacted form.
func (s Secret) MarshalJSON() ([]byte, error) {
	if s.v == nil {
		return []byte(`""`), nil
	}
	return []byte(`"` + redacted + `"`), nil
}

// MarshalText encodes the redacted form.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.shown()), nil }

// LogValue makes slog log the redacted form.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.shown()) }

var (
	_ fmt.Stringer   = Secret{}
	_ fmt.GoStringer = Secret{}
	_ fmt.Formatter  = Secret{}
	_ slog.LogValuer = Secret{}
)
