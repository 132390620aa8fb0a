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
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/example/jobs/localcluster/controlplane"
	"github.com/example/jobs/localcluster/teardown"
	"github.com/example/jobs/localcluster/workspace"
)

// env is everything the test brought up for the commands to run against.
type env struct {
	checkout string
	cluster  *controlplane.Cluster
	state    string   // the state backend's folder
	vars     []string // the harness's own environment: the cluster, engine and state named outright
	// plain is a user's shell after make up: none of KUBECONFIG, DOCKER_HOST and PULUMI_*, so the
	// README's commands find the cluster, state and engine themselves, as in a new shell
	// (userCheckout lays the project out for that).
	plain []string
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
	// The stop is registered before the start: a Ctrl-C during the minutes Start takes cancels
	// it, and Start stops what it began when it fails.
	var c *controlplane.Cluster
	started := make(chan struct{})
	stopCluster := stops.Add(func() error {
		cancel()
		<-started
		if c == nil {
			return nil
		}
		return c.Stop()
	})
	start := time.Now()
	c, err = controlplane.Start(ctx, clusterDir, controlplane.Options{RunDir: runDir, Kubectl: true, Log: os.Stderr})
	close(started)
	if err != nil {
		t.Fatalf("local cluster: %v", err)
	}
	t.Cleanup(func() {
		if err := stopCluster(); err != nil {
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
		// make verify's kubectl: the cluster's own release.
		"KUBECTL="+c.Kubectl,
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
	var plain []string
	for _, kv := range vars {
		name, _, _ := strings.Cut(kv, "=")
		if name == "KUBECONFIG" || name == "DOCKER_HOST" || strings.HasPrefix(name, "PULUMI_") || name == "JOBS_DOCKER_STATE" {
			continue
		}
		plain = append(plain, kv)
	}
	// The engine's data lives in the checkout's .cache; the copy's scripts find that engine
	// through it, as they would find their own in a checkout that ran make up.
	plain = append(plain, "JOBS_DOCKER_STATE="+dockerState(checkout))
	// The images the builds start from.
	base := exec.Command(filepath.Join(checkout, "scripts", "base-image.sh"))
	base.Env = vars
	if out, err := base.CombinedOutput(); err != nil {
		t.Fatalf("scripts/base-image.sh: %v\n%s", err, out)
	}
	return &env{checkout: checkout, cluster: c, state: filepath.Join(tmp, "state"), vars: vars, plain: plain}
}

// dockerState is the data folder of the private engine the checkout's scripts/dockerd.sh runs.
func dockerState(checkout string) string {
	if s := os.Getenv("JOBS_DOCKER_STATE"); s != "" {
		return s
	}
	return filepath.Join(checkout, ".cache", "docker")
}

// userCheckout lays the project copy out as make up leaves a checkout on the local cluster: its
// kubeconfig in localcluster/.run/kubeconfig and its state in localcluster/.run/pulumi-state,
// here links to this run's cluster and state, so commands run with the plain environment reach
// them by the wrapper's own defaults (and an empty passphrase, the local cluster's).
func userCheckout(t *testing.T, e *env, dir string) {
	t.Helper()
	run := filepath.Join(dir, "localcluster", ".run")
	if err := os.MkdirAll(run, 0o755); err != nil {
		t.Fatal(err)
	}
	for link, target := range map[string]string{"kubeconfig": e.cluster.Kubeconfig, "pulumi-state": e.state} {
		if err := os.Symlink(target, filepath.Join(run, link)); err != nil {
			t.Fatal(err)
		}
	}
}

// startEngine reuses a running private Docker engine or starts one (its cache is the checkout's,
// so builds stay warm between runs) and returns DOCKER_HOST=...; it stops only an engine it started.
func startEngine(t *testing.T, checkout string) string {
	t.Helper()
	script := filepath.Join(checkout, "scripts", "dockerd.sh")
	out, err := exec.Command(script, "status").Output()
	if err != nil {
		// Registered before the start, which waits for it: a stop during the start would find
		// no pidfile yet and leave the engine running.
		started := make(chan struct{})
		stop := stops.Add(func() error {
			<-started
			if out, err := exec.Command(script, "stop").CombinedOutput(); err != nil {
				return fmt.Errorf("scripts/dockerd.sh stop: %v\n%s", err, out)
			}
			return nil
		})
		t.Cleanup(func() {
			if err := stop(); err != nil {
				t.Error(err)
			}
		})
		cmd := exec.Command(script, "start")
		cmd.Stderr = os.Stderr
		out, err = cmd.Output()
		close(started)
		if err != nil {
			t.Fatalf("scripts/dockerd.sh start: %v", err)
		}
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
	started := make(chan struct{})
	stop := stops.Add(func() error {
		<-started
		if out, err := exec.Command(script, "stop").CombinedOutput(); err != nil {
			return fmt.Errorf("scripts/local-registry.sh stop: %v\n%s", err, out)
		}
		return nil
	})
	t.Cleanup(func() {
		if err := stop(); err != nil {
			t.Error(err)
		}
	})
	out, err := exec.Command(script, "start").CombinedOutput()
	close(started)
	if err != nil {
		t.Fatalf("scripts/local-registry.sh start: %v\n%s", err, out)
	}
}

// stops stops what the test started, once, by its cleanup or at Ctrl-C or a cancelled CI job,
// the last started first, so an interrupted run does not leave the node, the engine or the
// registry behind. (A `go test -timeout` panic cannot be caught; `go run ./cmd/cluster down`,
// `scripts/dockerd.sh stop` and `scripts/local-registry.sh stop` stop what such a run left.)
var stops teardown.Stops

var figures []string

// figure records a measured duration for the summary at the end (docs/performance.md).
func figure(what string, d time.Duration) {
	figures = append(figures, fmt.Sprintf("%-60s %8s", what, d.Round(100*time.Millisecond)))
}

func TestMain(m *testing.M) {
	stops.OnSignal("the acceptance test")
	code := m.Run()
	if len(figures) > 0 {
		fmt.Println("\n--- figures (wall clock on this machine)")
		for _, f := range figures {
			fmt.Println("   ", f)
		}
	}
	os.Exit(code)
}
