// Package acceptance drives the real Pulumi engine through the README's own commands (make
// preview, up, release, promote, bump, destroy, run in a temporary copy of the project) against
// the local cluster with its real node, the loopback registry and the project's private Docker
// engine, and checks each step in the cluster, in the registry and through the NodePorts. Run it
// from localcluster, as root:
//
//	go test ./acceptance -v -count=1 -timeout 60m
package acceptance

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/example/jobs/localcluster/controlplane"
	"github.com/example/jobs/localcluster/workspace"
)

// env is everything the test brought up for the commands to run against.
type env struct {
	checkout string
	cluster  *controlplane.Cluster
	vars     []string // the commands' environment
}

// setUp starts the local cluster with its real node, the private Docker engine with its base
// images and the loopback registry, each only if it is not running already, and stops on cleanup
// exactly what it started.
func setUp(t *testing.T, tmp string) *env {
	t.Helper()
	checkout, err := workspace.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	clusterDir, err := workspace.ClusterDir()
	if err != nil {
		t.Fatal(err)
	}
	for _, tool := range []string{"pulumi", "git", "make", "go", "curl"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is not on PATH: make deps (scripts/install-deps.sh) installs it", tool)
		}
	}

	runRoot := filepath.Join(clusterDir, ".run")
	if err := os.MkdirAll(runRoot, 0o755); err != nil {
		t.Fatal(err)
	}
	// Under .run, so `go run ./cmd/cluster down` stops it if this process is killed.
	runDir, err := os.MkdirTemp(runRoot, "acceptance-")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Minute)
	defer cancel()
	start := time.Now()
	c, err := controlplane.Start(ctx, clusterDir, controlplane.Options{RunDir: runDir, Kubectl: true, Log: os.Stderr})
	if err != nil {
		t.Fatalf("local cluster: %v", err)
	}
	t.Cleanup(func() {
		if err := c.Stop(); err != nil {
			t.Errorf("stop the cluster: %v", err)
			return
		}
		// c.HostBefore was taken once the node was this test's (issue 10: nothing a test
		// starts outlives it), so another cluster's rules are not counted as this one's.
		for _, l := range controlplane.Leftovers(runDir, c.HostBefore) {
			t.Errorf("the stopped cluster left behind: %s", l)
		}
		if !t.Failed() {
			os.RemoveAll(runDir)
		} else {
			t.Logf("cluster logs kept in %s", filepath.Join(runDir, "logs"))
		}
	})
	onInterrupt(func() {
		if err := c.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, err)
		}
	})
	figure("local cluster start (binaries cached or built)", time.Since(start))

	dockerHost := startEngine(t, checkout)
	startRegistry(t, checkout)

	vars := []string{}
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		switch {
		case name == "KUBECONFIG", name == "DOCKER_HOST", strings.HasPrefix(name, "PULUMI_"), strings.HasPrefix(name, "GIT_"):
			continue
		}
		vars = append(vars, kv)
	}
	vars = append(vars,
		"KUBECONFIG="+c.Kubeconfig,
		dockerHost,
		"PULUMI_BACKEND_URL=file://"+filepath.Join(tmp, "state"),
		// Not empty: the wrapper keeps the empty passphrase for the cluster make up starts, and
		// this run's cluster is, to it, any other (KUBECONFIG is set).
		"PULUMI_CONFIG_PASSPHRASE=acceptance",
		"PULUMI_SKIP_UPDATE_CHECK=true",
		// The base images' rootfs is cached in the checkout, not in each copy.
		"JOBS_BASE_CACHE="+filepath.Join(checkout, ".cache", "base"),
		"GIT_AUTHOR_NAME=acceptance", "GIT_AUTHOR_EMAIL=acceptance@example.com",
		"GIT_COMMITTER_NAME=acceptance", "GIT_COMMITTER_EMAIL=acceptance@example.com",
	)
	if err := os.MkdirAll(filepath.Join(tmp, "state"), 0o755); err != nil {
		t.Fatal(err)
	}
	// The images the builds start from.
	base := exec.Command(filepath.Join(checkout, "scripts", "base-image.sh"))
	base.Env = vars
	if out, err := base.CombinedOutput(); err != nil {
		t.Fatalf("scripts/base-image.sh: %v\n%s", err, out)
	}
	return &env{checkout: checkout, cluster: c, vars: vars}
}

// startEngine reuses a running private Docker engine or starts one (its cache is the checkout's,
// so builds stay warm between runs) and returns DOCKER_HOST=...; it stops only an engine it started.
func startEngine(t *testing.T, checkout string) string {
	t.Helper()
	script := filepath.Join(checkout, "scripts", "dockerd.sh")
	out, err := exec.Command(script, "status").Output()
	if err != nil {
		cmd := exec.Command(script, "start")
		cmd.Stderr = os.Stderr
		if out, err = cmd.Output(); err != nil {
			t.Fatalf("scripts/dockerd.sh start: %v", err)
		}
		stop := func() ([]byte, error) { return exec.Command(script, "stop").CombinedOutput() }
		onInterrupt(func() { stop() })
		t.Cleanup(func() {
			if out, err := stop(); err != nil {
				t.Errorf("scripts/dockerd.sh stop: %v\n%s", err, out)
			}
		})
	}
	host := strings.TrimSpace(string(out))
	if !strings.HasPrefix(host, "DOCKER_HOST=unix://") {
		t.Fatalf("scripts/dockerd.sh printed %q, want DOCKER_HOST=unix://...", host)
	}
	return host
}

// startRegistry starts the loopback registry unless something serves 127.0.0.1:5000 already, and
// stops it on cleanup if it started it.
func startRegistry(t *testing.T, checkout string) {
	t.Helper()
	if c, err := net.DialTimeout("tcp", "127.0.0.1:5000", time.Second); err == nil {
		c.Close()
		return
	}
	script := filepath.Join(checkout, "scripts", "local-registry.sh")
	if out, err := exec.Command(script, "start").CombinedOutput(); err != nil {
		t.Fatalf("scripts/local-registry.sh start: %v\n%s", err, out)
	}
	stop := func() ([]byte, error) { return exec.Command(script, "stop").CombinedOutput() }
	onInterrupt(func() { stop() })
	t.Cleanup(func() {
		if out, err := stop(); err != nil {
			t.Errorf("scripts/local-registry.sh stop: %v\n%s", err, out)
		}
	})
}

var (
	interruptMu sync.Mutex
	interrupts  []func()
)

// onInterrupt registers a stop for Ctrl-C or a cancelled CI job, run in reverse order of start,
// so an interrupted run does not leave the node, the engine or the registry behind. (A
// `go test -timeout` panic cannot be caught; `go run ./cmd/cluster down`, `scripts/dockerd.sh
// stop` and `scripts/local-registry.sh stop` stop what such a run left.)
func onInterrupt(stop func()) {
	interruptMu.Lock()
	defer interruptMu.Unlock()
	interrupts = append(interrupts, stop)
}

func stopOnInterrupt() {
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		sig := <-sigs
		fmt.Fprintf(os.Stderr, "%v: stopping what the acceptance test started\n", sig)
		interruptMu.Lock()
		for i := len(interrupts) - 1; i >= 0; i-- {
			interrupts[i]()
		}
		os.Exit(1)
	}()
}

var figures []string

// figure records a measured duration for the summary at the end (docs/performance.md).
func figure(what string, d time.Duration) {
	figures = append(figures, fmt.Sprintf("%-60s %8s", what, d.Round(100*time.Millisecond)))
}

func TestMain(m *testing.M) {
	stopOnInterrupt()
	code := m.Run()
	if len(figures) > 0 {
		fmt.Println("\n--- figures (wall clock on this machine)")
		for _, f := range figures {
			fmt.Println("   ", f)
		}
	}
	os.Exit(code)
}
