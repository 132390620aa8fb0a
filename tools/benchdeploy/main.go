// Command benchdeploy measures what a newcomer waits for when deploying, and prints a Markdown
// table: `make up` by phase, a no-change `make preview STACK=test`, and a tag bump's
// `make up STACK=test`. It is a bench, not a test: figures depend on the machine and its load,
// which it prints with them.
//
//	go run ./tools/benchdeploy            # warm: in this checkout, after make up
//	go run ./tools/benchdeploy -cold      # a clean copy of HEAD with empty Go, image and cluster caches
//	make bench-deploy [COLD=1] [RUNS=3]
//
// -cold copies the committed tree to a new folder and runs everything there with its own empty
// GOCACHE, GOMODCACHE, Docker engine, base-image cache and cluster binaries, so nothing this
// checkout built is reused; Debian packages already installed stay installed (the figure for
// installing them is in CI's log), and a loopback registry already running on port 5000 is
// shared. It stops what it started with make down in the copy, and
// removes the copy.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/Masterminds/semver/v3"

	"github.com/example/jobs/release"
)

func main() {
	cold := flag.Bool("cold", false, "measure a cold make up in a clean copy with empty caches first")
	runs := flag.Int("runs", 3, "how many previews and tag bumps to time")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *cold, *runs, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "benchdeploy:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, cold bool, runs int, out, progress io.Writer) (err error) {
	root, err := gitOutput(ctx, ".", "rev-parse", "--show-toplevel")
	if err != nil {
		return err
	}
	commit, _ := gitOutput(ctx, root, "rev-parse", "--short", "HEAD")
	b := &bench{dir: root, env: os.Environ(), log: progress}
	var phases []phase
	if cold {
		if err := b.coldCopy(ctx); err != nil {
			return err
		}
		defer func() {
			err = errors.Join(err, b.make(context.WithoutCancel(ctx), "down"))
			if err == nil {
				err = os.RemoveAll(filepath.Dir(b.dir))
			} else {
				fmt.Fprintf(progress, "benchdeploy: kept %s to look into\n", b.dir)
			}
		}()
		lines, total, err := b.timedLines(ctx, "up")
		if err != nil {
			return fmt.Errorf("cold make up: %w", err)
		}
		phases = splitPhases(lines, total)
		// Printed now too: the cold run is the costly part, and a later step failing must not lose it.
		fmt.Fprintf(out, "\ncold make up, commit %s:\n\n%s", commit, table(phases, nil, nil))
	} else if _, err := os.Stat(filepath.Join(root, "localcluster/.run/kubeconfig")); err != nil {
		return errors.New("no local cluster runs here: run make up first, or use -cold")
	}
	preview, err := b.repeat(ctx, runs, func() error { return b.make(ctx, "preview", "STACK=test") })
	if err != nil {
		return err
	}
	bump, err := b.bumps(ctx, runs)
	if err != nil {
		return err
	}
	load, _ := os.ReadFile("/proc/loadavg")
	fmt.Fprintf(out, "\nbenchdeploy at %s, commit %s, %d cores, load %s\n\n", time.Now().UTC().Format(time.DateOnly), commit,
		runtime.NumCPU(), strings.Join(strings.Fields(string(load))[:3], " "))
	fmt.Fprint(out, table(phases, preview, bump))
	return nil
}

type bench struct {
	dir string   // the checkout the make targets run in
	env []string // their environment
	log io.Writer
}

// coldCopy puts HEAD's tree in a new folder and points every cache the deploy fills at new
// folders beside it, so the run reuses nothing.
func (b *bench) coldCopy(ctx context.Context) error {
	if _, err := os.Stat(filepath.Join(b.dir, "localcluster/.run/kubeconfig")); err == nil {
		// One machine runs one real node: the copy's make up would wait for this one forever.
		return errors.New("a local cluster runs from this checkout: make down first")
	}
	base, err := os.MkdirTemp("", "benchdeploy-")
	if err != nil {
		return err
	}
	tree := filepath.Join(base, "jobs")
	if err := os.Mkdir(tree, 0o755); err != nil {
		return err
	}
	archive := exec.CommandContext(ctx, "sh", "-c", `git -C "$1" archive HEAD | tar -x -C "$2"`, "sh", b.dir, tree)
	if out, err := archive.CombinedOutput(); err != nil {
		return fmt.Errorf("copy HEAD: %v\n%s", err, out)
	}
	// ../shared is beside the clone on CI and here; the engine's toolchain comes from there.
	if shared := filepath.Join(filepath.Dir(b.dir), "shared"); exists(shared) {
		if err := os.Symlink(shared, filepath.Join(base, "shared")); err != nil {
			return err
		}
	}
	for _, kv := range []struct{ key, dir string }{
		{"GOCACHE", "gocache"}, {"GOMODCACHE", "gomodcache"}, {"JOBS_DOCKER_STATE", "docker"}, {"JOBS_BASE_CACHE", "base"},
	} {
		b.env = append(b.env, kv.key+"="+filepath.Join(base, kv.dir))
	}
	b.dir = tree
	fmt.Fprintf(b.log, "benchdeploy: cold copy of HEAD in %s, empty caches beside it\n", tree)
	return nil
}

// make runs a make target in the bench's checkout, its output on the progress writer.
func (b *bench) make(ctx context.Context, args ...string) error {
	_, _, err := b.timedLines(ctx, args...)
	return err
}

// line is one line of output and when it came, counted from the command's start.
type line struct {
	at   time.Duration
	text string
}

// timedLines runs make with args, copies its output to the progress writer with each line's
// time, and returns those lines and the total time.
func (b *bench) timedLines(ctx context.Context, args ...string) ([]line, time.Duration, error) {
	cmd := exec.CommandContext(ctx, "make", args...)
	cmd.Dir, cmd.Env = b.dir, b.env
	// Its own process group, so an interrupt reaches make's children (the engine, builds) too.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGINT) }
	cmd.WaitDelay = 2 * time.Minute
	r, w := io.Pipe()
	cmd.Stdout, cmd.Stderr = w, w
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return nil, 0, err
	}
	var lines []line
	done := make(chan struct{})
	go func() {
		defer close(done)
		s := bufio.NewScanner(r)
		s.Buffer(make([]byte, 64*1024), 1024*1024)
		for s.Scan() {
			l := line{time.Since(start), s.Text()}
			lines = append(lines, l)
			fmt.Fprintf(b.log, "%7.1fs %s\n", l.at.Seconds(), l.text)
		}
		io.Copy(io.Discard, r)
	}()
	err := cmd.Wait()
	total := time.Since(start)
	w.Close()
	<-done
	if err != nil {
		return lines, total, fmt.Errorf("make %s: %w", strings.Join(args, " "), err)
	}
	return lines, total, nil
}

func (b *bench) repeat(ctx context.Context, runs int, f func() error) ([]time.Duration, error) {
	var d []time.Duration
	for range runs {
		start := time.Now()
		if err := f(); err != nil {
			return nil, err
		}
		d = append(d, time.Since(start))
	}
	return d, nil
}

// bumps times `make up STACK=test` after each of runs tag bumps (patch versions above test's),
// then puts test back on the version it had, as a rollback would.
func (b *bench) bumps(ctx context.Context, runs int) ([]time.Duration, error) {
	was, next, err := bumpVersions(filepath.Join(b.dir, "Pulumi.test.yaml"), runs)
	if err != nil {
		return nil, err
	}
	var d []time.Duration
	for _, v := range next {
		if err := b.make(ctx, "bump", "STACK=test", "VERSION="+v); err != nil {
			return nil, err
		}
		start := time.Now()
		if err := b.make(ctx, "up", "STACK=test"); err != nil {
			return nil, err
		}
		d = append(d, time.Since(start))
	}
	if err := b.make(ctx, "bump", "STACK=test", "VERSION="+was, "FORCE=1"); err != nil {
		return nil, err
	}
	return d, b.make(ctx, "up", "STACK=test")
}

// bumpVersions reads the version a stack file runs and returns it with the runs patch versions
// above it that the bumps go through.
func bumpVersions(stackFile string, runs int) (was string, next []string, err error) {
	file, err := release.ReadStackFile(stackFile)
	if err != nil {
		return "", nil, err
	}
	was, err = file.Setting(release.VersionKey)
	if err != nil {
		return "", nil, err
	}
	v, err := semver.StrictNewVersion(was)
	if err != nil {
		return "", nil, fmt.Errorf("%s: %s %q: %w", stackFile, release.VersionKey, was, err)
	}
	for range runs {
		n := v.IncPatch()
		v = &n
		next = append(next, v.String())
	}
	return was, next, nil
}

// phase is a stretch of make up between two landmarks of its output.
type phase struct {
	name string
	took time.Duration
}

// landmarks are lines make up prints as it moves on (prefixes), and what the stretch each
// starts is spent on. Those that do not appear (a cached build) just are not in the table.
var landmarks = []struct{ prefix, phase string }{
	{"scripts/up-all.sh", "local cluster: up to its build"},
	{"building 1/", "local cluster: build (etcd, Kubernetes, CoreDNS, kube-router)"},
	{"built everything", "local cluster: start, node Ready"},
	{"cluster up in", "Docker engine, base images, registry"},
	{"Updating (test)", "stack test: program build, images, deploy"},
	{"up-all: deploying stack prod", "stack prod"},
	{"up-all: every stack deployed", "a job through each NodePort"},
}

// splitPhases cuts make up's output at the landmarks, in the order they came.
func splitPhases(lines []line, total time.Duration) []phase {
	phases := []phase{{name: "Debian packages and the Pulumi engine (only missing ones)"}}
	at := []time.Duration{0}
	next := 0
	for _, l := range lines {
		for i := next; i < len(landmarks); i++ {
			if strings.HasPrefix(strings.TrimSpace(l.text), landmarks[i].prefix) {
				phases = append(phases, phase{name: landmarks[i].phase})
				at = append(at, l.at)
				next = i + 1
				break
			}
		}
	}
	at = append(at, total)
	for i := range phases {
		phases[i].took = at[i+1] - at[i]
	}
	return phases
}

func table(phases []phase, preview, bump []time.Duration) string {
	var s strings.Builder
	s.WriteString("| what | seconds |\n|---|---|\n")
	var total time.Duration
	for _, p := range phases {
		fmt.Fprintf(&s, "| make up, cold: %s | %.0f |\n", p.name, p.took.Seconds())
		total += p.took
	}
	if len(phases) > 0 {
		fmt.Fprintf(&s, "| **make up, cold: to a job through both NodePorts** | **%.0f** |\n", total.Seconds())
	}
	if len(preview) > 0 {
		fmt.Fprintf(&s, "| make preview STACK=test, no change (%d runs) | %s |\n", len(preview), spread(preview))
	}
	if len(bump) > 0 {
		fmt.Fprintf(&s, "| make bump, then make up STACK=test (%d runs) | %s |\n", len(bump), spread(bump))
	}
	return s.String()
}

// spread is "min–max (median m)" in seconds.
func spread(d []time.Duration) string {
	if len(d) == 0 {
		return "-"
	}
	s := slices.Clone(d)
	slices.Sort(s)
	return fmt.Sprintf("%.1f–%.1f (median %.1f)", s[0].Seconds(), s[len(s)-1].Seconds(), s[len(s)/2].Seconds())
}

func gitOutput(ctx context.Context, dir string, args ...string) (string, error) {
	out, err := exec.CommandContext(ctx, "git", append([]string{"-C", dir}, args...)...).Output()
	if err != nil {
		return "", fmt.Errorf("git %s: %w", strings.Join(args, " "), err)
	}
	return strings.TrimSpace(string(out)), nil
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
