// Package release holds the rules of a release that the Pulumi program and tools/release share:
// what a version is and how versions order, how the images of a release are named, which stack
// promotes from which, and when a stack may deploy what another stack has tested.
package release

import (
	"fmt"
	"strings"

	"github.com/Masterminds/semver/v3"
)

// CheckVersion is the one rule for release versions: a strict MAJOR.MINOR.PATCH with an optional
// pre-release, never "latest", never a "v" prefix and never build metadata, because the git tag,
// the image tag and the stack config must be the same string, and a Docker tag cannot hold the
// '+' that starts build metadata (1.2.3+build.5 is semver, but no image can be tagged with it).
func CheckVersion(v string) error {
	if strings.EqualFold(v, "latest") {
		return fmt.Errorf("%q is not a version: use a semantic version like 0.1.0, never latest", v)
	}
	sv, err := semver.StrictNewVersion(v)
	if err != nil {
		return fmt.Errorf("%q is not a strict semantic version MAJOR.MINOR.PATCH[-PRERELEASE] (for example 0.1.0 or 1.2.0-rc.1)", v)
	}
	if meta := sv.Metadata(); meta != "" {
		pre := sv.Prerelease()
		if pre != "" {
			pre += "."
		}
		suggestion := fmt.Sprintf("%d.%d.%d-%s%s", sv.Major(), sv.Minor(), sv.Patch(), pre, meta)
		return fmt.Errorf("%q carries build metadata (+%s): the version is also the image tag, and a Docker tag cannot hold '+'; "+
			"drop it, or make it part of a pre-release such as %s", v, meta, suggestion)
	}
	return nil
}

// Compare orders two versions that passed CheckVersion by semantic-version precedence: -1 when a
// is older than b, 0 when they rank equal, 1 when a is newer.
func Compare(a, b string) (int, error) {
	va, err := semver.StrictNewVersion(a)
	if err != nil {
		return 0, fmt.Errorf("%q: %w", a, CheckVersion(a))
	}
	vb, err := semver.StrictNewVersion(b)
	if err != nil {
		return 0, fmt.Errorf("%q: %w", b, CheckVersion(b))
	}
	return va.Compare(vb), nil
}

// NextPatch is the version one patch release after v, the suggestion when a release must be newer.
func NextPatch(v string) (string, error) {
	sv, err := semver.StrictNewVersion(v)
	if err != nil {
		return "", CheckVersion(v)
	}
	return sv.IncPatch().String(), nil
}

// CheckForward refuses to move a stack to an older version unless forced, because an accidental
// downgrade ships old code and is easy to miss in a one-line diff. A current value that is no
// version cannot be compared; replacing it with a valid one is the fix, so it passes.
func CheckForward(stack, current, next string, force bool) error {
	c, err := Compare(next, current)
	if err != nil || c >= 0 || force {
		return nil
	}
	return fmt.Errorf("refusing to move %s back from %s to %s: if this is a rollback, run again with -force (make: FORCE=1)", stack, current, next)
}
