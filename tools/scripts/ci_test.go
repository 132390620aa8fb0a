package scripts

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// ciBin is binDir with the tools the CI scripts use.
func ciBin(t *testing.T, tools ...string) string {
	t.Helper()
	path := binDir(t)
	for _, tool := range append([]string{"bash", "sed", "tail", "tee", "rm", "mktemp"}, tools...) {
		p, err := exec.LookPath(tool)
		if err != nil {
			t.Fatalf("%s is needed by this test: %v", tool, err)
		}
		if err := os.Symlink(p, filepath.Join(path, tool)); err != nil && !os.IsExist(err) {
			t.Fatal(err)
		}
	}
	return path
}

func TestCISetupNeedsASharedBackendAndTheKubeconfig(t *testing.T) {
	path := ciBin(t)
	for _, c := range []struct {
		name string
		env  []string
		want string // in the output when it fails; empty: it succeeds
		file []string
	}{
		{"no backend", []string{"KUBECONFIG_CONTENT=k"}, "no state backend: set the repository variable PULUMI_BACKEND_URL", nil},
		{"a runner's folder", []string{"PULUMI_BACKEND_URL=file:///tmp/state", "KUBECONFIG_CONTENT=k"}, "PULUMI_BACKEND_URL=file:///tmp/state is a folder on the runner", nil},
		{"no kubeconfig", []string{"PULUMI_BACKEND_URL=s3://bucket"}, "secret KUBECONFIG is empty", nil},
		{"Pulumi Cloud", []string{"PULUMI_ACCESS_TOKEN=t", "KUBECONFIG_CONTENT=apiVersion: v1"}, "",
			[]string{"PULUMI_BACKEND_URL=https://api.pulumi.com"}},
		{"a backend of the team's", []string{"PULUMI_BACKEND_URL=s3://bucket", "KUBECONFIG_CONTENT=apiVersion: v1"}, "",
			[]string{"PULUMI_BACKEND_URL=s3://bucket"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			tmp := t.TempDir()
			envFile := filepath.Join(tmp, "env")
			env := append([]string{"PATH=" + path, "GITHUB_ENV=" + envFile, "RUNNER_TEMP=" + tmp, "JOBS_RUNNER_DOCKER_SOCK=" + filepath.Join(tmp, "none.sock")}, c.env...)
			code, out := run(t, env, "", "scripts/ci-setup.sh")
			b, _ := os.ReadFile(envFile)
			if c.want != "" {
				if code == 0 || !strings.Contains(out, "::error::ci-setup.sh: "+c.want) {
					t.Errorf("exit %d\n%s\nwant a failure saying %q", code, out, c.want)
				}
				return
			}
			if code != 0 {
				t.Fatalf("exit %d\n%s", code, out)
			}
			want := append(c.file, "KUBECONFIG="+filepath.Join(tmp, "kubeconfig"))
			if got := strings.Split(strings.TrimSpace(string(b)), "\n"); strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("GITHUB_ENV:\n%s\nwant:\n%s", b, strings.Join(want, "\n"))
			}
			info, err := os.Stat(filepath.Join(tmp, "kubeconfig"))
			if err != nil || info.Mode().Perm() != 0o600 {
				t.Errorf("kubeconfig: %v, mode %v; want it written, mode 600", err, info)
			}
		})
	}
}

func TestCISetupLogin(t *testing.T) {
	path := ciBin(t)
	log := filepath.Join(t.TempDir(), "log")
	fake := "#!/bin/bash\necho \"pulumi $*\" >>" + log + "\ncase \"$*\" in *--secret*) echo \"stdin: $(cat)\" >>" + log + ";; esac\nexit 0\n"
	if err := os.WriteFile(filepath.Join(path, "pulumi"), []byte(fake), 0o755); err != nil {
		t.Fatal(err)
	}
	base := []string{"PATH=" + path, "GITHUB_ENV=" + filepath.Join(t.TempDir(), "env"), "PULUMI_BACKEND_URL=s3://b", "PULUMI_CONFIG_PASSPHRASE=p"}
	if code, out := run(t, base, "", "scripts/ci-setup.sh", "login", "test"); code != 0 || !strings.Contains(out, "no REGISTRY_USERNAME secret") {
		t.Errorf("no login: exit %d\n%s", code, out)
	}
	if code, out := run(t, append(base, "REGISTRY_USERNAME=ci"), "", "scripts/ci-setup.sh", "login", "test"); code == 0 || !strings.Contains(out, "REGISTRY_PASSWORD is empty") {
		t.Errorf("a user without a password: exit %d\n%s", code, out)
	}
	code, out := run(t, append(base, "REGISTRY_USERNAME=ci", "REGISTRY_PASSWORD=s3cret"), "", "scripts/ci-setup.sh", "login", "test")
	b, _ := os.ReadFile(log)
	want := "pulumi stack select --create test --non-interactive\npulumi config set registryUsername ci -s test\npulumi config set --secret registryPassword -s test\nstdin: s3cret\n"
	if code != 0 || string(b) != want || strings.Contains(out, "s3cret") {
		t.Errorf("login: exit %d\n%s\ncalls:\n%s\nwant:\n%s(and the password on stdin only)", code, out, b, want)
	}
}

// TestPRCommentEditsItsOwnCommentInPlace: a pull request has one comment per stack; a later
// run edits it, found by its marker, instead of adding another.
func TestPRCommentEditsItsOwnCommentInPlace(t *testing.T) {
	path := ciBin(t)
	tmp := t.TempDir()
	log := filepath.Join(tmp, "gh.log")
	comments := filepath.Join(tmp, "ids")
	// The stand-in answers the --jq listing with the ids in $comments, as gh would print them.
	fake := "#!/bin/bash\necho \"gh $*\" >>" + log + "\ncase \"$*\" in *--paginate*) cat " + comments + ";; esac\nexit 0\n"
	if err := os.WriteFile(filepath.Join(path, "gh"), []byte(fake), 0o755); err != nil {
		t.Fatal(err)
	}
	body := filepath.Join(tmp, "body")
	if err := os.WriteFile(body, []byte("preview of test\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	env := []string{"PATH=" + path, "GITHUB_REPOSITORY=team/jobs"}
	for _, c := range []struct {
		ids, want string
	}{
		{"", "gh api -X POST repos/team/jobs/issues/7/comments -f body=<!-- jobs:preview:test -->\npreview of test"},
		{"4242\n", "gh api -X PATCH repos/team/jobs/issues/comments/4242 -f body=<!-- jobs:preview:test -->\npreview of test"},
	} {
		os.Remove(log)
		if err := os.WriteFile(comments, []byte(c.ids), 0o644); err != nil {
			t.Fatal(err)
		}
		if code, out := run(t, env, "", "scripts/pr-comment.sh", "preview:test", "7", body); code != 0 {
			t.Fatalf("exit %d\n%s", code, out)
		}
		b, _ := os.ReadFile(log)
		calls := strings.SplitN(string(b), "\ngh ", 2)
		if !strings.Contains(calls[0], `select(.body | startswith("<!-- jobs:preview:test -->"))`) || len(calls) != 2 || "gh "+strings.TrimSpace(calls[1]) != c.want {
			t.Errorf("with comments %q, gh calls:\n%s\nwant the listing, then:\n%s", c.ids, b, c.want)
		}
	}
	if code, out := run(t, env, "", "scripts/pr-comment.sh", "preview:test", "7x", body); code != 2 || !strings.Contains(out, "usage:") {
		t.Errorf("a bad pull request number: exit %d\n%s", code, out)
	}
}

func TestCIStacksAreTheStackFiles(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out")
	env := append(os.Environ(), "GITHUB_OUTPUT="+out)
	if code, o := run(t, env, "", "scripts/ci-stacks.sh"); code != 0 {
		t.Fatalf("exit %d\n%s", code, o)
	}
	b, _ := os.ReadFile(out)
	if got := strings.TrimSpace(string(b)); got != `stacks=["test","prod"]` {
		t.Errorf("GITHUB_OUTPUT: %s, want the long-lived stacks of the stack files in deploy order", got)
	}
}
