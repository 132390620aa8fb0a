package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/example/jobs/release"
)

// sourceVersionEnv lets CI or a test hand over the source stack's deployed version without the
// pulumi CLI.
const sourceVersionEnv = "SOURCE_VERSION"

// pulumiTimeout bounds the stack-output lookup: a hung login must not hang the release.
const pulumiTimeout = 2 * time.Minute

func runPromote(ctx context.Context, args []string, c console) error {
	fs, dir := newFlags("promote", c)
	stack := fs.String("stack", "", "stack `name` to promote (default: the one stack that promotes from another)")
	from := fs.String("source-version-from", "", "read the source stack's deployed version from `file` (- for stdin) instead of asking pulumi")
	requireDeployed := fs.Bool("require-deployed", false, "fail instead of falling back to the source stack's config when its deployed version is unknown")
	force := fs.Bool("force", false, "allow moving the stack to an older version (a rollback)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	res, err := promote(ctx, *dir, promoteOptions{
		stack: *stack, from: *from, requireDeployed: *requireDeployed, force: *force,
		stdin: c.stdin, getenv: c.getenv, notes: c.stderr,
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "%s runs %s (%s)\n", res.source, res.deployed, res.how)
	if res.from == res.to {
		fmt.Fprintf(c.stdout, "%s: %s is already at %s, nothing changed\n", res.path, res.target, res.to)
		return nil
	}
	fmt.Fprintf(c.stdout, "%s: %s %s -> %s\n", res.path, versionKey, res.from, res.to)
	fmt.Fprintf(c.stdout, "next: commit it, open a pull request (CI posts the %s preview), merge, then deploy %s\n", res.target, res.target)
	return nil
}

type promoteOptions struct {
	stack           string
	from            string
	requireDeployed bool
	force           bool
	stdin           io.Reader
	getenv          func(string) string
	notes           io.Writer
}

type promoteResult struct {
	target, source string
	deployed       string
	how            string // where the deployed version came from
	path           string
	from, to       string
}

// deployedVersion is what the source stack runs and where that knowledge came from; fromState is
// false when it is only the source's config, which may be ahead of what was deployed.
type deployedVersion struct {
	version   string
	how       string
	fromState bool
	// outputs are all of the source's outputs when they were read (pulumi stack output --json, or
	// a file holding it); nil when only its version is known, so its verification is unknown.
	outputs map[string]any
}

// promote copies the version a stack's source runs into the stack's config. Only a version the
// source has deployed may move on, so when the source's outputs are known they must equal its
// config.
func promote(ctx context.Context, dir string, o promoteOptions) (promoteResult, error) {
	top, err := release.ReadTopology(dir)
	if err != nil {
		return promoteResult{}, err
	}
	target, err := promotedStack(top, o.stack)
	if err != nil {
		return promoteResult{}, err
	}
	sourceName := top.Source(target)
	source, err := readStackFile(dir, sourceName)
	if err != nil {
		return promoteResult{}, err
	}
	dest, err := readStackFile(dir, target)
	if err != nil {
		return promoteResult{}, err
	}
	d, err := sourceDeployedVersion(ctx, dir, sourceName, source, o)
	if err != nil {
		return promoteResult{}, err
	}
	if err := release.CheckVersion(d.version); err != nil {
		return promoteResult{}, fmt.Errorf("%s's deployed version (%s) is unusable: %w; check what stack %s exports as output \"version\"", sourceName, d.how, err, sourceName)
	}
	if d.fromState && d.version != source.version() {
		return promoteResult{}, fmt.Errorf("%s runs %s (%s) but its config says %s: %s's config is ahead of what is deployed, so %s is untested; deploy %s (pulumi up -s %s), check it, then promote again",
			sourceName, d.version, d.how, source.version(), sourceName, source.version(), sourceName, sourceName)
	}
	if err := checkVerified(dir, target, sourceName, d, o); err != nil {
		return promoteResult{}, err
	}
	res := promoteResult{target: target, source: sourceName, deployed: d.version, how: d.how, path: dest.path, from: dest.version(), to: d.version}
	if err := release.CheckForward(target, dest.version(), d.version, o.force); err != nil {
		return promoteResult{}, err
	}
	if res.from == res.to {
		return res, nil
	}
	return res, dest.setVersion(d.version)
}

// promotedStack is the stack to promote: the one named, which must promote from another, or the
// only stack that does.
func promotedStack(top release.Topology, named string) (string, error) {
	promoted := top.Promoted()
	if named != "" {
		if !top.Has(named) {
			return "", fmt.Errorf("stack %q has no Pulumi.%s.yaml in %s: use one of %s", named, named, top.Dir, strings.Join(top.Stacks, ", "))
		}
		if top.Source(named) == "" {
			return "", fmt.Errorf("stack %s promotes from no stack (jobs:promoteFrom is unset), so there is nothing to promote it from: use make bump for it, or promote one of %s", named, strings.Join(promoted, ", "))
		}
		return named, nil
	}
	switch len(promoted) {
	case 1:
		return promoted[0], nil
	case 0:
		return "", fmt.Errorf("no stack in %s promotes from another (jobs:promoteFrom): there is nothing to promote", top.Dir)
	}
	return "", fmt.Errorf("stacks %s all promote from another: pass -stack (make: STACK=...) to say which", strings.Join(promoted, ", "))
}

// sourceDeployedVersion asks, in order: the -source-version-from file, $SOURCE_VERSION, the pulumi
// CLI (the source stack's outputs), and finally the source's config, which is the only answer
// that needs no state but cannot tell a deployed version from a merely configured one.
func sourceDeployedVersion(ctx context.Context, dir, stack string, source *stackFile, o promoteOptions) (deployedVersion, error) {
	switch {
	case o.from == "-":
		b, err := io.ReadAll(o.stdin)
		if err != nil {
			return deployedVersion{}, fmt.Errorf("cannot read %s's deployed version from stdin: %w", stack, err)
		}
		return fromText(b, "from stdin")
	case o.from != "":
		b, err := os.ReadFile(o.from)
		if err != nil {
			return deployedVersion{}, fmt.Errorf("cannot read %s's deployed version: %w; pass a file holding the output of pulumi stack output version -s %s", stack, err, stack)
		}
		return fromText(b, "from "+o.from)
	case o.getenv(sourceVersionEnv) != "":
		return deployedVersion{version: strings.TrimSpace(o.getenv(sourceVersionEnv)), how: "from $" + sourceVersionEnv, fromState: true}, nil
	}
	outputs, why := pulumiStackOutputs(ctx, dir, stack)
	if why == nil {
		return outputsVersion(outputs, "from pulumi stack output --json -s "+stack)
	}
	if o.requireDeployed {
		return deployedVersion{}, fmt.Errorf("%s's deployed version is unknown (%v): log in to the state backend (pulumi login), or pass -source-version-from FILE or %s", stack, why, sourceVersionEnv)
	}
	fmt.Fprintf(o.notes, "note: %s's deployed version is unknown (%v); using %s's config instead, which cannot show whether %s has deployed it\n", stack, why, stack, stack)
	return deployedVersion{version: source.version(), how: "from " + stack + "'s config " + source.path}, nil
}

// fromText reads what a file or stdin handed over: the source's version alone, or all of its
// outputs as pulumi stack output --json prints them, which includes its verification.
func fromText(b []byte, how string) (deployedVersion, error) {
	text := strings.TrimSpace(string(b))
	if !strings.HasPrefix(text, "{") {
		return deployedVersion{version: text, how: how, fromState: true}, nil
	}
	var outputs map[string]any
	if err := json.Unmarshal([]byte(text), &outputs); err != nil {
		return deployedVersion{}, fmt.Errorf("the source's outputs (%s) are not the JSON of pulumi stack output --json: %w", how, err)
	}
	return outputsVersion(outputs, how)
}

// outputsVersion is the deployed version among a stack's outputs.
func outputsVersion(outputs map[string]any, how string) (deployedVersion, error) {
	v, _ := outputs["version"].(string)
	return deployedVersion{version: v, how: how, fromState: true, outputs: outputs}, nil
}

// checkVerified applies the promotion guard's verification rule (package release) to what the
// source's outputs say, so promote refuses what prod's preview would refuse. When only the
// source's version is known, it cannot tell: it says so, and prod's preview decides.
func checkVerified(dir, target, source string, d deployedVersion, o promoteOptions) error {
	dest, err := release.ReadStackFile(filepath.Join(dir, "Pulumi."+target+".yaml"))
	if err != nil {
		return err
	}
	from, err := dest.Setting("jobs:promoteFrom")
	if err != nil {
		return err
	}
	allow, err := dest.Setting("jobs:allowUntestedVersion")
	if err != nil {
		return err
	}
	if d.outputs == nil {
		why := fmt.Sprintf("%s's verification is unknown (only its version was read, %s)", source, d.how)
		if o.requireDeployed {
			return fmt.Errorf("%s: log in to the state backend (pulumi login), or pass -source-version-from FILE holding pulumi stack output --json -s %s", why, source)
		}
		fmt.Fprintf(o.notes, "note: %s; %s's preview checks it (the promotion guard)\n", why, target)
		return nil
	}
	tested := release.Tested{Stack: from, Version: d.version, Images: release.Images{}}
	for _, c := range release.Components {
		tested.Images[c], _ = d.outputs[release.OutputName(c)].(string)
	}
	if rec, ok := d.outputs[release.VerificationOutput]; ok && rec != nil {
		raw, _ := json.Marshal(rec)
		v, err := release.ParseVerification(string(raw))
		if err != nil {
			return fmt.Errorf("output %s of stack %s (%s): %w", release.VerificationOutput, source, d.how, err)
		}
		tested.Verification = &v
	}
	t := release.Target{Stack: target, Version: d.version, From: from, AllowUntested: allow == "true"}
	warning, err := release.CheckVerified(t, tested)
	if warning != "" {
		fmt.Fprintf(o.notes, "warning: %s\n", warning)
	}
	return err
}

// pulumiStackOutputs reads all of a stack's outputs; the error says why no state was reachable.
func pulumiStackOutputs(ctx context.Context, dir, stack string) (map[string]any, error) {
	bin, err := exec.LookPath("pulumi")
	if err != nil {
		return nil, errors.New("the pulumi CLI is not on PATH")
	}
	ctx, cancel := context.WithTimeout(ctx, pulumiTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "stack", "output", "--json", "--stack", stack, "--non-interactive")
	cmd.Dir = dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			msg = err.Error()
		}
		return nil, fmt.Errorf("pulumi stack output --json -s %s failed: %s", stack, msg)
	}
	var outputs map[string]any
	if err := json.Unmarshal(stdout.Bytes(), &outputs); err != nil {
		return nil, fmt.Errorf("pulumi stack output --json -s %s printed no JSON object: %v", stack, err)
	}
	if v, _ := outputs["version"].(string); v == "" {
		return nil, fmt.Errorf("pulumi stack output --json -s %s has no version: %s has not deployed a version yet", stack, stack)
	}
	return outputs, nil
}
