package auth

import "context"

// Role is what a user may do.
type Role string

// The roles. A read-only user reads everything; only an administrator
// changes anything (users, retention, deletions).
const (
	ReadOnly      Role = "read-only"
	Administrator Role = "administrator"
)

// Principal is the authenticated user of a request.
type Principal struct {
	User string
	Role Role
	// CSRF is the session's anti-forgery token, to be embedded in forms
	// (field "csrf_token") or sent in the X-CSRF-Token header. Empty for
	// bearer-token requests, which cannot be forged by a browser.
	CSRF string
}

// CanWrite tells whether the principal may change state.
func (p Principal) CanWrite() bool { return p.Role == Administrator }

type principalKey struct{}

// WithPrincipal returns ctx carrying p.
func WithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// FromContext returns the principal the request was authenticated as.
func FromContext(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(Principal)
	return p, ok
}
