package release

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/Masterminds/semver/v3"
)

// A review stack is a short-lived environment of one pull request: stack pr-<number>. The number
// is what GitHub shows, unique in the repository and the same for every push to the pull request,
// so each push updates the one review stack and two pull requests never share one. The stack
// name prefixes every Kubernetes object name (<stack>-jobs, <stack>-redis-ingress), so it must
// stay a short DNS-1035 label: reviewPrefix plus at most MaxReviewDigits digits keeps the
// longest object name far inside 63 characters (program tests check every name the program
// registers for the longest one).
const (
	reviewPrefix = "pr-"
	// MaxReviewDigits bounds the pull request number: 8 digits, 99,999,999 pull requests.
	MaxReviewDigits = 8
)

var (
	reviewNumberRe = regexp.MustCompile(`^[1-9][0-9]*$`)
	reviewStackRe  = regexp.MustCompile(`^pr-[1-9][0-9]*$`)
	// reviewPreRe is the pre-release a review version ends with: pr.<number>.
	reviewPreRe = regexp.MustCompile(`(^|\.)pr\.[1-9][0-9]*$`)
)

// ReviewStack is the review stack of pull request pr (its number, as GitHub shows it without
// '#'): pr-<number>.
func ReviewStack(pr string) (string, error) {
	if !reviewNumberRe.MatchString(pr) || len(pr) > MaxReviewDigits {
		return "", fmt.Errorf("PR=%q is not a pull request number: give the number GitHub shows, without '#' or leading zeros, "+
			"1 to %s (at most %d digits, so the review stack's name stays a short DNS label); for example PR=7", pr,
			strings.Repeat("9", MaxReviewDigits), MaxReviewDigits)
	}
	return reviewPrefix + pr, nil
}

// IsReviewStack reports whether stack (or a stack reference's stack) is a review stack.
func IsReviewStack(stack string) bool {
	s := StackOf(stack)
	return reviewStackRe.MatchString(s) && len(s) <= len(reviewPrefix)+MaxReviewDigits
}

// ReviewVersion is the version a review stack builds its images with: the version of the stack
// releases land on with pre-release pr.<number> added (0.2.0 -> 0.2.0-pr.7, 0.2.0-rc.1 ->
// 0.2.0-rc.1.pr.7). A tag of its own, so a review never pushes over a tag test or prod runs;
// a pre-release, so it ranks below the release it previews.
func ReviewVersion(version, stack string) (string, error) {
	if !IsReviewStack(stack) {
		return "", fmt.Errorf("stack %s is not a review stack (pr-<number>)", stack)
	}
	if err := CheckVersion(version); err != nil {
		return "", err
	}
	if IsReviewVersion(version) {
		return "", fmt.Errorf("version %s is already a review version: start from the version of the stack releases land on", version)
	}
	n := strings.TrimPrefix(stack, reviewPrefix)
	sv, _ := semver.StrictNewVersion(version)
	pre := "pr." + n
	if sv.Prerelease() != "" {
		pre = sv.Prerelease() + "." + pre
	}
	return fmt.Sprintf("%d.%d.%d-%s", sv.Major(), sv.Minor(), sv.Patch(), pre), nil
}

// IsReviewVersion reports whether v is a review stack's version (its pre-release ends pr.<n>).
func IsReviewVersion(v string) bool {
	sv, err := semver.StrictNewVersion(v)
	return err == nil && reviewPreRe.MatchString(sv.Prerelease())
}

// reviewNumber is a review stack's pull request number, for messages.
func reviewNumber(stack string) string {
	n, _ := strconv.Atoi(strings.TrimPrefix(StackOf(stack), reviewPrefix))
	return strconv.Itoa(n)
}
