// Package realnode proves the local cluster's real node: pods really run
// from images in the loopback registry, Services and NodePorts route, cluster
// DNS resolves, security contexts hold, and Stop leaves nothing behind.
package realnode

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/example/jobs/localcluster/controlplane"
	"github.com/example/jobs/localcluster/ociimage"
	"github.com/example/jobs/localcluster/workspace"
)

// registryUp reports whether something answers on the loopback registry.
func registryUp() bool {
	conn, err := net.DialTimeout("tcp", "127.0.0.1:5000", time.Second)
	if err != nil {
		return false
	}
	conn.Close()
	return true
}

// ensureRegistry starts the loopback registry with the repository's script
// unless one already runs, and stops it at the end only if it started it.
func ensureRegistry(t *testing.T) {
	t.Helper()
	if registryUp() {
		return
	}
	root, err := workspace.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	script := filepath.Join(root, "scripts", "local-registry.sh")
	if out, err := exec.Command(script, "start").CombinedOutput(); err != nil {
		t.Fatalf("%s start: %v\n%s", script, err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command(script, "stop").CombinedOutput(); err != nil {
			t.Errorf("%s stop: %v\n%s", script, err, out)
		}
	})
}

// testImage is servers/podcheck as a FROM-scratch image in the loopback
// registry: the reference by tag and by digest.
type testImage struct{ tag, digest string }

func pushPodcheck(ctx context.Context, t *testing.T, clusterDir string) testImage {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "podcheck")
	cmd := exec.CommandContext(ctx, "go", "build", "-ldflags=-s -w", "-o", bin, "./servers/podcheck")
	cmd.Dir = clusterDir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build podcheck: %v\n%s", err, out)
	}
	data, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	img, err := ociimage.New([]ociimage.File{{Path: "/podcheck", Mode: 0o755, Data: data}}, ociimage.Config{
		Entrypoint: []string{"/podcheck"},
		Labels:     map[string]string{"org.opencontainers.image.source": "localcluster/servers/podcheck"},
	})
	if err != nil {
		t.Fatal(err)
	}
	const repo = "jobs-cluster-test/podcheck"
	// The tag names the content, as every image here must.
	tag := "sha256-" + img.ManifestDigest[len("sha256:"):][:16]
	digest, err := img.Push(ctx, controlplane.LocalRegistry, repo, tag)
	if err != nil {
		t.Fatalf("push to the loopback registry: %v", err)
	}
	base := controlplane.LocalRegistry + "/" + repo
	return testImage{tag: base + ":" + tag, digest: base + "@" + digest}
}

// startCluster starts a cluster in its own run directory under .run (so
// `go run ./cmd/cluster down` also stops it if this test is killed) and
// stops it at the end unless the test already did.
func startCluster(ctx context.Context, t *testing.T, clusterDir string) (*controlplane.Cluster, *bool) {
	t.Helper()
	runRoot, err := workspace.RunDir()
	if err != nil {
		t.Fatal(err)
	}
	runDir := filepath.Join(runRoot, fmt.Sprintf("realnode-%d", os.Getpid()))
	var log bytes.Buffer
	start := time.Now()
	c, err := controlplane.Start(ctx, clusterDir, controlplane.Options{RunDir: runDir, Log: teeLog{t, &log}})
	if err != nil {
		t.Fatalf("start cluster: %v", err)
	}
	fmt.Fprintf(os.Stderr, "realnode: cluster started in %s, node Ready %s after the kubelet started\n",
		time.Since(start).Round(100*time.Millisecond), c.NodeReadyAfter.Round(100*time.Millisecond))
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			if err := c.Stop(); err != nil {
				t.Errorf("stop: %v", err)
			}
			_ = os.RemoveAll(runDir)
		}
	})
	return c, &stopped
}

// teeLog sends the cluster's progress lines to stderr as they come (a cold
// build runs for many minutes) and keeps them for the test log.
type teeLog struct {
	t   *testing.T
	buf *bytes.Buffer
}

func (l teeLog) Write(p []byte) (int, error) {
	os.Stderr.Write(p)
	return l.buf.Write(p)
}
