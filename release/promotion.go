package release

import (
	"fmt"
	"regexp"
	"strings"
)

// Target is the stack being deployed, as far as promotion is concerned.
type Target struct {
	Stack    string
	Version  string
	Registry string // server plus repository prefix its images live under
	// From is the stack it promotes from (jobs:promoteFrom); empty: it promotes from none.
	From string
	// AllowUntested lets it run a version its source has not deployed (jobs:allowUntestedVersion).
	AllowUntested bool
}

// Tested is what the promotion source reports: the version it runs and the images it runs it
// with, by component. Version is empty when it reports none; a missing image is "".
type Tested struct {
	Stack   string
	Version string
	Images  Images
	// Verification is the record of its last passing make verify; nil when it reports none.
	Verification *Verification
}

// Images are image references by component (see Components).
type Images map[string]string

// OutputName is the stack output that exports a component's image reference (apiImage, ...).
func OutputName(component string) string { return component + "Image" }

// CheckPromotion is the promotion guard: a stack that promotes from another one may not run a
// version newer than the one that stack has deployed. It returns a warning (to log) when the
// guard is overridden with AllowUntested, and an error when it stops the update.
func CheckPromotion(t Target, tested Tested) (warning string, err error) {
	override := "set jobs:allowUntestedVersion to true on stack " + t.Stack + " to deploy it anyway"
	// A review version names images built from an unmerged pull request: no override makes
	// them a release, and a review stack is never a source (CheckSource).
	if IsReviewVersion(t.Version) {
		return "", fmt.Errorf("promotion guard: version %s of stack %s is a review stack's version (pre-release pr.<number>), "+
			"built from a pull request before it was merged; promote a released version (make release, then make promote)", t.Version, t.Stack)
	}
	if IsReviewStack(tested.Stack) {
		return "", fmt.Errorf("promotion guard: stack %s would promote from review stack %s: %w", t.Stack, StackOf(tested.Stack), CheckSource(t.Stack, tested.Stack))
	}
	var problem string
	switch {
	case tested.Version == "":
		problem = fmt.Sprintf("stack %s has no version output: it has deployed nothing, so version %s of stack %s is untested",
			tested.Stack, t.Version, t.Stack)
	default:
		if err := CheckVersion(t.Version); err != nil {
			return "", fmt.Errorf("config jobs:version = %q: %w", t.Version, err)
		}
		if CheckVersion(tested.Version) != nil {
			problem = fmt.Sprintf("stack %s reports version %q, which is not a semantic version, so version %s of stack %s cannot be compared with it",
				tested.Stack, tested.Version, t.Version, t.Stack)
			break
		}
		if c, _ := Compare(t.Version, tested.Version); c <= 0 {
			return "", nil
		}
		problem = fmt.Sprintf("version %s of stack %s is newer than version %s deployed on stack %s, so it is untested",
			t.Version, t.Stack, tested.Version, tested.Stack)
	}
	if t.AllowUntested {
		return problem + "; deploying it anyway because jobs:allowUntestedVersion is true", nil
	}
	return "", fmt.Errorf("promotion guard: %s; deploy %s to %s first, or %s", problem, t.Version, tested.Stack, override)
}

// digestRefRe is <repository>@sha256:<64 hex>, the form docker.Image's repoDigest takes. Only
// such a reference names fixed bytes: a tag can be pushed again, a digest cannot.
var digestRefRe = regexp.MustCompile(`^([^@\s]+)@sha256:[0-9a-f]{64}$`)

// ReuseTested decides whether a stack that promotes from another one deploys that stack's images
// instead of building its own, so prod runs the very bytes that were checked on test and never
// pushes over test's version tag. It reuses them only when the target runs exactly the version
// the source runs (a rollback or an untested version has no tested image there; build metadata
// makes equal-ranking versions different builds, so equality is on the string) and every image
// is a digest reference in the target's own repositories (so its pods pull from the registry it
// is configured for). reason says why, for the log, either way.
func ReuseTested(t Target, tested Tested) (reuse bool, reason string) {
	if t.From == "" {
		return false, fmt.Sprintf("stack %s promotes from no stack (jobs:promoteFrom is unset)", t.Stack)
	}
	notReused := fmt.Sprintf("stack %s does not reuse the images of stack %s: ", t.Stack, tested.Stack)
	if tested.Version == "" {
		return false, notReused + "that stack reports no version"
	}
	if t.Version != tested.Version {
		return false, notReused + fmt.Sprintf("it deploys version %s but that stack runs %s, so no image of %s was tested there",
			t.Version, tested.Version, t.Version)
	}
	var problems, refs []string
	for _, c := range Components {
		ref := tested.Images[c]
		if p := digestProblem(OutputName(c), ref, Repository(t.Registry, c)); p != "" {
			problems = append(problems, p)
		}
		refs = append(refs, ref)
	}
	if len(problems) > 0 {
		return false, notReused + strings.Join(problems, "; ")
	}
	return true, fmt.Sprintf("stack %s reuses the images stack %s tested at version %s: %s (nothing is built or pushed)",
		t.Stack, tested.Stack, tested.Version, strings.Join(refs, " and "))
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
