package server

import (
	"context"
	_ "embed"
	"encoding/json"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// openAPI describes every route; routes_test.go keeps it complete.
//
//go:embed openapi.json
var openAPI []byte

func (s *Server) handleOpenAPI(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Write(openAPI)
}

// healthTimeout bounds the Health callback, so a stuck dependency makes
// /healthz fail rather than hang the prober.
const healthTimeout = 5 * time.Second

func (s *Server) handleHealth(w http.ResponseWriter, r *http.Request) {
	body := map[string]any{"status": "ok"}
	if s.opts.Health != nil {
		ctx, cancel := context.WithTimeout(r.Context(), healthTimeout)
		extra := s.opts.Health(ctx)
		cancel()
		if err := mergeFields(body, extra); err != nil {
			s.log.Error("encode health fields", "err", err)
			body["status"] = "error"
		}
	}
	status := http.StatusOK
	if body["status"] != "ok" {
		status = http.StatusServiceUnavailable
	}
	writeJSON(w, status, body)
}

// mergeFields adds the JSON object fields of extra (a map or a struct) to
// into; other values go under "details".
func mergeFields(into map[string]any, extra any) error {
	if extra == nil {
		return nil
	}
	b, err := json.Marshal(extra)
	if err != nil {
		return err
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(b, &fields); err != nil {
		into["details"] = json.RawMessage(b)
		return nil
	}
	for k, v := range fields {
		if k == "status" {
			var st string
			if json.Unmarshal(v, &st) == nil {
				into[k] = st
				continue
			}
		}
		into[k] = v
	}
	return nil
}

func (s *Server) handleMetrics(w http.ResponseWriter, r *http.Request) {
	promhttp.HandlerFor(s.gatherer, promhttp.HandlerOpts{
		ErrorLog: slogPrintln{s},
	}).ServeHTTP(w, r)
}

// slogPrintln adapts the server's logger to promhttp's error log.
type slogPrintln struct{ s *Server }

func (l slogPrintln) Println(v ...any) {
	b, _ := json.Marshal(v)
	l.s.log.Warn("metrics gathering", "err", string(b))
}
