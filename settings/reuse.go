package settings

import (
	"fmt"
	"regexp"
	"strings"
)

// TestedImages are the image references the promotion source stack exports (its apiImage and
// workerImage outputs); empty when it exports none.
type TestedImages struct {
	API    string
	Worker string
}

// digestRefRe is <repository>@sha256:<64 hex>, the form docker.Image's repoDigest takes. Only
// such a reference names fixed bytes: a tag can be pushed again, a digest cannot.
var digestRefRe = regexp.MustCompile(`^([^@\s]+)@sha256:[0-9a-f]{64}$`)

// ReuseTestedImages decides whether a stack that promotes from another one deploys that stack's
// images instead of building its own, so prod runs the very bytes that were checked on test and
// never pushes over test's version tag. It reuses them only when this stack runs exactly the
// version the source stack runs (a rollback or an untested version has no tested image there)
// and both references are digest references in this stack's own repositories (so the pods pull
// from the registry this stack is configured for). reason says why, for the log, either way.
func ReuseTestedImages(c Config, tested TestedVersion, images TestedImages) (reuse bool, reason string) {
	if c.PromoteFrom == "" {
		return false, fmt.Sprintf("stack %s promotes from no stack (jobs:promoteFrom is unset)", c.Stack)
	}
	notReused := fmt.Sprintf("stack %s does not reuse the images of stack %s: ", c.Stack, tested.Stack)
	if tested.Version == "" {
		return false, notReused + "that stack reports no version"
	}
	if c.Version != tested.Version {
		return false, notReused + fmt.Sprintf("it deploys version %s but that stack runs %s, so no image of %s was tested there",
			c.Version, tested.Version, c.Version)
	}
	var problems []string
	for _, img := range []struct{ output, ref, repo string }{
		{"apiImage", images.API, c.Registry + "/jobs-api"},
		{"workerImage", images.Worker, c.Registry + "/jobs-worker"},
	} {
		if p := digestProblem(img.output, img.ref, img.repo); p != "" {
			problems = append(problems, p)
		}
	}
	if len(problems) > 0 {
		return false, notReused + strings.Join(problems, "; ")
	}
	return true, fmt.Sprintf("stack %s reuses the images stack %s tested at version %s: %s and %s (nothing is built or pushed)",
		c.Stack, tested.Stack, tested.Version, images.API, images.Worker)
}

// digestProblem says what keeps ref from being a digest reference in repository repo, or "".
func digestProblem(output, ref, repo string) string {
	if ref == "" {
		return fmt.Sprintf("its %s output is missing", output)
	}
	m := digestRefRe.FindStringSubmatch(ref)
	if m == nil {
		return fmt.Sprintf("its %s output %q is not a digest reference (<repository>@sha256:<64 hex digits>)", output, ref)
	}
	if m[1] != repo {
		return fmt.Sprintf("its %s output %q is in repository %s, not %s (jobs:registry of this stack)", output, ref, m[1], repo)
	}
	return ""
}
