// Package imagetest proves the real app/Dockerfile: it builds both images in a private Docker
// engine, runs them against a real Redis and checks what a cluster would rely on (version stamp,
// non-root user, size, a job that runs end to end).
//
// The end-to-end test sits behind the imagetest build tag because it needs root, a Docker engine
// and a few minutes; run it with
//
//	go test -tags imagetest -count=1 -timeout 20m ./imagetest
package imagetest

import (
	"fmt"
	"slices"
	"strings"
)

// requiredTools maps each command the image test runs to the Debian package that provides it.
var requiredTools = []struct{ command, pkg string }{
	{"docker", "docker.io"},
	{"dockerd", "docker.io"},
	{"debootstrap", "debootstrap"},
	{"redis-server", "redis-server"},
}

// MissingTools reports every required command that lookPath cannot find, with the apt-get line
// that installs them, so a fresh machine fails with the fix instead of a bare "not found".
func MissingTools(lookPath func(string) (string, error)) error {
	var missing, pkgs []string
	for _, t := range requiredTools {
		if _, err := lookPath(t.command); err != nil {
			missing = append(missing, t.command)
			if !slices.Contains(pkgs, t.pkg) {
				pkgs = append(pkgs, t.pkg)
			}
		}
	}
	if len(missing) == 0 {
		return nil
	}
	slices.Sort(pkgs)
	return fmt.Errorf("the image test needs %s, not found on PATH: install them with 'apt-get install -y %s' (as root)",
		strings.Join(missing, ", "), strings.Join(pkgs, " "))
}
