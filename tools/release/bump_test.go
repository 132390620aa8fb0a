package main

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"
)

func TestBumpChangesOnlyTheVersionLine(t *testing.T) {
	dir := copyStackFiles(t)
	testPath := filepath.Join(dir, "Pulumi.test.yaml")
	prodPath := filepath.Join(dir, "Pulumi.prod.yaml")
	beforeTest, beforeProd := readFile(t, testPath), readFile(t, prodPath)

	out, _, err := runCLI(t, nil, "", "bump", "-dir", dir, "-stack", "test", "-version", "0.2.0")
	if err != nil {
		t.Fatal(err)
	}
	if want := "jobs:version 0.1.0 -> 0.2.0"; !strings.Contains(out, want) {
		t.Errorf("output %q does not say %q", out, want)
	}
	assertOnlyVersionLineChanged(t, beforeTest, readFile(t, testPath), "  jobs:version: 0.2.0\n")
	if !bytes.Equal(readFile(t, prodPath), beforeProd) {
		t.Error("bump of test changed Pulumi.prod.yaml")
	}
	assertDirHolds(t, dir, "Pulumi.prod.yaml", "Pulumi.test.yaml")
}

func TestBumpKeepsTrailingComment(t *testing.T) {
	dir := copyStackFiles(t)
	prodPath := filepath.Join(dir, "Pulumi.prod.yaml")
	before := readFile(t, prodPath)
	if _, err := bump(dir, "test", "0.3.0", false); err != nil {
		t.Fatal(err)
	}
	if _, err := bump(dir, "prod", "0.2.0", false); err != nil {
		t.Fatal(err)
	}
	assertOnlyVersionLineChanged(t, before, readFile(t, prodPath), "  jobs:version: 0.2.0 # set by make promote\n")
}

func TestBumpRejectsInvalidVersionsAndLeavesTheFile(t *testing.T) {
	cases := []struct{ version, wantErr string }{
		{"v0.2.0", `cannot bump test: "v0.2.0" is not a strict semantic version MAJOR.MINOR.PATCH[-PRERELEASE] (for example 0.1.0 or 1.2.0-rc.1)`},
		{"0.2", `cannot bump test: "0.2" is not a strict semantic version MAJOR.MINOR.PATCH[-PRERELEASE] (for example 0.1.0 or 1.2.0-rc.1)`},
		{"latest", `cannot bump test: "latest" is not a version: use a semantic version like 0.1.0, never latest`},
		{"", `no version given: pass -version X.Y.Z (make: VERSION=0.2.0)`},
	}
	for _, tc := range cases {
		t.Run(tc.version, func(t *testing.T) {
			dir := copyStackFiles(t)
			path := filepath.Join(dir, "Pulumi.test.yaml")
			before := readFile(t, path)
			_, _, err := runCLI(t, nil, "", "bump", "-dir", dir, "-stack", "test", "-version", tc.version)
			if err == nil || err.Error() != tc.wantErr {
				t.Fatalf("err = %v\nwant %s", err, tc.wantErr)
			}
			if !bytes.Equal(readFile(t, path), before) {
				t.Error("a refused bump changed the file")
			}
		})
	}
}

func TestBumpRefusesToGoBackwardsUnlessForced(t *testing.T) {
	dir := copyStackFiles(t)
	path := filepath.Join(dir, "Pulumi.test.yaml")
	if _, err := bump(dir, "test", "0.3.0", false); err != nil {
		t.Fatal(err)
	}
	before := readFile(t, path)

	_, err := bump(dir, "test", "0.2.9", false)
	want := "refusing to move test back from 0.3.0 to 0.2.9: if this is a rollback, run again with -force (make: FORCE=1)"
	if err == nil || err.Error() != want {
		t.Fatalf("err = %v\nwant %s", err, want)
	}
	if !bytes.Equal(readFile(t, path), before) {
		t.Fatal("a refused bump changed the file")
	}
	// A pre-release sorts before its release, so 0.3.0-rc.1 after 0.3.0 is backwards too.
	if _, err := bump(dir, "test", "0.3.0-rc.1", false); err == nil {
		t.Fatal("bump from 0.3.0 to 0.3.0-rc.1 was allowed without -force")
	}

	if _, _, err := runCLI(t, nil, "", "bump", "-dir", dir, "-stack", "test", "-version", "0.2.9", "-force"); err != nil {
		t.Fatalf("forced rollback refused: %v", err)
	}
	assertOnlyVersionLineChanged(t, before, readFile(t, path), "  jobs:version: 0.2.9\n")
}

func TestBumpToTheSameVersionChangesNothing(t *testing.T) {
	dir := copyStackFiles(t)
	path := filepath.Join(dir, "Pulumi.test.yaml")
	before := readFile(t, path)
	res, err := bump(dir, "test", "0.1.0", false)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(res.String(), "already 0.1.0, nothing changed") {
		t.Errorf("result %q does not say nothing changed", res)
	}
	if !bytes.Equal(readFile(t, path), before) {
		t.Error("file changed")
	}
}

func TestBumpRefusesProdPastTestUnlessForced(t *testing.T) {
	dir := copyStackFiles(t)
	path := filepath.Join(dir, "Pulumi.prod.yaml")
	before := readFile(t, path)
	_, err := bump(dir, "prod", "0.2.0", false)
	if err == nil || !strings.Contains(err.Error(), "refusing to set prod to 0.2.0: test is at 0.1.0") || !strings.Contains(err.Error(), "make promote") {
		t.Fatalf("err = %v, want a refusal that points at make promote", err)
	}
	if !bytes.Equal(readFile(t, path), before) {
		t.Fatal("a refused bump changed prod")
	}
	if _, err := bump(dir, "prod", "0.2.0", true); err != nil {
		t.Fatalf("forced bump refused: %v", err)
	}
	assertOnlyVersionLineChanged(t, before, readFile(t, path), "  jobs:version: 0.2.0 # set by make promote\n")
}

func TestBumpExplainsMissingStackAndBadArguments(t *testing.T) {
	dir := copyStackFiles(t)
	cases := []struct {
		args    []string
		wantErr string
	}{
		{[]string{"bump", "-dir", dir, "-version", "0.2.0"}, "no stack given: pass -stack NAME"},
		{[]string{"bump", "-dir", dir, "-stack", "staging", "-version", "0.2.0"}, `stack "staging" has no config file`},
		{[]string{"bump", "-dir", dir, "test", "0.2.0"}, "unexpected argument(s) test 0.2.0"},
		{[]string{"bumpp"}, `unknown command "bumpp"`},
	}
	for _, tc := range cases {
		_, _, err := runCLI(t, nil, "", tc.args...)
		if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
			t.Errorf("%v: err = %v, want it to contain %q", tc.args, err, tc.wantErr)
		}
	}
	if _, stderr, err := runCLI(t, nil, "", "bump", "-nope"); err != errUsage || !strings.Contains(stderr, "-stack") {
		t.Errorf("unknown flag: err = %v, stderr %q; want errUsage and the flag list", err, stderr)
	}
}

func TestVersionPrintsTheStackVersion(t *testing.T) {
	dir := copyStackFiles(t)
	if _, err := bump(dir, "test", "1.2.0-rc.1", false); err != nil {
		t.Fatal(err)
	}
	out, _, err := runCLI(t, nil, "", "version", "-dir", dir, "-stack", "test")
	if err != nil || out != "1.2.0-rc.1\n" {
		t.Fatalf("version printed %q, %v; want 1.2.0-rc.1", out, err)
	}
}
