// Command runlocal is `make run`: the jobs service on this machine, a Redis, the API and one
// worker, built from app/, all listening on 127.0.0.1 only. Run it from the repository's root.
//
//	make run               run until stopped; prints curl lines to try it
//	RUN_SMOKE=1 make run   start, submit one primes job, wait for it, print it, stop
//
// Ports: API_PORT (default 8080), WORKER_PORT (8081), REDIS_PORT (6379). A default that is taken is
// replaced by the next free port; a port you set yourself must be free. VERSION (default
// 0.0.0-local) is stamped into the binaries as the image build does; CONCURRENCY (4) is the
// worker's. The binaries and the logs live in a temporary folder that goes when the run ends;
// RUN_LOG_DIR=DIR writes the three logs to DIR instead and leaves them there.
//
// Stopping. Ctrl-C, SIGTERM or SIGHUP, sent to runlocal or to its whole process group (make
// included), stop the worker and the API first, then Redis, remove the temporary folder, say so
// and exit 0. A server that exits on its own is a crash: runlocal names it, gives its exit status
// and the end of its log, stops the others in the same order and exits 1.
//
// Signals are messages here, never interruptions: os/signal delivers them on a channel from the
// first line of main, the first one starts the stop and any later one is read and dropped. That
// is the point of this command. Its shell predecessor ran the stop from a signal trap, and a
// second SIGTERM (GNU make, itself signalled, sends one to its child) landing as the stop began
// re-entered the trap, whose `exit` then ended the script on the spot: nothing stopped, no report,
// status 0 (issue 14).
//
// make: `make run` leaves make in runlocal's process group, so a group signal reaches it too. GNU
// make (4.3) then waits for runlocal and, if it exited 0, prints nothing and re-raises the signal
// on itself (so `make run` ends as any program stopped by a signal does, and a calling script's
// Ctrl-C handling keeps working). Any other exit status would make it print "make: *** [...]
// Error N" under a stop that went fine; so a requested stop exits 0.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"
)

func main() {
	// Before anything else: from here on these signals can only be read from sigs.
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	// `make run | tee run.log` and Ctrl-C: tee goes at once, and Go would answer runlocal's next
	// line (a stop notice) with death by SIGPIPE, in the middle of the stop. A lost line is better.
	signal.Ignore(syscall.SIGPIPE)
	os.Exit(run(sigs, os.Stdout, os.Stderr))
}

// stopLimit: the worker lets running jobs finish for up to 40 s; Redis stops at once.
var (
	serviceLimits = stopLimits{grace: 50 * time.Second, killAfter: 10 * time.Second, notice: 3 * time.Second}
	redisLimits   = stopLimits{grace: 10 * time.Second, killAfter: 10 * time.Second, notice: 3 * time.Second}
)

// localRun is one run: what it started, in start order, and what ended it.
type localRun struct {
	out, errs io.Writer
	tmp       string
	servers   []*server // Redis, API, worker, as far as they were started
	exited    chan *server
	reason    string  // the signal that asked for the stop: Ctrl-C, SIGTERM or SIGHUP
	crashed   *server // the server that exited on its own
	smoked    bool    // RUN_SMOKE's job went through: the run is over
}

func (r *localRun) say(format string, args ...any) {
	fmt.Fprintf(r.errs, "run-local: "+format+"\n", args...)
}

// run is the whole command; its result is the exit status.
func run(sigs <-chan os.Signal, stdout, stderr io.Writer) int {
	r := newRun(stdout, stderr)
	ctx, stopWatching := r.watch(sigs)
	defer stopWatching()
	err := r.start(ctx)
	if err == nil && !r.smoked {
		err = r.serve(ctx)
	}
	return r.end(ctx, err)
}

func newRun(stdout, stderr io.Writer) *localRun {
	return &localRun{out: stdout, errs: stderr, exited: make(chan *server, 3)}
}

// watch turns the first signal on sigs into the cancellation of the returned context, which
// every step watches; every later one is read and dropped, so nothing can interrupt the stop.
func (r *localRun) watch(sigs <-chan os.Signal) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancelCause(context.Background())
	go func() {
		first, ok := <-sigs
		if !ok {
			return
		}
		cancel(stopRequest{first})
		for range sigs {
		}
	}()
	return ctx, func() { cancel(nil) }
}

// end stops the run (see finish) and gives the exit status; err is what ended the start or the
// serving, if anything did.
func (r *localRun) end(ctx context.Context, err error) int {
	var req stopRequest
	if errors.As(context.Cause(ctx), &req) {
		r.reason = stopReason(req.sig)
	}
	if err != nil && r.reason == "" && r.crashed == nil {
		r.say("%v", err)
	}
	return r.finish(err)
}

// stopRequest is the cause of a run's cancellation by a signal.
type stopRequest struct{ sig os.Signal }

func (s stopRequest) Error() string { return "stopped by " + stopReason(s.sig) }

// start builds the binaries and starts Redis, the API and the worker, each once the one before
// it answers.
func (r *localRun) start(ctx context.Context) error {
	cfg, err := loadConfig(os.Getenv, r.say)
	if err != nil {
		return err
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		// Where the official tarball puts it, when PATH lacks it (a fresh login shell).
		goTool = "/usr/local/go/bin/go"
		if _, statErr := os.Stat(goTool); statErr != nil {
			return errors.New("go not found: install Go 1.26 (https://go.dev/dl) and put it on PATH")
		}
	}
	if _, err := os.Stat(filepath.Join("app", "go.mod")); err != nil {
		return errors.New("app/go.mod not found: run this from the repository's root (make run does)")
	}
	deps := exec.CommandContext(ctx, "scripts/install-deps.sh", "redis-server")
	deps.Stdout, deps.Stderr = r.errs, r.errs
	if err := deps.Run(); err != nil {
		return fmt.Errorf("redis-server is missing and could not be installed (%v); install it with 'apt-get install -y redis-server'", err)
	}
	if r.tmp, err = os.MkdirTemp("", "jobs-run-local."); err != nil {
		return err
	}
	logDir := r.tmp
	if cfg.logDir != "" {
		logDir = cfg.logDir
	}
	r.say("building api and worker (%s)", cfg.version)
	for _, name := range []string{"api", "worker"} {
		build := exec.CommandContext(ctx, goTool, "build", "-trimpath",
			"-ldflags", "-X github.com/example/jobs/app/internal/buildinfo.Version="+cfg.version,
			"-o", filepath.Join(r.tmp, name), "./cmd/"+name)
		build.Dir = "app"
		build.Stdout, build.Stderr = r.errs, r.errs
		if err := build.Run(); err != nil {
			return fmt.Errorf("go build ./cmd/%s failed: %w", name, err)
		}
	}

	redisAddr := fmt.Sprintf("127.0.0.1:%d", cfg.redisPort)
	redis, err := startServer("Redis", filepath.Join(logDir, "redis.log"), []string{"redis-server",
		"--port", fmt.Sprint(cfg.redisPort), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		"--dir", r.tmp, "--daemonize", "no"}, os.Environ(), r.exited)
	if err != nil {
		return err
	}
	r.servers = append(r.servers, redis)
	if err := r.waitUntil(ctx, redis, 10*time.Second, "answer PING on port "+fmt.Sprint(cfg.redisPort),
		func() bool { return redisPing(redisAddr) }); err != nil {
		return err
	}
	// HOST keeps both servers on loopback: the service's default, every interface, is for containers.
	for _, s := range []struct {
		name string
		port int
		env  []string
	}{{"API", cfg.apiPort, nil}, {"worker", cfg.workerPort, []string{"CONCURRENCY=" + cfg.concurrency}}} {
		env := append(os.Environ(), "HOST=127.0.0.1", fmt.Sprintf("PORT=%d", s.port), "REDIS_ADDR="+redisAddr)
		bin := filepath.Join(r.tmp, map[string]string{"API": "api", "worker": "worker"}[s.name])
		srv, err := startServer(s.name, filepath.Join(logDir, filepath.Base(bin)+".log"), []string{bin}, append(env, s.env...), r.exited)
		if err != nil {
			return err
		}
		r.servers = append(r.servers, srv)
	}
	for i, port := range []int{cfg.apiPort, cfg.workerPort} {
		srv, url := r.servers[i+1], fmt.Sprintf("http://127.0.0.1:%d/readyz", port)
		if err := r.waitUntil(ctx, srv, 30*time.Second, fmt.Sprintf("be ready on port %d (log %s)", port, srv.log),
			func() bool { return httpOK(url) }); err != nil {
			return err
		}
	}
	if cfg.smoke {
		err := r.smoke(ctx, fmt.Sprintf("http://127.0.0.1:%d", cfg.apiPort))
		r.smoked = err == nil
		return err
	}
	r.banner(cfg)
	return nil
}

// waitUntil polls ready until it holds, the server exits (its log then ends the error), the run
// is stopped or limit passes.
func (r *localRun) waitUntil(ctx context.Context, s *server, limit time.Duration, what string, ready func() bool) error {
	deadline := time.Now().Add(limit)
	for !ready() {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-s.done:
			fmt.Fprint(r.errs, s.tail(30))
			return fmt.Errorf("%s exited during start-up, %s (the end of its log is above)", s.name, describe(s.state))
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s did not %s within %s", s.name, what, limit)
		}
	}
	return nil
}

// banner tells how to use the run. .ci/run and the README's readers evaluate the line after
// "Submit a job" and after "Fetch it": each command stays on the one line under its heading.
func (r *localRun) banner(cfg config) {
	api := fmt.Sprintf("http://127.0.0.1:%d", cfg.apiPort)
	job := `{"kind":"primes","input":{"start":1,"end":100}}`
	redis, apiSrv, worker := r.servers[0], r.servers[1], r.servers[2]
	fmt.Fprintf(r.out, `jobs service %s is running, on 127.0.0.1 only (temporary folder %s):
  API     %s   (pid %d, log %s)
  worker  http://127.0.0.1:%d   (pid %d, log %s)
  Redis   127.0.0.1:%d   (pid %d, log %s)

Submit a job (keeps its id in ID):
  ID=$(curl -sS -X POST %s/jobs -H 'Content-Type: application/json' -d '%s' | sed -n 's/.*"id":"\([^"]*\)".*/\1/p'); echo $ID
Fetch it:
  curl -sS %s/jobs/$ID
  (the worker starts a job within about a second, so a first look may say "status":"queued":
  run the line again until it says "status":"succeeded"; docs/api.md has the whole API)

Press Ctrl-C to stop everything.
`, cfg.version, r.tmp, api, apiSrv.pid(), apiSrv.log, cfg.workerPort, worker.pid(), worker.log,
		cfg.redisPort, redis.pid(), redis.log, api, job, api)
}

// serve waits for a stop request or for a server to exit on its own, which is a crash.
func (r *localRun) serve(ctx context.Context) error {
	select {
	case <-ctx.Done():
		return nil
	case s := <-r.exited:
		r.crashed = s
		r.say("%s (pid %d) exited on its own, %s; the end of its log:", s.name, s.pid(), describe(s.state))
		fmt.Fprint(r.errs, s.tail(20))
		return nil
	}
}

// finish stops whatever was started, the worker and the API first and Redis last (both use it
// until they are gone), removes the temporary folder, says what happened and gives the exit
// status: 0 for a requested stop that went cleanly, 1 otherwise.
func (r *localRun) finish(startErr error) int {
	if len(r.servers) > 1 {
		stopTogether(r.say, serviceLimits, reversed(r.servers[1:])...)
	}
	if len(r.servers) > 0 {
		stopTogether(r.say, redisLimits, r.servers[0])
	}
	removed := "temporary folder removed"
	if r.tmp != "" {
		if err := os.RemoveAll(r.tmp); err != nil {
			removed = fmt.Sprintf("temporary folder %s could NOT be removed (%v)", r.tmp, err)
		}
	}
	var stopped, unclean []string
	for _, s := range reversed(r.servers) {
		if s == r.crashed {
			continue
		}
		stopped = append(stopped, s.name)
		if !s.clean() {
			unclean = append(unclean, fmt.Sprintf("%s (%s)", s.name, s.outcome()))
		}
	}
	switch {
	case r.crashed != nil:
		r.say("%s crashed (%s); %s stopped, %s", r.crashed.name, r.crashed.outcome(), words(stopped), removed)
		if len(unclean) > 0 {
			r.say("and did not stop cleanly: %s", words(unclean))
		}
		return 1
	case len(unclean) > 0:
		r.say("did not stop cleanly: %s; %s", words(unclean), removed)
		return 1
	case r.reason != "" && len(stopped) > 0:
		r.say("stopped by %s: %s stopped, %s", r.reason, words(stopped), removed)
		return 0
	case r.reason != "":
		r.say("stopped by %s before anything was started, %s", r.reason, removed)
		return 0
	case startErr != nil:
		return 1
	}
	return 0 // the smoke test's end
}

func reversed(s []*server) []*server {
	out := make([]*server, 0, len(s))
	for i := len(s) - 1; i >= 0; i-- {
		out = append(out, s[i])
	}
	return out
}
