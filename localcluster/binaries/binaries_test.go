package binaries

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestCacheKeyFollowsEveryInput(t *testing.T) {
	for _, g := range (Options{Kubectl: true, Kwok: true}).groups() {
		dir := t.TempDir()
		for _, rel := range g.keyInputs {
			p := filepath.Join(dir, rel)
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, []byte(rel), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		base, err := g.cacheKey(dir, "go1.26.8")
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(base, g.name+"-") {
			t.Errorf("key %s does not name its group %s, so pruning could remove another group's build", base, g.name)
		}
		if again, _ := g.cacheKey(dir, "go1.26.8"); again != base {
			t.Fatalf("%s: key is not stable: %s then %s", g.name, base, again)
		}
		if other, _ := g.cacheKey(dir, "go1.26.9"); other == base {
			t.Fatalf("%s: a new Go toolchain must select a new build", g.name)
		}
		for _, rel := range g.keyInputs {
			p := filepath.Join(dir, rel)
			if err := os.WriteFile(p, []byte(rel+" changed"), 0o644); err != nil {
				t.Fatal(err)
			}
			changed, err := g.cacheKey(dir, "go1.26.8")
			if err != nil {
				t.Fatal(err)
			}
			if changed == base {
				t.Errorf("%s: changing %s kept cache key %s", g.name, rel, base)
			}
			if err := os.WriteFile(p, []byte(rel), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func TestCacheKeyNeedsItsInputs(t *testing.T) {
	if _, err := kubeGroup.cacheKey(t.TempDir(), "go1.26.8"); err == nil {
		t.Fatal("a directory without go.mod produced a cache key")
	}
}

func TestIncompleteBuildIsNotCached(t *testing.T) {
	for _, g := range (Options{Kubectl: true, Kwok: true}).groups() {
		dir := t.TempDir()
		outs := g.outputs()
		// All but one output, then all of them without the marker.
		for _, f := range outs[:len(outs)-1] {
			write(t, filepath.Join(dir, f))
		}
		if g.complete(dir) {
			t.Fatalf("%s: a set missing %s counted as complete", g.name, outs[len(outs)-1])
		}
		write(t, filepath.Join(dir, outs[len(outs)-1]))
		if g.complete(dir) {
			t.Fatalf("%s: a set without the completion marker counted as complete", g.name)
		}
		write(t, filepath.Join(dir, doneMarker))
		if !g.complete(dir) {
			t.Fatalf("%s: a finished set did not count as complete", g.name)
		}
	}
}

func TestSetNamesEveryOutput(t *testing.T) {
	var s Set
	for _, g := range (Options{Kubectl: true, Kwok: true}).groups() {
		s.fill(g, "/b/"+g.name)
	}
	for name, p := range map[string]string{
		"etcd": s.Etcd, "kube-apiserver": s.KubeAPIServer, "kube-controller-manager": s.KubeControllerManager,
		"kube-scheduler": s.KubeScheduler, "kubelet": s.Kubelet, "kube-proxy": s.KubeProxy, "pause": s.Pause,
		"kubectl": s.Kubectl,
		"coredns": s.CoreDNS, "kwok": s.Kwok,
	} {
		if filepath.Base(p) != name {
			t.Errorf("Set path for %s is %q", name, p)
		}
	}
	if len(s.KwokStages) != len(kwokStages) {
		t.Errorf("Set has %d kwok stages, want %d", len(s.KwokStages), len(kwokStages))
	}
}

// kubectl is no part of the cluster: a start that does not ask for it must
// not wait for its build (about 160 CPU-seconds cold).
func TestOnlyWhatIsAskedForIsBuilt(t *testing.T) {
	names := func(gs []group) (n []string) {
		for _, g := range gs {
			n = append(n, g.name)
		}
		return n
	}
	for _, tc := range []struct {
		opts Options
		want []string
	}{
		// kube-router enforces NetworkPolicy on every node, so it is one of the cluster's own.
		{Options{}, []string{"kube", "coredns", "kuberouter"}},
		{Options{Kubectl: true}, []string{"kube", "coredns", "kuberouter", "kubectl"}},
		{Options{Kwok: true}, []string{"kube", "coredns", "kuberouter", "kwok"}},
	} {
		if got := names(tc.opts.groups()); !slices.Equal(got, tc.want) {
			t.Errorf("%+v builds %v, want %v", tc.opts, got, tc.want)
		}
	}
	for _, out := range kubeGroup.outputs() {
		if out == "kubectl" {
			t.Errorf("the kube group, which every start builds, still builds kubectl")
		}
	}
}

func TestPruneKeepsOtherGroupsAndRemovesLegacyBuilds(t *testing.T) {
	root := t.TempDir()
	for _, d := range []string{"kube-new", "kube-old", "kube-old.partial", "coredns-x", "kuberouter-x", "0123456789abcdef"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	pruneGroup(root, "kube", "kube-new")
	for d, want := range map[string]bool{"kube-new": true, "kube-old": false, "kube-old.partial": false, "coredns-x": true, "kuberouter-x": true, "0123456789abcdef": false} {
		_, err := os.Stat(filepath.Join(root, d))
		if (err == nil) != want {
			t.Errorf("after prune %s exists=%v, want %v", d, err == nil, want)
		}
	}
}

func TestProgressCountsPackagesAndKeepsErrors(t *testing.T) {
	p := &progress{mains: map[string]bool{}}
	mains := map[string]string{"k8s.io/kubernetes/cmd/kubelet": "kubelet"}
	for _, l := range []string{"k8s.io/api/core/v1", "k8s.io/kubernetes/cmd/kubelet", "# k8s.io/broken", "x.go:1:1: undefined: y"} {
		p.line(l, mains)
	}
	r := p.report("1/2", kubeGroup, 2656, 130*time.Second)
	for _, want := range []string{"building 1/2", "2 packages compiled", "of 2656", "linking kubelet", "elapsed 2m10s"} {
		if !strings.Contains(r, want) {
			t.Errorf("progress line %q lacks %q", r, want)
		}
	}
	if len(p.errTail) != 2 {
		t.Errorf("error lines kept: %q", p.errTail)
	}
}

func write(t *testing.T, p string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
}
