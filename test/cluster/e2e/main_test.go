// Package e2e applies both rendered stacks to a real control plane and
// checks that Kubernetes accepts them and the pieces fit. Run it from
// test/cluster with:
//
//	go test ./e2e -v -count=1
//
// Set JOBS_E2E_MANIFESTS=DIR to use already rendered <stack>.json files
// (for example ./testdata/fixtures, relative to e2e/) instead of running the
// root module's render.
package e2e

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/example/jobs/test/cluster/checks"
	"github.com/example/jobs/test/cluster/controlplane"
	"github.com/example/jobs/test/cluster/manifests"
	"github.com/example/jobs/test/cluster/workspace"
)

var (
	clusterOnce sync.Once
	cluster     *controlplane.Cluster
	clients     *checks.Clients
	clusterErr  error

	renderOnce sync.Once
	renderDir  string
	renderErr  error
	renderTemp string
	renderSaid string

	figuresMu sync.Mutex
	figures   []string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if cluster != nil {
		if err := cluster.Stop(); err != nil {
			fmt.Fprintf(os.Stderr, "stop cluster: %v\n", err)
			code = 1
		} else if code == 0 {
			_ = os.RemoveAll(cluster.RunDir)
		} else {
			fmt.Fprintf(os.Stderr, "component logs kept in %s\n", filepath.Join(cluster.RunDir, "logs"))
		}
	}
	if renderTemp != "" {
		_ = os.RemoveAll(renderTemp)
	}
	if len(figures) > 0 {
		fmt.Println("\n--- figures (apply -> every Deployment Available and API endpoints ready)")
		for _, f := range figures {
			fmt.Println("   ", f)
		}
	}
	os.Exit(code)
}

func figure(format string, args ...any) {
	figuresMu.Lock()
	defer figuresMu.Unlock()
	figures = append(figures, fmt.Sprintf(format, args...))
}

// needCluster starts the shared control plane on first use; a test that
// cannot get one fails, naming what is missing.
func needCluster(t *testing.T) *checks.Clients {
	t.Helper()
	clusterOnce.Do(func() {
		clusterDir, err := workspace.ClusterDir()
		if err != nil {
			clusterErr = err
			return
		}
		runRoot := filepath.Join(clusterDir, ".run")
		if err := os.MkdirAll(runRoot, 0o755); err != nil {
			clusterErr = err
			return
		}
		// A directory per test process: `go run ./cmd/cluster down` finds
		// and stops it if this process dies before its cleanup.
		runDir, err := os.MkdirTemp(runRoot, "e2e-")
		if err != nil {
			clusterErr = err
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
		defer cancel()
		start := time.Now()
		c, err := controlplane.Start(ctx, clusterDir, controlplane.Options{RunDir: runDir, Log: os.Stderr})
		if err != nil {
			clusterErr = err
			return
		}
		cluster = c
		stopOnSignal(c)
		figure("control plane start (binaries cached or built): %s", time.Since(start).Round(100*time.Millisecond))
		clients, clusterErr = checks.NewClients(c.RESTConfig())
	})
	if clusterErr != nil {
		t.Fatalf("local control plane: %v", clusterErr)
	}
	return clients
}

// needStack loads a rendered stack variant ("test", "test-bump", ...),
// rendering all of them once on first use.
func needStack(t *testing.T, variant string) *manifests.Stack {
	t.Helper()
	renderOnce.Do(func() {
		repoRoot, err := workspace.RepoRoot()
		if err != nil {
			renderErr = err
			return
		}
		renderTemp, err = os.MkdirTemp("", "jobs-render-")
		if err != nil {
			renderErr = err
			return
		}
		start := time.Now()
		var rendered bool
		renderDir, rendered, renderErr = manifests.Source(context.Background(), repoRoot, renderTemp)
		if rendered {
			renderSaid = fmt.Sprintf("rendered by the Pulumi program in %s", time.Since(start).Round(100*time.Millisecond))
		} else {
			renderSaid = "read from " + manifests.SourceEnv + "=" + renderDir
		}
	})
	if renderErr != nil {
		t.Fatalf("rendered manifests: %v", renderErr)
	}
	stackName, _ := strings.CutSuffix(variant, "-bump")
	s, err := manifests.Load(stackName, filepath.Join(renderDir, variant+".json"))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("manifests %s: %d objects, %s", variant, len(s.Objects), renderSaid)
	return s
}

// configuredNodePort is the stack's jobs:nodePort from Pulumi.<stack>.yaml.
func configuredNodePort(t *testing.T, stack string) int64 {
	t.Helper()
	root, err := workspace.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	port, err := manifests.ConfiguredNodePort(root, stack)
	if err != nil {
		t.Fatal(err)
	}
	return port
}

// stopOnSignal stops the cluster when the test process is interrupted, so
// Ctrl-C or a cancelled CI job does not leave etcd and the API server behind.
// (A `go test -timeout` panic cannot be caught; `go run ./cmd/cluster down`
// stops what such a run left.)
func stopOnSignal(c *controlplane.Cluster) {
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		sig := <-sigs
		fmt.Fprintf(os.Stderr, "%v: stopping the control plane in %s\n", sig, c.RunDir)
		if err := c.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, err)
		}
		os.Exit(1)
	}()
}
