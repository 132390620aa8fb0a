package main

import (
	"fmt"

	"github.com/example/jobs/release"
)

func runBump(args []string, c console) error {
	fs, dir := newFlags("bump", c)
	stack := fs.String("stack", "", "stack `name` to change")
	version := fs.String("version", "", "new release `version` X.Y.Z (the git tag and image tag)")
	force := fs.Bool("force", false, "allow moving the stack to an older version (a rollback) or past the stack it promotes from")
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
	if err := release.CheckVersion(version); err != nil {
		return bumpResult{}, fmt.Errorf("cannot bump %s: %w", stack, err)
	}
	f, err := readStackFile(dir, stack)
	if err != nil {
		return bumpResult{}, err
	}
	res := bumpResult{path: f.path, from: f.version(), to: version}
	if err := release.CheckForward(stack, f.version(), version, force); err != nil {
		return bumpResult{}, err
	}
	if !force {
		if err := checkTested(dir, stack, version); err != nil {
			return bumpResult{}, err
		}
	}
	if res.from == res.to {
		return res, nil
	}
	return res, f.setVersion(version)
}

// checkTested refuses to set a promoted stack to a version newer than its source's config,
// because the program would refuse it at preview anyway (unless jobs:allowUntestedVersion) and
// promote is the step that moves such a stack.
func checkTested(dir, stack, version string) error {
	top, err := release.ReadTopology(dir)
	if err != nil {
		return err
	}
	sourceName := top.Source(stack)
	if sourceName == "" {
		return nil
	}
	source, err := readStackFile(dir, sourceName)
	if err != nil {
		return fmt.Errorf("cannot check %s against %s: %w", stack, sourceName, err)
	}
	c, err := release.Compare(version, source.version())
	if err != nil {
		return fmt.Errorf("cannot check %s against %s: %s's %s %q is not a version: fix %s first", stack, sourceName, sourceName, versionKey, source.version(), source.path)
	}
	if c > 0 {
		return fmt.Errorf("refusing to set %s to %s: %s is at %s, so %s is untested; release it to %s first and then run promote (make promote STACK=%s), or pass -force (make: FORCE=1) and set jobs:allowUntestedVersion: true in Pulumi.%s.yaml",
			stack, version, sourceName, source.version(), version, sourceName, stack, stack)
	}
	return nil
}
