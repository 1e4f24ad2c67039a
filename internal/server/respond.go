package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"

	"github.com/threatlockdown/tld/internal/server/query"
)

// maxJSONBody caps API request bodies: they hold a user and a password at
// most.
const maxJSONBody = 64 << 10

// apiError is the body of every API error.
type apiError struct {
	Error string `json:"error"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(true)
	// A failure here is the client going away; the status is already sent.
	_ = enc.Encode(v)
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, apiError{Error: msg})
}

// badRequest answers a query parameter error with 400 naming it.
func badRequest(w http.ResponseWriter, err error) {
	writeError(w, http.StatusBadRequest, err.Error())
}

// storeError answers a failed store call. The store's message stays in the
// log: it may hold SQL and paths.
func (s *Server) storeError(w http.ResponseWriter, r *http.Request, what string, err error) {
	if errors.Is(err, context.Canceled) {
		// The client went away; nobody reads the answer.
		w.WriteHeader(499)
		return
	}
	if errors.Is(err, context.DeadlineExceeded) {
		writeError(w, http.StatusServiceUnavailable, what+" took too long")
		return
	}
	s.log.Error("store query failed", "what", what, "path", r.URL.Path, "err", err)
	writeError(w, http.StatusInternalServerError, what+" failed")
}

// decodeJSON reads a JSON object body into v. It answers the client itself
// and returns false when the body is unusable.
func decodeJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || mt != "application/json" {
			writeError(w, http.StatusUnsupportedMediaType, "send application/json")
			return false
		}
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxJSONBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeError(w, http.StatusRequestEntityTooLarge, "body too large")
			return false
		}
		// The decoder's message names fields and types, never values.
		writeError(w, http.StatusBadRequest, fmt.Sprintf("bad JSON body: %v", jsonErrorText(err)))
		return false
	}
	if dec.More() {
		writeError(w, http.StatusBadRequest, "bad JSON body: more than one value")
		return false
	}
	return true
}

// jsonErrorText describes a decoding error without quoting the input,
// which may be a password.
func jsonErrorText(err error) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return fmt.Sprintf("syntax error at byte %d", syn.Offset)
	case errors.As(err, &typ):
		return fmt.Sprintf("field %q has the wrong type (want %s)", typ.Field, typ.Type)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "body is empty or cut short"
	}
	// DisallowUnknownFields: `json: unknown field "x"` names the key only.
	return err.Error()
}

// queryError is how handlers report parameter errors: *query.Error
// messages already name the parameter.
func queryError(w http.ResponseWriter, err error) {
	var qe *query.Error
	if errors.As(err, &qe) {
		badRequest(w, qe)
		return
	}
	badRequest(w, err)
}
