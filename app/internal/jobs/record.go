// Package jobs holds the job record, the analysis kinds and the rules for
// what a client may submit.
package jobs

import (
	"encoding/json"
	"time"
)

// Status is where a job is in its life.
type Status string

const (
	StatusQueued    Status = "queued"
	StatusRunning   Status = "running"
	StatusSucceeded Status = "succeeded"
	StatusFailed    Status = "failed"
)

// Statuses lists every status, in life order; used to validate filters and to
// name the index keys.
var Statuses = []Status{StatusQueued, StatusRunning, StatusSucceeded, StatusFailed}

// ParseStatus accepts one of Statuses.
func ParseStatus(s string) (Status, bool) {
	for _, st := range Statuses {
		if string(st) == s {
			return st, true
		}
	}
	return "", false
}

// Record is a job as clients see it. Times are UTC; StartedAt and
// FinishedAt stay null until they happen.
type Record struct {
	ID         string          `json:"id"`
	Kind       string          `json:"kind"`
	Status     Status          `json:"status"`
	Attempts   int             `json:"attempts"`
	Error      string          `json:"error"`
	CreatedAt  time.Time       `json:"created_at"`
	StartedAt  *time.Time      `json:"started_at"`
	FinishedAt *time.Time      `json:"finished_at"`
	Input      json.RawMessage `json:"input"`
	Result     json.RawMessage `json:"result"`
}
