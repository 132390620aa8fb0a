// Package readme checks that the README's promises to a newcomer are the ones CI keeps: the two
// commands at its top are exactly the commands .ci/run runs.
package readme

import (
	"bufio"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// newcomerCommands returns the commands of the README's first fenced code block, comments and
// blank lines dropped.
func newcomerCommands(t *testing.T, readme string) []string {
	t.Helper()
	var cmds []string
	inBlock := false
	sc := bufio.NewScanner(strings.NewReader(readme))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "```") {
			if inBlock {
				return cmds
			}
			inBlock = true
			continue
		}
		if !inBlock || line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if i := strings.Index(line, " #"); i >= 0 {
			line = strings.TrimSpace(line[:i])
		}
		cmds = append(cmds, line)
	}
	t.Fatal("README.md has no fenced code block with the newcomer commands")
	return nil
}

// runsCommand reports whether a non-comment line of script runs cmd as a whole command.
func runsCommand(script, cmd string) bool {
	re := regexp.MustCompile(`(^|[\s;&|(])` + regexp.QuoteMeta(cmd) + `($|[\s;&|)>])`)
	for _, line := range strings.Split(script, "\n") {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "#") {
			continue
		}
		if re.MatchString(line) {
			return true
		}
	}
	return false
}

func read(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", path))
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	return string(b)
}

func TestNewcomerCommandsAreWhatCIRuns(t *testing.T) {
	readme := read(t, "README.md")
	ci := read(t, ".ci/run")
	cmds := newcomerCommands(t, readme)
	if len(cmds) != 2 {
		t.Fatalf("README's first code block must hold exactly two commands (local run, all tests), found %d: %q", len(cmds), cmds)
	}
	for _, c := range cmds {
		if !runsCommand(ci, c) {
			t.Errorf("README tells newcomers to run %q, but .ci/run never runs it: keep the two in step", c)
		}
	}
}

func TestRunsCommandNeedsTheWholeCommand(t *testing.T) {
	script := "# make test in a comment does not count\nmake test-app\nsetsid make run >log 2>&1 &\n"
	cases := map[string]bool{"make test": false, "make test-app": true, "make run": true, "make ru": false}
	for cmd, want := range cases {
		if got := runsCommand(script, cmd); got != want {
			t.Errorf("runsCommand(%q) = %v, want %v", cmd, got, want)
		}
	}
}
