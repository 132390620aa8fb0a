package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// copyStackFiles puts fresh copies of the testdata stack files in a temp dir, so every test
// edits its own files and the fixtures stay as committed.
func copyStackFiles(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, name := range []string{"Pulumi.test.yaml", "Pulumi.prod.yaml"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// assertOnlyVersionLineChanged compares before and after byte for byte except for the one
// jobs:version line, which must read wantLine exactly.
func assertOnlyVersionLineChanged(t *testing.T, before, after []byte, wantLine string) {
	t.Helper()
	b := strings.SplitAfter(string(before), "\n")
	a := strings.SplitAfter(string(after), "\n")
	if len(a) != len(b) {
		t.Fatalf("line count changed from %d to %d:\n%s", len(b), len(a), after)
	}
	changed := 0
	for i := range b {
		if a[i] == b[i] {
			continue
		}
		changed++
		if !strings.Contains(b[i], versionKey+":") {
			t.Errorf("line %d changed but is not the version line:\n-%s+%s", i+1, b[i], a[i])
		}
		if a[i] != wantLine {
			t.Errorf("version line is %q, want %q", a[i], wantLine)
		}
	}
	if changed != 1 {
		t.Errorf("%d lines changed, want exactly the version line:\n%s", changed, after)
	}
}

// assertDirHolds fails when a command leaves stray files (for example a temp file) behind.
func assertDirHolds(t *testing.T, dir string, want ...string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Name())
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("%s holds %v, want %v", dir, got, want)
	}
}

// runCLI runs the command the way main does and returns what it printed.
func runCLI(t *testing.T, env map[string]string, stdin string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	c := console{
		stdin:  strings.NewReader(stdin),
		stdout: &out,
		stderr: &errOut,
		getenv: func(k string) string { return env[k] },
	}
	err = run(context.Background(), args, c)
	return out.String(), errOut.String(), err
}
