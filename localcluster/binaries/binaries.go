// Package binaries builds the cluster's programs from the Go modules pinned in
// localcluster and caches them under .bin/<group>-<key>, where key hashes
// everything that decides a group's bytes. There are five groups, each built
// by one `go build` so shared packages compile once:
//
//   - kube: etcd, kube-apiserver, kube-controller-manager, kube-scheduler,
//     kubelet, kube-proxy and the pod sandbox program (this module);
//   - coredns: CoreDNS with the plugins the cluster needs (nested module);
//   - kubectl: the client of the same release (this module), built only on
//     request: no part of the cluster runs it, and its hundred packages and
//     its link cost a cold `make up` about 160 CPU-seconds;
//   - kwok: fake nodes for scale tests (nested module), built only on request;
//   - kuberouter: kube-router, only its NetworkPolicy firewall is used (nested
//     module).
//
// A cold build takes many minutes; a warm one is a stat.
package binaries

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"slices"
)

// KubernetesVersion is the k8s.io/kubernetes release required in go.mod; the
// version ldflags stamp it so clients see a real release, not v0.0.0-master.
const KubernetesVersion = "v1.36.3"

// Set holds the paths of one complete build. Kwok and KwokStages are empty
// unless Ensure was asked for kwok.
type Set struct {
	Etcd                  string
	KubeAPIServer         string
	KubeControllerManager string
	KubeScheduler         string
	Kubelet               string
	KubeProxy             string
	// Kubectl is the client of the same release, for people and for the
	// comparison with applying hand-kept YAML files; empty unless Ensure
	// was asked for it.
	Kubectl string
	// Pause is the pod sandbox program (servers/pause).
	Pause   string
	CoreDNS string
	// KubeRouter enforces NetworkPolicy on the real node (firewall only).
	KubeRouter string
	Kwok       string
	// KwokStages are kwok's own node and pod stage files, copied from the
	// kwok module so the simulated lifecycle is the one kwok ships.
	KwokStages []string
}

// group is one `go build` invocation and its cache directory.
type group struct {
	name string
	// module is the directory of the go.mod to build in, relative to
	// localcluster.
	module string
	// targets are built together; outputs are named after the last element.
	targets []string
	// keyInputs are files, relative to localcluster, whose content decides
	// the group's binaries.
	keyInputs []string
	// ldflags are the linker flags; the kube group stamps the version.
	ldflags string
	// label names what is being built in progress lines.
	label string
}

var kubeGroup = group{
	name:   "kube",
	module: ".",
	targets: []string{
		"k8s.io/kubernetes/cmd/kube-apiserver",
		"k8s.io/kubernetes/cmd/kube-controller-manager",
		"k8s.io/kubernetes/cmd/kube-scheduler",
		"k8s.io/kubernetes/cmd/kubelet",
		"k8s.io/kubernetes/cmd/kube-proxy",
		// etcd is a local main package so it links against the etcd release
		// Kubernetes is tested with.
		"./servers/etcd",
		"./servers/pause",
	},
	keyInputs: []string{"go.mod", "go.sum", "servers/etcd/main.go", "servers/pause/main.go"},
	ldflags:   kubeLdflags(),
	label:     "etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kubelet, kube-proxy, pause",
}

// kubectlGroup shares the kube group's module and version stamp; it is a
// group of its own so that nothing waits for it but what uses it.
var kubectlGroup = group{
	name:      "kubectl",
	module:    ".",
	targets:   []string{"k8s.io/kubernetes/cmd/kubectl"},
	keyInputs: []string{"go.mod", "go.sum"},
	ldflags:   kubeLdflags(),
	label:     "kubectl",
}

// corednsGroup lives in a nested module: CoreDNS needs newer gRPC than
// Kubernetes v1.36.3 pins, and one go.mod would force that version onto the
// API server.
var corednsGroup = group{
	name:      "coredns",
	module:    "coredns",
	targets:   []string{"."},
	keyInputs: []string{"coredns/go.mod", "coredns/go.sum", "coredns/main.go"},
	ldflags:   "-s -w",
	label:     "coredns",
}

// kwokGroup lives in a nested module because kwok v0.8.0 requires gRPC and
// OpenTelemetry versions newer than Kubernetes v1.36.3 pins.
var kwokGroup = group{
	name:      "kwok",
	module:    "kwok",
	targets:   []string{"sigs.k8s.io/kwok/cmd/kwok"},
	keyInputs: []string{"kwok/go.mod", "kwok/go.sum"},
	label:     "kwok",
}

// kuberouterGroup lives in a nested module: kube-router v2.1.0 (the only
// release the module proxy serves here) requires k8s.io client libraries of
// v0.29, which must not move the cluster's own. Its name has no "kube-"
// prefix, so pruning the kube group never removes its builds.
var kuberouterGroup = group{
	name:      "kuberouter",
	module:    "kuberouter",
	targets:   []string{"github.com/cloudnativelabs/kube-router/v2/cmd/kube-router"},
	keyInputs: []string{"kuberouter/go.mod", "kuberouter/go.sum"},
	ldflags:   "-s -w",
	label:     "kube-router",
}

// kwokStages are kwok's default "fast" stages, relative to the kwok module:
// nodes become Ready and keep a lease, pods become Running and Ready.
var kwokStages = []string{
	"kustomize/stage/node/fast/node-initialize.yaml",
	"kustomize/stage/node/heartbeat-with-lease/node-heartbeat-with-lease.yaml",
	"kustomize/stage/pod/fast/pod-ready.yaml",
	"kustomize/stage/pod/fast/pod-complete.yaml",
	"kustomize/stage/pod/fast/pod-delete.yaml",
}

// outputs are the files a finished build of g holds, relative to its dir.
func (g group) outputs() []string {
	var out []string
	for _, t := range g.targets {
		base := filepath.Base(t)
		if g.name == "coredns" {
			base = "coredns"
		}
		out = append(out, base)
	}
	if g.name == "kwok" {
		for _, st := range kwokStages {
			out = append(out, filepath.Join("stages", filepath.Base(st)))
		}
	}
	return out
}

// complete reports whether every output of g exists in dir together with
// the completion marker, so an interrupted build is never taken for a
// cached one.
func (g group) complete(dir string) bool {
	for _, f := range g.outputs() {
		if fi, err := os.Stat(filepath.Join(dir, f)); err != nil || fi.Size() == 0 {
			return false
		}
	}
	_, err := os.Stat(filepath.Join(dir, doneMarker))
	return err == nil
}

const doneMarker = ".complete"

// cacheKey hashes g's key inputs together with the toolchain and the build
// flags, so changing any of them selects a fresh build directory.
func (g group) cacheKey(clusterDir, goVersion string) (string, error) {
	h := sha256.New()
	fmt.Fprintf(h, "group=%s\ngo=%s\nldflags=%s\ncgo=0\ntargets=%v\n", g.name, goVersion, g.ldflags, g.targets)
	for _, rel := range slices.Sorted(slices.Values(g.keyInputs)) {
		b, err := os.ReadFile(filepath.Join(clusterDir, rel))
		if err != nil {
			return "", fmt.Errorf("read cache key input: %w", err)
		}
		fmt.Fprintf(h, "%s %d\n", rel, len(b))
		h.Write(b)
	}
	if g.name == "kwok" {
		fmt.Fprintf(h, "stages=%v\n", kwokStages)
	}
	return g.name + "-" + hex.EncodeToString(h.Sum(nil))[:16], nil
}

func (s *Set) fill(g group, dir string) {
	p := func(name string) string { return filepath.Join(dir, name) }
	switch g.name {
	case "kube":
		s.Etcd, s.KubeAPIServer = p("etcd"), p("kube-apiserver")
		s.KubeControllerManager, s.KubeScheduler = p("kube-controller-manager"), p("kube-scheduler")
		s.Kubelet, s.KubeProxy, s.Pause = p("kubelet"), p("kube-proxy"), p("pause")
	case "kubectl":
		s.Kubectl = p("kubectl")
	case "coredns":
		s.CoreDNS = p("coredns")
	case "kuberouter":
		s.KubeRouter = p("kube-router")
	case "kwok":
		s.Kwok = p("kwok")
		for _, st := range kwokStages {
			s.KwokStages = append(s.KwokStages, p(filepath.Join("stages", filepath.Base(st))))
		}
	}
}
