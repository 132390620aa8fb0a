package settings

import (
	"strings"
	"testing"
)

func TestReuseTestedImages(t *testing.T) {
	const (
		hexA   = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
		hexB   = "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"
		api    = "localhost:5000/jobs/jobs-api@sha256:" + hexA
		worker = "localhost:5000/jobs/jobs-worker@sha256:" + hexB
		not    = "stack prod does not reuse the images of stack o/jobs/test: "
	)
	prod := Config{Stack: "prod", Version: "1.1.0", Registry: "localhost:5000/jobs", PromoteFrom: "o/jobs/test"}
	tested := TestedVersion{Stack: "o/jobs/test", Version: "1.1.0"}
	both := TestedImages{API: api, Worker: worker}
	for _, c := range []struct {
		name   string
		cfg    Config
		tested TestedVersion
		images TestedImages
		reuse  bool
		reason string
	}{
		{"same version, digests in this registry", prod, tested, both, true,
			"stack prod reuses the images stack o/jobs/test tested at version 1.1.0: " + api + " and " + worker + " (nothing is built or pushed)"},
		{"rollback to an older version", func() Config { c := prod; c.Version = "1.0.0"; return c }(), tested, both, false,
			not + "it deploys version 1.0.0 but that stack runs 1.1.0, so no image of 1.0.0 was tested there"},
		{"untested newer version", func() Config { c := prod; c.Version = "1.2.0"; c.AllowUntestedVersion = true; return c }(), tested, both, false,
			not + "it deploys version 1.2.0 but that stack runs 1.1.0, so no image of 1.2.0 was tested there"},
		// Build metadata makes equal semantic versions different releases, so equality is exact.
		{"semver-equal but different string", func() Config { c := prod; c.Version = "1.1.0+b.2"; return c }(), tested, both, false,
			not + "it deploys version 1.1.0+b.2 but that stack runs 1.1.0, so no image of 1.1.0+b.2 was tested there"},
		{"no tested version", prod, TestedVersion{Stack: "o/jobs/test"}, both, false, not + "that stack reports no version"},
		{"no image outputs", prod, tested, TestedImages{}, false,
			not + "its apiImage output is missing; its workerImage output is missing"},
		{"tags instead of digests", prod, tested, TestedImages{API: "localhost:5000/jobs/jobs-api:1.1.0", Worker: worker}, false,
			not + `its apiImage output "localhost:5000/jobs/jobs-api:1.1.0" is not a digest reference (<repository>@sha256:<64 hex digits>)`},
		{"short digest", prod, tested, TestedImages{API: api, Worker: "localhost:5000/jobs/jobs-worker@sha256:abc"}, false,
			not + `its workerImage output "localhost:5000/jobs/jobs-worker@sha256:abc" is not a digest reference (<repository>@sha256:<64 hex digits>)`},
		{"another registry", prod, tested, TestedImages{API: "registry.example.com/jobs/jobs-api@sha256:" + hexA, Worker: worker}, false,
			not + `its apiImage output "registry.example.com/jobs/jobs-api@sha256:` + hexA + `" is in repository registry.example.com/jobs/jobs-api, not localhost:5000/jobs/jobs-api (jobs:registry of this stack)`},
		{"api and worker swapped", prod, tested, TestedImages{API: worker, Worker: api}, false,
			not + `its apiImage output "` + worker + `" is in repository localhost:5000/jobs/jobs-worker, not localhost:5000/jobs/jobs-api (jobs:registry of this stack); ` +
				`its workerImage output "` + api + `" is in repository localhost:5000/jobs/jobs-api, not localhost:5000/jobs/jobs-worker (jobs:registry of this stack)`},
		{"no promotion source", func() Config { c := prod; c.PromoteFrom = ""; return c }(), tested, both, false,
			"stack prod promotes from no stack (jobs:promoteFrom is unset)"},
	} {
		t.Run(c.name, func(t *testing.T) {
			reuse, reason := ReuseTestedImages(c.cfg, c.tested, c.images)
			if reuse != c.reuse || reason != c.reason {
				t.Errorf("got reuse %v, reason:\n %s\nwant reuse %v, reason:\n %s", reuse, reason, c.reuse, c.reason)
			}
			if !reuse && strings.Contains(reason, "reuses") {
				t.Errorf("a refusal reads like a reuse: %s", reason)
			}
		})
	}
}
