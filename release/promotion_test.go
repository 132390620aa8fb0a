package release

import (
	"strings"
	"testing"
)

func TestCheckPromotion(t *testing.T) {
	const how = "; deploy 0.2.0 to o/jobs/test first, or set jobs:allowUntestedVersion to true on stack prod to deploy it anyway"
	prod := Target{Stack: "prod", Version: "0.2.0", From: "o/jobs/test"}
	for _, c := range []struct {
		name          string
		tested        string
		allow         bool
		warning, fail string
	}{
		{"same version", "0.2.0", false, "", ""},
		{"older than the source (a rollback)", "0.3.0", false, "", ""},
		{"newer than the source", "0.1.9", false, "", "promotion guard: version 0.2.0 of stack prod is newer than version 0.1.9 deployed on stack o/jobs/test, so it is untested" + how},
		{"release above its pre-release", "0.2.0-rc.1", false, "", "promotion guard: version 0.2.0 of stack prod is newer than version 0.2.0-rc.1 deployed on stack o/jobs/test, so it is untested" + how},
		{"source deployed nothing", "", false, "", "promotion guard: stack o/jobs/test has no version output: it has deployed nothing, so version 0.2.0 of stack prod is untested" + how},
		{"source reports garbage", "not-a-version", false, "", `promotion guard: stack o/jobs/test reports version "not-a-version", which is not a semantic version, so version 0.2.0 of stack prod cannot be compared with it` + how},
		{"override newer", "0.1.0", true, "version 0.2.0 of stack prod is newer than version 0.1.0 deployed on stack o/jobs/test, so it is untested; deploying it anyway because jobs:allowUntestedVersion is true", ""},
		{"override nothing deployed", "", true, "stack o/jobs/test has no version output: it has deployed nothing, so version 0.2.0 of stack prod is untested; deploying it anyway because jobs:allowUntestedVersion is true", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			target := prod
			target.AllowUntested = c.allow
			w, err := CheckPromotion(target, Tested{Stack: "o/jobs/test", Version: c.tested})
			if w != c.warning {
				t.Errorf("warning:\n got %q\nwant %q", w, c.warning)
			}
			if (err == nil) != (c.fail == "") || (err != nil && err.Error() != c.fail) {
				t.Errorf("error:\n got %v\nwant %s", err, c.fail)
			}
		})
	}
}

func TestReuseTested(t *testing.T) {
	const (
		hexA   = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
		hexB   = "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"
		api    = "localhost:5000/jobs/jobs-api@sha256:" + hexA
		worker = "localhost:5000/jobs/jobs-worker@sha256:" + hexB
		not    = "stack prod does not reuse the images of stack o/jobs/test: "
	)
	prod := Target{Stack: "prod", Version: "1.1.0", Registry: "localhost:5000/jobs", From: "o/jobs/test"}
	tested := func(version string, images Images) Tested {
		return Tested{Stack: "o/jobs/test", Version: version, Images: images}
	}
	both := Images{"api": api, "worker": worker}
	with := func(change func(*Target)) Target { t := prod; change(&t); return t }
	for _, c := range []struct {
		name   string
		target Target
		tested Tested
		reuse  bool
		reason string
	}{
		{"same version, digests in this registry", prod, tested("1.1.0", both), true,
			"stack prod reuses the images stack o/jobs/test tested at version 1.1.0: " + api + " and " + worker + " (nothing is built or pushed)"},
		{"rollback to an older version", with(func(t *Target) { t.Version = "1.0.0" }), tested("1.1.0", both), false,
			not + "it deploys version 1.0.0 but that stack runs 1.1.0, so no image of 1.0.0 was tested there"},
		{"untested newer version", with(func(t *Target) { t.Version = "1.2.0"; t.AllowUntested = true }), tested("1.1.0", both), false,
			not + "it deploys version 1.2.0 but that stack runs 1.1.0, so no image of 1.2.0 was tested there"},
		{"equal precedence but another build", with(func(t *Target) { t.Version = "1.1.0+b.2" }), tested("1.1.0", both), false,
			not + "it deploys version 1.1.0+b.2 but that stack runs 1.1.0, so no image of 1.1.0+b.2 was tested there"},
		{"no tested version", prod, tested("", both), false, not + "that stack reports no version"},
		{"no image outputs", prod, tested("1.1.0", Images{}), false,
			not + "its apiImage output is missing; its workerImage output is missing"},
		{"tags instead of digests", prod, tested("1.1.0", Images{"api": "localhost:5000/jobs/jobs-api:1.1.0", "worker": worker}), false,
			not + `its apiImage output "localhost:5000/jobs/jobs-api:1.1.0" is not a digest reference (<repository>@sha256:<64 hex digits>)`},
		{"short digest", prod, tested("1.1.0", Images{"api": api, "worker": "localhost:5000/jobs/jobs-worker@sha256:abc"}), false,
			not + `its workerImage output "localhost:5000/jobs/jobs-worker@sha256:abc" is not a digest reference (<repository>@sha256:<64 hex digits>)`},
		{"another registry", prod, tested("1.1.0", Images{"api": "registry.example.com/jobs/jobs-api@sha256:" + hexA, "worker": worker}), false,
			not + `its apiImage output "registry.example.com/jobs/jobs-api@sha256:` + hexA + `" is in repository registry.example.com/jobs/jobs-api, not localhost:5000/jobs/jobs-api (jobs:registry of this stack)`},
		{"api and worker swapped", prod, tested("1.1.0", Images{"api": worker, "worker": api}), false,
			not + `its apiImage output "` + worker + `" is in repository localhost:5000/jobs/jobs-worker, not localhost:5000/jobs/jobs-api (jobs:registry of this stack); ` +
				`its workerImage output "` + api + `" is in repository localhost:5000/jobs/jobs-api, not localhost:5000/jobs/jobs-worker (jobs:registry of this stack)`},
		{"no promotion source", with(func(t *Target) { t.From = "" }), tested("1.1.0", both), false,
			"stack prod promotes from no stack (jobs:promoteFrom is unset)"},
	} {
		t.Run(c.name, func(t *testing.T) {
			reuse, reason := ReuseTested(c.target, c.tested)
			if reuse != c.reuse || reason != c.reason {
				t.Errorf("got reuse %v, reason:\n %s\nwant reuse %v, reason:\n %s", reuse, reason, c.reuse, c.reason)
			}
			if !reuse && strings.Contains(reason, "reuses") {
				t.Errorf("a refusal reads like a reuse: %s", reason)
			}
		})
	}
}
