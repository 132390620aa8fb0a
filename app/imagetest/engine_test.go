//go:build imagetest

package imagetest

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// engine runs docker commands against the private engine that scripts/dockerd.sh manages.
type engine struct {
	repo string   // repository root, where scripts/ lives
	cli  string   // the docker CLI that ships with the engine (see engineCLI)
	env  []string // os.Environ plus DOCKER_HOST and DOCKER_BUILDKIT=1
}

// repoRoot finds the repository from the package directory go test runs in (app/imagetest).
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "scripts", "dockerd.sh")); err != nil {
		t.Fatalf("scripts/dockerd.sh not found under %s: run the test from app/ with 'go test -tags imagetest ./imagetest'", root)
	}
	return root
}

// startEngine reuses a running private engine or starts one; it stops only an engine it started.
func startEngine(t *testing.T, repo string) *engine {
	t.Helper()
	script := filepath.Join(repo, "scripts", "dockerd.sh")
	out, err := exec.Command(script, "status").Output()
	if err != nil {
		if os.Geteuid() != 0 {
			t.Fatal("no private Docker engine is running and starting one needs root: run the test as root, or start it first with 'sudo scripts/dockerd.sh start'")
		}
		cmd := exec.Command(script, "start")
		cmd.Stderr = &testWriter{t: t, prefix: "dockerd.sh: "}
		if out, err = cmd.Output(); err != nil {
			t.Fatalf("scripts/dockerd.sh start: %v", err)
		}
		host := strings.TrimSpace(string(out))
		t.Cleanup(func() {
			if out, err := exec.Command(script, "stop").CombinedOutput(); err != nil {
				t.Errorf("scripts/dockerd.sh stop: %v\n%s", err, out)
			}
			checkReleased(t, host)
		})
	}
	host := strings.TrimSpace(string(out))
	if !strings.HasPrefix(host, "DOCKER_HOST=unix://") {
		t.Fatalf("scripts/dockerd.sh printed %q, want DOCKER_HOST=unix://...", host)
	}
	// app/Dockerfile needs BuildKit (cache mounts), as the Pulumi docker provider uses it.
	return &engine{repo: repo, cli: engineCLI(t), env: append(os.Environ(), host, "DOCKER_BUILDKIT=1")}
}

// engineCLI finds the docker CLI of the engine's own release. A newer CLI (Docker 23+) builds
// with BuildKit only through the buildx plugin, which Debian's docker.io does not ship; the
// engine's own CLI (20.10) has BuildKit built in. So the first docker on PATH whose version is
// dockerd's wins, and any docker is the fallback.
func engineCLI(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("dockerd", "--version").Output()
	if err != nil {
		t.Fatalf("dockerd --version: %v (install Debian's engine: apt-get install -y docker.io)", err)
	}
	// "Docker version 20.10.24+dfsg1, build 5d6db84"
	fields := strings.Fields(string(out))
	if len(fields) < 3 {
		t.Fatalf("dockerd --version printed %q", out)
	}
	want := strings.TrimSuffix(fields[2], ",")
	for _, dir := range filepath.SplitList(os.Getenv("PATH")) {
		cli := filepath.Join(dir, "docker")
		v, err := exec.Command(cli, "--version").Output()
		if err == nil && strings.Contains(string(v), "version "+want+",") {
			return cli
		}
	}
	t.Logf("no docker CLI of the engine's version %s on PATH; using the first docker, which may need buildx", want)
	return "docker"
}

// checkReleased fails the test if the engine it stopped left a mount or its runtime folder (the
// socket's folder, /tmp/jobs-dockerd-<key>) behind: make test must not outlive itself.
func checkReleased(t *testing.T, host string) {
	t.Helper()
	runDir := filepath.Dir(strings.TrimPrefix(host, "DOCKER_HOST=unix://"))
	if !strings.HasPrefix(runDir, "/tmp/jobs-dockerd-") {
		t.Errorf("engine socket %q is not under /tmp/jobs-dockerd-<key>; cannot check what stop left", host)
		return
	}
	for _, mp := range mountPoints(t) {
		if mp == runDir || strings.HasPrefix(mp, runDir+"/") {
			t.Errorf("still mounted after scripts/dockerd.sh stop: %s", mp)
		}
	}
	if _, err := os.Stat(runDir); err == nil {
		t.Errorf("%s is still there after scripts/dockerd.sh stop", runDir)
	}
}

// mountPoints lists this mount namespace's mount points (field 5 of /proc/self/mountinfo; the
// paths checked here hold no character the kernel escapes).
func mountPoints(t *testing.T) []string {
	t.Helper()
	mountinfo, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	var mps []string
	for _, line := range strings.Split(string(mountinfo), "\n") {
		if f := strings.Fields(line); len(f) > 4 {
			mps = append(mps, f[4])
		}
	}
	return mps
}

// baseImage makes golang:1.26-bookworm in the engine (debootstrap on the first run, cached after).
func (e *engine) baseImage(t *testing.T) {
	t.Helper()
	cmd := exec.Command(filepath.Join(e.repo, "scripts", "base-image.sh"))
	cmd.Env = e.env
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("scripts/base-image.sh: %v\n%s", err, out)
	}
	if len(out) > 0 {
		t.Logf("scripts/base-image.sh:\n%s", out)
	}
	// debootstrap mounts the host's /proc inside the rootfs it builds; none of it may outlive the script.
	cache := filepath.Join(e.repo, ".cache", "base")
	for _, mp := range mountPoints(t) {
		if strings.HasPrefix(mp, cache+"/") {
			t.Errorf("still mounted after scripts/base-image.sh: %s", mp)
		}
	}
	if left, _ := filepath.Glob(filepath.Join(cache, "rootfs.*")); len(left) > 0 {
		t.Errorf("scripts/base-image.sh left its temporary rootfs behind: %v", left)
	}
}

// docker runs one docker command and returns its trimmed stdout; the error carries stderr.
func (e *engine) docker(ctx context.Context, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, e.cli, args...)
	cmd.Env = e.env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("docker %s: %w\n%s%s", strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return strings.TrimSpace(stdout.String()), nil
}

// mustDocker is docker with a per-command time limit that fails the test on error.
func (e *engine) mustDocker(t *testing.T, limit time.Duration, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	out, err := e.docker(ctx, args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// testWriter forwards a child's stderr to the test log line by line.
type testWriter struct {
	t      *testing.T
	prefix string
}

func (w *testWriter) Write(p []byte) (int, error) {
	for _, line := range strings.Split(strings.TrimRight(string(p), "\n"), "\n") {
		w.t.Log(w.prefix + strings.TrimPrefix(line, w.prefix))
	}
	return len(p), nil
}
