package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeStack(t *testing.T, content string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "Pulumi.test.yaml"), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestStackFileEditsOnlyTheValue(t *testing.T) {
	cases := []struct {
		name, in, want string
	}{
		{"plain", "config:\n  jobs:version: 0.1.0\n", "config:\n  jobs:version: 0.2.0\n"},
		{"double quoted", "config:\n  jobs:version: \"0.1.0\"\n", "config:\n  jobs:version: \"0.2.0\"\n"},
		{"single quoted", "config:\n  jobs:version: '0.1.0'\n", "config:\n  jobs:version: '0.2.0'\n"},
		{"trailing comment", "config:\n  jobs:version: 0.1.0   # pinned\n", "config:\n  jobs:version: 0.2.0   # pinned\n"},
		{"CRLF line endings", "config:\r\n  # why\r\n  jobs:version: 0.1.0\r\n  jobs:x: y\r\n", "config:\r\n  # why\r\n  jobs:version: 0.2.0\r\n  jobs:x: y\r\n"},
		{"no final newline", "config:\n  jobs:version: 0.1.0", "config:\n  jobs:version: 0.2.0"},
		{"four-space indent", "config:\n    jobs:version: 0.1.0\n", "config:\n    jobs:version: 0.2.0\n"},
		{
			"same key outside config is ignored",
			"other:\n  jobs:version: 9.9.9\nconfig:\n  jobs:version: 0.1.0\n",
			"other:\n  jobs:version: 9.9.9\nconfig:\n  jobs:version: 0.2.0\n",
		},
		{
			"longer key with the same prefix is ignored",
			"config:\n  jobs:version:x: 9.9.9\n  jobs:version: 0.1.0\n",
			"config:\n  jobs:version:x: 9.9.9\n  jobs:version: 0.2.0\n",
		},
		{
			"config key with trailing comment",
			"config: # stack settings\n  jobs:version: 0.1.0\n",
			"config: # stack settings\n  jobs:version: 0.2.0\n",
		},
		{
			"column-0 comment inside config",
			"config:\n# note\n  jobs:version: 0.1.0\n",
			"config:\n# note\n  jobs:version: 0.2.0\n",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := writeStack(t, tc.in)
			f, err := readStackFile(dir, "test")
			if err != nil {
				t.Fatal(err)
			}
			if f.version() != "0.1.0" {
				t.Errorf("version() = %q, want 0.1.0", f.version())
			}
			if got := string(f.withVersion("0.2.0")); got != tc.want {
				t.Errorf("withVersion:\n got %q\nwant %q", got, tc.want)
			}
		})
	}
}

func TestStackFileRejectsShapesItCannotEditSafely(t *testing.T) {
	cases := []struct {
		name, in, wantErr string
	}{
		{"missing key", "config:\n  jobs:other: 1\n", "has no jobs:version under config:: add a line"},
		{"missing config", "encryptionsalt: x\n", "has no jobs:version under config:"},
		{"key nested deeper", "config:\n  jobs:a: 1\n  nested:\n    jobs:version: 0.1.0\n", "has no jobs:version under config:"},
		{"duplicate", "config:\n  jobs:version: 0.1.0\n  jobs:version: 0.2.0\n", "sets jobs:version more than once"},
		{"secret", "config:\n  jobs:version:\n    secure: AAAA\n", "has no value on its line (is it a secret or a nested map?)"},
		{"flow map", "config:\n  jobs:version: {a: b}\n", "is not a plain value ({a: b})"},
		{"unterminated quote", "config:\n  jobs:version: \"0.1.0\n", "has an unterminated quoted value"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := writeStack(t, tc.in)
			_, err := readStackFile(dir, "test")
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err = %v, want it to contain %q", err, tc.wantErr)
			}
		})
	}
}

func TestStackPathRejectsNamesThatAreNotStacks(t *testing.T) {
	for _, stack := range []string{"", "../test", "Test", "te st", "-prod"} {
		if _, err := stackPath(".", stack); err == nil {
			t.Errorf("stackPath(%q) accepted a name that is not a stack", stack)
		}
	}
	if got, err := stackPath("d", "prod"); err != nil || got != filepath.Join("d", "Pulumi.prod.yaml") {
		t.Errorf("stackPath(d, prod) = %q, %v", got, err)
	}
}

func TestSetVersionKeepsFileMode(t *testing.T) {
	dir := writeStack(t, "config:\n  jobs:version: 0.1.0\n")
	path := filepath.Join(dir, "Pulumi.test.yaml")
	if err := os.Chmod(path, 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := readStackFile(dir, "test")
	if err != nil {
		t.Fatal(err)
	}
	if err := f.setVersion("0.2.0"); err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o600 {
		t.Errorf("mode = %v, want 0600", info.Mode().Perm())
	}
	assertDirHolds(t, dir, "Pulumi.test.yaml")
}
