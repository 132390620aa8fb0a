// Package settings reads the stack configuration once and validates every key in one place, so
// that a bad value stops `pulumi preview` before any resource is registered.
package settings

import (
	"fmt"
	"strings"

	"github.com/Masterminds/semver/v3"
)

// CheckVersion is the one rule for release versions, shared by the program and the release tool:
// a strict MAJOR.MINOR.PATCH with an optional pre-release, never "latest" and never a "v" prefix,
// because the git tag, the image tag and the stack config must be the same string.
func CheckVersion(v string) error {
	if strings.EqualFold(v, "latest") {
		return fmt.Errorf("%q is not a version: use a semantic version like 0.1.0, never latest", v)
	}
	if _, err := semver.StrictNewVersion(v); err != nil {
		return fmt.Errorf("%q is not a strict semantic version MAJOR.MINOR.PATCH[-PRERELEASE] (for example 0.1.0 or 1.2.0-rc.1)", v)
	}
	return nil
}
