package settings

import (
	"fmt"

	"github.com/Masterminds/semver/v3"
)

// TestedVersion is what the promotion source stack reports: the version it runs, if any.
type TestedVersion struct {
	Stack   string // the stack reference name, e.g. organization/jobs/test
	Version string // empty when the stack has no version output
}

// CheckPromotion is the promotion guard: a stack that promotes from another one may not run a
// version newer than the one that stack has deployed. It returns a warning (to log) when the
// guard is overridden with jobs:allowUntestedVersion, and an error when it stops the update.
func CheckPromotion(c Config, tested TestedVersion) (warning string, err error) {
	override := "set jobs:allowUntestedVersion to true on stack " + c.Stack + " to deploy it anyway"
	var problem string
	switch {
	case tested.Version == "":
		problem = fmt.Sprintf("stack %s has no version output: it has deployed nothing, so version %s of stack %s is untested",
			tested.Stack, c.Version, c.Stack)
	default:
		own, err := semver.StrictNewVersion(c.Version)
		if err != nil {
			return "", fmt.Errorf("config jobs:version = %q: %w", c.Version, err)
		}
		test, err := semver.StrictNewVersion(tested.Version)
		if err != nil {
			problem = fmt.Sprintf("stack %s reports version %q, which is not a semantic version, so version %s of stack %s cannot be compared with it",
				tested.Stack, tested.Version, c.Version, c.Stack)
			break
		}
		if !own.GreaterThan(test) {
			return "", nil
		}
		problem = fmt.Sprintf("version %s of stack %s is newer than version %s deployed on stack %s, so it is untested",
			c.Version, c.Stack, tested.Version, tested.Stack)
	}
	if c.AllowUntestedVersion {
		return problem + "; deploying it anyway because jobs:allowUntestedVersion is true", nil
	}
	return "", fmt.Errorf("promotion guard: %s; deploy %s to %s first, or %s", problem, c.Version, tested.Stack, override)
}
