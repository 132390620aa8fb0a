package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A fake server is this test binary started with RUNLOCAL_FAKE=BEHAVIOUR:NAME. It appends what
// happens to it to the file in RUNLOCAL_EVENTS, one line per event, so a test reads the order in
// which the servers were signalled and exited. Behaviours:
//
//	clean   exits 0 on SIGTERM
//	slow    exits 0 on SIGTERM after 300 ms, as a worker finishing a job
//	ignore  ignores SIGTERM (killed after the grace period)
//	crash   exits 3 by itself once it has started
func TestMain(m *testing.M) {
	if fake := os.Getenv("RUNLOCAL_FAKE"); fake != "" {
		fakeServer(fake, os.Getenv("RUNLOCAL_EVENTS"))
		return
	}
	if os.Getenv("RUNLOCAL_MAIN") == "1" {
		main()
	}
	os.Exit(m.Run())
}

func fakeServer(fake, events string) {
	behaviour, name, _ := strings.Cut(fake, ":")
	event := func(what string) {
		f, err := os.OpenFile(events, os.O_APPEND|os.O_WRONLY|os.O_CREATE, 0o644)
		if err != nil {
			os.Exit(70)
		}
		fmt.Fprintf(f, "%s %s\n", name, what)
		f.Close()
	}
	term := make(chan os.Signal, 1)
	signal.Notify(term, syscall.SIGTERM)
	event("started")
	fmt.Println(name, "log line") // the log's last line, for a crash report
	if behaviour == "crash" {
		event("exits")
		os.Exit(3)
	}
	for range term {
		event("got SIGTERM")
		switch behaviour {
		case "ignore":
			continue
		case "slow":
			time.Sleep(300 * time.Millisecond)
		}
		event("exits")
		os.Exit(0)
	}
}

// fakeRun starts Redis, the API and the worker as fakes with the given behaviours, as start
// does; stdout and stderr collect what runlocal says.
func fakeRun(t *testing.T, redis, api, worker string) (r *localRun, events string, out *bytes.Buffer) {
	t.Helper()
	dir := t.TempDir()
	events = filepath.Join(dir, "events")
	out = &bytes.Buffer{}
	r = newRun(out, out)
	r.tmp = filepath.Join(dir, "tmp")
	if err := os.Mkdir(r.tmp, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, s := range []struct{ name, behaviour string }{{"Redis", redis}, {"API", api}, {"worker", worker}} {
		env := append(os.Environ(), "RUNLOCAL_FAKE="+s.behaviour+":"+s.name, "RUNLOCAL_EVENTS="+events)
		srv, err := startServer(s.name, filepath.Join(dir, s.name+".log"), []string{os.Args[0]}, env, r.exited)
		if err != nil {
			t.Fatal(err)
		}
		r.servers = append(r.servers, srv)
		waitForEvent(t, events, s.name+" started")
	}
	t.Cleanup(func() {
		for _, s := range r.servers {
			if !s.exited() {
				_ = s.cmd.Process.Kill()
				<-s.done
			}
		}
	})
	return r, events, out
}

func readEvents(t *testing.T, events string) []string {
	t.Helper()
	b, err := os.ReadFile(events)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSpace(string(b)), "\n")
}

// waitForEvent waits until the fakes have logged event; it fails after a minute.
func waitForEvent(t *testing.T, events, event string) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		for _, e := range readEvents(t, events) {
			if e == event {
				return
			}
		}
	}
	t.Fatalf("no %q among the events %q", event, readEvents(t, events))
}

// checkOrder: each of before happened before after.
func checkOrder(t *testing.T, events []string, after string, before ...string) {
	t.Helper()
	at := map[string]int{}
	for i, e := range events {
		if _, seen := at[e]; !seen {
			at[e] = i
		}
	}
	a, ok := at[after]
	if !ok {
		t.Fatalf("no %q among the events %q", after, events)
	}
	for _, b := range before {
		if i, ok := at[b]; !ok || i > a {
			t.Errorf("%q is not before %q in the events %q", b, after, events)
		}
	}
}

func TestServersRunInSessionsOfTheirOwn(t *testing.T) {
	r, _, _ := fakeRun(t, "clean", "clean", "clean")
	for _, s := range r.servers {
		b, err := os.ReadFile("/proc/" + strconv.Itoa(s.pid()) + "/stat")
		if err != nil {
			t.Fatal(err)
		}
		f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
		if f[2] != strconv.Itoa(s.pid()) || f[3] != strconv.Itoa(s.pid()) {
			t.Errorf("%s (pid %d) is in group %s, session %s: a signal to runlocal's group would reach it", s.name, s.pid(), f[2], f[3])
		}
	}
}

// TestSecondSignalDuringTheStopIsIgnored is issue 14 in a unit: real signals to this process, the
// second arriving while the worker is still stopping (GNU make passes its own SIGTERM to its
// child right after the group's). The stop must go on in order and say what started it.
func TestSecondSignalDuringTheStopIsIgnored(t *testing.T) {
	r, events, out := fakeRun(t, "clean", "clean", "slow")
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	defer signal.Reset(syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	ctx, stopWatching := r.watch(sigs)
	defer stopWatching()

	if err := syscall.Kill(os.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := r.serve(ctx); err != nil {
		t.Fatal(err)
	}
	code := make(chan int)
	go func() { code <- r.end(ctx, nil) }()
	waitForEvent(t, events, "worker got SIGTERM")
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP} {
		if err := syscall.Kill(os.Getpid(), sig); err != nil {
			t.Fatal(err)
		}
	}
	if c := <-code; c != 0 {
		t.Errorf("exit status %d, want 0; it said:\n%s", c, out)
	}
	if want := "run-local: stopped by SIGTERM: worker, API and Redis stopped, temporary folder removed\n"; out.String() != want {
		t.Errorf("it said %q, want %q", out, want)
	}
	checkOrder(t, readEvents(t, events), "Redis got SIGTERM", "worker exits", "API exits")
	if _, err := os.Stat(r.tmp); !os.IsNotExist(err) {
		t.Errorf("the temporary folder %s is still there (%v)", r.tmp, err)
	}
}

func TestACrashStopsTheOthersInOrder(t *testing.T) {
	r, events, out := fakeRun(t, "clean", "slow", "crash")
	ctx, stopWatching := r.watch(make(chan os.Signal))
	defer stopWatching()
	if err := r.serve(ctx); err != nil {
		t.Fatal(err)
	}
	if c := r.end(ctx, nil); c != 1 {
		t.Errorf("exit status %d, want 1", c)
	}
	for _, want := range []string{
		"run-local: worker (pid " + strconv.Itoa(r.servers[2].pid()) + ") exited on its own, exit status 3; the end of its log:\nworker log line\n",
		"run-local: worker crashed (exit status 3); API and Redis stopped, temporary folder removed\n",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("it said:\n%s\nwhich lacks %q", out, want)
		}
	}
	ev := readEvents(t, events)
	checkOrder(t, ev, "Redis got SIGTERM", "worker exits", "API exits")
	for _, e := range ev {
		if e == "worker got SIGTERM" {
			t.Errorf("the crashed worker was signalled after its exit: %q", ev)
		}
	}
}

func TestAServerThatIgnoresSIGTERMIsKilledAndReported(t *testing.T) {
	defer func(s, r stopLimits) { serviceLimits, redisLimits = s, r }(serviceLimits, redisLimits)
	serviceLimits = stopLimits{grace: 200 * time.Millisecond, killAfter: 10 * time.Second, notice: time.Hour}
	r, events, out := fakeRun(t, "clean", "ignore", "clean")
	r.reason = "Ctrl-C"
	if c := r.finish(nil); c != 1 {
		t.Errorf("exit status %d, want 1", c)
	}
	for _, want := range []string{
		fmt.Sprintf("run-local: API (pid %d) did not stop within 200ms of SIGTERM; killing it\n", r.servers[1].pid()),
		"run-local: did not stop cleanly: API (exit status 137, killed by SIGKILL); temporary folder removed\n",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("it said:\n%s\nwhich lacks %q", out, want)
		}
	}
	if strings.Contains(out.String(), "stopped by") {
		t.Errorf("an unclean stop reported as a clean one:\n%s", out)
	}
	checkOrder(t, readEvents(t, events), "Redis got SIGTERM", "worker exits", "API got SIGTERM")
}

func TestAStopBeforeAnythingStarted(t *testing.T) {
	out := &bytes.Buffer{}
	r := newRun(out, out)
	r.reason = "SIGHUP"
	if c := r.finish(nil); c != 0 {
		t.Errorf("exit status %d, want 0", c)
	}
	if want := "run-local: stopped by SIGHUP before anything was started, temporary folder removed\n"; out.String() != want {
		t.Errorf("it said %q, want %q", out, want)
	}
}

// TestAClosedOutputDoesNotKillIt runs runlocal's main with its stdout and stderr a pipe nobody reads
// any more (`make run | tee log` after Ctrl-C took tee): it must end by its own exit status, here
// 1 for a run started outside the repository, not by SIGPIPE at its first line.
func TestAClosedOutputDoesNotKillIt(t *testing.T) {
	cmd := exec.Command(os.Args[0])
	cmd.Dir = t.TempDir() // no app/go.mod: runlocal says so and exits 1
	cmd.Env = append(os.Environ(), "RUNLOCAL_MAIN=1")
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	r.Close()
	cmd.Stdout, cmd.Stderr = w, w
	err = cmd.Run()
	w.Close()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Errorf("runlocal ended with %v; want exit status 1", err)
	}
}
