// Package server is tld's HTTP front: the REST API under /api/v1/, its
// OpenAPI description, the dashboard's sign-in pages and session handling,
// /healthz and /metrics. The dashboard's pages themselves come from
// package dashboard; this package authenticates requests before they reach
// it.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/threatlockdown/tld/internal/auth"
	"github.com/threatlockdown/tld/internal/store"
)

// AlertStore is what the API reads from and prunes: *store.Store.
type AlertStore interface {
	Search(ctx context.Context, f store.Filter, p store.Page) (store.SearchResult, error)
	Get(ctx context.Context, id string) (store.StoredAlert, error)
	Histogram(ctx context.Context, f store.Filter, interval time.Duration) ([]store.TimeBucket, error)
	Top(ctx context.Context, f store.Filter, by store.Dimension, n int) ([]store.Bucket, error)
	Mitre(ctx context.Context, f store.Filter) ([]store.MitreCell, error)
	Posture(ctx context.Context, f store.PostureFilter, p store.Page) (store.PostureResult, error)
	PostureCounts(ctx context.Context, f store.PostureFilter) (store.PostureCounts, error)
	PostureTrend(ctx context.Context, f store.PostureFilter, from, to time.Time, interval time.Duration) ([]store.PosturePoint, error)
	Prune(ctx context.Context, before time.Time) (int, error)
	Stats(ctx context.Context) (store.Stats, error)
}

// Options configures a Server. Store and Users are required.
type Options struct {
	Store AlertStore
	Users *auth.Users
	// Dashboard serves the pages under /; nil answers 404 there. It runs
	// only for signed-in users, with auth.Principal in the request context,
	// and unsafe requests reach it only with a valid CSRF token.
	Dashboard http.Handler
	// Assets serves /assets/ without authentication (the sign-in page's
	// stylesheet among them); nil answers 404.
	Assets http.Handler
	// Gatherer is served at /metrics; nil serves Go and process metrics.
	Gatherer prometheus.Gatherer
	// Health adds fields to /healthz. A "status" field other than "ok"
	// makes /healthz answer 503.
	Health func(ctx context.Context) any
	Logger *slog.Logger
	// TLS marks session cookies Secure; set it when a proxy in front
	// terminates TLS. Requests that arrive over TLS get Secure cookies anyway.
	TLS bool
	// RetentionDays is the alert retention POST /api/v1/store/prune applies
	// when not given ?before=; 0 means none.
	RetentionDays int

	// Sessions, Tokens and Limiter tune sign-in; zero values take the
	// defaults (8h idle / 24h sessions, 1h tokens, 5 failures in 15m).
	Sessions auth.SessionConfig
	Tokens   auth.TokenConfig
	Limiter  auth.LimiterConfig
}

// Server is tld's HTTP server.
type Server struct {
	opts     Options
	log      *slog.Logger
	store    AlertStore
	users    *auth.Users
	sessions *auth.Sessions
	tokens   *auth.Tokens
	limiter  *auth.Limiter
	gatherer prometheus.Gatherer
	now      func() time.Time

	routes  []route
	handler http.Handler
}

// New builds a server from opts.
func New(opts Options) (*Server, error) {
	if opts.Store == nil {
		return nil, errors.New("server: no alert store")
	}
	if opts.Users == nil {
		return nil, errors.New("server: no users")
	}
	if opts.RetentionDays < 0 {
		return nil, fmt.Errorf("server: negative retention %d days", opts.RetentionDays)
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Server{
		opts:     opts,
		log:      log,
		store:    opts.Store,
		users:    opts.Users,
		sessions: auth.NewSessions(opts.Sessions),
		tokens:   auth.NewTokens(opts.Tokens),
		limiter:  auth.NewLimiter(opts.Limiter),
		gatherer: opts.Gatherer,
		now:      time.Now,
	}
	if opts.Sessions.Now != nil {
		s.now = opts.Sessions.Now
	}
	if s.gatherer == nil {
		reg := prometheus.NewRegistry()
		reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
		s.gatherer = reg
	}
	s.routes = s.apiRoutes()
	s.handler = s.middleware(s.mux())
	return s, nil
}

// Handler is the server's whole HTTP handler.
func (s *Server) Handler() http.Handler { return s.handler }

// Timeouts of the HTTP server: short enough that idle or slow clients
// cannot pile up connections, long enough for a slow aggregation over a
// large store.
const (
	readHeaderTimeout = 10 * time.Second
	readTimeout       = 30 * time.Second
	writeTimeout      = 2 * time.Minute
	idleTimeout       = 2 * time.Minute
	shutdownTimeout   = 10 * time.Second
)

// Serve serves on ln until ctx is done, then shuts down gracefully: new
// connections are refused and requests in flight get a few seconds to end.
// With certFile and keyFile it serves HTTPS (TLS 1.2 or later).
func (s *Server) Serve(ctx context.Context, ln net.Listener, certFile, keyFile string) error {
	if (certFile == "") != (keyFile == "") {
		return errors.New("serve: TLS needs both a certificate and a key file")
	}
	srv := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
		// Requests keep ctx's values but not its cancellation, so shutdown
		// lets requests in flight finish instead of failing them at once.
		BaseContext: func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	if certFile != "" {
		srv.TLSConfig = tlsConfig()
	}
	errc := make(chan error, 1)
	go func() {
		if certFile != "" {
			errc <- srv.ServeTLS(ln, certFile, keyFile)
		} else {
			errc <- srv.Serve(ln)
		}
	}()
	s.log.Info("http server listening", "addr", ln.Addr().String(), "tls", certFile != "")
	select {
	case err := <-errc:
		return fmt.Errorf("serve http on %s: %w", ln.Addr(), err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
	defer cancel()
	err := srv.Shutdown(sctx)
	if err != nil {
		s.log.Warn("http server shutdown timed out; closing connections", "err", err)
		srv.Close()
	}
	if serr := <-errc; serr != nil && !errors.Is(serr, http.ErrServerClosed) {
		return fmt.Errorf("serve http on %s: %w", ln.Addr(), serr)
	}
	return nil
}
