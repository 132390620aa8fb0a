package acceptance

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/yaml"
)

// project is a copy of the checkout in a temporary folder, with a git repository of its own, where
// the README's commands run: the checkout is never modified, and make release can commit and tag.
type project struct {
	dir      string   // the copy
	checkout string   // the repository the test runs from
	env      []string // what every command runs with
	logs     string   // one log file per command
	n        int      // commands run, numbering their logs
}

// copyTree copies the files git knows in src (committed or not, ignored ones left out) into dst,
// giving every file the mode git would check it out with, so a build context hashes the same in
// every copy whatever the umask was.
func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	out, err := exec.Command("git", "-C", src, "ls-files", "-z", "--cached", "--others", "--exclude-standard").Output()
	if err != nil {
		t.Fatalf("git ls-files in %s: %v", src, err)
	}
	for _, rel := range strings.Split(strings.TrimRight(string(out), "\x00"), "\x00") {
		from := filepath.Join(src, rel)
		info, err := os.Lstat(from)
		if os.IsNotExist(err) {
			continue // deleted in the work tree, not yet committed
		}
		if err != nil {
			t.Fatal(err)
		}
		if !info.Mode().IsRegular() {
			continue
		}
		b, err := os.ReadFile(from)
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(dst, rel), b, gitMode(info.Mode()))
	}
}

// gitMode is the mode git checks a file out with: executable or not.
func gitMode(m fs.FileMode) fs.FileMode {
	if m&0o100 != 0 {
		return 0o755
	}
	return 0o644
}

func writeFile(t *testing.T, path string, b []byte, mode fs.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
}

// newProject copies the checkout and makes the copy a git repository with one commit.
func newProject(t *testing.T, checkout, tmp string, env []string) *project {
	t.Helper()
	p := &project{dir: filepath.Join(tmp, "project"), checkout: checkout, env: env, logs: filepath.Join(tmp, "logs")}
	copyTree(t, checkout, p.dir)
	// A stack file of the checkout may hold the password a developer's make up generated there,
	// encrypted with that checkout's salt: the copy starts without, as a fresh clone does.
	files, err := filepath.Glob(filepath.Join(p.dir, "Pulumi.*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, f, withoutGeneratedSecrets(b), 0o644)
	}
	if err := os.MkdirAll(p.logs, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"init", "-q", "-b", "main"},
		{"add", "-A"},
		{"commit", "-q", "-m", "the tree under test"},
	} {
		p.git(t, args...)
	}
	return p
}

// withoutGeneratedSecrets drops what the first make up of a stack writes into its stack file: the
// encrypted jobs:redisPassword and the encryption salt.
func withoutGeneratedSecrets(b []byte) []byte {
	var out []string
	skipping := false
	for _, line := range strings.SplitAfter(string(b), "\n") {
		indent := len(line) - len(strings.TrimLeft(line, " "))
		switch {
		case strings.HasPrefix(line, "encryptionsalt:"):
			continue
		case strings.HasPrefix(strings.TrimSpace(line), "jobs:redisPassword:"):
			skipping = true
			continue
		case skipping && indent > 2:
			continue
		}
		skipping = false
		out = append(out, line)
	}
	return []byte(strings.Join(out, ""))
}

func (p *project) git(t *testing.T, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = p.dir
	cmd.Env = p.env
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// result is one finished command.
type result struct {
	cmd      string
	out      string // stdout
	combined string // stdout and stderr, as the log has them
	err      error
	took     time.Duration
}

// run runs a command in dir with the project's environment. Its output goes to a log file of
// its own; the test log gets one line per command, so a long step shows progress.
func (p *project) run(t *testing.T, dir string, name string, args ...string) result {
	t.Helper()
	p.n++
	line := name + " " + strings.Join(args, " ")
	logPath := filepath.Join(p.logs, fmt.Sprintf("%02d-%s.log", p.n, sanitize(line)))
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close()
	fmt.Fprintf(logFile, "$ %s\n", line)
	var stdout, combined bytes.Buffer
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = p.env
	cmd.Stdout = io.MultiWriter(&stdout, &combined, logFile)
	cmd.Stderr = io.MultiWriter(&combined, logFile)
	start := time.Now()
	err = cmd.Run()
	r := result{cmd: line, out: stdout.String(), combined: combined.String(), err: err, took: time.Since(start)}
	status := "ok"
	if err != nil {
		status = err.Error()
	}
	t.Logf("$ %s  (%s, %s; log %s)", line, r.took.Round(100*time.Millisecond), status, logPath)
	return r
}

// must runs a command that has to succeed and returns its stdout.
func (p *project) must(t *testing.T, name string, args ...string) result {
	t.Helper()
	r := p.run(t, p.dir, name, args...)
	if r.err != nil {
		t.Fatalf("%s failed: %v\n%s", r.cmd, r.err, tail(r.combined, 40))
	}
	return r
}

func sanitize(s string) string {
	s = strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '.' {
			return r
		}
		return '_'
	}, s)
	if len(s) > 60 {
		s = s[:60]
	}
	return s
}

// tail is the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// pulumi runs the pulumi CLI in the project with the no-account defaults, as make promote does.
func (p *project) pulumi(t *testing.T, args ...string) result {
	t.Helper()
	return p.must(t, "scripts/pulumi-env.sh", append([]string{"pulumi"}, args...)...)
}

// outputs are a stack's outputs.
func (p *project) outputs(t *testing.T, stack string) map[string]any {
	t.Helper()
	var out map[string]any
	r := p.must(t, "scripts/pulumi.sh", "output", stack, "--json", "--show-secrets")
	if err := json.Unmarshal([]byte(r.out), &out); err != nil {
		t.Fatalf("outputs of %s: %v\n%s", stack, err, r.out)
	}
	return out
}

func (p *project) output(t *testing.T, stack, name string) string {
	t.Helper()
	v, ok := p.outputs(t, stack)[name].(string)
	if !ok {
		t.Fatalf("stack %s has no string output %s", stack, name)
	}
	return v
}

// stateResource is one resource of a stack's state.
type stateResource struct {
	URN     string         `json:"urn"`
	Type    string         `json:"type"`
	Protect bool           `json:"protect"`
	Outputs map[string]any `json:"outputs"`
}

// state is what the stack's state holds (pulumi stack export).
func (p *project) state(t *testing.T, stack string) []stateResource {
	t.Helper()
	r := p.pulumi(t, "stack", "export", "-s", stack)
	var doc struct {
		Deployment struct {
			Resources []stateResource `json:"resources"`
		} `json:"deployment"`
	}
	if err := json.Unmarshal([]byte(r.out), &doc); err != nil {
		t.Fatalf("stack export of %s: %v", stack, err)
	}
	return doc.Deployment.Resources
}

// step is one step of a preview.
type step struct {
	Op  string `json:"op"`
	URN string `json:"urn"`
}

// name is the resource name at the end of the URN.
func (s step) name() string { return s.URN[strings.LastIndex(s.URN, "::")+2:] }

// preview runs make preview's command with --json and returns its steps; the preview must succeed.
func (p *project) preview(t *testing.T, stack string) []step {
	t.Helper()
	r := p.must(t, "scripts/pulumi.sh", "preview", stack, "--json")
	var doc struct {
		Steps []step `json:"steps"`
	}
	if err := json.Unmarshal([]byte(r.out), &doc); err != nil {
		t.Fatalf("preview --json of %s: %v\n%s", stack, err, tail(r.out, 20))
	}
	return doc.Steps
}

// changes lists a preview's steps other than same and read, as "<op> <type>::<name>", sorted.
func changes(steps []step) []string {
	var out []string
	for _, s := range steps {
		if s.Op == "same" || s.Op == "read" {
			continue
		}
		typ := s.URN[strings.LastIndex(s.URN, "$")+1 : strings.LastIndex(s.URN, "::")]
		out = append(out, s.Op+" "+typ+"::"+s.name())
	}
	slices.Sort(out)
	return out
}

// settings are a stack's config as the program sees it: Pulumi.yaml's defaults, then the stack
// file's values (the stack files spell out every key the checks read).
func (p *project) settings(t *testing.T, stack string) map[string]string {
	t.Helper()
	var project struct {
		Config map[string]any `json:"config"`
	}
	readYAML(t, filepath.Join(p.dir, "Pulumi.yaml"), &project)
	out := map[string]string{}
	for key, decl := range project.Config {
		// A declaration is a map; a plain value (kubernetes:...) is a provider's.
		if d, ok := decl.(map[string]any); ok {
			if def, ok := d["default"].(string); ok {
				out[key] = def
			}
		}
	}
	var file struct {
		Config map[string]any `json:"config"`
	}
	readYAML(t, filepath.Join(p.dir, "Pulumi."+stack+".yaml"), &file)
	for key, v := range file.Config {
		if s, ok := v.(string); ok {
			out[strings.TrimPrefix(key, "jobs:")] = s
		}
	}
	return out
}

func readYAML(t *testing.T, path string, into any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, into); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}
