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

func TestStacksForCI(t *testing.T) {
	dir := copyStackFiles(t)
	if err := os.WriteFile(filepath.Join(dir, "Pulumi.pr-3.yaml"), []byte("config:\n  jobs:version: 0.1.0-pr.3\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args  []string
		stdin string
		want  string
	}{
		{[]string{"-json"}, "", `["pr-3","test","prod"]` + "\n"},
		{[]string{"-json", "-long-lived"}, "", `["test","prod"]` + "\n"},
		{[]string{"-json", "-long-lived", "-affected"}, "Pulumi.prod.yaml\nREADME.md\n", `["prod"]` + "\n"},
		{[]string{"-json", "-long-lived", "-affected"}, "docs/review.md\n", "[]\n"},
		{[]string{"-long-lived"}, "", "test\nprod\n"},
	} {
		out, errOut, err := runCLI(t, nil, c.stdin, append([]string{"stacks", "-dir", dir}, c.args...)...)
		if err != nil || out != c.want {
			t.Errorf("stacks %v: %q, %v (%s); want %q", c.args, out, err, errOut, c.want)
		}
	}
}

func TestVersionExpect(t *testing.T) {
	dir := copyStackFiles(t)
	have, _, err := runCLI(t, nil, "", "version", "-dir", dir, "-stack", "prod")
	if err != nil {
		t.Fatal(err)
	}
	have = strings.TrimSpace(have)
	if out, _, err := runCLI(t, nil, "", "version", "-dir", dir, "-stack", "prod", "-expect", have); err != nil || strings.TrimSpace(out) != have {
		t.Errorf("-expect %s: %q, %v", have, out, err)
	}
	_, _, err = runCLI(t, nil, "", "version", "-dir", dir, "-stack", "prod", "-expect", "9.9.9")
	if err == nil || !strings.Contains(err.Error(), "Pulumi.prod.yaml sets jobs:version "+have+", not 9.9.9") {
		t.Errorf("-expect 9.9.9: %v", err)
	}
}
