package server

import (
	"context"
	"fmt"
	"net/http"
	"runtime/debug"
	"strings"
	"time"
)

// contentSecurityPolicy lets pages load scripts, styles, images and fonts
// from tld itself only, and nothing may frame them.
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; font-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// maxBodyBytes caps every request body; the API's JSON bodies are capped
// lower when decoded.
const maxBodyBytes = 1 << 20

// reqInfo travels in the request context so the access log, which runs
// outermost, learns who the inner handlers authenticated.
type reqInfo struct {
	user string
	via  via
}

type reqInfoKey struct{}

func infoOf(ctx context.Context) *reqInfo {
	ri, _ := ctx.Value(reqInfoKey{}).(*reqInfo)
	return ri
}

// noteUser records the authenticated user for the access log.
func noteUser(r *http.Request, user string) {
	if ri := infoOf(r.Context()); ri != nil {
		ri.user = user
	}
}

// withAuth records how the request was authenticated (for /api/v1/me).
func withAuth(ctx context.Context, how via) context.Context {
	if ri := infoOf(ctx); ri != nil {
		ri.via = how
	}
	return ctx
}

func viaOf(ctx context.Context) via {
	if ri := infoOf(ctx); ri != nil {
		return ri.via
	}
	return viaNone
}

// statusWriter remembers the status and size of a response.
type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the real writer (Flush,
// deadlines).
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// middleware wraps every request: security headers, a body limit, panic
// recovery and the access log.
func (s *Server) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		ri := &reqInfo{}
		r = r.WithContext(context.WithValue(r.Context(), reqInfoKey{}, ri))

		h := sw.Header()
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		if !strings.HasPrefix(r.URL.Path, "/assets/") {
			// Alerts and pages are private and change: no cache may keep them.
			h.Set("Cache-Control", "no-store")
		}
		if r.Body != nil {
			r.Body = http.MaxBytesReader(sw, r.Body, maxBodyBytes)
		}

		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.log.Error("http handler panicked", "method", r.Method, "path", r.URL.Path,
					"panic", fmt.Sprint(v), "stack", string(debug.Stack()))
				if sw.status == 0 {
					writeError(sw, http.StatusInternalServerError, "internal error")
				}
			}
			// The path only: query strings may carry search text, and no
			// header (Authorization, Cookie) is ever logged.
			s.log.Debug("http request", "method", r.Method, "path", r.URL.Path,
				"status", sw.status, "bytes", sw.bytes, "duration", time.Since(start),
				"remote", clientIP(r), "user", ri.user)
		}()
		next.ServeHTTP(sw, r)
	})
}
