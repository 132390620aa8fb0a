package worker

import (
	"testing"
	"time"
)

func TestRetryDelay(t *testing.T) {
	cases := []struct {
		n    int
		want time.Duration
	}{{0, time.Second}, {1, 2 * time.Second}, {2, 4 * time.Second}, {5, 32 * time.Second}, {6, time.Minute}, {40, time.Minute}}
	for _, c := range cases {
		if got := RetryDelay(c.n, nil, nil); got != c.want {
			t.Errorf("RetryDelay(%d) = %s, want %s", c.n, got, c.want)
		}
	}
}
