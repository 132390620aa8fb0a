// Package redistest runs a real redis-server for tests: on a free loopback
// port, with the project's redis.conf (its dir pointed at a temp dir), and
// stops exactly the process it started.
package redistest

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Server is one redis-server process. Restart reuses its port and data dir,
// which is how tests check what survives a restart.
type Server struct {
	t    testing.TB
	Addr string
	Dir  string
	conf string
	cmd  *exec.Cmd
	done chan struct{}
}

// ConfPath is the project's redis.conf (app/redis/redis.conf). Tests run in
// their package's directory, so it is found by walking up from there; the
// source file's own path is the fallback for a test binary run elsewhere.
func ConfPath() string {
	if dir, err := os.Getwd(); err == nil {
		for {
			p := filepath.Join(dir, "redis", "redis.conf")
			if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
				if _, err := os.Stat(p); err == nil {
					return p
				}
			}
			parent := filepath.Dir(dir)
			if parent == dir {
				break
			}
			dir = parent
		}
	}
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "redis", "redis.conf")
}

// Start runs redis-server and waits for it to answer PING. It fails the test
// (never skips) when redis-server is not installed: these tests are required.
func Start(t testing.TB) *Server {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Fatalf("redis-server is not on PATH: install it (apt-get install -y redis-server) to run these tests: %v", err)
	}
	dir := t.TempDir()
	conf, err := os.ReadFile(ConfPath())
	if err != nil {
		t.Fatalf("read redis.conf: %v", err)
	}
	// redis.conf says dir /data (the pod's volume); point it at the temp dir
	// and keep every other setting as shipped.
	var b strings.Builder
	sc := bufio.NewScanner(strings.NewReader(string(conf)))
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(strings.TrimSpace(line), "dir ") {
			line = "dir " + dir
		}
		b.WriteString(line + "\n")
	}
	confPath := filepath.Join(dir, "redis.conf")
	if err := os.WriteFile(confPath, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	s := &Server{t: t, Dir: dir, conf: confPath, Addr: net.JoinHostPort("127.0.0.1", freePort(t))}
	s.start()
	t.Cleanup(s.Kill)
	return s
}

func freePort(t testing.TB) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	return port
}

func (s *Server) start() {
	s.t.Helper()
	_, port, _ := net.SplitHostPort(s.Addr)
	cmd := exec.Command("redis-server", s.conf, "--port", port, "--bind", "127.0.0.1")
	logf, err := os.OpenFile(filepath.Join(s.Dir, "redis.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		s.t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		s.t.Fatalf("start redis-server: %v", err)
	}
	s.cmd, s.done = cmd, make(chan struct{})
	go func() { _ = cmd.Wait(); logf.Close(); close(s.done) }()

	c := redis.NewClient(&redis.Options{Addr: s.Addr, MaxRetries: -1})
	defer c.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		err := c.Ping(ctx).Err()
		cancel()
		if err == nil {
			return
		}
		select {
		case <-s.done:
			log, _ := os.ReadFile(filepath.Join(s.Dir, "redis.log"))
			s.t.Fatalf("redis-server exited at start: %s", log)
		default:
		}
		if time.Now().After(deadline) {
			s.Kill()
			s.t.Fatalf("redis-server on %s did not answer PING within 10s: %v", s.Addr, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Stop shuts redis down with SIGTERM, as a pod stop would: Redis flushes the
// AOF before it exits.
func (s *Server) Stop() {
	s.t.Helper()
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(15 * time.Second):
		s.t.Errorf("redis-server pid %d ignored SIGTERM for 15s; killing it", s.cmd.Process.Pid)
		s.Kill()
	}
	s.cmd = nil
}

// Kill stops the process with SIGKILL (cleanup, or a crash test).
func (s *Server) Kill() {
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Kill()
	<-s.done
	s.cmd = nil
}

// Restart starts redis again on the same port with the same data dir.
func (s *Server) Restart() {
	s.t.Helper()
	s.Stop()
	s.start()
}

// StartAgain starts a stopped server again (after Stop or Kill).
func (s *Server) StartAgain() {
	s.t.Helper()
	if s.cmd != nil {
		s.t.Fatal("redistest: StartAgain on a running server")
	}
	s.start()
}

// Client returns a client for the server, closed at test end.
func (s *Server) Client() *redis.Client {
	c := redis.NewClient(&redis.Options{Addr: s.Addr})
	s.t.Cleanup(func() { c.Close() })
	return c
}

// String names the server in messages.
func (s *Server) String() string { return fmt.Sprintf("redis-server %s (%s)", s.Addr, s.Dir) }
