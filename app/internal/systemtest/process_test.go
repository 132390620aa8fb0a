package systemtest

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// binaries holds cmd/api and cmd/worker compiled once per test binary, the
// way the image builds them (CGO off); TestMain removes the folder.
var binaries struct {
	mu    sync.Mutex
	dir   string
	built map[string]string
}

// buildBinary compiles app/cmd/<name> once per test binary.
func buildBinary(t *testing.T, name string) string {
	t.Helper()
	binaries.mu.Lock()
	defer binaries.mu.Unlock()
	if path, ok := binaries.built[name]; ok {
		return path
	}
	if binaries.dir == "" {
		dir, err := os.MkdirTemp("", "jobs-systemtest-")
		if err != nil {
			t.Fatal(err)
		}
		binaries.dir, binaries.built = dir, map[string]string{}
	}
	path := filepath.Join(binaries.dir, name)
	cmd := exec.Command("go", "build", "-ldflags", "-X github.com/example/jobs/app/internal/buildinfo.Version="+testVersion,
		"-o", path, "github.com/example/jobs/app/cmd/"+name)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build cmd/%s (needs the go command on PATH): %v\n%s", name, err, out)
	}
	binaries.built[name] = path
	return path
}

// testVersion is stamped into the binaries as make run stamps its default,
// so the docs' GET /version example answers what a reader sees.
const testVersion = "0.0.0-local"

func buildWorker(t *testing.T) string { return buildBinary(t, "worker") }

type proc struct {
	cmd  *exec.Cmd
	done chan error
	port string
	log  string
}

func freeLoopbackPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	return port
}

// startProcess runs bin with env plus PORT on a free port and waits until
// its /readyz answers 200 on 127.0.0.1; cleanup kills exactly its pid if
// the test has not stopped it.
func startProcess(t *testing.T, bin string, env ...string) *proc {
	t.Helper()
	port := freeLoopbackPort(t)
	logf, err := os.Create(filepath.Join(t.TempDir(), filepath.Base(bin)+".log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin)
	cmd.Env = append(env, "PORT="+port)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{cmd: cmd, done: make(chan error, 1), port: port, log: logf.Name()}
	go func() { p.done <- cmd.Wait(); logf.Close() }()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			<-p.done
		}
		if t.Failed() {
			b, _ := os.ReadFile(p.log)
			t.Logf("%s pid %d log:\n%s", filepath.Base(bin), cmd.Process.Pid, b)
		}
	})
	deadline := time.Now().Add(15 * time.Second)
	for {
		resp, err := http.Get("http://127.0.0.1:" + port + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return p
			}
		}
		select {
		case err := <-p.done:
			p.done <- err
			b, _ := os.ReadFile(p.log)
			t.Fatalf("%s exited during start-up: %v\n%s", filepath.Base(bin), err, b)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s pid %d not ready within 15s: %v", filepath.Base(bin), cmd.Process.Pid, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// startWorkerProcess runs the worker binary against Redis at redisAddr.
func startWorkerProcess(t *testing.T, bin, redisAddr string) *proc {
	t.Helper()
	return startProcess(t, bin, "REDIS_ADDR="+redisAddr, "CONCURRENCY=2")
}

// url is the process's address on loopback.
func (p *proc) url() string { return fmt.Sprintf("http://127.0.0.1:%s", p.port) }
