// Command bench measures the service on this machine: it starts its own
// redis-server on a free loopback port (AOF on, fsync every second, as in
// redis.conf), runs the API and the worker in-process, and prints
//
//   - job submissions per second (POST /jobs, closed loop, -conns clients),
//   - GET /jobs/{id} p50/p99 latency at a fixed -rate (open loop: latency is
//     counted from when a request was due, so a stall is not hidden),
//   - worker throughput draining the submitted no-op jobs (sleep 0 s).
//
// Every phase is bounded in time; all traffic stays on 127.0.0.1.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
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

func main() {
	submitFor := flag.Duration("submit", 5*time.Second, "how long to submit jobs")
	conns := flag.Int("conns", 32, "concurrent submitting clients")
	rate := flag.Int("rate", 1000, "GET /jobs/{id} requests per second")
	getFor := flag.Duration("get", 5*time.Second, "how long to run the fixed-rate GET phase")
	concurrency := flag.Int("concurrency", 64, "worker concurrency for the drain phase")
	drainMax := flag.Duration("drain-timeout", 90*time.Second, "give up draining after this long")
	flag.Parse()
	if err := run(*submitFor, *conns, *rate, *getFor, *concurrency, *drainMax); err != nil {
		fmt.Fprintln(os.Stderr, "bench: "+err.Error())
		os.Exit(1)
	}
}

func run(submitFor time.Duration, conns, rate int, getFor time.Duration, concurrency int, drainMax time.Duration) error {
	quiet := slog.New(slog.NewJSONHandler(io.Discard, nil))
	config.LogRedisTo(quiet)
	addr, stopRedis, err := startRedis()
	if err != nil {
		return err
	}
	defer stopRedis()

	rdb := redis.NewClient(&redis.Options{Addr: addr, PoolSize: 128})
	defer rdb.Close()
	st := store.New(rdb)
	a := &api.API{Store: st, Queue: queue.New(rdb), Kinds: jobs.DefaultRegistry(), Log: quiet, Metrics: metrics.New()}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: a.Handler()}
	go srv.Serve(ln)
	defer srv.Close()
	base := "http://" + ln.Addr().String()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256, MaxConnsPerHost: 256}, Timeout: 10 * time.Second}

	fmt.Printf("bench: redis %s, api %s, %d CPUs\n", addr, base, cpus())

	// 1. Submissions.
	ids, errs, elapsed := submit(client, base, conns, submitFor)
	fmt.Printf("submit: %d jobs in %.2fs with %d clients = %.0f submissions/s (%d errors)\n",
		len(ids), elapsed.Seconds(), conns, float64(len(ids))/elapsed.Seconds(), errs)
	if len(ids) == 0 {
		return errors.New("no job was submitted")
	}

	// 2. Fixed-rate reads, after a short unmeasured warm-up that opens the
	// keep-alive connections the measured run will reuse.
	fixedRateGets(client, base, ids, rate, time.Second/2)
	lat, errs := fixedRateGets(client, base, ids, rate, getFor)
	slices.Sort(lat)
	fmt.Printf("get: %d requests at %d/s: p50 %s p90 %s p99 %s max %s (%d errors)\n",
		len(lat), rate, pct(lat, 50), pct(lat, 90), pct(lat, 99), lat[len(lat)-1], errs)

	// 3. Worker drain of the no-op jobs.
	wrdb := redis.NewClient(&redis.Options{Addr: addr, PoolSize: concurrency + 20})
	defer wrdb.Close()
	wsrv := worker.NewServer(wrdb, concurrency, quiet)
	h := &worker.Handler{Store: store.New(wrdb), Kinds: jobs.DefaultRegistry(), Log: quiet, Metrics: metrics.New()}
	start := time.Now()
	if err := wsrv.Start(h); err != nil {
		return err
	}
	defer wsrv.Shutdown()
	ctx := context.Background()
	var done int64
	for time.Since(start) < drainMax {
		done, err = st.Count(ctx, jobs.StatusSucceeded)
		if err != nil {
			return err
		}
		if done >= int64(len(ids)) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	el := time.Since(start)
	fmt.Printf("worker: %d no-op jobs in %.2fs with concurrency %d = %.0f jobs/s\n", done, el.Seconds(), concurrency, float64(done)/el.Seconds())
	return nil
}

func submit(c *http.Client, base string, conns int, d time.Duration) (ids []string, errs int64, elapsed time.Duration) {
	body := []byte(`{"kind":"sleep","input":{"seconds":0}}`)
	var mu sync.Mutex
	var nerr atomic.Int64
	deadline := time.Now().Add(d)
	start := time.Now()
	var wg sync.WaitGroup
	for range conns {
		wg.Go(func() {
			var mine []string
			for time.Now().Before(deadline) {
				resp, err := c.Post(base+"/jobs", "application/json", bytes.NewReader(body))
				if err != nil {
					nerr.Add(1)
					continue
				}
				loc := resp.Header.Get("Location")
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusCreated {
					nerr.Add(1)
					continue
				}
				mine = append(mine, filepath.Base(loc))
			}
			mu.Lock()
			ids = append(ids, mine...)
			mu.Unlock()
		})
	}
	wg.Wait()
	return ids, nerr.Load(), time.Since(start)
}

func fixedRateGets(c *http.Client, base string, ids []string, rate int, d time.Duration) ([]time.Duration, int64) {
	n := int(d.Seconds() * float64(rate))
	interval := time.Second / time.Duration(rate)
	lat := make([]time.Duration, n)
	var nerr atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for i := range n {
		due := start.Add(time.Duration(i) * interval)
		if w := time.Until(due); w > 0 {
			time.Sleep(w)
		}
		id := ids[i%len(ids)]
		wg.Go(func() {
			resp, err := c.Get(base + "/jobs/" + id)
			if err == nil {
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					nerr.Add(1)
				}
			} else {
				nerr.Add(1)
			}
			lat[i] = time.Since(due)
		})
	}
	wg.Wait()
	return lat, nerr.Load()
}

func pct(sorted []time.Duration, p int) time.Duration {
	i := (len(sorted)*p + 99) / 100
	return sorted[max(0, min(len(sorted)-1, i-1))].Round(10 * time.Microsecond)
}

// startRedis runs redis-server with the durability settings of
// redis/redis.conf on a free loopback port in a temp dir.
func startRedis() (addr string, stop func(), err error) {
	dir, err := os.MkdirTemp("", "jobs-bench-redis-")
	if err != nil {
		return "", nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	addr = ln.Addr().String()
	ln.Close()
	_, port, _ := net.SplitHostPort(addr)
	cmd := exec.Command("redis-server", "--port", port, "--bind", "127.0.0.1", "--dir", dir,
		"--appendonly", "yes", "--appendfsync", "everysec", "--save", "", "--maxmemory-policy", "noeviction")
	if err := cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return "", nil, fmt.Errorf("start redis-server (apt-get install -y redis-server): %w", err)
	}
	waited := make(chan struct{})
	go func() { cmd.Wait(); close(waited) }()
	stop = func() {
		cmd.Process.Kill()
		<-waited
		os.RemoveAll(dir)
	}
	c := redis.NewClient(&redis.Options{Addr: addr})
	defer c.Close()
	for i := 0; ; i++ {
		if c.Ping(context.Background()).Err() == nil {
			return addr, stop, nil
		}
		if i == 200 {
			stop()
			return "", nil, errors.New("redis-server did not answer PING within 10s")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func cpus() int { return runtime.NumCPU() }
