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

// TestReviewDownLeavesNothingInAFileBackend: pulumi stack rm leaves, in a file backend, the
// stack's history, backups, lock folder and a .bak of its state; review-down removes exactly
// those, and no other stack's (a longer number with the same prefix included).
func TestReviewDownLeavesNothingInAFileBackend(t *testing.T) {
	const pr, stack = "99999997", "pr-99999997"
	file := filepath.Join(root, "Pulumi."+stack+".yaml")
	if _, err := os.Stat(file); err == nil {
		t.Fatalf("%s exists: a review of that number is up in this checkout", file)
	}
	t.Cleanup(func() { os.Remove(file) })
	if err := os.WriteFile(file, []byte("config:\n  jobs:version: 0.1.0-pr.99999997\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	state := t.TempDir()
	own := []string{
		".pulumi/backups/jobs/" + stack + "/" + stack + ".1.json",
		".pulumi/history/jobs/" + stack + "/" + stack + "-1.history.json",
		".pulumi/locks/organization/jobs/" + stack + "/lock.json",
		".pulumi/stacks/jobs/" + stack + ".json.bak",
		".pulumi/stacks/jobs/" + stack + ".json.bak.attrs",
	}
	others := []string{
		".pulumi/stacks/jobs/test.json",
		".pulumi/stacks/jobs/test.json.bak",
		".pulumi/history/jobs/test/test-1.history.json",
		".pulumi/stacks/jobs/" + stack + "1.json.bak",
		".pulumi/backups/jobs/" + stack + "1/" + stack + "1.1.json",
	}
	for _, f := range append(append([]string{}, own...), others...) {
		writeState(t, filepath.Join(state, f))
	}
	path, log := reviewBin(t, true)
	env := append(reviewEnv(path, log), "PULUMI_BACKEND_URL=file://"+state)
	code, out := run(t, env, "", "scripts/review.sh", "down", pr)
	if code != 0 {
		b, _ := os.ReadFile(log)
		t.Fatalf("review down: exit %d\n%s\npulumi calls:\n%s", code, out, b)
	}
	for _, f := range own {
		if _, err := os.Stat(filepath.Join(state, f)); !os.IsNotExist(err) {
			t.Errorf("review down left %s in the file backend", f)
		}
	}
	for _, dir := range []string{"backups/jobs/" + stack, "history/jobs/" + stack, "locks/organization/jobs/" + stack} {
		if _, err := os.Stat(filepath.Join(state, ".pulumi", dir)); !os.IsNotExist(err) {
			t.Errorf("review down left the folder %s", dir)
		}
	}
	for _, f := range others {
		if _, err := os.Stat(filepath.Join(state, f)); err != nil {
			t.Errorf("review down of %s removed another stack's %s: %v", stack, f, err)
		}
	}
}

func writeState(t *testing.T, path string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
}
