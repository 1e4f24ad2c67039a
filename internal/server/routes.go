package server

import (
	"net/http"
	"slices"
	"strings"
)

// access is who may call a route.
type access int

const (
	public        access = iota // anybody
	authenticated               // any signed-in user; unsafe methods need an administrator
	adminOnly                   // administrators only, even to read
	metricsAccess               // authenticated, except from a loopback address
)

// route is one endpoint. The table drives both the mux and the test that
// keeps the OpenAPI description complete.
type route struct {
	method, path string
	access       access
	handler      http.HandlerFunc
}

func (s *Server) apiRoutes() []route {
	return []route{
		{"GET", "/api/v1/alerts", authenticated, s.handleAlerts},
		{"GET", "/api/v1/alerts/{id}", authenticated, s.handleAlert},
		{"GET", "/api/v1/aggregations/histogram", authenticated, s.handleHistogram},
		{"GET", "/api/v1/aggregations/top", authenticated, s.handleTop},
		{"GET", "/api/v1/aggregations/mitre", authenticated, s.handleMitre},
		{"GET", "/api/v1/posture", authenticated, s.handlePosture},
		{"GET", "/api/v1/posture/summary", authenticated, s.handlePostureSummary},
		{"GET", "/api/v1/posture/trend", authenticated, s.handlePostureTrend},
		{"GET", "/api/v1/stats", authenticated, s.handleStats},
		{"POST", "/api/v1/store/prune", adminOnly, s.handlePrune},
		{"GET", "/api/v1/users", adminOnly, s.handleListUsers},
		{"POST", "/api/v1/users", adminOnly, s.handleCreateUser},
		{"DELETE", "/api/v1/users/{name}", adminOnly, s.handleDeleteUser},
		{"PUT", "/api/v1/users/{name}/password", adminOnly, s.handleSetPassword},
		{"POST", "/api/v1/auth/token", public, s.handleToken},
		{"GET", "/api/v1/me", authenticated, s.handleMe},
		{"GET", "/api/openapi.json", public, s.handleOpenAPI},
		{"GET", "/healthz", public, s.handleHealth},
		{"GET", "/metrics", metricsAccess, s.handleMetrics},
		{"GET", "/login", public, s.handleLoginPage},
		{"POST", "/login", public, s.handleLogin},
		{"POST", "/logout", public, s.handleLogout}, // checks its session and CSRF token itself
	}
}

func (s *Server) mux() *http.ServeMux {
	mux := http.NewServeMux()
	for _, rt := range s.routes {
		mux.Handle(rt.method+" "+rt.path, s.guard(rt))
	}
	// Anything else under /api/ is authenticated first, so the answer does
	// not reveal to strangers which endpoints exist.
	mux.Handle("/api/", s.guard(route{path: "/api/", access: authenticated, handler: s.handleNoRoute}))
	if s.opts.Assets != nil {
		mux.Handle("/assets/", s.opts.Assets)
	} else {
		mux.Handle("/assets/", http.NotFoundHandler())
	}
	mux.HandleFunc("/", s.handleDashboard)
	return mux
}

// handleNoRoute answers an /api/ path no route serves: 405 with Allow when
// the path exists for other methods, else 404.
func (s *Server) handleNoRoute(w http.ResponseWriter, r *http.Request) {
	var allow []string
	for _, rt := range s.routes {
		if pathMatches(rt.path, r.URL.Path) && !slices.Contains(allow, rt.method) {
			allow = append(allow, rt.method)
		}
	}
	if len(allow) > 0 {
		if slices.Contains(allow, "GET") {
			allow = append(allow, "HEAD")
		}
		w.Header().Set("Allow", strings.Join(allow, ", "))
		writeError(w, http.StatusMethodNotAllowed, "method "+r.Method+" not allowed")
		return
	}
	writeError(w, http.StatusNotFound, "no such endpoint")
}

// pathMatches matches a path against a route pattern whose {name} segments
// match any one non-empty segment.
func pathMatches(pattern, path string) bool {
	ps, xs := strings.Split(pattern, "/"), strings.Split(path, "/")
	if len(ps) != len(xs) {
		return false
	}
	for i := range ps {
		if strings.HasPrefix(ps[i], "{") {
			if xs[i] == "" {
				return false
			}
			continue
		}
		if ps[i] != xs[i] {
			return false
		}
	}
	return true
}
