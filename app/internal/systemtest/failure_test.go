package systemtest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/example/jobs/app/internal/jobs"
	"github.com/example/jobs/app/internal/queue"
	"github.com/example/jobs/app/internal/redistest"
)

// flaky fails its first `fails` runs per job, then succeeds. It exists only
// in tests, to drive the retry path that the real kinds never take.
type flaky struct {
	mu    sync.Mutex
	runs  map[string]int
	fails int
}

type flakyInput struct {
	Name string `json:"name"`
}

func (*flaky) Name() string    { return "flaky" }
func (*flaky) Example() string { return `{"name": "x"}` }
func (*flaky) Validate(in []byte) (json.RawMessage, error) {
	var v flakyInput
	if err := json.Unmarshal(in, &v); err != nil {
		return nil, err
	}
	return json.Marshal(v)
}
func (f *flaky) Run(_ context.Context, in json.RawMessage) (any, error) {
	var v flakyInput
	_ = json.Unmarshal(in, &v)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.runs[v.Name]++
	if n := f.runs[v.Name]; n <= f.fails {
		return nil, fmt.Errorf("flaky failure %d of %s", n, v.Name)
	}
	return map[string]int{"runs": f.runs[v.Name]}, nil
}

func TestFailedJobsRetryWithBackoffThenFail(t *testing.T) {
	t.Parallel()
	rs := redistest.Start(t)
	kind := &flaky{runs: map[string]int{}, fails: 2}
	kinds := jobs.NewRegistry(kind)
	base := startAPI(t, rs.Addr, kinds)
	startWorker(t, rs.Addr, kinds, 2)

	// Fails twice, then succeeds on the third attempt.
	recovers := submit(t, base, "flaky", map[string]any{"name": "recovers"})
	// Always fails: four attempts (1 + queue.MaxRetry), then failed.
	kind.mu.Lock()
	kind.runs["doomed"] = -1000
	kind.fails = 2
	kind.mu.Unlock()
	doomed := submit(t, base, "flaky", map[string]any{"name": "doomed"})

	start := time.Now()
	sawRetryState := false
	got := waitFor(t, base, recovers.ID, 30*time.Second, func(r jobs.Record) bool {
		if r.Status == jobs.StatusQueued && r.Attempts >= 1 && strings.Contains(r.Error, "flaky failure") {
			sawRetryState = true
		}
		return finished(r)
	})
	if got.Status != jobs.StatusSucceeded || got.Attempts != 3 || got.Error != "" {
		t.Errorf("recovering job: %+v, want succeeded on attempt 3 with no error", got)
	}
	if !sawRetryState {
		t.Error("never saw the job back in queued with the last error between attempts")
	}
	// Backoff is 1 s then 2 s before the third attempt.
	if el := time.Since(start); el < 3*time.Second {
		t.Errorf("three attempts took %s; backoff (1 s, 2 s) was not applied", el)
	}

	got = waitFor(t, base, doomed.ID, 45*time.Second, finished)
	if got.Status != jobs.StatusFailed || got.Attempts != queue.MaxRetry+1 || !strings.Contains(got.Error, "flaky failure") || got.FinishedAt == nil {
		t.Errorf("doomed job: %+v, want failed after %d attempts with the error", got, queue.MaxRetry+1)
	}
	r := do(t, "GET", base+"/jobs/"+doomed.ID+"/result", nil)
	if r.Code != http.StatusConflict || !strings.Contains(string(r.Body), "flaky failure") {
		t.Errorf("result of failed job = %d %s, want 409 naming the error", r.Code, r.Body)
	}
}

// TestDeleteRacingWorker deletes jobs while a worker takes them: each job
// must end either deleted (and never run) or run (and the DELETE refused).
func TestDeleteRacingWorker(t *testing.T) {
	t.Parallel()
	rs := redistest.Start(t)
	base := startAPI(t, rs.Addr, jobs.DefaultRegistry())
	startWorker(t, rs.Addr, jobs.DefaultRegistry(), 8)
	const n = 200
	ids := make([]string, n)
	var deleted, refused atomic.Int32
	var wg sync.WaitGroup
	sem := make(chan struct{}, 16)
	// Each job is deleted a moment after it is submitted, while the worker
	// is busy taking jobs off the queue, so some deletes land before the
	// worker's claim and some after.
	for i := range ids {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			id := submit(t, base, "sleep", map[string]any{"seconds": 0}).ID
			ids[i] = id
			time.Sleep(time.Duration(i%40) * time.Millisecond)
			switch r := do(t, "DELETE", base+"/jobs/"+id, nil); r.Code {
			case http.StatusNoContent:
				deleted.Add(1)
			case http.StatusConflict:
				refused.Add(1)
			default:
				t.Errorf("DELETE %s = %d %s", id, r.Code, r.Body)
			}
		})
	}
	wg.Wait()
	for _, id := range ids {
		r := do(t, "GET", base+"/jobs/"+id, nil)
		switch r.Code {
		case http.StatusNotFound:
		case http.StatusOK:
			rec := waitFor(t, base, id, 20*time.Second, finished)
			if rec.Status != jobs.StatusSucceeded || rec.Attempts != 1 {
				t.Errorf("job whose DELETE was refused: %+v", rec)
			}
		default:
			t.Errorf("GET %s = %d", id, r.Code)
		}
	}
	if deleted.Load()+refused.Load() != n {
		t.Errorf("deleted %d + refused %d != %d", deleted.Load(), refused.Load(), n)
	}
	t.Logf("deleted %d, refused %d", deleted.Load(), refused.Load())
}

// TestRedisRestartKeepsJobs restarts Redis (AOF on, as in redis.conf) with
// finished and queued jobs in it; none may be lost, and the queued ones must
// still run afterwards.
func TestRedisRestartKeepsJobs(t *testing.T) {
	t.Parallel()
	rs := redistest.Start(t)
	base := startAPI(t, rs.Addr, jobs.DefaultRegistry())

	var finishedIDs []string
	// Finish some jobs with a worker that is stopped before the restart.
	stop := startWorker(t, rs.Addr, jobs.DefaultRegistry(), 4)
	for i := range 5 {
		finishedIDs = append(finishedIDs, submit(t, base, "primes", map[string]any{"start": 0, "end": 1000 * (i + 1)}).ID)
	}
	results := map[string]string{}
	for _, id := range finishedIDs {
		rec := waitFor(t, base, id, 20*time.Second, finished)
		results[id] = string(rec.Result)
	}
	stop()
	var queuedIDs []string
	for i := range 5 {
		queuedIDs = append(queuedIDs, submit(t, base, "stats", map[string]any{"values": []int{i, i + 1}}).ID)
	}

	rs.Restart()
	if err := waitReady(base, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	for _, id := range finishedIDs {
		rec := decode[jobs.Record](t, do(t, "GET", base+"/jobs/"+id, nil))
		if rec.Status != jobs.StatusSucceeded || string(rec.Result) != results[id] {
			t.Errorf("finished job %s after restart: %+v", id, rec)
		}
	}
	for _, id := range queuedIDs {
		rec := decode[jobs.Record](t, do(t, "GET", base+"/jobs/"+id, nil))
		if rec.Status != jobs.StatusQueued {
			t.Errorf("queued job %s after restart: %+v", id, rec)
		}
	}
	startWorker(t, rs.Addr, jobs.DefaultRegistry(), 4)
	for _, id := range queuedIDs {
		if rec := waitFor(t, base, id, 20*time.Second, finished); rec.Status != jobs.StatusSucceeded {
			t.Errorf("queued job %s did not run after restart: %+v", id, rec)
		}
	}
}

func waitReady(base string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		resp, err := http.Get(base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return errors.New("API not ready within " + timeout.String())
}

// TestRedisDownGives503 stops Redis under a running API: readiness and every
// job endpoint answer 503 with a JSON error, liveness stays 200, and all of
// it recovers when Redis is back.
func TestRedisDownGives503(t *testing.T) {
	t.Parallel()
	rs := redistest.Start(t)
	base := startAPI(t, rs.Addr, jobs.DefaultRegistry())
	rec := submit(t, base, "sleep", map[string]any{"seconds": 1})

	rs.Stop()
	checks := []struct {
		method, path string
		body         any
		want         int
	}{
		{"GET", "/healthz", nil, http.StatusOK},
		{"GET", "/readyz", nil, http.StatusServiceUnavailable},
		{"GET", "/jobs", nil, http.StatusServiceUnavailable},
		{"GET", "/jobs/" + rec.ID, nil, http.StatusServiceUnavailable},
		{"GET", "/jobs/" + rec.ID + "/result", nil, http.StatusServiceUnavailable},
		{"DELETE", "/jobs/" + rec.ID, nil, http.StatusServiceUnavailable},
		{"POST", "/jobs", map[string]any{"kind": "sleep", "input": map[string]any{"seconds": 1}}, http.StatusServiceUnavailable},
	}
	for _, c := range checks {
		r := do(t, c.method, base+c.path, c.body)
		if r.Code != c.want || r.Header.Get("Content-Type") != "application/json" {
			t.Errorf("Redis down: %s %s = %d (%s) %s, want %d JSON", c.method, c.path, r.Code, r.Header.Get("Content-Type"), r.Body, c.want)
		}
	}

	rs.StartAgain()
	if err := waitReady(base, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	// AOF kept the job submitted before the outage.
	if r := do(t, "GET", base+"/jobs/"+rec.ID, nil); r.Code != http.StatusOK {
		t.Errorf("after recovery GET job = %d %s", r.Code, r.Body)
	}
	submit(t, base, "sleep", map[string]any{"seconds": 0})
}
