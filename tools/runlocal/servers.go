package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"time"
)

// server is one process of the local run (Redis, the API or the worker) and how it ended.
type server struct {
	name  string
	log   string
	cmd   *exec.Cmd
	done  chan struct{}    // closed once the process has exited and been reaped
	state *os.ProcessState // how it ended; read only after done is closed
	stuck bool             // still there 10 s after SIGKILL
}

// startServer starts argv with its output in logPath, in a session of its own: a signal to the
// run's process group (Ctrl-C, .ci/run's `kill -- -PGID`) reaches only runlocal, which then stops
// the servers in order. Sharing the group, they would all get it at once and Redis would go away
// under the worker. Each exit is announced on exited.
func startServer(name, logPath string, argv, env []string, exited chan<- *server) (*server, error) {
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer logf.Close() // the child holds its own copy
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = logf, logf
	// Pdeathsig: should runlocal itself be killed outright (SIGKILL, no stop in order possible),
	// its servers go with it instead of staying on their ports.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	s := &server{name: name, log: logPath, cmd: cmd, done: make(chan struct{})}
	go func() {
		_ = cmd.Wait() // the status is in ProcessState; an exit on its own is told by exited
		s.state = cmd.ProcessState
		close(s.done)
		exited <- s
	}()
	return s, nil
}

func (s *server) pid() int { return s.cmd.Process.Pid }

func (s *server) exited() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

// clean: the server exited with status 0, as a SIGTERM stop ends.
func (s *server) clean() bool { return !s.stuck && s.state != nil && s.state.Success() }

// outcome says how the server ended.
func (s *server) outcome() string {
	if s.stuck {
		return fmt.Sprintf("still there 10s after SIGKILL, pid %d", s.pid())
	}
	return describe(s.state)
}

// tail is the end of the server's log, up to n lines.
func (s *server) tail(n int) string {
	b, err := os.ReadFile(s.log)
	if err != nil {
		return fmt.Sprintf("(log %s unreadable: %v)\n", s.log, err)
	}
	lines := bytes.SplitAfter(bytes.TrimRight(b, "\n"), []byte("\n"))
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return string(bytes.Join(lines, nil)) + "\n"
}

// stopLimits bound a stop: SIGKILL after grace, give up killAfter later; notice is when a stop
// that is still waiting says so.
type stopLimits struct {
	grace, killAfter, notice time.Duration
}

// stopTogether sends SIGTERM to each server still running and waits until all have exited; one
// still there after lim.grace gets SIGKILL. A server that has exited keeps its status: it is
// never signalled again (its pid may belong to another process by then).
func stopTogether(say func(string, ...any), lim stopLimits, servers ...*server) {
	for _, s := range servers {
		if !s.exited() {
			_ = s.cmd.Process.Signal(syscall.SIGTERM) // an exit in between makes this a no-op
		}
	}
	notice, kill := time.NewTimer(lim.notice), time.NewTimer(lim.grace)
	defer notice.Stop()
	defer kill.Stop()
	var giveUp <-chan time.Time
	for {
		var left []*server
		for _, s := range servers {
			if !s.exited() {
				left = append(left, s)
			}
		}
		if len(left) == 0 {
			return
		}
		select {
		case <-left[0].done:
		case <-notice.C:
			say("waiting for %s to stop (the worker lets running jobs finish, for up to 40 s)", words(names(left)))
		case <-kill.C:
			for _, s := range left {
				say("%s (pid %d) did not stop within %s of SIGTERM; killing it", s.name, s.pid(), lim.grace)
				_ = s.cmd.Process.Kill()
			}
			giveUp = time.After(lim.killAfter)
		case <-giveUp:
			for _, s := range left {
				s.stuck = true
			}
			return
		}
	}
}

func names(servers []*server) []string {
	var n []string
	for _, s := range servers {
		n = append(n, s.name)
	}
	return n
}
