package scripts

import (
	"archive/tar"
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// mountsUnder lists the mount points of this mount namespace at or below any of dirs, from
// /proc/self/mountinfo (field 5, with the kernel's octal escapes undone).
func mountsUnder(t *testing.T, dirs ...string) []string {
	t.Helper()
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var found []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 5 {
			continue
		}
		mp := unescapeMountinfo(fields[4])
		for _, d := range dirs {
			if mp == d || strings.HasPrefix(mp, d+"/") {
				found = append(found, mp)
			}
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return found
}

func unescapeMountinfo(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// alive reports whether pid names a process that has not exited: a zombie waiting for its
// parent (init, for the detached engine) to reap it has exited.
func alive(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	s := string(b)
	rest := s[strings.LastIndexByte(s, ')')+1:]
	f := strings.Fields(rest)
	return len(f) > 0 && f[0] != "Z" && f[0] != "X"
}

func readPid(t *testing.T, path string) int {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatalf("%s holds %q, not a pid", path, b)
	}
	return pid
}

// tinyImageTar is a filesystem with one static program, /prog, that exits at once or, given
// "wait", waits for SIGTERM: enough to run containers with no registry and no base image.
func tinyImageTar(t *testing.T) []byte {
	t.Helper()
	dir := t.TempDir()
	src := `package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "wait" {
		c := make(chan os.Signal, 1)
		signal.Notify(c, syscall.SIGTERM)
		<-c
	}
}
`
	if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("go", "build", "-o", "prog", "main.go")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GO111MODULE=off")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build the image's program: %v\n%s", err, out)
	}
	prog, err := os.ReadFile(filepath.Join(dir, "prog"))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	if err := tw.WriteHeader(&tar.Header{Name: "prog", Mode: 0o755, Size: int64(len(prog))}); err != nil {
		t.Fatal(err)
	}
	if _, err := tw.Write(prog); err != nil {
		t.Fatal(err)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestDockerdStopLeavesNoMountOrFolder starts the private engine on a state folder of its own,
// runs containers in it (which is when dockerd mounts the host network namespace under its
// exec-root), stops it, and checks that nothing it mounted is still mounted, its runtime folder
// /tmp/jobs-dockerd-<key> is gone, and neither dockerd nor its containerd is left running.
func TestDockerdStopLeavesNoMountOrFolder(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Fatal("the private Docker engine runs as root: run this test as root")
	}
	for _, tool := range []string{"dockerd", "docker"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is missing: scripts/install-deps.sh dockerd installs it (make deps does too)", tool)
		}
	}
	state := t.TempDir()
	sum := sha256.Sum256([]byte(state))
	runDir := "/tmp/jobs-dockerd-" + hex.EncodeToString(sum[:])[:12] // as scripts/dockerd.sh derives it
	env := append(os.Environ(), "JOBS_DOCKER_STATE="+state)
	// Registered before start so a failed test still stops its engine (stop is idempotent);
	// t.TempDir's own cleanup, which runs after this one, then fails on any mount left in state.
	t.Cleanup(func() {
		if code, out := run(t, env, "", "scripts/dockerd.sh", "stop"); code != 0 {
			t.Errorf("cleanup stop: exit %d\n%s", code, out)
		}
	})

	code, out := run(t, env, "", "scripts/dockerd.sh", "start")
	if code != 0 {
		t.Fatalf("start: exit %d\n%s", code, out)
	}
	host := ""
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "DOCKER_HOST=") {
			host = line
		}
	}
	if host != "DOCKER_HOST=unix://"+runDir+"/docker.sock" {
		t.Fatalf("start printed %q, want DOCKER_HOST=unix://%s/docker.sock\n%s", host, runDir, out)
	}
	engine := readPid(t, filepath.Join(runDir, "dockerd.pid"))
	containerd := readPid(t, filepath.Join(runDir, "exec", "containerd", "containerd.pid"))

	docker := func(stdin []byte, args ...string) string {
		t.Helper()
		cmd := exec.Command("docker", args...)
		cmd.Env = append(os.Environ(), host)
		cmd.Stdin = bytes.NewReader(stdin)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("docker %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return strings.TrimSpace(string(out))
	}
	docker(tinyImageTar(t), "import", "-", "jobs-dockerd-test:1")
	docker(nil, "run", "--rm", "--network=host", "jobs-dockerd-test:1", "/prog")
	docker(nil, "run", "--detach", "--network=host", "jobs-dockerd-test:1", "/prog", "wait")

	before := mountsUnder(t, runDir, state)
	if len(before) == 0 {
		t.Fatalf("the engine mounted nothing under %s or %s; the test cannot show that stop removes its mounts", runDir, state)
	}
	t.Logf("mounted by the engine before stop: %v", before)

	if code, out := run(t, env, "", "scripts/dockerd.sh", "stop"); code != 0 {
		t.Fatalf("stop: exit %d\n%s", code, out)
	}
	if left := mountsUnder(t, runDir, state); len(left) > 0 {
		t.Errorf("still mounted after stop: %v", left)
	}
	if _, err := os.Stat(runDir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("%s is still there after stop (stat: %v)", runDir, err)
	}
	for name, pid := range map[string]int{"dockerd": engine, "containerd": containerd} {
		if alive(pid) {
			t.Errorf("%s (pid %d) still runs after stop", name, pid)
		}
	}
}

// dockerdRunDir is the runtime folder scripts/dockerd.sh derives from a state folder.
func dockerdRunDir(state string) string {
	sum := sha256.Sum256([]byte(state))
	return "/tmp/jobs-dockerd-" + hex.EncodeToString(sum[:])[:12]
}

// A pidfile left by an engine that crashed can name a pid the system has given to another
// process since: stop and status must take it for no engine, and signal nothing.
func TestDockerdStopSignalsNoStrangerWithTheEnginesOldPid(t *testing.T) {
	state := t.TempDir()
	runDir := dockerdRunDir(state)
	if err := os.MkdirAll(runDir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(runDir) })
	stranger := exec.Command("sleep", "600")
	if err := stranger.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = stranger.Process.Kill(); _ = stranger.Wait() }()
	if err := os.WriteFile(filepath.Join(runDir, "dockerd.pid"), []byte(strconv.Itoa(stranger.Process.Pid)), 0o644); err != nil {
		t.Fatal(err)
	}
	env := append(os.Environ(), "JOBS_DOCKER_STATE="+state)
	if code, out := run(t, env, "", "scripts/dockerd.sh", "status"); code != 1 {
		t.Errorf("status with a stranger's pid in the pidfile: exit %d, want 1\n%s", code, out)
	}
	code, out := run(t, env, "", "scripts/dockerd.sh", "stop")
	if code != 0 || !strings.Contains(out, "no engine running") {
		t.Errorf("stop with a stranger's pid in the pidfile: exit %d, want 0 and 'no engine running'\n%s", code, out)
	}
	if !alive(stranger.Process.Pid) {
		t.Errorf("stop signalled pid %d, which the stale pidfile named but which is not the engine", stranger.Process.Pid)
	}
}

// The engine is not stop's child: once it has exited, it may stay a zombie until whoever
// collects it does. stop must take that for gone, not wait 30 s and report an engine that
// ignored SIGTERM and survived SIGKILL.
func TestDockerdStopTakesAnExitedEngineForGone(t *testing.T) {
	state := t.TempDir()
	runDir := dockerdRunDir(state)
	pidfile := filepath.Join(runDir, "dockerd.pid")
	if err := os.MkdirAll(runDir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(runDir) })
	// A stand-in with the engine's --pidfile argument that exits on SIGTERM; not waited for
	// until stop is done, so it stays a zombie meanwhile.
	engine := exec.Command("/bin/sh", "-c", `trap "exit 0" TERM; echo up; while :; do sleep 0.1; done`, "dockerd", "--pidfile", pidfile, "--host", "none")
	up, err := engine.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := engine.Start(); err != nil {
		t.Fatal(err)
	}
	waited := false
	defer func() {
		if !waited {
			_ = engine.Process.Kill()
			_ = engine.Wait()
		}
	}()
	if line, err := bufio.NewReader(up).ReadString('\n'); line != "up\n" {
		t.Fatalf("the stand-in engine said %q (%v)", line, err)
	}
	if err := os.WriteFile(pidfile, []byte(strconv.Itoa(engine.Process.Pid)), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out := run(t, append(os.Environ(), "JOBS_DOCKER_STATE="+state), "", "scripts/dockerd.sh", "stop")
	if code != 0 || strings.Contains(out, "ignored SIGTERM") {
		t.Errorf("stop of an engine that exited at SIGTERM: exit %d\n%s", code, out)
	}
	waited = true
	err = engine.Wait()
	if ws, ok := engine.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Exited() || ws.ExitStatus() != 0 {
		t.Errorf("the stand-in engine ended with %v; want exit 0 at stop's SIGTERM", err)
	}
	if _, err := os.Stat(runDir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("%s is still there after stop (stat: %v)", runDir, err)
	}
}
