package jobs

import (
	"context"
	"encoding/json"
	"math"
)

// Limits for primes: the end bound keeps the base sieve (up to sqrt(end))
// small, and the width bounds the segment a worker holds in memory.
const (
	MaxPrimeEnd   = 1_000_000_000_000
	MaxPrimeWidth = 10_000_000
)

// Primes counts the primes in [start, end].
type Primes struct{}

type primesInput struct {
	Start *int64 `json:"start"`
	End   *int64 `json:"end"`
}

// PrimesResult is the result of a primes job.
type PrimesResult struct {
	Start int64 `json:"start"`
	End   int64 `json:"end"`
	Count int64 `json:"count"`
}

func (Primes) Name() string    { return "primes" }
func (Primes) Example() string { return `{"start": 1, "end": 1000}` }

func (p Primes) Validate(input []byte) (json.RawMessage, error) {
	var in primesInput
	if err := decodeStrict(input, &in, "input", p.Example()); err != nil {
		return nil, err
	}
	switch {
	case in.Start == nil:
		return nil, badField("input.start", "is required: the first number of the range; example: %s", p.Example())
	case in.End == nil:
		return nil, badField("input.end", "is required: the last number of the range (inclusive); example: %s", p.Example())
	case *in.Start < 0:
		return nil, badField("input.start", "is %d; it must be 0 or more", *in.Start)
	case *in.End > MaxPrimeEnd:
		return nil, badField("input.end", "is %d; it must be at most %d", *in.End, int64(MaxPrimeEnd))
	case *in.End < *in.Start:
		return nil, badField("input.end", "is %d, below start %d; end must be at least start", *in.End, *in.Start)
	case *in.End-*in.Start+1 > MaxPrimeWidth:
		return nil, badField("input.end", "makes the range %d numbers wide; at most %d are allowed: split it into several jobs", *in.End-*in.Start+1, MaxPrimeWidth)
	}
	return json.Marshal(in)
}

func (Primes) Run(ctx context.Context, input json.RawMessage) (any, error) {
	var in primesInput
	if err := json.Unmarshal(input, &in); err != nil || in.Start == nil || in.End == nil {
		return nil, badField("input", "stored input is not a primes input: %v", err)
	}
	n, err := CountPrimes(ctx, *in.Start, *in.End)
	if err != nil {
		return nil, err
	}
	return PrimesResult{Start: *in.Start, End: *in.End, Count: n}, nil
}

// CountPrimes counts primes in [lo, hi] with a segmented sieve: the base
// primes up to sqrt(hi) cross out their multiples in the segment only, so
// memory follows the width, not hi.
func CountPrimes(ctx context.Context, lo, hi int64) (int64, error) {
	if lo < 2 {
		lo = 2
	}
	if hi < lo {
		return 0, nil
	}
	limit := int64(math.Sqrt(float64(hi)))
	for limit*limit > hi {
		limit--
	}
	for (limit+1)*(limit+1) <= hi {
		limit++
	}
	base := make([]bool, limit+1) // true = composite
	var primes []int64
	for i := int64(2); i <= limit; i++ {
		if base[i] {
			continue
		}
		primes = append(primes, i)
		for j := i * i; j <= limit; j += i {
			base[j] = true
		}
	}
	seg := make([]bool, hi-lo+1)
	for k, p := range primes {
		if k%1024 == 0 && ctx.Err() != nil {
			return 0, ctx.Err()
		}
		start := max(p*p, (lo+p-1)/p*p)
		for j := start; j <= hi; j += p {
			seg[j-lo] = true
		}
	}
	var count int64
	for _, composite := range seg {
		if !composite {
			count++
		}
	}
	return count, nil
}
