package jobs

import (
	"context"
	"encoding/json"
	"math"
)

// Limits for stats. The value bound keeps squares and sums finite, so the
// result always encodes as JSON (which has no Inf or NaN).
const (
	MaxStatsValues = 10_000
	MaxStatsAbs    = 1e150
)

// Stats summarises a series of numbers.
type Stats struct{}

type statsInput struct {
	Values []float64 `json:"values"`
}

// StatsResult is the result of a stats job; Stddev is the population
// standard deviation.
type StatsResult struct {
	Count  int     `json:"count"`
	Sum    float64 `json:"sum"`
	Min    float64 `json:"min"`
	Max    float64 `json:"max"`
	Mean   float64 `json:"mean"`
	Stddev float64 `json:"stddev"`
}

func (Stats) Name() string    { return "stats" }
func (Stats) Example() string { return `{"values": [1, 2, 3.5]}` }

func (s Stats) Validate(input []byte) (json.RawMessage, error) {
	var in statsInput
	if err := decodeStrict(input, &in, "input", s.Example()); err != nil {
		return nil, err
	}
	switch {
	case in.Values == nil:
		return nil, badField("input.values", "is required: an array of numbers; example: %s", s.Example())
	case len(in.Values) == 0:
		return nil, badField("input.values", "is empty; send at least one number")
	case len(in.Values) > MaxStatsValues:
		return nil, tooLarge("input.values", "has %d numbers; at most %d are allowed: split the series or summarise it in parts", len(in.Values), MaxStatsValues)
	}
	for i, v := range in.Values {
		if math.Abs(v) > MaxStatsAbs {
			return nil, badField("input.values", "value %d (%g) is out of range; each value must be between %g and %g", i, v, -MaxStatsAbs, MaxStatsAbs)
		}
	}
	return json.Marshal(in)
}

func (Stats) Run(ctx context.Context, input json.RawMessage) (any, error) {
	var in statsInput
	if err := json.Unmarshal(input, &in); err != nil || len(in.Values) == 0 {
		return nil, badField("input", "stored input is not a stats input: %v", err)
	}
	return Summarise(in.Values), nil
}

// Summarise computes the stats of a non-empty series. Welford's update keeps
// the variance accurate when values are large and close together.
func Summarise(values []float64) StatsResult {
	r := StatsResult{Count: len(values), Min: values[0], Max: values[0]}
	var mean, m2 float64
	for i, v := range values {
		r.Sum += v
		r.Min = min(r.Min, v)
		r.Max = max(r.Max, v)
		d := v - mean
		mean += d / float64(i+1)
		m2 += d * (v - mean)
	}
	r.Mean = mean
	r.Stddev = math.Sqrt(max(m2, 0) / float64(len(values)))
	return r
}
