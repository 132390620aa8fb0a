package program

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/example/jobs/release"
)

// copyStacks copies the project's stack files into a fresh directory.
func copyStacks(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, stack := range stacks(t, root) {
		name := "Pulumi." + stack + ".yaml"
		b, err := os.ReadFile(filepath.Join(root, name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// releaseTool runs the project's release command (tools/release) on the stack files in dir.
func releaseTool(t *testing.T, env []string, args ...string) string {
	t.Helper()
	cmd := exec.Command("go", append([]string{"run", "./tools/release"}, args...)...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go run ./tools/release %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// TestTestsFollowAReleasedVersion releases the next version into copies of the stack files with
// the release tool, as make release and make promote would, and runs the checks that read the
// version on them: a release must never break the tests that guard the deploy.
func TestTestsFollowAReleasedVersion(t *testing.T) {
	dir := copyStacks(t)
	top, err := release.ReadTopology(dir)
	if err != nil {
		t.Fatal(err)
	}
	entry, err := top.Entry()
	if err != nil {
		t.Fatal(err)
	}
	next := nextPatch(t, stackFileConfig(t, dir, entry)["jobs:version"])
	releaseTool(t, nil, "bump", "-dir", dir, "-stack", entry, "-version", next)
	for _, stack := range top.Promoted() {
		releaseTool(t, []string{"SOURCE_VERSION=" + next}, "promote", "-dir", dir, "-stack", stack)
	}
	for _, stack := range top.Stacks {
		if v := stackFileConfig(t, dir, stack)["jobs:version"]; v != next {
			t.Fatalf("the release tool left %s at %s, not %s", stack, v, next)
		}
		t.Run(stack, func(t *testing.T) { checkEnvironment(t, dir, stack) })
	}
	checkStackFiles(t, dir)
}

// TestStagingStackJoinsByAddingAStackFile adds a staging stack between test and prod: a stack
// file of its own and prod promoting from it. Nothing else changes, and the program deploys it
// as its own environment, gated on test, while prod is now gated on staging.
func TestStagingStackJoinsByAddingAStackFile(t *testing.T) {
	dir := copyStacks(t)
	staging := strings.NewReplacer(
		"config:\n", "config:\n  # Staging runs what test ran before prod gets it.\n  jobs:promoteFrom: organization/jobs/test\n",
		`jobs:nodePort: "30042"`, `jobs:nodePort: "30242"`,
	).Replace(string(readFile(t, filepath.Join(dir, "Pulumi.test.yaml"))))
	writeFile(t, filepath.Join(dir, "Pulumi.staging.yaml"), staging)
	prodPath := filepath.Join(dir, "Pulumi.prod.yaml")
	writeFile(t, prodPath, strings.Replace(string(readFile(t, prodPath)), "organization/jobs/test", "organization/jobs/staging", 1))

	if got := stacks(t, dir); !slices.Contains(got, "staging") {
		t.Fatalf("stacks %v: the new stack file was not picked up", got)
	}
	checkStackFiles(t, dir)
	checkEnvironment(t, dir, "staging")

	r := mustRun(t, "staging", runOptions{dir: dir})
	if reads := r.eng.Reads(); !slices.Equal(reads, []string{"organization/jobs/test"}) {
		t.Errorf("staging read %v, want its source organization/jobs/test", reads)
	}
	r = mustRun(t, "prod", runOptions{dir: dir})
	if reads := r.eng.Reads(); !slices.Equal(reads, []string{"organization/jobs/staging"}) {
		t.Errorf("prod read %v, want its new source organization/jobs/staging", reads)
	}
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
