package main

import (
	"fmt"

	"github.com/Masterminds/semver/v3"

	"github.com/example/jobs/settings"
)

func runBump(args []string, c console) error {
	fs, dir := newFlags("bump", c)
	stack := fs.String("stack", "", "stack `name` to change (test or prod)")
	version := fs.String("version", "", "new release `version` X.Y.Z (the git tag and image tag)")
	force := fs.Bool("force", false, "allow moving the stack to an older version (a rollback) or prod past test")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	res, err := bump(*dir, *stack, *version, *force)
	if err != nil {
		return err
	}
	fmt.Fprintln(c.stdout, res)
	return nil
}

// bumpResult says what bump did, for the person running it.
type bumpResult struct {
	path     string
	from, to string
}

func (r bumpResult) String() string {
	if r.from == r.to {
		return fmt.Sprintf("%s: %s is already %s, nothing changed", r.path, versionKey, r.to)
	}
	return fmt.Sprintf("%s: %s %s -> %s", r.path, versionKey, r.from, r.to)
}

// bump sets jobs:version of one stack. It checks the version rule and the direction before it
// writes, and the stack's config file is the only file it touches.
func bump(dir, stack, version string, force bool) (bumpResult, error) {
	if version == "" {
		return bumpResult{}, fmt.Errorf("no version given: pass -version X.Y.Z (make: VERSION=0.2.0)")
	}
	if err := settings.CheckVersion(version); err != nil {
		return bumpResult{}, fmt.Errorf("cannot bump %s: %w", stack, err)
	}
	f, err := readStackFile(dir, stack)
	if err != nil {
		return bumpResult{}, err
	}
	res := bumpResult{path: f.path, from: f.version(), to: version}
	if err := checkForward(stack, f.version(), version, force); err != nil {
		return bumpResult{}, err
	}
	if stack == "prod" && !force {
		if err := checkTested(dir, version); err != nil {
			return bumpResult{}, err
		}
	}
	if res.from == res.to {
		return res, nil
	}
	return res, f.setVersion(version)
}

// checkForward refuses to move a stack to an older version unless forced, because an accidental
// downgrade ships old code and is easy to miss in a one-line diff.
func checkForward(stack, current, next string, force bool) error {
	cur, err := semver.StrictNewVersion(current)
	if err != nil {
		// A broken current value cannot be compared; replacing it with a valid one is the fix.
		return nil
	}
	nxt := semver.MustParse(next)
	if nxt.LessThan(cur) && !force {
		return fmt.Errorf("refusing to move %s back from %s to %s: if this is a rollback, run again with -force (make: FORCE=1)", stack, current, next)
	}
	return nil
}

// checkTested refuses to point prod at a version test's config does not have, because the
// program would refuse it at preview anyway (unless jobs:allowUntestedVersion) and promote is the
// step that moves prod.
func checkTested(dir, version string) error {
	test, err := readStackFile(dir, "test")
	if err != nil {
		return fmt.Errorf("cannot check prod against test: %w", err)
	}
	tv, err := semver.StrictNewVersion(test.version())
	if err != nil {
		return fmt.Errorf("cannot check prod against test: test's %s %q is not a version: fix %s first", versionKey, test.version(), test.path)
	}
	if semver.MustParse(version).GreaterThan(tv) {
		return fmt.Errorf("refusing to set prod to %s: test is at %s, so %s is untested; release it to test first and then run promote (make promote), or pass -force (make: FORCE=1) and set jobs:allowUntestedVersion: true in Pulumi.prod.yaml", version, test.version(), version)
	}
	return nil
}
