package scripts

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// procStat is what /proc/<pid>/stat says about a process.
type procStat struct {
	state            string
	ppid, pgrp, sess int
	start            uint64 // clock ticks after boot: tells a process from a later one with its pid
}

func readStat(pid int) (procStat, bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return procStat{}, false
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 20 {
		return procStat{}, false
	}
	var st procStat
	st.state = f[0]
	st.ppid, _ = strconv.Atoi(f[1])
	st.pgrp, _ = strconv.Atoi(f[2])
	st.sess, _ = strconv.Atoi(f[3])
	st.start, _ = strconv.ParseUint(f[19], 10, 64)
	return st, true
}

// server is one of the three processes make run starts, as its banner names it.
type server struct {
	name, log string
	pid       int
	start     uint64
}

// running reports whether the very process the banner named still runs (a zombie has exited).
func (s server) running() bool {
	st, ok := readStat(s.pid)
	return ok && st.start == s.start && st.state != "Z" && st.state != "X"
}

// lockedBuffer collects make's output while the test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// localRun is one `make run`, started the way .ci/run starts it: in a session of its own.
type localRun struct {
	cmd             *exec.Cmd
	out             *lockedBuffer
	done            chan struct{}
	waitErr         error
	tmpdir, logdir  string
	tmp             string // the temporary folder the banner names
	servers         map[string]server
	apiPort, wkPort string
}

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, p, _ := net.SplitHostPort(ln.Addr().String())
	return p
}

var bannerLine = regexp.MustCompile(`^\s+(API|worker|Redis)\s.*\(pid (\d+), log (\S+)\)$`)

func startLocalRun(t *testing.T) *localRun {
	t.Helper()
	for _, tool := range []string{"make", "env", "curl", "redis-server"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is needed to run make run: install it (redis-server: scripts/install-deps.sh redis-server)", tool)
		}
	}
	r := &localRun{out: &lockedBuffer{}, done: make(chan struct{}), servers: map[string]server{},
		tmpdir: filepath.Join(t.TempDir(), "tmp"), logdir: filepath.Join(t.TempDir(), "logs"),
		apiPort: freePort(t), wkPort: freePort(t)}
	if err := os.Mkdir(r.tmpdir, 0o755); err != nil {
		t.Fatal(err)
	}
	env := []string{"TMPDIR=" + r.tmpdir, "RUN_LOG_DIR=" + r.logdir,
		"API_PORT=" + r.apiPort, "WORKER_PORT=" + r.wkPort, "REDIS_PORT=" + freePort(t),
		"PATH=/usr/local/go/bin:" + os.Getenv("PATH")}
	for _, kv := range os.Environ() {
		switch name, _, _ := strings.Cut(kv, "="); name {
		// A make above this test (make test) would hand its jobserver and level to this make.
		case "MAKEFLAGS", "MFLAGS", "MAKELEVEL", "TMPDIR", "PATH", "RUN_SMOKE", "RUN_LOG_DIR", "VERSION",
			"API_PORT", "WORKER_PORT", "REDIS_PORT", "CONCURRENCY":
		default:
			env = append(env, kv)
		}
	}
	// env --default-signal: a shell starts background jobs with SIGINT ignored, and an ignored
	// signal stays ignored in every child, where no trap can catch it; Ctrl-C from a terminal
	// reaches make run with the default disposition, which is what is tested here.
	r.cmd = exec.Command("env", "--default-signal=INT,TERM,HUP", "make", "run")
	r.cmd.Dir = root
	r.cmd.Env = env
	r.cmd.Stdout, r.cmd.Stderr = r.out, r.out
	r.cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { r.waitErr = r.cmd.Wait(); close(r.done) }()
	// Whatever happens to the test, nothing it started stays: make's session by its group id,
	// the servers (sessions of their own) by the pids and start times the banner gave.
	t.Cleanup(func() {
		select {
		case <-r.done:
		default:
			_ = syscall.Kill(-r.cmd.Process.Pid, syscall.SIGKILL)
			<-r.done
		}
		for _, s := range r.servers {
			if s.running() {
				_ = syscall.Kill(s.pid, syscall.SIGKILL)
			}
		}
		if t.Failed() {
			t.Logf("make run output:\n%s", r.out)
			for _, name := range []string{"api", "worker", "redis"} {
				b, _ := os.ReadFile(filepath.Join(r.logdir, name+".log"))
				t.Logf("%s.log:\n%s", name, b)
			}
		}
	})

	// A cold Go build cache makes the first build the slow part.
	deadline := time.Now().Add(5 * time.Minute)
	for !strings.Contains(r.out.String(), "Press Ctrl-C") {
		select {
		case <-r.done:
			t.Fatalf("make run exited before it was ready: %v\n%s", r.waitErr, r.out)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("make run not ready within 5 minutes:\n%s", r.out)
		}
		time.Sleep(100 * time.Millisecond)
	}
	sc := bufio.NewScanner(strings.NewReader(r.out.String()))
	for sc.Scan() {
		line := sc.Text()
		if m := bannerLine.FindStringSubmatch(line); m != nil {
			pid, _ := strconv.Atoi(m[2])
			st, ok := readStat(pid)
			if !ok {
				t.Fatalf("%s: pid %d from the banner is not running", m[1], pid)
			}
			r.servers[m[1]] = server{name: m[1], pid: pid, log: m[3], start: st.start}
			// In a session of its own, so a signal to make's group cannot reach it.
			if st.sess != pid || st.pgrp != pid {
				t.Errorf("%s (pid %d) is in session %d, group %d; want its own session", m[1], pid, st.sess, st.pgrp)
			}
		}
		if _, after, ok := strings.Cut(line, "(temporary folder "); ok {
			r.tmp = strings.TrimSuffix(after, "):")
		}
	}
	if len(r.servers) != 3 || !strings.HasPrefix(r.tmp, r.tmpdir+"/") {
		t.Fatalf("banner names servers %v and temporary folder %q; want API, worker and Redis and a folder in %s:\n%s",
			r.servers, r.tmp, r.tmpdir, r.out)
	}
	// The banner's pids are the servers themselves, not a wrapper (setsid, env) in front of them.
	for name, want := range map[string]string{"API": filepath.Join(r.tmp, "api"), "worker": filepath.Join(r.tmp, "worker")} {
		if exe, _ := os.Readlink(fmt.Sprintf("/proc/%d/exe", r.servers[name].pid)); exe != want {
			t.Errorf("%s pid %d runs %q, want %s", name, r.servers[name].pid, exe, want)
		}
	}
	if cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", r.servers["Redis"].pid)); !strings.HasPrefix(string(cmdline), "redis-server") {
		t.Errorf("Redis pid %d runs %q, want redis-server", r.servers["Redis"].pid, cmdline)
	}
	return r
}

// scriptPid finds the bash running scripts/run-local.sh among make's children, by parent pid.
func (r *localRun) scriptPid(t *testing.T) int {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if st, ok := readStat(pid); !ok || st.ppid != r.cmd.Process.Pid {
			continue
		}
		cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		args := strings.Split(strings.TrimRight(string(cmdline), "\x00"), "\x00")
		if len(args) == 2 && strings.HasSuffix(args[1], "scripts/run-local.sh") {
			return pid
		}
	}
	t.Fatalf("no child of make (pid %d) runs scripts/run-local.sh", r.cmd.Process.Pid)
	return 0
}

// wait waits for make to end and returns its output.
func (r *localRun) wait(t *testing.T) string {
	t.Helper()
	select {
	case <-r.done:
	case <-time.After(90 * time.Second):
		t.Fatalf("make run did not end within 90 s of the stop:\n%s", r.out)
	}
	return r.out.String()
}

// checkNothingLeft: no server and no process of make's session runs, the temporary folder is
// gone and the servers listened on loopback only.
func (r *localRun) checkNothingLeft(t *testing.T) {
	t.Helper()
	for _, s := range r.servers {
		if s.running() {
			t.Errorf("%s (pid %d) still runs after make run ended", s.name, s.pid)
		}
	}
	sessions := map[int]bool{r.cmd.Process.Pid: true}
	for _, s := range r.servers {
		sessions[s.pid] = true
	}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if st, ok := readStat(pid); ok && sessions[st.sess] && st.state != "Z" {
			cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
			t.Errorf("pid %d (%s) of make run's sessions is still running", pid, bytes.ReplaceAll(cmdline, []byte{0}, []byte{' '}))
		}
	}
	if _, err := os.Stat(r.tmp); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the temporary folder %s is still there (stat: %v)", r.tmp, err)
	}
	if left, _ := os.ReadDir(r.tmpdir); len(left) > 0 {
		t.Errorf("make run left %d entries in TMPDIR, e.g. %s", len(left), left[0].Name())
	}
}

// lastLogTime is the time of a JSON log's last line, after checking that the log has no warning
// or error (a Redis gone too early shows up as go-redis or asynq warnings) and ends with want.
func lastLogTime(t *testing.T, path, want string) time.Time {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var last struct {
		Time  time.Time
		Level string
		Msg   string
	}
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if err := json.Unmarshal([]byte(line), &last); err != nil {
			t.Fatalf("%s: line %q is not JSON: %v", path, line, err)
		}
		if last.Level == "WARN" || last.Level == "ERROR" {
			t.Errorf("%s: %s", filepath.Base(path), line)
		}
	}
	if last.Msg != want {
		t.Errorf("%s ends with %q, want %q (a clean stop)", filepath.Base(path), last.Msg, want)
	}
	return last.Time
}

// redisShutdownTime is when Redis began to shut down, from its log ("User requested shutdown").
func redisShutdownTime(t *testing.T, path string) time.Time {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`:M (\d\d \w{3} \d{4} \d\d:\d\d:\d\d\.\d{3}) # User requested shutdown`).FindSubmatch(b)
	if m == nil {
		t.Fatalf("redis.log has no 'User requested shutdown' line (was it stopped with SIGTERM?):\n%s", b)
	}
	ts, err := time.ParseInLocation("02 Jan 2006 15:04:05.000", string(m[1]), time.Local)
	if err != nil {
		t.Fatal(err)
	}
	return ts
}

// checkStopOrder: the worker and the API (those of names that were stopped) logged their clean
// stop no later than Redis began to shut down. Redis logs milliseconds, so both times are cut to
// the millisecond; the script waits for both to exit before it signals Redis.
func (r *localRun) checkStopOrder(t *testing.T, names ...string) {
	t.Helper()
	redis := redisShutdownTime(t, filepath.Join(r.logdir, "redis.log"))
	for _, name := range names {
		log, want := filepath.Join(r.logdir, name+".log"), name+" stopped cleanly"
		last := lastLogTime(t, log, want).Truncate(time.Millisecond)
		if last.After(redis) {
			t.Errorf("%s stopped at %s, after Redis began shutting down at %s", name, last.Format(time.StampMilli), redis.Format(time.StampMilli))
		}
	}
}

// TestMakeRunStopsInOrder starts `make run` for real and stops it each way a newcomer or CI does,
// checking the exit status, what it says, the stop order, that no process is left and that the
// temporary folder is gone.
func TestMakeRunStopsInOrder(t *testing.T) {
	const stopped = "worker, API and Redis stopped, temporary folder removed"
	cases := []struct {
		name string
		stop func(t *testing.T, r *localRun)
		// make's end: killed by this signal (it re-raises a signal it got), or this exit code.
		signal syscall.Signal
		code   int
		says   []string
	}{
		{
			name:   "Ctrl-C to the process group",
			stop:   func(t *testing.T, r *localRun) { kill(t, -r.cmd.Process.Pid, syscall.SIGINT) },
			signal: syscall.SIGINT,
			says:   []string{"run-local: stopped by Ctrl-C: " + stopped},
		},
		{
			name: "SIGTERM to the script",
			stop: func(t *testing.T, r *localRun) { kill(t, r.scriptPid(t), syscall.SIGTERM) },
			code: 0,
			says: []string{"run-local: stopped by SIGTERM: " + stopped},
		},
		{
			name:   "SIGTERM to the process group, as .ci/run sends",
			stop:   func(t *testing.T, r *localRun) { kill(t, -r.cmd.Process.Pid, syscall.SIGTERM) },
			signal: syscall.SIGTERM,
			says:   []string{"run-local: stopped by SIGTERM: " + stopped},
		},
		{
			name: "kill -9 of the worker",
			stop: func(t *testing.T, r *localRun) { kill(t, r.servers["worker"].pid, syscall.SIGKILL) },
			code: 2, // make's own status when a recipe fails
			says: []string{
				"exited on its own, exit status 137, killed by SIGKILL; the end of its log:",
				`"msg":"worker started"`, // a line of the worker's log
				"run-local: worker crashed (exit status 137, killed by SIGKILL); API and Redis stopped, temporary folder removed",
				"run] Error 1", // the script's status 1, as make reports it
			},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := startLocalRun(t)
			for _, port := range []string{r.apiPort, r.wkPort} {
				if c, err := net.DialTimeout("tcp", "127.0.0.1:"+port, time.Second); err != nil {
					t.Errorf("nothing answers on 127.0.0.1:%s: %v", port, err)
				} else {
					c.Close()
				}
				// 127.0.0.2 is this machine too (all of 127/8 is loopback on Linux), but not the
				// address the servers were told to listen on.
				if c, err := net.DialTimeout("tcp", "127.0.0.2:"+port, time.Second); err == nil {
					c.Close()
					t.Errorf("a server answers on 127.0.0.2:%s: make run must listen on 127.0.0.1 only", port)
				}
			}
			worker := r.servers["worker"]
			c.stop(t, r)
			out := r.wait(t)

			var exit *exec.ExitError
			errors.As(r.waitErr, &exit)
			switch {
			case c.signal != 0:
				ws, ok := r.cmd.ProcessState.Sys().(syscall.WaitStatus)
				if !ok || !ws.Signaled() || ws.Signal() != c.signal {
					t.Errorf("make ended with %v; want it to re-raise %v once the script is done", r.waitErr, c.signal)
				}
			case c.code == 0 && r.waitErr != nil, c.code != 0 && (exit == nil || exit.ExitCode() != c.code):
				t.Errorf("make ended with %v; want exit status %d", r.waitErr, c.code)
			}
			for _, want := range c.says {
				if !strings.Contains(out, want) {
					t.Errorf("output lacks %q", want)
				}
			}
			if c.code == 0 || c.signal != 0 {
				// A requested stop: no crash report, and make adds nothing ("make: *** ... Error").
				for _, noise := range []string{"make: ***", "Error", "exited on its own", "crashed", "Terminated"} {
					if strings.Contains(out, noise) {
						t.Errorf("a requested stop printed %q", noise)
					}
				}
				r.checkStopOrder(t, "worker", "api")
			} else {
				if strings.Contains(out, " Killed ") {
					t.Error("bash's own job notice (\"... Killed  setsid ...\") shows next to the script's report")
				}
				if worker.running() {
					t.Fatal("the killed worker is still running")
				}
				r.checkStopOrder(t, "api")
			}
			r.checkNothingLeft(t)
		})
	}
}

func kill(t *testing.T, pid int, sig syscall.Signal) {
	t.Helper()
	if err := syscall.Kill(pid, sig); err != nil {
		t.Fatalf("kill(%d, %v): %v", pid, sig, err)
	}
}
