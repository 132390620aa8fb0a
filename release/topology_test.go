package release

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// stackDir writes one stack file per entry: stack name -> promoteFrom ("" for none).
func stackDir(t *testing.T, stacks map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for stack, from := range stacks {
		body := "config:\n  jobs:version: 0.1.0\n"
		if from != "" {
			body += "  jobs:promoteFrom: " + from + "\n"
		}
		if err := os.WriteFile(filepath.Join(dir, "Pulumi."+stack+".yaml"), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestProjectTopology reads the committed stack files: releases land on test, prod promotes
// from it. The names come from the files, so this fails only if their wiring breaks.
func TestProjectTopology(t *testing.T) {
	top, err := ReadTopology("..")
	if err != nil {
		t.Fatal(err)
	}
	entry, err := top.Entry()
	if err != nil {
		t.Fatal(err)
	}
	promoted := top.Promoted()
	if len(promoted) == 0 {
		t.Fatalf("no stack of %v promotes from another", top.Stacks)
	}
	for _, s := range promoted {
		// Following the sources from any promoted stack ends at the entry.
		for top.Source(s) != "" {
			s = top.Source(s)
		}
		if s != entry {
			t.Errorf("a promotion chain starts at %s, not at the entry %s", s, entry)
		}
	}
}

func TestTopologyWithStagingAndReviewStacks(t *testing.T) {
	dir := stackDir(t, map[string]string{
		"test": "", "staging": "organization/jobs/test", "prod": "staging", "pr-42": "",
	})
	top, err := ReadTopology(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(top.Stacks, ","); got != "pr-42,prod,staging,test" {
		t.Errorf("stacks %s", got)
	}
	if entry, err := top.Entry(); err != nil || entry != "test" {
		t.Errorf("entry %q, %v; want test (pr-42 starts no chain)", entry, err)
	}
	if top.Source("prod") != "staging" || top.Source("staging") != "test" || top.Source("test") != "" {
		t.Errorf("sources: prod <- %q, staging <- %q, test <- %q", top.Source("prod"), top.Source("staging"), top.Source("test"))
	}
	if got := strings.Join(top.Promoted(), ","); got != "prod,staging" {
		t.Errorf("promoted %s", got)
	}
	if got := strings.Join(top.Order(), ","); got != "pr-42,test,staging,prod" {
		t.Errorf("deploy order %s, want every stack after its source", got)
	}
}

func TestTopologyRejectsBrokenChains(t *testing.T) {
	for _, c := range []struct {
		name   string
		stacks map[string]string
		want   string
	}{
		{"missing source", map[string]string{"prod": "organization/jobs/test"}, "stack prod promotes from stack test (jobs:promoteFrom), which has no Pulumi.test.yaml"},
		{"circle", map[string]string{"a": "b", "b": "a"}, "stacks promote in a circle"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := ReadTopology(stackDir(t, c.stacks))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v, want %q", err, c.want)
			}
		})
	}
	for _, c := range []struct {
		stacks map[string]string
		want   string
	}{
		{map[string]string{"a": "", "b": ""}, "no stack of"},
		{map[string]string{"a": "", "b": "a", "c": "", "d": "c"}, "stacks a and c each start a promotion chain"},
	} {
		top, err := ReadTopology(stackDir(t, c.stacks))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := top.Entry(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: entry error %v, want %q", c.stacks, err, c.want)
		}
	}
	top, err := ReadTopology(stackDir(t, map[string]string{"only": ""}))
	if err != nil {
		t.Fatal(err)
	}
	if e, err := top.Entry(); err != nil || e != "only" {
		t.Errorf("a single stack is its own entry: %q, %v", e, err)
	}
	if _, err := ReadTopology(t.TempDir()); err == nil || !strings.Contains(err.Error(), "holds no stack file") {
		t.Errorf("empty dir: %v", err)
	}
}

func TestStackOf(t *testing.T) {
	for ref, want := range map[string]string{"organization/jobs/test": "test", "jobs/staging": "staging", "prod": "prod"} {
		if got := StackOf(ref); got != want {
			t.Errorf("StackOf(%s) = %s", ref, got)
		}
	}
}
