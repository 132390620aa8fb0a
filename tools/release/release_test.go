package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// newRepo makes a scratch git repository holding the testdata stack files in one commit. The
// machine's own git config is hidden so a developer's hooks or signing settings cannot change
// the outcome.
func newRepo(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Fatal("git is required for the release tests: apt-get install git")
	}
	t.Setenv("GIT_CONFIG_GLOBAL", os.DevNull)
	t.Setenv("GIT_CONFIG_NOSYSTEM", "1")
	dir := copyStackFiles(t)
	gitT(t, dir, "init", "--quiet", "--initial-branch=main")
	gitT(t, dir, "config", "user.name", "Release Test")
	gitT(t, dir, "config", "user.email", "release-test@example.com")
	gitT(t, dir, "config", "tag.gpgSign", "false")
	gitT(t, dir, "config", "commit.gpgSign", "false")
	gitT(t, dir, "add", "Pulumi.test.yaml", "Pulumi.prod.yaml")
	gitT(t, dir, "commit", "--quiet", "-m", "initial")
	return dir
}

func gitT(t *testing.T, dir string, args ...string) string {
	t.Helper()
	out, err := git{dir: dir}.run(context.Background(), args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestReleaseCommitsTheBumpAndTagsThatCommit(t *testing.T) {
	dir := newRepo(t)
	beforeTest := readFile(t, filepath.Join(dir, "Pulumi.test.yaml"))
	beforeProd := readFile(t, filepath.Join(dir, "Pulumi.prod.yaml"))
	parent := gitT(t, dir, "rev-parse", "HEAD")

	out, _, err := runCLI(t, nil, "", "release", "-dir", dir, "-version", "0.2.0")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "released 0.2.0") || !strings.Contains(out, "refs/tags/0.2.0") {
		t.Errorf("output does not report the release and the push command:\n%s", out)
	}

	if got := gitT(t, dir, "cat-file", "-t", "0.2.0"); got != "tag" {
		t.Errorf("0.2.0 is a %q object, want an annotated tag", got)
	}
	if got := gitT(t, dir, "tag", "--list", "--format=%(contents:subject)", "0.2.0"); got != "release 0.2.0" {
		t.Errorf("tag message = %q, want %q", got, "release 0.2.0")
	}
	head := gitT(t, dir, "rev-parse", "HEAD")
	if got := gitT(t, dir, "rev-parse", "0.2.0^{commit}"); got != head {
		t.Errorf("tag points at %s, want the release commit HEAD %s", got, head)
	}
	if got := gitT(t, dir, "rev-parse", "HEAD^"); got != parent {
		t.Errorf("release commit's parent is %s, want %s (exactly one new commit)", got, parent)
	}
	if got := gitT(t, dir, "log", "-1", "--format=%s", "HEAD"); got != "release 0.2.0: deploy to test" {
		t.Errorf("commit message = %q", got)
	}
	if got := gitT(t, dir, "diff-tree", "--no-commit-id", "--name-only", "-r", "HEAD"); got != "Pulumi.test.yaml" {
		t.Errorf("release commit changes %q, want only Pulumi.test.yaml", got)
	}
	tagged := gitT(t, dir, "show", "0.2.0:Pulumi.test.yaml") + "\n"
	assertOnlyVersionLineChanged(t, beforeTest, []byte(tagged), "  jobs:version: 0.2.0\n")
	assertOnlyVersionLineChanged(t, beforeTest, readFile(t, filepath.Join(dir, "Pulumi.test.yaml")), "  jobs:version: 0.2.0\n")
	if !bytes.Equal(readFile(t, filepath.Join(dir, "Pulumi.prod.yaml")), beforeProd) {
		t.Error("release changed Pulumi.prod.yaml")
	}
	if status := gitT(t, dir, "status", "--porcelain"); status != "" {
		t.Errorf("working tree not clean after release:\n%s", status)
	}
}

// repoState is what a refused release must leave exactly as it was.
type repoState struct {
	head, tags string
	test       []byte
}

func snapshot(t *testing.T, dir string) repoState {
	t.Helper()
	return repoState{
		head: gitT(t, dir, "rev-parse", "HEAD"),
		tags: gitT(t, dir, "for-each-ref", "refs/tags"),
		test: readFile(t, filepath.Join(dir, "Pulumi.test.yaml")),
	}
}

func assertNothingReleased(t *testing.T, dir string, before repoState) {
	t.Helper()
	after := snapshot(t, dir)
	if after.head != before.head {
		t.Errorf("HEAD moved from %s to %s", before.head, after.head)
	}
	if after.tags != before.tags {
		t.Errorf("tags changed from %q to %q", before.tags, after.tags)
	}
	if !bytes.Equal(after.test, before.test) {
		t.Error("a refused release changed Pulumi.test.yaml")
	}
}

func TestReleaseRefusesADirtyTree(t *testing.T) {
	dir := newRepo(t)
	before := snapshot(t, dir)
	if err := os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("wip\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	prod := filepath.Join(dir, "Pulumi.prod.yaml")
	if err := os.WriteFile(prod, append(readFile(t, prod), "# wip\n"...), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := cutRelease(context.Background(), dir, "", "0.2.0")
	want := "the working tree is not clean, so the release commit would not match what you tested:\n   M Pulumi.prod.yaml\n  ?? notes.txt\ncommit or remove these changes, then release again"
	if err == nil || err.Error() != want {
		t.Fatalf("err = %v\nwant %s", err, want)
	}
	assertNothingReleased(t, dir, before)
}

func TestReleaseRefusesAnExistingTag(t *testing.T) {
	dir := newRepo(t)
	gitT(t, dir, "tag", "0.2.0")
	before := snapshot(t, dir)
	_, err := cutRelease(context.Background(), dir, "", "0.2.0")
	want := "tag 0.2.0 already exists, so 0.2.0 was already released: pick a new version (see git tag --list)"
	if err == nil || err.Error() != want {
		t.Fatalf("err = %v\nwant %s", err, want)
	}
	assertNothingReleased(t, dir, before)
}

func TestReleaseRefusesAVersionNotNewerThanTest(t *testing.T) {
	dir := newRepo(t)
	before := snapshot(t, dir)
	for _, v := range []string{"0.1.0", "0.0.9", "0.1.0-rc.1"} {
		_, err := cutRelease(context.Background(), dir, "", v)
		want := "cannot release " + v + ": test is already at 0.1.0 and a release must be newer; use a greater version, for example 0.1.1"
		if err == nil || err.Error() != want {
			t.Errorf("err = %v\nwant %s", err, want)
		}
	}
	if _, err := cutRelease(context.Background(), dir, "", "v0.2.0"); err == nil || !strings.Contains(err.Error(), "is not a strict semantic version") {
		t.Errorf("err = %v, want the version rule", err)
	}
	assertNothingReleased(t, dir, before)
}

func TestReleaseRefusesADetachedHead(t *testing.T) {
	dir := newRepo(t)
	gitT(t, dir, "switch", "--quiet", "--detach", "HEAD")
	before := snapshot(t, dir)
	_, err := cutRelease(context.Background(), dir, "", "0.2.0")
	if err == nil || !strings.Contains(err.Error(), "HEAD is detached") {
		t.Fatalf("err = %v, want a detached-HEAD refusal", err)
	}
	assertNothingReleased(t, dir, before)
}

func TestReleaseRestoresTheFileWhenTheCommitFails(t *testing.T) {
	dir := newRepo(t)
	hook := filepath.Join(dir, ".git", "hooks", "pre-commit")
	if err := os.WriteFile(hook, []byte("#!/bin/sh\necho 'hook says no' >&2\nexit 1\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	before := snapshot(t, dir)
	_, err := cutRelease(context.Background(), dir, "", "0.2.0")
	if err == nil || !strings.Contains(err.Error(), "hook says no") || !strings.Contains(err.Error(), "is restored, nothing changed") {
		t.Fatalf("err = %v, want git's reason and a note that the file is restored", err)
	}
	assertNothingReleased(t, dir, before)
	if status := gitT(t, dir, "status", "--porcelain"); status != "" {
		t.Errorf("working tree not clean after a failed release:\n%s", status)
	}
}

func TestReleaseRefusesOutsideGit(t *testing.T) {
	t.Setenv("GIT_CEILING_DIRECTORIES", os.TempDir())
	dir := copyStackFiles(t)
	_, err := cutRelease(context.Background(), dir, "", "0.2.0")
	if err == nil || !strings.Contains(err.Error(), "outside a git work tree") {
		t.Fatalf("err = %v, want an outside-git refusal", err)
	}
}
