package main

import (
	"path/filepath"
	"testing"

	"github.com/example/jobs/release"
)

// TestProjectStackFilesAreEditable runs the tool's reader on the committed stack files, so a
// change of their shape (a quoted, secret or nested version) fails here rather than at release
// time.
func TestProjectStackFilesAreEditable(t *testing.T) {
	root := filepath.Join("..", "..")
	for _, stack := range []string{"test", "prod"} {
		f, err := readStackFile(root, stack)
		if err != nil {
			t.Errorf("stack %s: %v", stack, err)
			continue
		}
		if err := release.CheckVersion(f.version()); err != nil {
			t.Errorf("stack %s: %v", stack, err)
		}
		assertOnlyVersionLineChanged(t, f.raw, f.withVersion("99.0.0"), lineWithVersion(t, f, "99.0.0"))
	}
}

// lineWithVersion is the whole version line of f as it reads after setting v.
func lineWithVersion(t *testing.T, f *stackFile, v string) string {
	t.Helper()
	start := f.valueStart
	for start > 0 && f.raw[start-1] != '\n' {
		start--
	}
	end := f.valueEnd
	for end < len(f.raw) && f.raw[end] != '\n' {
		end++
	}
	if end < len(f.raw) {
		end++
	}
	return string(f.raw[start:f.valueStart]) + v + string(f.raw[f.valueEnd:end])
}
