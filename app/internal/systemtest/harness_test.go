package systemtest

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/example/jobs/app/internal/api"
	"github.com/example/jobs/app/internal/config"
	"github.com/example/jobs/app/internal/jobs"
	"github.com/example/jobs/app/internal/metrics"
	"github.com/example/jobs/app/internal/queue"
	"github.com/example/jobs/app/internal/store"
	"github.com/example/jobs/app/internal/worker"
	"github.com/redis/go-redis/v9"
)

// testLog keeps test output readable; set JOBS_TEST_LOG=1 to see the JSON logs.
func testLog() *slog.Logger {
	if os.Getenv("JOBS_TEST_LOG") != "" {
		return slog.New(slog.NewJSONHandler(os.Stderr, nil))
	}
	return slog.New(slog.NewJSONHandler(io.Discard, nil))
}

func TestMain(m *testing.M) {
	// go-redis logs every failed dial; the outage tests cause many on purpose.
	config.LogRedisTo(testLog())
	code := m.Run()
	if binaries.dir != "" {
		os.RemoveAll(binaries.dir)
	}
	os.Exit(code)
}

func newClient(addr string) *redis.Client {
	return redis.NewClient(&redis.Options{Addr: addr, DialTimeout: time.Second, ReadTimeout: time.Second, WriteTimeout: time.Second, MaxRetries: 1})
}

// startAPI serves the real API handler on a loopback httptest server.
func startAPI(t *testing.T, addr string, kinds jobs.Registry) string {
	t.Helper()
	rdb := newClient(addr)
	t.Cleanup(func() { rdb.Close() })
	st := store.New(rdb)
	m := metrics.New()
	m.RegisterQueueDepth(st)
	a := &api.API{Store: st, Queue: queue.New(rdb), Kinds: kinds, Log: testLog(), Metrics: m}
	srv := httptest.NewServer(a.Handler())
	t.Cleanup(srv.Close)
	return srv.URL
}

// startWorker runs an in-process worker; stop (also run at test end) shuts
// it down.
func startWorker(t *testing.T, addr string, kinds jobs.Registry, concurrency int) (stop func()) {
	t.Helper()
	stop, _ = startWorkerMetrics(t, addr, kinds, concurrency)
	return stop
}

// startWorkerMetrics is startWorker that also returns the worker's metrics.
func startWorkerMetrics(t *testing.T, addr string, kinds jobs.Registry, concurrency int) (stop func(), m *metrics.Metrics) {
	t.Helper()
	rdb := newClient(addr)
	srv := worker.NewServer(rdb, concurrency, testLog())
	m = metrics.New()
	h := &worker.Handler{Store: store.New(rdb), Kinds: kinds, Log: testLog(), Metrics: m}
	if err := srv.Start(h); err != nil {
		t.Fatalf("start worker: %v", err)
	}
	var once sync.Once
	stop = func() { once.Do(func() { srv.Shutdown(); rdb.Close() }) }
	t.Cleanup(stop)
	return stop, m
}

type reply struct {
	Code   int
	Header http.Header
	Body   []byte
}

func do(t *testing.T, method, url string, body any) reply {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return reply{resp.StatusCode, resp.Header, b}
}

func decode[T any](t *testing.T, r reply) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(r.Body, &v); err != nil {
		t.Fatalf("decode %s: %v", r.Body, err)
	}
	return v
}

func submit(t *testing.T, base, kind string, input any) jobs.Record {
	t.Helper()
	r := do(t, "POST", base+"/jobs", map[string]any{"kind": kind, "input": input})
	if r.Code != http.StatusCreated {
		t.Fatalf("POST /jobs %s: %d %s", kind, r.Code, r.Body)
	}
	return decode[jobs.Record](t, r)
}

// waitFor polls GET /jobs/{id} until cond holds or timeout passes.
func waitFor(t *testing.T, base, id string, timeout time.Duration, cond func(jobs.Record) bool) jobs.Record {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var last jobs.Record
	for time.Now().Before(deadline) {
		r := do(t, "GET", base+"/jobs/"+id, nil)
		if r.Code == http.StatusOK {
			last = decode[jobs.Record](t, r)
			if cond(last) {
				return last
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("job %s: condition not met within %s; last record %+v", id, timeout, last)
	return last
}

func finished(r jobs.Record) bool {
	return r.Status == jobs.StatusSucceeded || r.Status == jobs.StatusFailed
}
