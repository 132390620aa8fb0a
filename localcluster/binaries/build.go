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

func kubeLdflags() string {
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

// Options choose what Ensure builds besides the control plane, the node
// programs and CoreDNS, which are always built.
type Options struct {
	// Kwok also builds kwok and copies its stage files.
	Kwok bool
	// Kubectl also builds kubectl.
	Kubectl bool
}

// groups are what opts asks for: the cluster's own groups always, then the
// optional ones, so a start waits for no build it does not run.
func (o Options) groups() []group {
	groups := []group{kubeGroup, corednsGroup, kuberouterGroup}
	if o.Kubectl {
		groups = append(groups, kubectlGroup)
	}
	if o.Kwok {
		groups = append(groups, kwokGroup)
	}
	return groups
}

// Ensure returns a complete set of binaries for the current module state,
// building the groups the cache lacks first. Progress goes to log: which
// group, how many packages were compiled, and the elapsed time, at least
// every progressEvery while a build runs.
func Ensure(ctx context.Context, clusterDir string, log io.Writer, opts Options) (Set, error) {
	if _, err := exec.LookPath("go"); err != nil {
		return Set{}, errors.New("the go command is not on PATH: install Go 1.26 (https://go.dev/dl) to build the cluster")
	}
	// Builds run in the nested modules' directories and the binaries are
	// started from run directories: every path must be absolute.
	clusterDir, err := filepath.Abs(clusterDir)
	if err != nil {
		return Set{}, err
	}
	goVersion, err := goOutput(ctx, clusterDir, "env", "GOVERSION")
	if err != nil {
		return Set{}, err
	}
	groups := opts.groups()
	binRoot := filepath.Join(clusterDir, ".bin")
	var set Set
	var missing []group
	dirs := map[string]string{}
	for _, g := range groups {
		key, err := g.cacheKey(clusterDir, goVersion)
		if err != nil {
			return Set{}, err
		}
		dirs[g.name] = filepath.Join(binRoot, key)
		set.fill(g, dirs[g.name])
		if !g.complete(dirs[g.name]) {
			missing = append(missing, g)
		}
	}
	if len(missing) == 0 {
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
	start := time.Now()
	for i, g := range missing {
		dir := dirs[g.name]
		if g.complete(dir) {
			continue
		}
		step := fmt.Sprintf("%d/%d", i+1, len(missing))
		gStart := time.Now()
		fmt.Fprintf(log, "building %s: %s into %s (cold: several minutes; progress every %s)\n", step, g.label, dir, progressEvery)
		if err := build(ctx, clusterDir, g, dir, step, log); err != nil {
			return Set{}, err
		}
		fmt.Fprintf(log, "built %s: %s in %s\n", step, g.label, time.Since(gStart).Round(time.Second))
		pruneGroup(binRoot, g.name, filepath.Base(dir))
	}
	fmt.Fprintf(log, "built everything in %s\n", time.Since(start).Round(time.Second))
	return set, nil
}

func build(ctx context.Context, clusterDir string, g group, dir, step string, log io.Writer) error {
	partial := dir + ".partial"
	if err := os.RemoveAll(partial); err != nil {
		return err
	}
	if err := os.MkdirAll(partial, 0o755); err != nil {
		return err
	}
	modDir := filepath.Join(clusterDir, g.module)
	args := []string{"build", "-v", "-o", partial + "/"}
	if g.ldflags != "" {
		args = append(args, "-ldflags", g.ldflags)
	}
	args = append(args, g.targets...)
	if err := goBuildWithProgress(ctx, modDir, args, g, step, log); err != nil {
		return err
	}
	if g.name == "kwok" {
		if err := copyKwokStages(ctx, modDir, partial); err != nil {
			return err
		}
	}
	if err := os.WriteFile(filepath.Join(partial, doneMarker), nil, 0o644); err != nil {
		return err
	}
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	return os.Rename(partial, dir)
}

func copyKwokStages(ctx context.Context, kwokDir, partial string) error {
	kwokModule, err := goOutput(ctx, kwokDir, "list", "-m", "-f", "{{.Dir}}", "sigs.k8s.io/kwok")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Join(partial, "stages"), 0o755); err != nil {
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
	return nil
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

// pruneGroup removes the group's builds for older module states (each is
// hundreds of MB), and builds from before the cache had groups, whose
// directory names are a bare 16-digit key.
func pruneGroup(binRoot, name, keep string) {
	entries, err := os.ReadDir(binRoot)
	if err != nil {
		return
	}
	for _, e := range entries {
		n := e.Name()
		if !e.IsDir() || n == keep {
			continue
		}
		legacy := len(n) == 16 && !strings.Contains(n, "-")
		if legacy || strings.HasPrefix(n, name+"-") {
			_ = os.RemoveAll(filepath.Join(binRoot, n))
		}
	}
}
