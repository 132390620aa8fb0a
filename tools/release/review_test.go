package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/example/jobs/release"
)

func TestReviewWritesTheStackFileAndPrintsItsName(t *testing.T) {
	dir := copyStackFiles(t)
	tmpl, err := os.ReadFile(filepath.Join("..", "..", release.ReviewTemplate))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, release.ReviewTemplate), tmpl, 0o644); err != nil {
		t.Fatal(err)
	}
	out, errOut, err := runCLI(t, nil, "", "review", "-dir", dir, "-pr", "7", "-name-only")
	if err != nil || out != "pr-7\n" {
		t.Fatalf("review -name-only: %q, %v (%s)", out, err, errOut)
	}
	assertDirHolds(t, dir, "Pulumi.prod.yaml", "Pulumi.test.yaml", release.ReviewTemplate)

	out, errOut, err = runCLI(t, nil, "", "review", "-dir", dir, "-pr", "7")
	if err != nil || out != "pr-7\n" || !strings.Contains(errOut, "review: wrote Pulumi.pr-7.yaml: stack test's settings with review.yaml's, version") {
		t.Fatalf("review: %q, %v, stderr:\n%s", out, err, errOut)
	}
	assertDirHolds(t, dir, "Pulumi.pr-7.yaml", "Pulumi.prod.yaml", "Pulumi.test.yaml", release.ReviewTemplate)
	// The topology the other commands read still releases to test and promotes test to prod.
	out, _, err = runCLI(t, nil, "", "stacks", "-dir", dir)
	if err != nil || !strings.Contains(out, "pr-7\n") || strings.Index(out, "test\n") > strings.Index(out, "prod\n") {
		t.Errorf("stacks with a review stack: %q, %v", out, err)
	}

	for _, pr := range []string{"", "07", "x"} {
		if _, _, err := runCLI(t, nil, "", "review", "-dir", dir, "-pr", pr); err == nil || !strings.Contains(err.Error(), "is not a pull request number") {
			t.Errorf("review -pr %q: %v", pr, err)
		}
	}
}
