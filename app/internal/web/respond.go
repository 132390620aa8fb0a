// Package web holds what both processes' HTTP servers share: JSON replies,
// request logging and metrics, probes, and a server that shuts down
// gracefully.
package web

import (
	"encoding/json"
	"net/http"
)

// ErrorBody is every error reply: what is wrong, the field at fault when
// there is one, and for conflicts the job's status.
type ErrorBody struct {
	Error  string `json:"error"`
	Field  string `json:"field,omitempty"`
	Status string `json:"status,omitempty"`
}

// JSON writes v with the status code.
func JSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v) // the client hung up; nothing left to tell it
}

// Error writes an ErrorBody.
func Error(w http.ResponseWriter, code int, msg string) {
	JSON(w, code, ErrorBody{Error: msg})
}
