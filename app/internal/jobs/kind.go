package jobs

import (
	"context"
	"encoding/json"
	"sort"
	"strings"
)

// Kind is one analysis a worker can run.
type Kind interface {
	// Name is what clients put in "kind".
	Name() string
	// Example is a valid input, quoted in error messages so a client sees
	// the fix, not just the fault.
	Example() string
	// Validate checks a submitted input and returns it re-encoded, so the
	// stored input is exactly what Run will accept.
	Validate(input []byte) (json.RawMessage, error)
	// Run computes the result; it must honour ctx so a shutting-down worker
	// can hand the job back.
	Run(ctx context.Context, input json.RawMessage) (any, error)
}

// Registry maps kind names to kinds.
type Registry map[string]Kind

// NewRegistry builds a registry from kinds.
func NewRegistry(kinds ...Kind) Registry {
	r := Registry{}
	for _, k := range kinds {
		r[k.Name()] = k
	}
	return r
}

// DefaultRegistry holds the kinds the service offers.
func DefaultRegistry() Registry {
	return NewRegistry(Primes{}, Stats{}, Sleep{})
}

// Names lists the kind names, sorted, for error messages.
func (r Registry) Names() []string {
	names := make([]string, 0, len(r))
	for n := range r {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func (r Registry) known() string { return strings.Join(r.Names(), ", ") }
