package release

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// writeStacks writes one stack file per entry: stack name -> its config lines.
func writeStacks(t *testing.T, stacks map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for stack, body := range stacks {
		if err := os.WriteFile(filepath.Join(dir, "Pulumi."+stack+".yaml"), []byte("config:\n"+body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestLeavesTellEncryptedFromPlain: what pulumi config set --secret --path writes is told apart
// from a value set without --secret next to it, which the engine cannot do for one key.
func TestLeavesTellEncryptedFromPlain(t *testing.T) {
	dir := writeStacks(t, map[string]string{"test": `  jobs:version: 0.1.0
  jobs:secretEnv:
    API_KEY:
      secure: v1:abc
    worker:
      TOKEN:
        secure: v1:def
      PLAIN: oops
    N: 5
  jobs:list:
    - a
    - secure: v1:ghi
`})
	f, err := ReadStackFile(filepath.Join(dir, "Pulumi.test.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(f.Leaves("jobs:secretEnv")); got != "[{API_KEY true} {N false} {worker.PLAIN false} {worker.TOKEN true}]" {
		t.Errorf("leaves of jobs:secretEnv: %s", got)
	}
	if got := fmt.Sprint(f.Leaves("jobs:list")); got != "[{[0] false} {[1] true}]" {
		t.Errorf("leaves of jobs:list: %s", got)
	}
	if got := fmt.Sprint(f.Leaves("jobs:version")); got != "[{ false}]" {
		t.Errorf("leaves of a scalar: %s", got)
	}
	if got := f.Leaves("jobs:absent"); got != nil {
		t.Errorf("leaves of an unset key: %v", got)
	}
	if v, err := f.Setting("jobs:version"); v != "0.1.0" || err != nil {
		t.Errorf("Setting(jobs:version) = %q, %v", v, err)
	}
	if _, err := f.Setting("jobs:secretEnv"); err == nil || !strings.Contains(err.Error(), "jobs:secretEnv must be a plain value") {
		t.Errorf("a map read as a plain setting: %v", err)
	}
}

func TestCheckSourceRefusesTheStackItself(t *testing.T) {
	for _, ref := range []string{"test", "jobs/test", "organization/jobs/test"} {
		err := CheckSource("test", ref)
		if err == nil || err.Error() != "it names this stack (test) itself, and a stack gated on itself refuses every new version; "+
			"name the stack whose tested versions this one deploys, or leave it empty for the stack releases land on first" {
			t.Errorf("CheckSource(test, %s) = %v", ref, err)
		}
	}
	for _, ref := range []string{"organization/jobs/staging", "prod", "organization/test/prod"} {
		if err := CheckSource("test", ref); err != nil {
			t.Errorf("CheckSource(test, %s) = %v", ref, err)
		}
	}
}

// TestNodePortHolders: a fixed NodePort at the same node host is one cluster's one port; another
// host is another cluster, and a port the cluster assigns is nobody's.
func TestNodePortHolders(t *testing.T) {
	dir := writeStacks(t, map[string]string{
		"test":    "  jobs:nodePort: \"30042\"\n  jobs:nodeHost: localhost\n",
		"prod":    "  jobs:nodePort: \"30142\"\n  jobs:nodeHost: localhost\n",
		"copy":    "  jobs:nodePort: 30042\n  jobs:nodeHost: LOCALHOST\n",
		"remote":  "  jobs:nodePort: \"30042\"\n  jobs:nodeHost: node-1.example.com\n",
		"review":  "  jobs:nodePort: auto\n  jobs:nodeHost: localhost\n",
		"unset":   "  jobs:nodeHost: localhost\n",
		"nothost": "  jobs:nodePort: \"30042\"\n",
	})
	top, err := ReadTopology(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		stack, host string
		port        int
		want        []string
	}{
		{"test", "localhost", 30042, []string{"copy"}},
		{"copy", "localhost", 30042, []string{"test"}},
		{"remote", "node-1.example.com", 30042, nil},
		{"prod", "localhost", 30142, nil},
		{"new", "localhost", 30142, []string{"prod"}}, // a stack with no file yet
		{"review", "localhost", 30042, []string{"copy", "test"}},
	} {
		if got := top.NodePortHolders(c.stack, c.host, c.port); !slices.Equal(got, c.want) {
			t.Errorf("NodePortHolders(%s, %s, %d) = %v, want %v", c.stack, c.host, c.port, got, c.want)
		}
	}
}
