package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/example/jobs/settings"
)

// testOutputEnv lets CI or a test hand over test's deployed version without the pulumi CLI.
const testOutputEnv = "TEST_OUTPUT_VERSION"

// pulumiTimeout bounds the stack-output lookup: a hung login must not hang the release.
const pulumiTimeout = 2 * time.Minute

func runPromote(ctx context.Context, args []string, c console) error {
	fs, dir := newFlags("promote", c)
	from := fs.String("test-version-from", "", "read test's deployed version from `file` (- for stdin) instead of asking pulumi")
	requireDeployed := fs.Bool("require-deployed", false, "fail instead of falling back to test's config when test's deployed version is unknown")
	force := fs.Bool("force", false, "allow moving prod to an older version (a rollback)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	res, err := promote(ctx, *dir, promoteOptions{
		from: *from, requireDeployed: *requireDeployed, force: *force,
		stdin: c.stdin, getenv: c.getenv, notes: c.stderr,
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "test runs %s (%s)\n", res.deployed, res.source)
	if res.from == res.to {
		fmt.Fprintf(c.stdout, "%s: prod is already at %s, nothing changed\n", res.path, res.to)
		return nil
	}
	fmt.Fprintf(c.stdout, "%s: %s %s -> %s\n", res.path, versionKey, res.from, res.to)
	fmt.Fprintln(c.stdout, "next: commit it, open a pull request (CI posts the prod preview), merge, then run the \"deploy prod\" workflow")
	return nil
}

type promoteOptions struct {
	from            string
	requireDeployed bool
	force           bool
	stdin           io.Reader
	getenv          func(string) string
	notes           io.Writer
}

type promoteResult struct {
	deployed string
	source   string
	path     string
	from, to string
}

// deployedVersion is what test runs and where that knowledge came from; fromState is false when
// it is only test's config, which may be ahead of what was deployed.
type deployedVersion struct {
	version   string
	source    string
	fromState bool
}

// promote copies the version test runs into prod's config. Only a version test has deployed may
// go to prod, so when test's outputs are known they must equal test's config.
func promote(ctx context.Context, dir string, o promoteOptions) (promoteResult, error) {
	test, err := readStackFile(dir, "test")
	if err != nil {
		return promoteResult{}, err
	}
	prod, err := readStackFile(dir, "prod")
	if err != nil {
		return promoteResult{}, err
	}
	d, err := testDeployedVersion(ctx, dir, test, o)
	if err != nil {
		return promoteResult{}, err
	}
	if err := settings.CheckVersion(d.version); err != nil {
		return promoteResult{}, fmt.Errorf("test's deployed version (%s) is unusable: %w; check what test's stack exports as output \"version\"", d.source, err)
	}
	if d.fromState && d.version != test.version() {
		return promoteResult{}, fmt.Errorf("test runs %s (%s) but its config says %s: test's config is ahead of what is deployed, so %s is untested; deploy test (merge to main, or pulumi up -s test), check it, then promote again", d.version, d.source, test.version(), test.version())
	}
	res := promoteResult{deployed: d.version, source: d.source, path: prod.path, from: prod.version(), to: d.version}
	if err := checkForward("prod", prod.version(), d.version, o.force); err != nil {
		return promoteResult{}, err
	}
	if res.from == res.to {
		return res, nil
	}
	return res, prod.setVersion(d.version)
}

// testDeployedVersion asks, in order: the -test-version-from file, $TEST_OUTPUT_VERSION, the
// pulumi CLI (test's stack outputs), and finally test's config, which is the only answer that
// needs no state but cannot tell a deployed version from a merely configured one.
func testDeployedVersion(ctx context.Context, dir string, test *stackFile, o promoteOptions) (deployedVersion, error) {
	switch {
	case o.from == "-":
		b, err := io.ReadAll(o.stdin)
		if err != nil {
			return deployedVersion{}, fmt.Errorf("cannot read test's deployed version from stdin: %w", err)
		}
		return deployedVersion{version: strings.TrimSpace(string(b)), source: "from stdin", fromState: true}, nil
	case o.from != "":
		b, err := os.ReadFile(o.from)
		if err != nil {
			return deployedVersion{}, fmt.Errorf("cannot read test's deployed version: %w; pass a file holding the output of pulumi stack output version -s test", err)
		}
		return deployedVersion{version: strings.TrimSpace(string(b)), source: "from " + o.from, fromState: true}, nil
	case o.getenv(testOutputEnv) != "":
		return deployedVersion{version: strings.TrimSpace(o.getenv(testOutputEnv)), source: "from $" + testOutputEnv, fromState: true}, nil
	}
	v, why := pulumiStackOutput(ctx, dir)
	if why == nil {
		return deployedVersion{version: v, source: "from pulumi stack output version -s test", fromState: true}, nil
	}
	if o.requireDeployed {
		return deployedVersion{}, fmt.Errorf("test's deployed version is unknown (%v): log in to the state backend (pulumi login), or pass -test-version-from FILE or %s", why, testOutputEnv)
	}
	fmt.Fprintf(o.notes, "note: test's deployed version is unknown (%v); using test's config instead, which cannot show whether test has deployed it\n", why)
	return deployedVersion{version: test.version(), source: "from test's config " + test.path}, nil
}

// pulumiStackOutput reads test's exported "version"; the error says why no state was reachable.
func pulumiStackOutput(ctx context.Context, dir string) (string, error) {
	bin, err := exec.LookPath("pulumi")
	if err != nil {
		return "", errors.New("the pulumi CLI is not on PATH")
	}
	ctx, cancel := context.WithTimeout(ctx, pulumiTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "stack", "output", "version", "--stack", "test", "--non-interactive")
	cmd.Dir = dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			msg = err.Error()
		}
		return "", fmt.Errorf("pulumi stack output version -s test failed: %s", msg)
	}
	v := strings.TrimSpace(stdout.String())
	if v == "" {
		return "", errors.New("pulumi stack output version -s test printed nothing: test has not deployed a version yet")
	}
	return v, nil
}
