// Package makerun starts `make run` for real, the way a newcomer and CI start it, stops it one of
// the ways they do, and checks the stop: make's exit, what was said, the stop order from the
// servers' own logs, that no process is left and that the temporary folder is gone. Its test runs
// each stop once; tools/stressstop repeats them under load.
package makerun

import (
	"bufio"
	"bytes"
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
	"time"
)

// Run is one `make run`, in a session of its own as .ci/run starts it.
type Run struct {
	cmd             *exec.Cmd
	out             *lockedBuffer
	done            chan struct{}
	waitErr         error
	dir             string // holds tmp (the run's TMPDIR) and logs (its RUN_LOG_DIR)
	tmpdir, logdir  string
	tmp             string // the temporary folder the banner names
	servers         map[string]server
	apiPort, wkPort string
	closeOnce       sync.Once
}

// lockedBuffer collects make's output while it is read.
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

func freePort() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	_, p, _ := net.SplitHostPort(ln.Addr().String())
	return p, nil
}

var bannerLine = regexp.MustCompile(`^\s+(API|worker|Redis)\s.*\(pid (\d+), log (\S+)\)$`)

// Start runs `make run` in root, on free ports, with its temporary and log folders in a new
// folder of its own, and waits (up to ready; a cold Go build cache makes the first build slow)
// until it says it is ready. It checks what the banner says: the servers' pids, each in a session
// of its own, and that they listen on 127.0.0.1 only. A non-nil Run must be closed, whatever the
// error. started, if not nil, gets the run as soon as make is started, for a caller that must be
// able to close it from elsewhere (a signal handler) while Start waits.
func Start(root string, ready time.Duration, started func(*Run)) (*Run, error) {
	for _, tool := range []string{"make", "env", "go", "redis-server"} {
		if _, err := exec.LookPath(tool); err != nil {
			return nil, fmt.Errorf("%s is needed to run make run: install it (redis-server: scripts/install-deps.sh redis-server)", tool)
		}
	}
	dir, err := os.MkdirTemp("", "makerun-")
	if err != nil {
		return nil, err
	}
	r := &Run{out: &lockedBuffer{}, done: make(chan struct{}), servers: map[string]server{}, dir: dir,
		tmpdir: filepath.Join(dir, "tmp"), logdir: filepath.Join(dir, "logs")}
	if err := os.Mkdir(r.tmpdir, 0o755); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	var redisPort string
	for _, p := range []*string{&r.apiPort, &r.wkPort, &redisPort} {
		if *p, err = freePort(); err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
	}
	env := []string{"TMPDIR=" + r.tmpdir, "RUN_LOG_DIR=" + r.logdir,
		"API_PORT=" + r.apiPort, "WORKER_PORT=" + r.wkPort, "REDIS_PORT=" + redisPort}
	for _, kv := range os.Environ() {
		switch name, _, _ := strings.Cut(kv, "="); name {
		// A make above this one (make test) would hand its jobserver and level to this make.
		case "MAKEFLAGS", "MFLAGS", "MAKELEVEL", "TMPDIR", "RUN_SMOKE", "RUN_LOG_DIR", "VERSION",
			"API_PORT", "WORKER_PORT", "REDIS_PORT", "CONCURRENCY":
		default:
			env = append(env, kv)
		}
	}
	// env --default-signal: a shell starts background jobs with SIGINT ignored, and an ignored
	// signal stays ignored in every child, where no handler can catch it; Ctrl-C from a terminal
	// reaches make run with the default disposition, which is what is tested here.
	r.cmd = exec.Command("env", "--default-signal=INT,TERM,HUP", "make", "run")
	r.cmd.Dir = root
	r.cmd.Env = env
	r.cmd.Stdout, r.cmd.Stderr = r.out, r.out
	// Pdeathsig: should the caller die outright, make gets SIGTERM and stops its run in order.
	r.cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Pdeathsig: syscall.SIGTERM}
	if err := r.cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	go func() { r.waitErr = r.cmd.Wait(); close(r.done) }()
	if started != nil {
		started(r)
	}

	deadline := time.Now().Add(ready)
	for !strings.Contains(r.out.String(), "Press Ctrl-C") {
		select {
		case <-r.done:
			return r, fmt.Errorf("make run exited before it was ready: %v\n%s", r.waitErr, r.out)
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return r, fmt.Errorf("make run not ready within %s:\n%s", ready, r.out)
		}
	}
	var errs []error
	sc := bufio.NewScanner(strings.NewReader(r.out.String()))
	for sc.Scan() {
		line := sc.Text()
		if m := bannerLine.FindStringSubmatch(line); m != nil {
			pid, _ := strconv.Atoi(m[2])
			st, ok := readStat(pid)
			if !ok {
				return r, fmt.Errorf("%s: pid %d from the banner is not running", m[1], pid)
			}
			r.servers[m[1]] = server{name: m[1], pid: pid, log: m[3], start: st.start}
			// In a session of its own, so a signal to make's group cannot reach it.
			if st.sess != pid || st.pgrp != pid {
				errs = append(errs, fmt.Errorf("%s (pid %d) is in session %d, group %d; want its own session", m[1], pid, st.sess, st.pgrp))
			}
		}
		if _, after, ok := strings.Cut(line, "(temporary folder "); ok {
			r.tmp = strings.TrimSuffix(after, "):")
		}
	}
	if len(r.servers) != 3 || !strings.HasPrefix(r.tmp, r.tmpdir+"/") {
		return r, fmt.Errorf("banner names servers %v and temporary folder %q; want API, worker and Redis and a folder in %s:\n%s",
			r.servers, r.tmp, r.tmpdir, r.out)
	}
	// The banner's pids are the servers themselves, not a wrapper in front of them.
	for name, want := range map[string]string{"API": filepath.Join(r.tmp, "api"), "worker": filepath.Join(r.tmp, "worker")} {
		if exe, _ := os.Readlink(fmt.Sprintf("/proc/%d/exe", r.servers[name].pid)); exe != want {
			errs = append(errs, fmt.Errorf("%s pid %d runs %q, want %s", name, r.servers[name].pid, exe, want))
		}
	}
	if c := cmdline(r.servers["Redis"].pid); !strings.HasPrefix(c, "redis-server") {
		errs = append(errs, fmt.Errorf("Redis pid %d runs %q, want redis-server", r.servers["Redis"].pid, c))
	}
	for _, port := range []string{r.apiPort, r.wkPort} {
		if c, err := net.DialTimeout("tcp", "127.0.0.1:"+port, time.Second); err != nil {
			errs = append(errs, fmt.Errorf("nothing answers on 127.0.0.1:%s: %v", port, err))
		} else {
			c.Close()
		}
		// 127.0.0.2 is this machine too (all of 127/8 is loopback on Linux), but not the
		// address the servers were told to listen on.
		if c, err := net.DialTimeout("tcp", "127.0.0.2:"+port, time.Second); err == nil {
			c.Close()
			errs = append(errs, fmt.Errorf("a server answers on 127.0.0.2:%s: make run must listen on 127.0.0.1 only", port))
		}
	}
	return r, errors.Join(errs...)
}

// Output is what make run printed so far.
func (r *Run) Output() string { return r.out.String() }

// Logs are the three servers' logs, for a failure's report.
func (r *Run) Logs() string {
	var b strings.Builder
	for _, name := range []string{"api", "worker", "redis"} {
		log, _ := os.ReadFile(filepath.Join(r.logdir, name+".log"))
		fmt.Fprintf(&b, "%s.log:\n%s\n", name, log)
	}
	return b.String()
}

// Close ends whatever of the run is left, whatever happened: make's session by its group id (a
// SIGKILL: runlocal's servers die with it, and are killed here too should they not), then removes
// the run's folders. It may be called more than once, from any goroutine (a stress command's
// signal handler).
func (r *Run) Close() { r.closeOnce.Do(r.close) }

func (r *Run) close() {
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
	os.RemoveAll(r.dir)
}

// runlocalPid finds the runlocal process among make's children, by parent pid.
func (r *Run) runlocalPid() (int, error) {
	for pid, st := range pids() {
		if st.ppid == r.cmd.Process.Pid && strings.HasSuffix(strings.Fields(cmdline(pid) + " x")[0], "runlocal") {
			return pid, nil
		}
	}
	return 0, fmt.Errorf("no child of make (pid %d) runs runlocal", r.cmd.Process.Pid)
}

// wait waits for make to end.
func (r *Run) wait() error {
	select {
	case <-r.done:
		return nil
	case <-time.After(90 * time.Second):
		return fmt.Errorf("make run did not end within 90 s of the stop")
	}
}
