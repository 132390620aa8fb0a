package systemtest

import (
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/example/jobs/app/internal/jobs"
	"github.com/example/jobs/app/internal/redistest"
)

// TestKill9MidJobIsRedelivered kills a worker process with SIGKILL while it
// runs a sleep job; a second worker must finish the job after asynq's lease
// runs out (see worker.NewServer: 60-120 s), with attempts showing the
// redelivery. Then the second worker gets SIGTERM mid-job and must finish
// that job before it exits cleanly.
func TestKill9MidJobIsRedelivered(t *testing.T) {
	t.Parallel()
	rs := redistest.Start(t)
	bin := buildWorker(t)
	base := startAPI(t, rs.Addr, jobs.DefaultRegistry())

	first := startWorkerProcess(t, bin, rs.Addr)
	rec := submit(t, base, "sleep", map[string]any{"seconds": 4})
	waitFor(t, base, rec.ID, 15*time.Second, func(r jobs.Record) bool { return r.Status == jobs.StatusRunning })
	if err := first.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-first.done
	killed := time.Now()

	second := startWorkerProcess(t, bin, rs.Addr)
	// The worker serves only the probes and metrics (docs/contracts.md).
	wbase := "http://127.0.0.1:" + second.port
	for path, want := range map[string]int{"/healthz": 200, "/readyz": 200, "/metrics": 200, "/jobs": 404, "/version": 404} {
		if r := do(t, "GET", wbase+path, nil); r.Code != want {
			t.Errorf("worker GET %s = %d, want %d", path, r.Code, want)
		}
	}
	if r := do(t, "GET", wbase+"/metrics", nil); !strings.Contains(string(r.Body), `jobs_queue_depth{status="running"} 1`) {
		t.Errorf("worker metrics do not show the killed worker's job as running:\n%.2000s", r.Body)
	}
	done := waitFor(t, base, rec.ID, 150*time.Second, finished)
	t.Logf("job finished %s after kill -9", time.Since(killed).Round(time.Second))
	if done.Status != jobs.StatusSucceeded || done.Attempts < 2 {
		t.Fatalf("after kill -9 the job should succeed on a later attempt; got %+v", done)
	}

	// SIGTERM mid-job: the worker lets the job finish before it exits.
	inflight := submit(t, base, "sleep", map[string]any{"seconds": 2})
	waitFor(t, base, inflight.ID, 15*time.Second, func(r jobs.Record) bool { return r.Status == jobs.StatusRunning })
	if err := second.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-second.done:
		if err != nil {
			t.Fatalf("worker exited badly on SIGTERM: %v", err)
		}
	case <-time.After(45 * time.Second):
		t.Fatal("worker did not stop within 45s of SIGTERM")
	}
	if rec := decode[jobs.Record](t, do(t, "GET", base+"/jobs/"+inflight.ID, nil)); rec.Status != jobs.StatusSucceeded || rec.Attempts != 1 {
		t.Fatalf("job in flight at SIGTERM: %+v, want it finished by the stopping worker", rec)
	}
}
