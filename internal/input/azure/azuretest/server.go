// Package azuretest is a local HTTPS double of the Azure services the Azure
// inputs talk to, written from Microsoft's documented requests and
// responses: the Microsoft Entra ID v2 token endpoint (client credentials)
// and the Log Analytics query API. Other services (Microsoft Graph) add
// their routes in files of this package with registerRoutes.
//
// The server is an httptest TLS server; its certificate is written to a PEM
// file (CAFile) that tests pass as <ca_file>, so the code under test uses a
// real TLS client and not a test-only transport.
//
// Faults are injected per service with InjectQueryFaults (429 with
// Retry-After, 500, slow and stalled answers, PartialError); token
// behaviour with AddApp/ExpireSecret/SetTokenLifetime/ExpireTokens; wrong
// tenants, applications and secrets simply are not registered.
//
// To add a service (Graph), write a file of this package that registers
// its handlers from init with registerRoutes, checks tokens with
// s.authorize(r, audience), takes faults with s.nextFault("graph") (and
// exports an InjectGraphFaults over s.inject), and counts requests with
// s.count.
package azuretest

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// Server is the double. Its methods are safe for concurrent use.
type Server struct {
	ts     *httptest.Server
	caFile string

	mu            sync.Mutex
	tenants       map[string]*tenant // by lower-case id and domains
	resources     map[string]bool    // token audiences that exist
	tokens        map[string]*token
	tokenLifetime time.Duration
	workspaces    map[string]*Workspace
	faults        map[string][]Fault // by service: "query", and whatever other doubles add
	counts        map[string]int     // requests by kind: "token", "openid", "query"
	queryLog      []QueryRecord

	// RowLimit and SizeLimit are the Log Analytics result limits: a result
	// beyond them is truncated and answered with a PartialError, as the
	// service does (500,000 records, 64 MB). Set them before querying.
	RowLimit  int
	SizeLimit int
}

// routeFuncs add handlers to every new server; each service file of the
// package registers its own from init.
var routeFuncs []func(s *Server, mux *http.ServeMux)

// registerRoutes adds a service's handlers to every server created after.
func registerRoutes(f func(s *Server, mux *http.ServeMux)) { routeFuncs = append(routeFuncs, f) }

// NewServer starts a double and stops it when the test ends. The CA
// certificate is written to a file in tb.TempDir().
func NewServer(tb testing.TB) *Server {
	tb.Helper()
	s := &Server{
		tenants:       map[string]*tenant{},
		resources:     map[string]bool{},
		tokens:        map[string]*token{},
		tokenLifetime: time.Hour,
		workspaces:    map[string]*Workspace{},
		faults:        map[string][]Fault{},
		counts:        map[string]int{},
		RowLimit:      500000,
		SizeLimit:     64 << 20,
	}
	for _, r := range defaultResources {
		s.resources[r] = true
	}
	mux := http.NewServeMux()
	for _, f := range routeFuncs {
		f(s, mux)
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusNotFound, apiError("PathNotFoundError", "The requested path does not exist", nil))
	})
	s.ts = httptest.NewUnstartedServer(mux)
	// TLS tests make handshakes fail on purpose: keep them out of the output.
	s.ts.Config.ErrorLog = log.New(io.Discard, "", 0)
	s.ts.StartTLS()
	tb.Cleanup(s.ts.Close)
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.ts.Certificate().Raw})
	s.caFile = filepath.Join(tb.TempDir(), "azuretest-ca.pem")
	if err := os.WriteFile(s.caFile, pemBytes, 0o600); err != nil {
		tb.Fatalf("azuretest: write CA file: %v", err)
	}
	return s
}

// URL is the server's base URL, "https://127.0.0.1:port". It serves every
// service: use it as <authority_host>, <log_analytics_endpoint> and so on.
func (s *Server) URL() string { return s.ts.URL }

// CAFile is a PEM file holding the certificate the server presents.
func (s *Server) CAFile() string { return s.caFile }

// Fault is one injected misbehaviour, consumed by one request of the
// service it was injected for.
type Fault struct {
	// Status answers with this HTTP status and the service's error body
	// (429 ThrottledError, 500 InternalServerError, 503, 504 ...) instead
	// of the result. Zero answers normally (after Delay, with PartialError).
	Status int
	// RetryAfter sets the Retry-After header, in whole seconds (rounded up).
	RetryAfter time.Duration
	// Delay waits before answering. Log Analytics stops waiting at the
	// request's "Prefer: wait=N" and answers 504 GatewayTimeout, as the
	// service does, unless Stall is set.
	Delay time.Duration
	// Stall ignores the request's Prefer wait: the connection hangs for
	// Delay, as a stalled network does, so only the client's timeout ends it.
	Stall bool
	// PartialError answers 200 with the first half of the rows and an
	// "error" of code PartialError (a non-fatal engine error), as the
	// service does for a query that failed on part of the data.
	PartialError bool
}

// InjectQueryFaults queues faults for the next Log Analytics query
// requests, one per request, in order.
func (s *Server) InjectQueryFaults(f ...Fault) { s.inject("query", f...) }

func (s *Server) inject(service string, f ...Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults[service] = append(s.faults[service], f...)
}

// nextFault pops the next fault queued for service; ok is false when none is.
func (s *Server) nextFault(service string) (f Fault, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	q := s.faults[service]
	if len(q) == 0 {
		return Fault{}, false
	}
	s.faults[service] = q[1:]
	return q[0], true
}

// PendingFaults is the number of faults of service not yet consumed.
func (s *Server) PendingFaults(service string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.faults[service])
}

// Requests counts the requests of a kind received so far: "token" (POSTs
// to a token endpoint, failed ones included), "openid" (tenant discovery),
// "instance" (instance discovery) or "query" (Log Analytics queries).
func (s *Server) Requests(kind string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.counts[kind]
}

func (s *Server) count(kind string) {
	s.mu.Lock()
	s.counts[kind]++
	s.mu.Unlock()
}

// errorBody is the OneAPI error object of Azure REST APIs.
type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code       string        `json:"code"`
	Message    string        `json:"message"`
	Details    []errorDetail `json:"details,omitempty"`
	InnerError *innerError   `json:"innererror,omitempty"`
}

type innerError struct {
	Code         string `json:"code"`
	Message      string `json:"message"`
	Severity     int    `json:"severity,omitempty"`
	SeverityName string `json:"severityName,omitempty"`
}

func apiError(code, msg string, inner *innerError) errorBody {
	return errorBody{Error: errorDetail{Code: code, Message: msg, InnerError: inner}}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	w.Write(b)
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// sleepCtx waits d or until the client goes away; it reports whether the
// whole wait elapsed.
func sleepCtx(r *http.Request, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
		return false
	}
}
