package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// testedDir has test configured at 0.2.0 and prod at 0.1.0, the state before a promotion. PATH
// is emptied so no real pulumi CLI on the machine can answer; tests that want one install a fake.
func testedDir(t *testing.T) string {
	t.Helper()
	t.Setenv("PATH", t.TempDir())
	dir := copyStackFiles(t)
	if _, err := bump(dir, "test", "0.2.0", false); err != nil {
		t.Fatal(err)
	}
	return dir
}

// fakePulumi puts a pulumi script on PATH that answers only the exact stack-output call.
func fakePulumi(t *testing.T, script string) {
	t.Helper()
	bin := t.TempDir()
	body := "#!/bin/sh\n" +
		`[ "$*" = "stack output --json --stack test --non-interactive" ] || { echo "unexpected args: $*" >&2; exit 9; }` + "\n" +
		script + "\n"
	if err := os.WriteFile(filepath.Join(bin, "pulumi"), []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin)
}

func TestPromoteCopiesTestsDeployedVersion(t *testing.T) {
	cases := []struct {
		name       string
		setup      func(t *testing.T, dir string) (args []string, env map[string]string, stdin string)
		wantSource string
	}{
		{"env", func(t *testing.T, dir string) ([]string, map[string]string, string) {
			return nil, map[string]string{sourceVersionEnv: "0.2.0"}, ""
		}, "from $SOURCE_VERSION"},
		{"file", func(t *testing.T, dir string) ([]string, map[string]string, string) {
			f := filepath.Join(t.TempDir(), "out")
			if err := os.WriteFile(f, []byte("0.2.0\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			return []string{"-source-version-from", f}, nil, ""
		}, "from " + "FILE"},
		{"stdin", func(t *testing.T, dir string) ([]string, map[string]string, string) {
			return []string{"-source-version-from", "-"}, nil, "0.2.0\n"
		}, "from stdin"},
		{"pulumi", func(t *testing.T, dir string) ([]string, map[string]string, string) {
			fakePulumi(t, "echo '"+verifiedOutputs("0.2.0")+"'")
			return []string{"-require-deployed"}, nil, ""
		}, "from pulumi stack output --json -s test"},
		{"file of outputs", func(t *testing.T, dir string) ([]string, map[string]string, string) {
			f := filepath.Join(t.TempDir(), "outputs.json")
			if err := os.WriteFile(f, []byte(verifiedOutputs("0.2.0")), 0o644); err != nil {
				t.Fatal(err)
			}
			return []string{"-source-version-from", f, "-require-deployed"}, nil, ""
		}, "from FILE"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := testedDir(t)
			prodPath := filepath.Join(dir, "Pulumi.prod.yaml")
			before := readFile(t, prodPath)
			args, env, stdin := tc.setup(t, dir)
			stdout, stderr, err := runCLI(t, env, stdin, append([]string{"promote", "-dir", dir}, args...)...)
			if err != nil {
				t.Fatalf("%v\nstderr: %s", err, stderr)
			}
			source := tc.wantSource
			if source == "from FILE" {
				source = "from " + args[1]
			}
			if !strings.Contains(stdout, "test runs 0.2.0 ("+source+")") {
				t.Errorf("output does not name the source %q:\n%s", source, stdout)
			}
			// Only a version was handed over: promote cannot see test's verification, says so, and
			// leaves it to prod's preview. All the outputs: it checks it, and has nothing to say.
			note := ""
			if !slices.Contains(args, "-require-deployed") {
				note = "note: test's verification is unknown (only its version was read, " + source + "); prod's preview checks it (the promotion guard)\n"
			}
			if stderr != note {
				t.Errorf("notes on stderr:\n got %q\nwant %q", stderr, note)
			}
			assertOnlyVersionLineChanged(t, before, readFile(t, prodPath), "  jobs:version: 0.2.0 # set by make promote\n")
		})
	}
}

func TestPromoteRefusesWhatTestHasNotDeployed(t *testing.T) {
	dir := testedDir(t)
	testPath := filepath.Join(dir, "Pulumi.test.yaml")
	prodPath := filepath.Join(dir, "Pulumi.prod.yaml")
	beforeTest, beforeProd := readFile(t, testPath), readFile(t, prodPath)

	_, _, err := runCLI(t, map[string]string{sourceVersionEnv: "0.1.0"}, "", "promote", "-dir", dir)
	want := "test runs 0.1.0 (from $SOURCE_VERSION) but its config says 0.2.0: test's config is ahead of what is deployed, so 0.2.0 is untested; deploy test (pulumi up -s test), check it, then promote again"
	if err == nil || err.Error() != want {
		t.Fatalf("err = %v\nwant %s", err, want)
	}
	if !bytes.Equal(readFile(t, prodPath), beforeProd) || !bytes.Equal(readFile(t, testPath), beforeTest) {
		t.Error("a refused promote changed a stack file")
	}
}

func TestPromoteRefusesAnUnusableOutput(t *testing.T) {
	dir := testedDir(t)
	prodPath := filepath.Join(dir, "Pulumi.prod.yaml")
	before := readFile(t, prodPath)
	fakePulumi(t, `echo '{"version":"latest"}'`)
	_, err := promote(t.Context(), dir, promoteOptions{getenv: func(string) string { return "" }, notes: &bytes.Buffer{}})
	if err == nil || !strings.Contains(err.Error(), `test's deployed version (from pulumi stack output --json -s test) is unusable: "latest" is not a version`) {
		t.Fatalf("err = %v, want the unusable output named", err)
	}
	if !bytes.Equal(readFile(t, prodPath), before) {
		t.Error("a refused promote changed prod")
	}
}

func TestPromoteFallsBackToTestsConfigAndSaysSo(t *testing.T) {
	cases := []struct {
		name, script, wantWhy string
	}{
		{"no pulumi CLI", "", "the pulumi CLI is not on PATH"},
		{"no state", "echo 'error: no stack named test found' >&2; exit 255", "pulumi stack output --json -s test failed: error: no stack named test found"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := testedDir(t)
			if tc.script != "" {
				fakePulumi(t, tc.script)
			}
			prodPath := filepath.Join(dir, "Pulumi.prod.yaml")
			before := readFile(t, prodPath)

			// With -require-deployed an unknown deployed version is an error, and nothing changes.
			_, _, err := runCLI(t, nil, "", "promote", "-dir", dir, "-require-deployed")
			if err == nil || !strings.Contains(err.Error(), tc.wantWhy) || !strings.Contains(err.Error(), "pulumi login") {
				t.Fatalf("err = %v, want the reason %q and how to fix it", err, tc.wantWhy)
			}
			if !bytes.Equal(readFile(t, prodPath), before) {
				t.Fatal("a refused promote changed prod")
			}

			stdout, stderr, err := runCLI(t, nil, "", "promote", "-dir", dir)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(stderr, tc.wantWhy) || !strings.Contains(stderr, "using test's config instead") {
				t.Errorf("stderr does not explain the fallback:\n%s", stderr)
			}
			if !strings.Contains(stdout, "test runs 0.2.0 (from test's config ") {
				t.Errorf("stdout does not name the config as the source:\n%s", stdout)
			}
			assertOnlyVersionLineChanged(t, before, readFile(t, prodPath), "  jobs:version: 0.2.0 # set by make promote\n")
		})
	}
}

func TestPromoteRefusesToMoveProdBackUnlessForced(t *testing.T) {
	dir := testedDir(t)
	if _, err := bump(dir, "prod", "0.2.0", false); err != nil {
		t.Fatal(err)
	}
	if _, err := bump(dir, "test", "0.1.5", true); err != nil {
		t.Fatal(err)
	}
	prodPath := filepath.Join(dir, "Pulumi.prod.yaml")
	before := readFile(t, prodPath)
	env := map[string]string{sourceVersionEnv: "0.1.5"}
	_, _, err := runCLI(t, env, "", "promote", "-dir", dir)
	want := "refusing to move prod back from 0.2.0 to 0.1.5: if this is a rollback, run again with -force (make: FORCE=1)"
	if err == nil || err.Error() != want {
		t.Fatalf("err = %v\nwant %s", err, want)
	}
	if !bytes.Equal(readFile(t, prodPath), before) {
		t.Fatal("a refused promote changed prod")
	}
	if _, _, err := runCLI(t, env, "", "promote", "-dir", dir, "-force"); err != nil {
		t.Fatalf("forced promote refused: %v", err)
	}
	assertOnlyVersionLineChanged(t, before, readFile(t, prodPath), "  jobs:version: 0.1.5 # set by make promote\n")
}

func TestPromoteWhenProdAlreadyRunsItChangesNothing(t *testing.T) {
	dir := testedDir(t)
	env := map[string]string{sourceVersionEnv: "0.2.0"}
	if _, _, err := runCLI(t, env, "", "promote", "-dir", dir); err != nil {
		t.Fatal(err)
	}
	prodPath := filepath.Join(dir, "Pulumi.prod.yaml")
	before := readFile(t, prodPath)
	stdout, _, err := runCLI(t, env, "", "promote", "-dir", dir)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stdout, "prod is already at 0.2.0, nothing changed") {
		t.Errorf("output does not say nothing changed:\n%s", stdout)
	}
	if !bytes.Equal(readFile(t, prodPath), before) {
		t.Error("prod changed")
	}
}

// TestStagingJoinsByAddingAStackFile: with a staging stack between test and prod (staging
// promotes from test, prod from staging), releases still land on test, each promotion copies
// from the stack's own source, and the tool asks which stack to promote when two could be meant.
func TestStagingJoinsByAddingAStackFile(t *testing.T) {
	t.Setenv("PATH", t.TempDir()) // no real pulumi answers
	dir := copyStackFiles(t)
	staging := strings.Replace(string(readFile(t, filepath.Join(dir, "Pulumi.test.yaml"))),
		"config:\n", "config:\n  # Staging checks what test ran before prod gets it.\n  jobs:promoteFrom: organization/jobs/test\n", 1)
	if err := os.WriteFile(filepath.Join(dir, "Pulumi.staging.yaml"), []byte(staging), 0o644); err != nil {
		t.Fatal(err)
	}
	prodPath := filepath.Join(dir, "Pulumi.prod.yaml")
	prod := strings.Replace(string(readFile(t, prodPath)), "organization/jobs/test", "organization/jobs/staging", 1)
	if err := os.WriteFile(prodPath, []byte(prod), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := bump(dir, "test", "0.2.0", false); err != nil {
		t.Fatal(err)
	}
	// make up verifies test and staging, each before the stack that promotes from it.
	if out, _, err := runCLI(t, nil, "", "sources", "-dir", dir); err != nil || out != "test\nstaging\n" {
		t.Errorf("sources: %q, %v; want test then staging", out, err)
	}
	// prod may not pass staging, which has not run 0.2.0 yet.
	if _, err := bump(dir, "prod", "0.2.0", false); err == nil || !strings.Contains(err.Error(), "refusing to set prod to 0.2.0: staging is at 0.1.0") {
		t.Errorf("prod passed staging: %v", err)
	}
	if _, _, err := runCLI(t, map[string]string{sourceVersionEnv: "0.2.0"}, "", "promote", "-dir", dir); err == nil ||
		err.Error() != "stacks prod, staging all promote from another: pass -stack (make: STACK=...) to say which" {
		t.Errorf("promote without -stack: %v", err)
	}
	out, _, err := runCLI(t, map[string]string{sourceVersionEnv: "0.2.0"}, "", "promote", "-dir", dir, "-stack", "staging")
	if err != nil || !strings.Contains(out, "test runs 0.2.0 (from $SOURCE_VERSION)") {
		t.Fatalf("promote staging: %v\n%s", err, out)
	}
	out, _, err = runCLI(t, map[string]string{sourceVersionEnv: "0.2.0"}, "", "promote", "-dir", dir, "-stack", "prod")
	if err != nil || !strings.Contains(out, "staging runs 0.2.0 (from $SOURCE_VERSION)") {
		t.Fatalf("promote prod: %v\n%s", err, out)
	}
	for _, stack := range []string{"test", "staging", "prod"} {
		f, err := readStackFile(dir, stack)
		if err != nil || f.version() != "0.2.0" {
			t.Errorf("%s: version %v, %v; want 0.2.0", stack, f, err)
		}
	}
	if _, _, err := runCLI(t, nil, "", "promote", "-dir", dir, "-stack", "test"); err == nil || !strings.Contains(err.Error(), "stack test promotes from no stack") {
		t.Errorf("promoting the entry stack: %v", err)
	}
}

const (
	testedAPI    = "localhost:5000/jobs/jobs-api@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	testedWorker = "localhost:5000/jobs/jobs-worker@sha256:fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"
)

// verifiedOutputs is what pulumi stack output --json prints for test once make verify passed
// at version.
func verifiedOutputs(version string) string {
	return outputsJSON(version, fmt.Sprintf(`{"stack":"test","version":%q,"apiImage":%q,"workerImage":%q}`, version, testedAPI, testedWorker))
}

func outputsJSON(version, verification string) string {
	rec := ""
	if verification != "" {
		rec = `,"verification":` + verification
	}
	return fmt.Sprintf(`{"version":%q,"apiImage":%q,"workerImage":%q%s}`, version, testedAPI, testedWorker, rec)
}

// TestPromoteRefusesWhatTestHasNotVerified: promote applies the guard's verification rule to
// test's outputs, so it refuses what prod's preview would refuse, naming the command to run; the
// override in prod's stack file lets it through with a warning.
func TestPromoteRefusesWhatTestHasNotVerified(t *testing.T) {
	const how = "; run make verify STACK=test (it checks the stack and records the pass), or set jobs:allowUntestedVersion to true on stack prod to deploy it anyway"
	other := strings.Replace(testedAPI, "0123", "9999", 1)
	for _, c := range []struct {
		name, outputs, want string
	}{
		{"unverified", outputsJSON("0.2.0", ""),
			"promotion guard: version 0.2.0 of stack prod is unverified: stack organization/jobs/test runs version 0.2.0 but has not verified it (it reports no verification output)" + how},
		{"verified other digests", outputsJSON("0.2.0", fmt.Sprintf(`{"stack":"test","version":"0.2.0","apiImage":%q,"workerImage":%q}`, other, testedWorker)),
			"promotion guard: version 0.2.0 of stack prod is unverified: the verification stack organization/jobs/test reports does not cover what it runs (it verified apiImage " + other + " but the stack runs " + testedAPI + ")" + how},
		{"verified by another stack", outputsJSON("0.2.0", fmt.Sprintf(`{"stack":"staging","version":"0.2.0","apiImage":%q,"workerImage":%q}`, testedAPI, testedWorker)),
			"promotion guard: version 0.2.0 of stack prod is unverified: the verification stack organization/jobs/test reports does not cover what it runs (it was recorded by stack staging, not by stack test)" + how},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := testedDir(t)
			fakePulumi(t, "echo '"+c.outputs+"'")
			prodPath := filepath.Join(dir, "Pulumi.prod.yaml")
			before := readFile(t, prodPath)
			_, _, err := runCLI(t, nil, "", "promote", "-dir", dir)
			if err == nil || err.Error() != c.want {
				t.Fatalf("err = %v\nwant %s", err, c.want)
			}
			if !bytes.Equal(readFile(t, prodPath), before) {
				t.Fatal("a refused promote changed prod")
			}
			// The override, set on purpose in prod's stack file, lets it through and says so.
			allowed := strings.Replace(string(before), "config:\n", "config:\n  jobs:allowUntestedVersion: \"true\"\n", 1)
			if err := os.WriteFile(prodPath, []byte(allowed), 0o644); err != nil {
				t.Fatal(err)
			}
			_, stderr, err := runCLI(t, nil, "", "promote", "-dir", dir)
			if err != nil {
				t.Fatalf("the override did not let it through: %v", err)
			}
			warning := "warning: " + strings.TrimSuffix(strings.TrimPrefix(c.want, "promotion guard: "), how) + "; deploying it anyway because jobs:allowUntestedVersion is true\n"
			if stderr != warning {
				t.Errorf("stderr:\n got %q\nwant %q", stderr, warning)
			}
		})
	}
}
