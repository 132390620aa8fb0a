package jobs

import (
	"bytes"
	"encoding/json"
)

// Submission is a validated request to run a job.
type Submission struct {
	Kind  string
	Input json.RawMessage
}

const submissionExample = `{"kind": "primes", "input": {"start": 1, "end": 1000}}`

// DecodeSubmission reads a POST /jobs body: {"kind": ..., "input": {...}}.
// Every error is an *InputError naming the field at fault.
func (r Registry) DecodeSubmission(body []byte) (Submission, error) {
	var raw struct {
		Kind  *string         `json:"kind"`
		Input json.RawMessage `json:"input"`
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return Submission{}, badField("", "request body is empty; send a JSON object like %s", submissionExample)
	}
	if err := decodeStrict(body, &raw, "", submissionExample); err != nil {
		return Submission{}, err
	}
	if raw.Kind == nil || *raw.Kind == "" {
		return Submission{}, badField("kind", "is required; one of: %s", r.known())
	}
	kind, ok := r[*raw.Kind]
	if !ok {
		return Submission{}, badField("kind", "unknown kind %q; known kinds: %s", *raw.Kind, r.known())
	}
	in := bytes.TrimSpace(raw.Input)
	if len(in) == 0 || bytes.Equal(in, []byte("null")) {
		return Submission{}, badField("input", "is required for kind %q; example: %s", kind.Name(), kind.Example())
	}
	if in[0] != '{' {
		return Submission{}, badField("input", "must be a JSON object; example: %s", kind.Example())
	}
	norm, err := kind.Validate(in)
	if err != nil {
		return Submission{}, err
	}
	return Submission{Kind: kind.Name(), Input: norm}, nil
}
