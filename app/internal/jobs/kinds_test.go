package jobs

import (
	"context"
	"encoding/json"
	"math"
	"testing"
	"time"
)

func TestCountPrimes(t *testing.T) {
	cases := []struct {
		lo, hi int64
		want   int64
	}{
		{0, 0, 0}, {0, 1, 0}, {2, 2, 1}, {0, 10, 4}, {1, 100, 25}, {10, 20, 4},
		{0, 1000, 168}, {0, 1_000_000, 78498}, {1_000_000, 2_000_000, 70435},
		{97, 97, 1}, {98, 100, 0},
	}
	for _, c := range cases {
		got, err := CountPrimes(context.Background(), c.lo, c.hi)
		if err != nil || got != c.want {
			t.Errorf("CountPrimes(%d, %d) = %d, %v; want %d", c.lo, c.hi, got, err, c.want)
		}
	}
}

// TestCountPrimesMatchesTrialDivision cross-checks the sieve on ranges that
// straddle square numbers, where off-by-one errors in the base sieve show.
func TestCountPrimesMatchesTrialDivision(t *testing.T) {
	isPrime := func(n int64) bool {
		if n < 2 {
			return false
		}
		for d := int64(2); d*d <= n; d++ {
			if n%d == 0 {
				return false
			}
		}
		return true
	}
	for _, r := range [][2]int64{{0, 3000}, {9_990, 10_010}, {1_000_000_000_000 - 2000, 1_000_000_000_000}} {
		var want int64
		for n := r[0]; n <= r[1]; n++ {
			if isPrime(n) {
				want++
			}
		}
		if got, _ := CountPrimes(context.Background(), r[0], r[1]); got != want {
			t.Errorf("CountPrimes(%d, %d) = %d, trial division says %d", r[0], r[1], got, want)
		}
	}
}

func TestSummarise(t *testing.T) {
	cases := []struct {
		in   []float64
		want StatsResult
	}{
		{[]float64{5}, StatsResult{Count: 1, Sum: 5, Min: 5, Max: 5, Mean: 5, Stddev: 0}},
		{[]float64{2, 4, 4, 4, 5, 5, 7, 9}, StatsResult{Count: 8, Sum: 40, Min: 2, Max: 9, Mean: 5, Stddev: 2}},
		{[]float64{-1, 1}, StatsResult{Count: 2, Sum: 0, Min: -1, Max: 1, Mean: 0, Stddev: 1}},
		{[]float64{1e9 + 1, 1e9 + 3}, StatsResult{Count: 2, Sum: 2e9 + 4, Min: 1e9 + 1, Max: 1e9 + 3, Mean: 1e9 + 2, Stddev: 1}},
	}
	for _, c := range cases {
		got := Summarise(c.in)
		if got.Count != c.want.Count || got.Sum != c.want.Sum || got.Min != c.want.Min || got.Max != c.want.Max ||
			math.Abs(got.Mean-c.want.Mean) > 1e-9 || math.Abs(got.Stddev-c.want.Stddev) > 1e-9 {
			t.Errorf("Summarise(%v) = %+v, want %+v", c.in, got, c.want)
		}
	}
}

func TestRunKinds(t *testing.T) {
	r := DefaultRegistry()
	cases := []struct {
		kind, input, want string
	}{
		{"primes", `{"start":1,"end":100}`, `{"start":1,"end":100,"count":25}`},
		{"stats", `{"values":[1,2,3,4]}`, `{"count":4,"sum":10,"min":1,"max":4,"mean":2.5,"stddev":1.118033988749895}`},
		{"sleep", `{"seconds":0.01}`, `{"slept_seconds":0.01}`},
	}
	for _, c := range cases {
		in, err := r[c.kind].Validate([]byte(c.input))
		if err != nil {
			t.Fatalf("%s Validate: %v", c.kind, err)
		}
		res, err := r[c.kind].Run(context.Background(), in)
		if err != nil {
			t.Fatalf("%s Run: %v", c.kind, err)
		}
		got, _ := json.Marshal(res)
		if string(got) != c.want {
			t.Errorf("%s(%s) = %s, want %s", c.kind, c.input, got, c.want)
		}
	}
}

func TestSleepHonoursCancel(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := Sleep{}.Run(ctx, json.RawMessage(`{"seconds":30}`))
	if err == nil || time.Since(start) > 5*time.Second {
		t.Fatalf("sleep ignored cancellation: err=%v after %s", err, time.Since(start))
	}
}

func TestIDs(t *testing.T) {
	now := time.Now()
	prev := NewID(now)
	for range 1000 {
		id := NewID(now) // same instant: must still increase
		if !ValidID(id) || id <= prev {
			t.Fatalf("id %q after %q: not valid or not increasing", id, prev)
		}
		prev = id
	}
	for _, bad := range []string{"", "abc", "ZZZZZZZZZZZZZZZZZZZZZZZZ", prev + "0", "../../../etc/passwd000000"} {
		if ValidID(bad) {
			t.Errorf("ValidID(%q) = true", bad)
		}
	}
}
