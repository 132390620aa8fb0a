package binaries

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// kubeTargets are built from test/cluster's own module; etcd is a local main
// package so it links against the etcd release Kubernetes is tested with.
var kubeTargets = []string{
	"k8s.io/kubernetes/cmd/kube-apiserver",
	"k8s.io/kubernetes/cmd/kube-controller-manager",
	"k8s.io/kubernetes/cmd/kube-scheduler",
	"./servers/etcd",
}

// kwokTarget lives in the nested kwok module: kwok needs newer gRPC and
// OpenTelemetry than Kubernetes v1.36.3 pins, and one go.mod would force
// those untested versions onto the API server.
const kwokTarget = "sigs.k8s.io/kwok/cmd/kwok"

// kwokStages are kwok's default "fast" stages, relative to the kwok module:
// nodes become Ready and keep a lease, pods become Running and Ready.
var kwokStages = []string{
	"kustomize/stage/node/fast/node-initialize.yaml",
	"kustomize/stage/node/heartbeat-with-lease/node-heartbeat-with-lease.yaml",
	"kustomize/stage/pod/fast/pod-ready.yaml",
	"kustomize/stage/pod/fast/pod-complete.yaml",
	"kustomize/stage/pod/fast/pod-delete.yaml",
}

func ldflags() string {
	// The module proxy carries no commit for the release, so gitCommit stays
	// empty rather than pretending; buildDate is the release's module time.
	vars := map[string]string{
		"gitVersion":   KubernetesVersion,
		"gitMajor":     "1",
		"gitMinor":     "36",
		"gitCommit":    "",
		"gitTreeState": "clean",
		"buildDate":    "2026-07-22T18:07:38Z",
	}
	var b strings.Builder
	b.WriteString("-s -w")
	for _, pkg := range []string{"k8s.io/component-base/version", "k8s.io/client-go/pkg/version"} {
		for _, k := range []string{"gitVersion", "gitMajor", "gitMinor", "gitCommit", "gitTreeState", "buildDate"} {
			fmt.Fprintf(&b, " -X %s.%s=%s", pkg, k, vars[k])
		}
	}
	return b.String()
}

// Ensure returns a complete set of binaries for the current module state,
// building it first when the cache has none. Progress goes to log.
func Ensure(ctx context.Context, clusterDir string, log io.Writer) (Set, error) {
	if _, err := exec.LookPath("go"); err != nil {
		return Set{}, errors.New("the go command is not on PATH: install Go 1.26 (https://go.dev/dl) to build the control plane")
	}
	goVersion, err := goOutput(ctx, clusterDir, "env", "GOVERSION")
	if err != nil {
		return Set{}, err
	}
	key, err := cacheKey(clusterDir, goVersion)
	if err != nil {
		return Set{}, err
	}
	binRoot := filepath.Join(clusterDir, ".bin")
	set := setIn(filepath.Join(binRoot, key))
	if set.complete() {
		return set, nil
	}
	if err := os.MkdirAll(binRoot, 0o755); err != nil {
		return Set{}, err
	}
	// Two test processes may want the binaries at once; the lock makes the
	// second wait for the first build instead of compiling everything twice.
	unlock, err := lock(filepath.Join(binRoot, ".lock"))
	if err != nil {
		return Set{}, err
	}
	defer unlock()
	if set.complete() {
		return set, nil
	}
	start := time.Now()
	fmt.Fprintf(log, "building control plane %s into %s (cold: several minutes)\n", KubernetesVersion, set.Dir)
	if err := build(ctx, clusterDir, set); err != nil {
		return Set{}, err
	}
	fmt.Fprintf(log, "built control plane in %s\n", time.Since(start).Round(time.Second))
	pruneExcept(binRoot, key)
	return set, nil
}

func build(ctx context.Context, clusterDir string, set Set) error {
	partial := set.Dir + ".partial"
	if err := os.RemoveAll(partial); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Join(partial, "stages"), 0o755); err != nil {
		return err
	}
	args := append([]string{"build", "-ldflags", ldflags(), "-o", partial + "/"}, kubeTargets...)
	if _, err := goOutput(ctx, clusterDir, args...); err != nil {
		return err
	}
	kwokDir := filepath.Join(clusterDir, "kwok")
	if _, err := goOutput(ctx, kwokDir, "build", "-o", partial+"/", kwokTarget); err != nil {
		return err
	}
	kwokModule, err := goOutput(ctx, kwokDir, "list", "-m", "-f", "{{.Dir}}", "sigs.k8s.io/kwok")
	if err != nil {
		return err
	}
	for _, st := range kwokStages {
		b, err := os.ReadFile(filepath.Join(kwokModule, st))
		if err != nil {
			return fmt.Errorf("kwok stage file missing from the kwok module: %w", err)
		}
		if err := os.WriteFile(filepath.Join(partial, "stages", filepath.Base(st)), b, 0o644); err != nil {
			return err
		}
	}
	if err := os.WriteFile(filepath.Join(partial, doneMarker), nil, 0o644); err != nil {
		return err
	}
	if err := os.RemoveAll(set.Dir); err != nil {
		return err
	}
	return os.Rename(partial, set.Dir)
}

// goOutput runs the go command with CGO off (static binaries, no C compiler
// needed on a fresh machine) and returns trimmed stdout.
func goOutput(ctx context.Context, dir string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("go %s in %s: %w\n%s", strings.Join(args, " "), dir, err, stderr.String())
	}
	return strings.TrimSpace(stdout.String()), nil
}

func lock(path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return func() {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}

// pruneExcept removes builds for older module states; each is hundreds of MB.
func pruneExcept(binRoot, key string) {
	entries, err := os.ReadDir(binRoot)
	if err != nil {
		return
	}
	for _, e := range entries {
		if e.IsDir() && e.Name() != key {
			_ = os.RemoveAll(filepath.Join(binRoot, e.Name()))
		}
	}
}
