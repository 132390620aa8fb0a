// Command verify checks a deployed environment the way the seeds ask before anything moves on to
// prod, and records a pass where the promotion guard reads it:
//
//   - from outside, through the stack's NodePort (its url output): liveness, readiness, /version
//     equal to the deployed version, a job of each kind submitted and finished with the right
//     result, the job fetched, its result fetched, and listed;
//   - in the cluster: the API and worker Deployments run exactly the images the stack exports
//     and are rolled out;
//   - from inside: a short-lived pod in the environment's namespace, of the stack's own API image
//     (its `probe` mode; no other image can be assumed pullable), checks that every Service of the
//     environment resolves by name and that the API answers by its Service name. The pod is
//     deleted whatever happens.
//
// Each check prints one line, and a failure says what was expected, what came, and what to look
// at. On any failure it exits 1 and records nothing. On a pass it writes the record
// (jobs:verification: stack, version, image digests) into the stack's config and runs the
// stack's `up`, so the record becomes the stack's verification output, which the program keeps
// only while the stack runs exactly those images (package release).
//
//	go run ./tools/verify -stack test [-dir .] [-record=false] [-timeout 2m]
//
// It reads the stack's outputs with the pulumi CLI and the cluster with kubectl ($KUBECTL, else
// kubectl on PATH, else the local cluster's localcluster/.run/kubectl), both as the caller's
// environment configures them (make verify runs it under scripts/pulumi-env.sh).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"time"

	"github.com/example/jobs/release"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "verify:", err)
		os.Exit(1)
	}
}

// errFailed says checks failed; each failure was printed already.
var errFailed = errors.New("verification failed")

func run(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("verify", flag.ContinueOnError)
	stack := fs.String("stack", "", "stack `name` to verify (test)")
	dir := fs.String("dir", ".", "Pulumi project `directory`")
	record := fs.Bool("record", true, "on a pass, record it in the stack (jobs:verification, then its up)")
	timeout := fs.Duration("timeout", 2*time.Minute, "how long a job may take to finish")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *stack == "" || fs.NArg() > 0 {
		return fmt.Errorf("usage: verify -stack STACK [-dir DIR] [-record=false] [-timeout 2m] (make verify STACK=test)")
	}
	p := pulumiCLI{dir: *dir}
	outs, err := p.outputs(ctx, *stack)
	if err != nil {
		return err
	}
	d, err := deployedOf(*stack, outs)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "verify: stack %s runs version %s at %s (namespace %s)\n", d.stack, d.version, d.url, d.namespace)
	r := &report{out: out}
	checkOutside(ctx, r, d, *timeout)
	k, err := newKubectl(*dir)
	if err != nil {
		r.fail("cluster: kubectl", err.Error())
	} else {
		checkDeployments(ctx, r, k, d)
		checkInside(ctx, r, k, d)
	}
	if len(r.failed) > 0 {
		fmt.Fprintf(out, "verify: %d of %d checks failed on stack %s (%s); nothing recorded, so %s\n",
			len(r.failed), r.total, d.stack, strings.Join(r.failed, "; "), promotedNote(d))
		return errFailed
	}
	fmt.Fprintf(out, "verify: all %d checks passed on stack %s at version %s\n", r.total, d.stack, d.version)
	if !*record {
		fmt.Fprintln(out, "verify: -record=false: nothing recorded")
		return nil
	}
	return recordPass(ctx, out, p, *dir, d, outs)
}

// deployed is what the stack's outputs say it runs.
type deployed struct {
	stack, version, url, namespace string
	images                         release.Images
}

func deployedOf(stack string, outs map[string]any) (deployed, error) {
	d := deployed{stack: stack, images: release.Images{}}
	var missing []string
	for name, into := range map[string]*string{"version": &d.version, "url": &d.url, "namespace": &d.namespace} {
		*into, _ = outs[name].(string)
		if *into == "" {
			missing = append(missing, name)
		}
	}
	for _, c := range release.Components {
		ref, _ := outs[release.OutputName(c)].(string)
		if ref == "" {
			missing = append(missing, release.OutputName(c))
		}
		d.images[c] = ref
	}
	if len(missing) > 0 {
		return d, fmt.Errorf("stack %s exports no %s: it has not been deployed (make up STACK=%s), or by another program", stack, strings.Join(missing, ", "), stack)
	}
	return d, nil
}

// promotedNote says what a failure means for the stacks that promote from this one.
func promotedNote(d deployed) string {
	return fmt.Sprintf("no stack that promotes from %s takes %s (make promote and its preview refuse it); fix the release, deploy it to %s, then run make verify STACK=%s again",
		d.stack, d.version, d.stack, d.stack)
}

// report prints each check as it ends and keeps the names of the failed ones.
type report struct {
	out    io.Writer
	total  int
	failed []string
}

func (r *report) pass(name, detail string) {
	r.total++
	if detail != "" {
		detail = ": " + detail
	}
	fmt.Fprintf(r.out, "  ok    %s%s\n", name, detail)
}

func (r *report) fail(name, why string) {
	r.total++
	r.failed = append(r.failed, name)
	fmt.Fprintf(r.out, "  FAIL  %s: %s\n", name, why)
}

// recordPass writes the record into the stack's config and runs the stack's up, then checks that
// the stack exports it: the program drops a record that does not match what runs.
func recordPass(ctx context.Context, out io.Writer, p pulumiCLI, dir string, d deployed, outs map[string]any) error {
	f, err := release.ReadStackFile(filepath.Join(dir, "Pulumi."+d.stack+".yaml"))
	if err != nil {
		return err
	}
	if v, _ := f.Setting(release.VersionKey); v != d.version {
		return fmt.Errorf("not recorded: Pulumi.%s.yaml sets jobs:version %s but the stack runs %s, and the record's up would deploy %s unverified; "+
			"deploy it (make up STACK=%s), then run make verify STACK=%s again", d.stack, v, d.version, v, d.stack, d.stack)
	}
	rec := release.Verification{Stack: d.stack, Version: d.version, Images: d.images}
	// Already the stack's record (make up verifies each time it runs): no second up for it.
	if fmt.Sprint(outs[release.VerificationOutput]) == fmt.Sprint(rec.Map()) {
		fmt.Fprintf(out, "verify: stack %s's %s output already records this pass: %s\n", d.stack, release.VerificationOutput, rec.Encode())
		return nil
	}
	if err := p.run(ctx, out, "pulumi", "config", "set", "--stack", d.stack, "verification", rec.Encode()); err != nil {
		return fmt.Errorf("not recorded: %w", err)
	}
	fmt.Fprintf(out, "verify: recording %s in the stack's outputs (%s set in Pulumi.%s.yaml, then its up)\n", rec.Encode(), release.VerificationKey, d.stack)
	if err := p.run(ctx, out, filepath.Join(dir, "scripts", "pulumi.sh"), "up", d.stack, "--yes", "--skip-preview", "--suppress-progress"); err != nil {
		return fmt.Errorf("not recorded: the stack's up failed: %w", err)
	}
	outs, err = p.outputs(ctx, d.stack)
	if err != nil {
		return err
	}
	got, _ := outs[release.VerificationOutput].(map[string]any)
	if got == nil {
		return fmt.Errorf("not recorded: after its up stack %s exports no %s output: it no longer runs what was verified (its up's log says why); run make verify STACK=%s again",
			d.stack, release.VerificationOutput, d.stack)
	}
	fmt.Fprintf(out, "verify: recorded; stack %s's %s output now vouches for version %s with %s and %s\n",
		d.stack, release.VerificationOutput, d.version, d.images[release.API], d.images[release.Worker])
	return nil
}
