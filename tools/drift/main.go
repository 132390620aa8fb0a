// Command drift tells whether what runs in the cluster is what each deployed stack declares: a
// refresh-preview per stack (scripts/pulumi.sh drift, `pulumi preview --refresh --json`), read
// here and reported per stack as in sync, drifted (each resource and field, live -> declared) or
// could not check (and why). Only fields the program manages count (docs/review.md#drift).
//
//	scripts/drift.sh [-stack STACK]     (make drift [STACK=test])
//
// Exit codes, for a scheduler:
//
//	0  every deployed stack checked is in sync (or none is deployed)
//	3  drift: at least one stack differs from what it declares, and every stack was checked
//	4  could not check at least one stack (cluster or backend unreachable, a failing preview):
//	   the report still names the drift of the others
//	2  bad usage (an unknown stack)
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"

	"github.com/example/jobs/release"
)

// The exit codes (see the package comment).
const (
	exitInSync    = 0
	exitUsage     = 2
	exitDrift     = 3
	exitUnchecked = 4
)

// status is one stack's outcome.
type status int

const (
	inSync status = iota
	drifted
	unchecked
)

// result is one stack's check.
type result struct {
	stack   string
	status  status
	changes []Change
	reason  string // why it could not be checked
}

// runner runs a command of the project (a script path relative to the project directory) and
// returns its stdout, its stderr and its exit code; err is set only when it could not run.
type runner func(ctx context.Context, name string, args ...string) (stdout, stderr []byte, code int, err error)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	fs := flag.NewFlagSet("drift", flag.ContinueOnError)
	dir := fs.String("dir", ".", "Pulumi project `directory`")
	stack := fs.String("stack", "", "check only this `stack` (default: every deployed stack)")
	if err := fs.Parse(os.Args[1:]); err != nil {
		os.Exit(exitUsage)
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "drift: unexpected argument(s) %s: name a stack with -stack\n", strings.Join(fs.Args(), " "))
		os.Exit(exitUsage)
	}
	abs, err := filepath.Abs(*dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, "drift:", err)
		os.Exit(exitUsage)
	}
	os.Exit(check(ctx, abs, *stack, commandRunner(abs), os.Stdout, os.Stderr))
}

// commandRunner runs the project's scripts in dir.
func commandRunner(dir string) runner {
	return func(ctx context.Context, name string, args ...string) ([]byte, []byte, int, error) {
		cmd := exec.CommandContext(ctx, filepath.Join(dir, name), args...)
		cmd.Dir = dir
		var out, errOut bytes.Buffer
		cmd.Stdout = &out
		cmd.Stderr = &errOut
		err := cmd.Run()
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			return out.Bytes(), errOut.Bytes(), exit.ExitCode(), nil
		}
		if err != nil {
			return nil, nil, -1, err
		}
		return out.Bytes(), errOut.Bytes(), 0, nil
	}
}

// check runs the drift check of one stack, or of every deployed one, prints the report to out
// and progress to log, and returns the exit code.
func check(ctx context.Context, dir, only string, run runner, out, log io.Writer) int {
	top, err := release.ReadTopology(dir)
	if err != nil {
		fmt.Fprintln(log, "drift:", err)
		return exitUsage
	}
	if only != "" && !top.Has(only) {
		fmt.Fprintf(log, "drift: STACK=%q is not a stack of this project (no Pulumi.%s.yaml): use one of %s\n", only, only, strings.Join(top.Stacks, ", "))
		return exitUsage
	}
	stacks := top.Order()
	if only != "" {
		stacks = []string{only}
	}
	deployed, lsErr := deployedStacks(ctx, run)
	var results []result
	for _, s := range stacks {
		switch {
		case lsErr != nil:
			results = append(results, result{stack: s, status: unchecked, reason: lsErr.Error()})
		case !deployed[s] && only == "":
			fmt.Fprintf(out, "drift: stack %s: not deployed, nothing to compare (skipped)\n", s)
			continue
		case !deployed[s]:
			results = append(results, result{stack: s, status: unchecked,
				reason: "the state backend has no deployment of it (make up STACK=" + s + " deploys it)"})
		default:
			fmt.Fprintf(log, "drift: refreshing stack %s and comparing it with what it declares...\n", s)
			results = append(results, checkStack(ctx, run, s))
		}
		report(out, results[len(results)-1])
	}
	if len(results) == 0 {
		fmt.Fprintln(out, "drift: no stack is deployed: nothing to check")
	}
	return exitCode(results)
}

// exitCode: could not check wins over drift, since the report is then incomplete; drift wins
// over in sync.
func exitCode(results []result) int {
	code := exitInSync
	for _, r := range results {
		switch {
		case r.status == unchecked:
			return exitUnchecked
		case r.status == drifted:
			code = exitDrift
		}
	}
	return code
}

// stackEntry is one line of `pulumi stack ls --json`.
type stackEntry struct {
	Name          string `json:"name"`
	ResourceCount *int   `json:"resourceCount"`
}

// deployedStacks lists the stacks of the state backend that hold resources. A stack whose count
// the backend does not report is taken as deployed, so its own check tells.
func deployedStacks(ctx context.Context, run runner) (map[string]bool, error) {
	stdout, stderr, code, err := run(ctx, "scripts/pulumi-env.sh", "pulumi", "stack", "ls", "--json")
	if err == nil && code != 0 {
		err = fmt.Errorf("exit %d: %s", code, lastLines(stderr, 5))
	}
	if err != nil {
		return nil, fmt.Errorf("listing the stacks of the state backend failed (pulumi stack ls): %v", err)
	}
	var entries []stackEntry
	if err := json.Unmarshal(stdout, &entries); err != nil {
		return nil, fmt.Errorf("pulumi stack ls --json printed no stack list (%v): %s", err, excerpt(stdout))
	}
	out := map[string]bool{}
	for _, e := range entries {
		out[release.StackOf(e.Name)] = e.ResourceCount == nil || *e.ResourceCount > 0
	}
	return out, nil
}

// checkStack runs one stack's refresh-preview and reads it.
func checkStack(ctx context.Context, run runner, stack string) result {
	r := result{stack: stack}
	stdout, stderr, code, err := run(ctx, "scripts/pulumi.sh", "drift", stack)
	if err != nil {
		r.status, r.reason = unchecked, "running scripts/pulumi.sh drift "+stack+": "+err.Error()
		return r
	}
	changes, diags, perr := parseDigest(stdout)
	var errs []string
	for _, d := range diags {
		if d.Severity == "error" {
			// The engine prefixes each message with its severity.
			errs = append(errs, strings.TrimPrefix(strings.TrimSpace(d.Message), "error: "))
		}
	}
	switch {
	case len(errs) > 0:
		r.status, r.reason = unchecked, "the refresh-preview failed: "+strings.Join(errs, "; ")
	case code != 0:
		r.status, r.reason = unchecked, fmt.Sprintf("the refresh-preview exited %d: %s", code, lastLines(stderr, 8))
	case perr != nil:
		r.status, r.reason = unchecked, perr.Error()
	case len(changes) > 0:
		r.status, r.changes = drifted, changes
	default:
		r.status = inSync
	}
	return r
}

// report prints one stack's result.
func report(w io.Writer, r result) {
	switch r.status {
	case inSync:
		fmt.Fprintf(w, "drift: stack %s: in sync (every field the program manages is as declared)\n", r.stack)
	case unchecked:
		fmt.Fprintf(w, "drift: stack %s: could not check: %s\n", r.stack, r.reason)
	case drifted:
		fmt.Fprintf(w, "drift: stack %s: drifted, %d resource(s) differ from what it declares (make up STACK=%s puts them back):\n",
			r.stack, len(r.changes), r.stack)
		for _, c := range r.changes {
			fmt.Fprintf(w, "  %s: %s\n", c.Resource, opMeaning(c.Op))
			for _, f := range c.Fields {
				fmt.Fprintf(w, "    %s: %s -> %s\n", f.Path, f.Live, f.Declared)
			}
		}
	}
}

// opMeaning says what a planned step means when the program itself did not change.
func opMeaning(op string) string {
	switch op {
	case "create":
		return "missing from the cluster (deleted by hand?); make up creates it again"
	case "delete":
		return "in the cluster but no longer declared; make up deletes it"
	case "update":
		return "changed in the cluster (live -> declared)"
	case "replace", "create-replacement", "delete-replaced":
		return "changed in a field that needs a replacement (live -> declared)"
	}
	return op
}

// lastLines is the last n lines of b, joined for one message.
func lastLines(b []byte, n int) string {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	s := strings.Join(lines, " | ")
	if s == "" {
		return "(no output)"
	}
	return s
}
