package jobs

import (
	"context"
	"encoding/json"
	"time"
)

// MaxSleepSeconds bounds the sleep kind; docs/contracts.md sizes the
// worker's shutdown grace from it.
const MaxSleepSeconds = 30

// Sleep waits, for demos and for tests of the queue itself.
type Sleep struct{}

type sleepInput struct {
	Seconds *float64 `json:"seconds"`
}

// SleepResult is the result of a sleep job.
type SleepResult struct {
	SleptSeconds float64 `json:"slept_seconds"`
}

func (Sleep) Name() string    { return "sleep" }
func (Sleep) Example() string { return `{"seconds": 2}` }

func (s Sleep) Validate(input []byte) (json.RawMessage, error) {
	var in sleepInput
	if err := decodeStrict(input, &in, "input", s.Example()); err != nil {
		return nil, err
	}
	switch {
	case in.Seconds == nil:
		return nil, badField("input.seconds", "is required: how long to sleep, 0 to %d; example: %s", MaxSleepSeconds, s.Example())
	case *in.Seconds < 0 || *in.Seconds > MaxSleepSeconds:
		return nil, badField("input.seconds", "is %g; it must be between 0 and %d", *in.Seconds, MaxSleepSeconds)
	}
	return json.Marshal(in)
}

func (Sleep) Run(ctx context.Context, input json.RawMessage) (any, error) {
	var in sleepInput
	if err := json.Unmarshal(input, &in); err != nil || in.Seconds == nil {
		return nil, badField("input", "stored input is not a sleep input: %v", err)
	}
	d := time.Duration(*in.Seconds * float64(time.Second))
	if d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	return SleepResult{SleptSeconds: *in.Seconds}, nil
}
