package scripts

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// projectCopy is a throwaway project root holding the real scripts and the given stack file, so
// a test can try a stack file the checkout does not have.
func projectCopy(t *testing.T, stackFile string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "scripts"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"pulumi.sh", "pulumi-env.sh"} {
		b, err := os.ReadFile(filepath.Join(root, "scripts", s))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "scripts", s), b, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "Pulumi.test.yaml"), []byte(stackFile), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestPulumiWrapperRefusesAnEmptyPassphraseOffTheLocalCluster: with KUBECONFIG naming another
// cluster and nothing to encrypt secrets with, the wrapper stops before pulumi creates a stack,
// generates the Redis password or reads any secret, and says how to set one; each way it names
// lets it through.
func TestPulumiWrapperRefusesAnEmptyPassphraseOffTheLocalCluster(t *testing.T) {
	path := binDir(t)
	if err := os.WriteFile(filepath.Join(path, "pulumi"), []byte(fakePulumi), 0o755); err != nil {
		t.Fatal(err)
	}
	sed, err := exec.LookPath("sed")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(sed, filepath.Join(path, "sed")); err != nil {
		t.Fatal(err)
	}
	log := filepath.Join(t.TempDir(), "log")
	base := []string{"PATH=" + path, "FAKE_PULUMI_LOG=" + log, "KUBECONFIG=/some/kubeconfig", "DOCKER_HOST=unix:///some/docker.sock"}
	calls := func() string {
		b, _ := os.ReadFile(log)
		os.Remove(log)
		return strings.TrimSpace(string(b))
	}

	for _, extra := range [][]string{nil, {"PULUMI_CONFIG_PASSPHRASE="}, {"PULUMI_BACKEND_URL=s3://bucket/state"}} {
		for _, verb := range []string{"preview", "up", "destroy", "refresh", "output"} {
			code, out := run(t, append(append([]string{}, base...), extra...), "", "scripts/pulumi.sh", verb, "test")
			if code != 2 || !strings.Contains(out, "refusing to create or read the secrets of stack test (jobs:redisPassword, jobs:registryPassword,\njobs:secretEnv) with an empty passphrase") ||
				!strings.Contains(out, "--secrets-provider awskms://alias/jobs-test") || !strings.Contains(out, "PULUMI_CONFIG_PASSPHRASE") ||
				!strings.Contains(out, "PULUMI_BACKEND_URL=https://api.pulumi.com") {
				t.Errorf("%s with %v: exit %d, output:\n%s\nwant exit 2 and how to set a passphrase, a KMS or Pulumi Cloud", verb, extra, code, out)
			}
			if got := calls(); got != "" {
				t.Errorf("%s with %v: pulumi was called before the refusal:\n%s", verb, extra, got)
			}
		}
	}

	passFile := filepath.Join(t.TempDir(), "passphrase")
	if err := os.WriteFile(passFile, []byte("from a file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		what  string
		env   []string
		stack string // the stack file; "" the checkout's own
	}{
		{"a passphrase", []string{"PULUMI_CONFIG_PASSPHRASE=p"}, ""},
		{"a passphrase file", []string{"PULUMI_CONFIG_PASSPHRASE_FILE=" + passFile}, ""},
		{"Pulumi Cloud", []string{"PULUMI_BACKEND_URL=https://api.pulumi.com"}, ""},
		{"a KMS of the stack", nil, "secretsprovider: awskms://alias/jobs-test\nconfig:\n  jobs:version: 0.1.0\n"},
	} {
		dir := root
		if c.stack != "" {
			dir = projectCopy(t, c.stack)
		}
		cmd := filepath.Join(dir, "scripts", "pulumi.sh")
		rel, _ := filepath.Rel(root, cmd)
		code, out := run(t, append(append([]string{}, base...), c.env...), "", rel, "preview", "test")
		if got := calls(); code != 0 || !strings.Contains(got, "call: preview -s test") {
			t.Errorf("with %s: exit %d, output:\n%s\npulumi calls:\n%s\nwant the preview to run", c.what, code, out, got)
		}
	}
}
