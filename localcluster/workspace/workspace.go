// Package workspace finds the directories the control plane and the e2e test
// work in, so commands and tests behave the same from any working directory
// inside the repository.
package workspace

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// ModulePath is the module this package belongs to; its go.mod marks the
// cluster directory.
const ModulePath = "github.com/example/jobs/localcluster"

// ClusterDir returns the directory holding localcluster's go.mod, found by
// walking up from the working directory.
func ClusterDir() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for start := dir; ; {
		if modulePathOf(filepath.Join(dir, "go.mod")) == ModulePath {
			return dir, nil
		}
		// A checkout root also works as a starting point.
		if modulePathOf(filepath.Join(dir, "localcluster", "go.mod")) == ModulePath {
			return filepath.Join(dir, "localcluster"), nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod for %s above %s: run from inside the repository", ModulePath, start)
		}
		dir = parent
	}
}

// RepoRoot returns the repository root (the root module), the parent of the
// cluster directory.
func RepoRoot() (string, error) {
	dir, err := ClusterDir()
	if err != nil {
		return "", err
	}
	root := filepath.Dir(dir)
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		return "", fmt.Errorf("repository root %s has no go.mod: %w", root, err)
	}
	return root, nil
}

// RunDir is where a running cluster keeps its pids, certificates, data and
// kubeconfig (git-ignored).
func RunDir() (string, error) {
	dir, err := ClusterDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, ".run"), nil
}

func modulePathOf(goMod string) string {
	f, err := os.Open(goMod)
	if err != nil {
		return ""
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(s.Text()), "module "); ok {
			return strings.Trim(strings.TrimSpace(rest), `"`)
		}
	}
	return ""
}
