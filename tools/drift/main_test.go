package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// projectDir holds the project's real stack files, so the stacks checked are the project's.
func projectDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	files, err := filepath.Glob(filepath.Join("..", "..", "Pulumi.*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no stack files in the project root: %v", err)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(f)), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// answer is what the stand-in runner gives for one command.
type answer struct {
	stdout string
	stderr string
	code   int
	err    error
}

// fakeRunner answers `pulumi stack ls` with ls and each stack's drift preview from previews,
// and records the commands it was asked to run.
type fakeRunner struct {
	ls       answer
	previews map[string]answer
	calls    []string
}

func (f *fakeRunner) run(_ context.Context, name string, args ...string) ([]byte, []byte, int, error) {
	f.calls = append(f.calls, name+" "+strings.Join(args, " "))
	a := f.ls
	if name == "scripts/pulumi.sh" {
		if len(args) != 2 || args[0] != "drift" {
			return nil, nil, -1, errors.New("unexpected wrapper call " + strings.Join(args, " "))
		}
		var ok bool
		if a, ok = f.previews[args[1]]; !ok {
			return nil, nil, -1, errors.New("no preview for " + args[1])
		}
	}
	return []byte(a.stdout), []byte(a.stderr), a.code, a.err
}

const bothDeployed = `[{"name":"test","current":true,"resourceCount":17},{"name":"prod","resourceCount":16}]`

func TestCheckExitCodesAndReport(t *testing.T) {
	drifted := string(readFixture(t, "drifted.json"))
	inSync := string(readFixture(t, "insync.json"))
	unreachable := answer{stdout: string(readFixture(t, "failed.json")), stderr: "error: preview failed\n", code: 255}
	for _, c := range []struct {
		name     string
		only     string
		ls       answer
		previews map[string]answer
		want     int
		report   []string // lines the report must hold
		absent   []string // text it must not hold
	}{
		{name: "both in sync", ls: answer{stdout: bothDeployed},
			previews: map[string]answer{"test": {stdout: inSync}, "prod": {stdout: inSync}},
			want:     exitInSync,
			report:   []string{"drift: stack test: in sync", "drift: stack prod: in sync"}},
		{name: "test drifted", ls: answer{stdout: bothDeployed},
			previews: map[string]answer{"test": {stdout: drifted}, "prod": {stdout: inSync}},
			want:     exitDrift,
			report: []string{
				"drift: stack test: drifted, 3 resource(s) differ from what it declares (make up STACK=test puts them back):",
				"  kubernetes:apps/v1:Deployment::test-api: changed in the cluster (live -> declared)",
				"    spec.replicas: 3 -> 1",
				`    spec.template.spec.containers[0].env[2].value: "127.0.0.1" -> "0.0.0.0"`,
				"  kubernetes:networking.k8s.io/v1:NetworkPolicy::test-redis-ingress: missing from the cluster (deleted by hand?); make up creates it again",
				"drift: stack prod: in sync",
			},
			absent: []string{"old-password", "new-password"}},
		{name: "an unreachable cluster is not in sync", only: "test", ls: answer{stdout: bothDeployed},
			previews: map[string]answer{"test": unreachable},
			want:     exitUnchecked,
			report:   []string{"drift: stack test: could not check: the refresh-preview failed: configured Kubernetes cluster is unreachable"},
			absent:   []string{"in sync", "prod"}},
		{name: "could not check wins over drift, which is still reported", ls: answer{stdout: bothDeployed},
			previews: map[string]answer{"test": unreachable, "prod": {stdout: drifted}},
			want:     exitUnchecked,
			report:   []string{"drift: stack test: could not check", "drift: stack prod: drifted", "    spec.replicas: 3 -> 1"}},
		{name: "a failing preview without a digest", only: "prod", ls: answer{stdout: bothDeployed},
			previews: map[string]answer{"prod": {stderr: "line 1\nerror: failed to connect to any docker daemon\n", code: 1}},
			want:     exitUnchecked,
			report:   []string{"drift: stack prod: could not check: the refresh-preview exited 1: line 1 | error: failed to connect to any docker daemon"}},
		{name: "a preview that exits 0 without a digest", only: "prod", ls: answer{stdout: bothDeployed},
			previews: map[string]answer{"prod": {stdout: "Previewing update (prod)"}},
			want:     exitUnchecked,
			report:   []string{"drift: stack prod: could not check: the preview printed no JSON digest"}},
		{name: "an unreadable backend", ls: answer{stderr: "error: could not read the backend", code: 255},
			want:   exitUnchecked,
			report: []string{"drift: stack test: could not check: listing the stacks of the state backend failed (pulumi stack ls): exit 255: error: could not read the backend", "drift: stack prod: could not check"}},
		{name: "stacks not deployed are skipped", ls: answer{stdout: `[{"name":"organization/jobs/test","resourceCount":17},{"name":"prod","resourceCount":0}]`},
			previews: map[string]answer{"test": {stdout: inSync}},
			want:     exitInSync,
			report:   []string{"drift: stack test: in sync", "drift: stack prod: not deployed, nothing to compare (skipped)"}},
		{name: "nothing deployed", ls: answer{stdout: `[]`},
			want:   exitInSync,
			report: []string{"drift: no stack is deployed: nothing to check"}},
		{name: "a named stack that is not deployed", only: "prod", ls: answer{stdout: `[{"name":"test","resourceCount":17}]`},
			want:   exitUnchecked,
			report: []string{"drift: stack prod: could not check: the state backend has no deployment of it (make up STACK=prod deploys it)"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := &fakeRunner{ls: c.ls, previews: c.previews}
			var out, log bytes.Buffer
			got := check(t.Context(), projectDir(t), c.only, f.run, &out, &log)
			if got != c.want {
				t.Errorf("exit %d, want %d; report:\n%s\nlog:\n%s", got, c.want, out.String(), log.String())
			}
			lines := strings.Split(out.String(), "\n")
			for _, w := range c.report {
				if !slices.ContainsFunc(lines, func(l string) bool { return strings.HasPrefix(l, w) }) {
					t.Errorf("report:\n%s\nwant a line starting %q", out.String(), w)
				}
			}
			for _, a := range c.absent {
				if strings.Contains(out.String(), a) {
					t.Errorf("report:\n%s\nwant no %q", out.String(), a)
				}
			}
		})
	}
}

func TestCheckRefusesAStackWithoutAStackFile(t *testing.T) {
	f := &fakeRunner{ls: answer{stdout: bothDeployed}}
	var out, log bytes.Buffer
	if got := check(t.Context(), projectDir(t), "staging", f.run, &out, &log); got != exitUsage ||
		!strings.Contains(log.String(), `STACK="staging" is not a stack of this project (no Pulumi.staging.yaml): use one of prod, test`) {
		t.Errorf("exit %d, log:\n%s\nwant exit %d naming the stacks there are", got, log.String(), exitUsage)
	}
	if len(f.calls) != 0 {
		t.Errorf("ran %v for a stack that does not exist", f.calls)
	}
}

// The refresh-preview is the wrapper's drift verb, so it gets the engine, cluster and backend a
// plain shell's make up uses; the deployed stacks come from the same backend.
func TestCheckRunsThroughTheProjectsScripts(t *testing.T) {
	f := &fakeRunner{ls: answer{stdout: bothDeployed}, previews: map[string]answer{"test": {stdout: "{}"}, "prod": {stdout: "{}"}}}
	var out, log bytes.Buffer
	check(t.Context(), projectDir(t), "", f.run, &out, &log)
	want := []string{"scripts/pulumi-env.sh pulumi stack ls --json", "scripts/pulumi.sh drift test", "scripts/pulumi.sh drift prod"}
	if !slices.Equal(f.calls, want) {
		t.Errorf("calls %v, want %v (each stack after its source)", f.calls, want)
	}
}
