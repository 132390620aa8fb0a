package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/example/jobs/release"
)

func runRelease(ctx context.Context, args []string, c console) error {
	fs, dir := newFlags("release", c)
	version := fs.String("version", "", "new release `version` X.Y.Z: becomes the git tag, the image tag and the entry stack's jobs:version")
	stack := fs.String("stack", "", "stack `name` releases land on (default: the one others promote from)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	res, err := cutRelease(ctx, *dir, *stack, *version)
	if err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "released %s: commit %s sets %s to %s and is tagged %s\n", res.version, res.commit, res.stack, res.version, res.version)
	fmt.Fprintf(c.stdout, "next: git push --atomic origin HEAD refs/tags/%s (CI builds the %s images and deploys %s)\n", res.version, res.version, res.stack)
	return nil
}

type releaseResult struct {
	stack   string
	version string
	commit  string
}

// cutRelease bumps the entry stack to version, commits only that change and tags the commit.
// Bumping before tagging means the tagged tree already deploys that version, so the git tag, the
// image tag and the entry stack's config can never disagree.
func cutRelease(ctx context.Context, dir, stack, version string) (releaseResult, error) {
	if version == "" {
		return releaseResult{}, fmt.Errorf("no version given: pass -version X.Y.Z (make: VERSION=0.2.0)")
	}
	if err := release.CheckVersion(version); err != nil {
		return releaseResult{}, fmt.Errorf("cannot release: %w", err)
	}
	if stack == "" {
		top, err := release.ReadTopology(dir)
		if err != nil {
			return releaseResult{}, err
		}
		if stack, err = top.Entry(); err != nil {
			return releaseResult{}, err
		}
	}
	g := git{dir: dir}
	if err := checkReleasable(ctx, g, version); err != nil {
		return releaseResult{}, err
	}
	test, err := readStackFile(dir, stack)
	if err != nil {
		return releaseResult{}, err
	}
	if release.CheckVersion(test.version()) != nil {
		return releaseResult{}, fmt.Errorf("%s's %s %q in %s is not a version: fix it (make bump STACK=%s VERSION=X.Y.Z FORCE=1) and commit, then release", stack, versionKey, test.version(), test.path, stack)
	}
	if c, _ := release.Compare(version, test.version()); c <= 0 {
		next, _ := release.NextPatch(test.version())
		return releaseResult{}, fmt.Errorf("cannot release %s: %s is already at %s and a release must be newer; use a greater version, for example %s", version, stack, test.version(), next)
	}

	// Everything is checked; from here on each step undoes or explains itself if it fails.
	original := test.raw
	if err := test.setVersion(version); err != nil {
		return releaseResult{}, err
	}
	name := filepath.Base(test.path)
	msg := fmt.Sprintf("release %s: deploy to %s", version, stack)
	if _, err := g.run(ctx, "commit", "--quiet", "-m", msg, "--", name); err != nil {
		if rerr := writeFileAtomic(test.path, original, test.mode); rerr != nil {
			return releaseResult{}, fmt.Errorf("%w; restoring %s also failed: %v (run git checkout -- %s)", err, name, rerr, name)
		}
		return releaseResult{}, fmt.Errorf("%w; %s is restored, nothing changed: fix the git problem and run release again", err, name)
	}
	commit, err := g.run(ctx, "rev-parse", "--short", "HEAD")
	if err != nil {
		return releaseResult{}, err
	}
	if _, err := g.run(ctx, "tag", "--annotate", "--message", "release "+version, version, "HEAD"); err != nil {
		return releaseResult{}, fmt.Errorf("%w; commit %s (%q) is made but not tagged: fix the problem and run git tag -a %s -m \"release %s\" %s", err, commit, msg, version, version, commit)
	}
	return releaseResult{stack: stack, version: version, commit: commit}, nil
}

// checkReleasable checks every git precondition before anything is written.
func checkReleasable(ctx context.Context, g git, version string) error {
	if _, err := g.run(ctx, "rev-parse", "--is-inside-work-tree"); err != nil {
		return fmt.Errorf("cannot release outside a git work tree (%v): run from the repository root or pass -dir", err)
	}
	status, err := g.run(ctx, "status", "--porcelain")
	if err != nil {
		return err
	}
	if status != "" {
		return fmt.Errorf("the working tree is not clean, so the release commit would not match what you tested:\n%s\ncommit or remove these changes, then release again", indent(status))
	}
	if _, err := g.run(ctx, "symbolic-ref", "--quiet", "HEAD"); err != nil {
		return fmt.Errorf("HEAD is detached, so the release commit would be on no branch: check out main (git switch main) and release again")
	}
	if g.ok(ctx, "rev-parse", "--quiet", "--verify", "refs/tags/"+version) {
		return fmt.Errorf("tag %s already exists, so %s was already released: pick a new version (see git tag --list)", version, version)
	}
	// A missing identity would only fail at commit time; ask now, before the file is touched.
	if _, err := g.run(ctx, "var", "GIT_COMMITTER_IDENT"); err != nil {
		return fmt.Errorf("git has no committer identity (%v): set git config user.name and user.email, then release again", err)
	}
	return nil
}

func indent(s string) string {
	return "  " + strings.ReplaceAll(s, "\n", "\n  ")
}
