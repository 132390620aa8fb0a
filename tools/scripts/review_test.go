package scripts

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// reviewBin is binDir with go (the real release tool decides the stack name and writes the
// file) and a stand-in pulumi that logs its calls; stackExists says whether the backend holds
// the review stack.
func reviewBin(t *testing.T, stackExists bool) (path, log string) {
	t.Helper()
	path = binDir(t)
	for _, tool := range []string{"bash", "go", "rm", "sed"} {
		p, err := exec.LookPath(tool)
		if err != nil {
			t.Fatalf("%s is needed by this test: %v", tool, err)
		}
		if err := os.Symlink(p, filepath.Join(path, tool)); err != nil {
			t.Fatal(err)
		}
	}
	exists := "exit 1"
	if stackExists {
		exists = "exit 0"
	}
	fake := `#!/bin/bash
echo "pulumi $*" >>"$FAKE_PULUMI_LOG"
case "$*" in
"stack select --create"*) exit 0 ;;
"stack select"*) ` + exists + ` ;;
"stack rm"*) rm -f "Pulumi.$3.yaml" ;;
"config get"*) exit 1 ;;
esac
exit 0
`
	if err := os.WriteFile(filepath.Join(path, "pulumi"), []byte(fake), 0o755); err != nil {
		t.Fatal(err)
	}
	return path, filepath.Join(t.TempDir(), "log")
}

// reviewEnv is a caller with a cluster and engine of its own, so nothing local is started.
func reviewEnv(path, log string) []string {
	env := []string{"PATH=" + path, "FAKE_PULUMI_LOG=" + log, "KUBECONFIG=/some/kubeconfig",
		"DOCKER_HOST=unix:///some/docker.sock", "PULUMI_CONFIG_PASSPHRASE=team", "HOME=" + os.Getenv("HOME")}
	for _, k := range []string{"GOCACHE", "GOMODCACHE", "GOPATH", "GOFLAGS", "GOPROXY", "GONOSUMDB", "GOTOOLCHAIN"} {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	return env
}

// TestReviewDownRemovesStackStateAndFile: review-down destroys the stack through the wrapper,
// removes it from the backend and leaves no stack file.
func TestReviewDownRemovesStackStateAndFile(t *testing.T) {
	const pr, stack = "99999998", "pr-99999998"
	file := filepath.Join(root, "Pulumi."+stack+".yaml")
	if _, err := os.Stat(file); err == nil {
		t.Fatalf("%s exists: a review of that number is up in this checkout", file)
	}
	t.Cleanup(func() { os.Remove(file) })
	if err := os.WriteFile(file, []byte("config:\n  jobs:version: 0.1.0-pr.99999998\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	path, log := reviewBin(t, true)
	code, out := run(t, reviewEnv(path, log), "", "scripts/review.sh", "down", pr)
	b, _ := os.ReadFile(log)
	if code != 0 {
		t.Fatalf("review down: exit %d\n%s\npulumi calls:\n%s", code, out, b)
	}
	calls := string(b)
	destroy := strings.Index(calls, "pulumi destroy -s "+stack+" --yes")
	rm := strings.Index(calls, "pulumi stack rm "+stack+" --yes")
	if destroy < 0 || rm < destroy {
		t.Errorf("pulumi calls:\n%s\nwant a destroy of %s, then stack rm", calls, stack)
	}
	if _, err := os.Stat(file); !os.IsNotExist(err) {
		t.Errorf("review down left %s", file)
	}

	// A stack the backend does not hold: nothing to destroy, and the file still goes.
	if err := os.WriteFile(file, []byte("config: {}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	path, log = reviewBin(t, false)
	code, out = run(t, reviewEnv(path, log), "", "scripts/review.sh", "down", pr)
	b, _ = os.ReadFile(log)
	if code != 0 || !strings.Contains(out, "the state backend has no stack "+stack) || strings.Contains(string(b), "destroy") {
		t.Errorf("review down of a stack never deployed: exit %d\n%s\npulumi calls:\n%s", code, out, b)
	}
	if _, err := os.Stat(file); !os.IsNotExist(err) {
		t.Errorf("review down left %s", file)
	}
}

// TestReviewRefusesABadNumberBeforeAnything: the number is checked before any pulumi call.
func TestReviewRefusesABadNumberBeforeAnything(t *testing.T) {
	path, log := reviewBin(t, true)
	for _, verb := range []string{"up", "down"} {
		code, out := run(t, reviewEnv(path, log), "", "scripts/review.sh", verb, "7; rm -rf /")
		if code == 0 || !strings.Contains(out, `PR="7; rm -rf /" is not a pull request number`) {
			t.Errorf("review %s with a bad number: exit %d\n%s", verb, code, out)
		}
	}
	if b, _ := os.ReadFile(log); len(b) > 0 {
		t.Errorf("pulumi ran for a bad number:\n%s", b)
	}
}
