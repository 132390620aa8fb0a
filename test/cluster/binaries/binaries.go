// Package binaries builds the control-plane programs (etcd, kube-apiserver,
// kube-controller-manager, kube-scheduler, kwok) from the Go modules pinned in
// test/cluster and caches them under .bin/<key>, where key hashes everything
// that decides their bytes. A cold build takes minutes; a warm one is a stat.
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

// Set holds the paths of one complete build.
type Set struct {
	Dir                   string
	Etcd                  string
	KubeAPIServer         string
	KubeControllerManager string
	KubeScheduler         string
	Kwok                  string
	// KwokStages are kwok's own node and pod stage files, copied from the
	// kwok module so the simulated lifecycle is the one kwok ships.
	KwokStages []string
}

func setIn(dir string) Set {
	s := Set{
		Dir:                   dir,
		Etcd:                  filepath.Join(dir, "etcd"),
		KubeAPIServer:         filepath.Join(dir, "kube-apiserver"),
		KubeControllerManager: filepath.Join(dir, "kube-controller-manager"),
		KubeScheduler:         filepath.Join(dir, "kube-scheduler"),
		Kwok:                  filepath.Join(dir, "kwok"),
	}
	for _, st := range kwokStages {
		s.KwokStages = append(s.KwokStages, filepath.Join(dir, "stages", filepath.Base(st)))
	}
	return s
}

// complete reports whether every file of the set exists, so a build that was
// interrupted half way is never taken for a cached one.
func (s Set) complete() bool {
	files := append([]string{s.Etcd, s.KubeAPIServer, s.KubeControllerManager, s.KubeScheduler, s.Kwok}, s.KwokStages...)
	for _, f := range files {
		if fi, err := os.Stat(f); err != nil || fi.Size() == 0 {
			return false
		}
	}
	_, err := os.Stat(filepath.Join(s.Dir, doneMarker))
	return err == nil
}

const doneMarker = ".complete"

// keyInputs are the files, relative to test/cluster, whose content decides
// the binaries: module requirements and the main sources.
var keyInputs = []string{
	"go.mod",
	"go.sum",
	"servers/etcd/main.go",
	"kwok/go.mod",
	"kwok/go.sum",
}

// cacheKey hashes the key inputs together with the toolchain and the build
// flags, so changing any of them selects a fresh build directory.
func cacheKey(clusterDir, goVersion string) (string, error) {
	h := sha256.New()
	fmt.Fprintf(h, "go=%s\nldflags=%s\ncgo=0\n", goVersion, ldflags())
	for _, rel := range slices.Sorted(slices.Values(keyInputs)) {
		b, err := os.ReadFile(filepath.Join(clusterDir, rel))
		if err != nil {
			return "", fmt.Errorf("read cache key input: %w", err)
		}
		fmt.Fprintf(h, "%s %d\n", rel, len(b))
		h.Write(b)
	}
	fmt.Fprintf(h, "stages=%v\n", kwokStages)
	return hex.EncodeToString(h.Sum(nil))[:16], nil
}
