package program

import (
	"fmt"
	"strings"
	"testing"
)

func TestPromotionGuard(t *testing.T) {
	const how = "; deploy 0.2.0 to organization/jobs/test first, or set jobs:allowUntestedVersion to true on stack prod to deploy it anyway"
	cases := []struct {
		name   string
		o      runOptions
		wantOK bool
		want   string
	}{
		{"same version as test", runOptions{set: map[string]string{"jobs:version": "0.2.0"}, tested: ptr("0.2.0")}, true, ""},
		{"older than test", runOptions{set: map[string]string{"jobs:version": "0.2.0"}, tested: ptr("0.3.0")}, true, ""},
		{"newer than test", runOptions{set: map[string]string{"jobs:version": "0.2.0"}, tested: ptr("0.1.9")}, false,
			"promotion guard: version 0.2.0 of stack prod is newer than version 0.1.9 deployed on stack organization/jobs/test, so it is untested" + how},
		{"pre-release below its release", runOptions{set: map[string]string{"jobs:version": "0.2.0"}, tested: ptr("0.2.0-rc.1")}, false,
			"promotion guard: version 0.2.0 of stack prod is newer than version 0.2.0-rc.1 deployed on stack organization/jobs/test, so it is untested" + how},
		{"test stack deployed nothing", runOptions{set: map[string]string{"jobs:version": "0.2.0"}, noTestStack: true}, false,
			"promotion guard: stack organization/jobs/test has no version output: it has deployed nothing, so version 0.2.0 of stack prod is untested" + how},
		{"override newer", runOptions{set: map[string]string{"jobs:version": "0.2.0", "jobs:allowUntestedVersion": "true"}, tested: ptr("0.1.9")}, true, ""},
		{"override nothing deployed", runOptions{set: map[string]string{"jobs:version": "0.2.0", "jobs:allowUntestedVersion": "true"}, noTestStack: true}, true, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := runStack(t, "prod", c.o)
			if len(r.eng.Reads()) != 1 || r.eng.Reads()[0] != "organization/jobs/test" {
				t.Errorf("want one read of stack organization/jobs/test, got %v", r.eng.Reads())
			}
			if c.wantOK {
				if r.err != nil {
					t.Fatalf("guard stopped a permitted deploy: %v", r.err)
				}
				if len(r.eng.Resources()) == 0 {
					t.Fatal("nothing was registered")
				}
				return
			}
			if r.deployErr == nil {
				t.Fatal("guard let an untested version through")
			}
			if got := r.deployErr.Error(); got != c.want {
				t.Errorf("error:\n got %s\nwant %s", got, c.want)
			}
			if len(r.eng.Resources()) != 0 {
				t.Errorf("resources registered before the guard decided: %s", r.registeredNames())
			}
		})
	}
}

// TestNoPromotionGuardOnTest: the test stack promotes from nothing, so it reads no other stack.
func TestNoPromotionGuardOnTest(t *testing.T) {
	r := mustRun(t, "test", runOptions{})
	if len(r.eng.Reads()) != 0 {
		t.Errorf("the test stack read %v", r.eng.Reads())
	}
}

// TestProdReusesTestedImages: prod at test's version runs test's exact digests and builds
// nothing, so it neither rebuilds the bytes test checked nor pushes over test's tag.
func TestProdReusesTestedImages(t *testing.T) {
	tested := testedDigests("localhost:5000/jobs", "0.1.0")
	r := mustRun(t, "prod", runOptions{testOutputs: tested,
		set: map[string]string{"jobs:version": "0.1.0", "jobs:registry": "localhost:5000/jobs"}})
	if got, w := r.registeredNames(), strings.Join(expectedResources(stackSettings(t, root, "prod"), false), "\n"); got != w {
		t.Fatalf("registered:\n%s\nwant (no docker.Image):\n%s", got, w)
	}
	for _, target := range []string{"api", "worker"} {
		ref := tested[target+"Image"]
		want(t, target+" container image", in(t, r.one(t, typeDeployment, "prod-"+target)), ref,
			"spec", "template", "spec", "containers", 0, "image")
		want(t, target+"Image output", r.exports, ref, target+"Image")
	}
	line := "info: stack prod reuses the images stack organization/jobs/test tested at version 0.1.0: " +
		tested["apiImage"].(string) + " and " + tested["workerImage"].(string) + " (nothing is built or pushed)"
	if !r.hasLog(line) {
		t.Errorf("log:\n%s\nwant the line:\n%s", strings.Join(r.logs, "\n"), line)
	}
}

// TestProdBuildsWhenTestedImagesDoNotFit: whenever test's images are not prod's release in
// prod's registry, prod deploys as jobs:build says, never fails for it, and logs why.
func TestProdBuildsWhenTestedImagesDoNotFit(t *testing.T) {
	const (
		not     = "info: stack prod does not reuse the images of stack organization/jobs/test: "
		builds  = "; building and pushing localhost:5000/jobs/jobs-api:%[1]s and localhost:5000/jobs/jobs-worker:%[1]s from app/ instead (jobs:build is true)"
		byTag   = "; deploying localhost:5000/jobs/jobs-api:%[1]s and localhost:5000/jobs/jobs-worker:%[1]s by tag instead (jobs:build is false)"
		testReg = "localhost:5000/jobs"
	)
	other := testedDigests("registry.example.com/jobs", "0.1.0")
	for _, c := range []struct {
		name    string
		o       runOptions
		version string
		build   bool
		line    string
	}{
		{"prod rolls back to an older version", runOptions{
			set: map[string]string{"jobs:version": "0.1.0"}, tested: ptr("0.2.0"), testOutputs: testedDigests(testReg, "0.2.0"),
		}, "0.1.0", true, not + "it deploys version 0.1.0 but that stack runs 0.2.0, so no image of 0.1.0 was tested there" + builds},
		{"untested version allowed", runOptions{
			set:    map[string]string{"jobs:version": "0.2.0", "jobs:allowUntestedVersion": "true"},
			tested: ptr("0.1.0"), testOutputs: testedDigests(testReg, "0.1.0"),
		}, "0.2.0", true, not + "it deploys version 0.2.0 but that stack runs 0.1.0, so no image of 0.2.0 was tested there" + builds},
		{"test pushed to another registry", runOptions{testOutputs: other}, "0.1.0", true,
			not + `its apiImage output "` + other["apiImage"].(string) + `" is in repository registry.example.com/jobs/jobs-api, not localhost:5000/jobs/jobs-api (jobs:registry of this stack); ` +
				`its workerImage output "` + other["workerImage"].(string) + `" is in repository registry.example.com/jobs/jobs-worker, not localhost:5000/jobs/jobs-worker (jobs:registry of this stack)` + builds},
		{"test exports no images (so it verified none)", runOptions{testOutputs: map[string]any{"apiImage": nil, "workerImage": nil},
			unverified: true, set: map[string]string{"jobs:allowUntestedVersion": "true"}}, "0.1.0", true,
			not + "its apiImage output is missing; its workerImage output is missing" + builds},
		{"test deployed tags", runOptions{testOutputs: map[string]any{
			"apiImage": "localhost:5000/jobs/jobs-api:0.1.0", "workerImage": "localhost:5000/jobs/jobs-worker:0.1.0",
		}}, "0.1.0", true,
			not + `its apiImage output "localhost:5000/jobs/jobs-api:0.1.0" is not a digest reference (<repository>@sha256:<64 hex digits>); ` +
				`its workerImage output "localhost:5000/jobs/jobs-worker:0.1.0" is not a digest reference (<repository>@sha256:<64 hex digits>)` + builds},
		{"test exports a non-string image", runOptions{testOutputs: map[string]any{
			"apiImage": map[string]any{"ref": "x"}, "workerImage": testedDigests(testReg, "0.1.0")["workerImage"],
		}}, "0.1.0", true,
			not + `its apiImage output "map[string]interface {}{\"ref\":\"x\"}" is not a digest reference (<repository>@sha256:<64 hex digits>)` + builds},
		{"rollback with build false", runOptions{
			set: map[string]string{"jobs:version": "0.1.0", "jobs:build": "false"}, tested: ptr("0.2.0"), testOutputs: testedDigests(testReg, "0.2.0"),
		}, "0.1.0", false, not + "it deploys version 0.1.0 but that stack runs 0.2.0, so no image of 0.1.0 was tested there" + byTag},
	} {
		t.Run(c.name, func(t *testing.T) {
			// The versions and the registry are the case's, whatever the stack file holds.
			o := c.o
			o.set = map[string]string{"jobs:version": c.version, "jobs:registry": testReg}
			for k, v := range c.o.set {
				o.set[k] = v
			}
			r := mustRun(t, "prod", o)
			if got, w := r.registeredNames(), strings.Join(expectedResources(stackSettings(t, root, "prod"), c.build), "\n"); got != w {
				t.Fatalf("registered:\n%s\nwant:\n%s", got, w)
			}
			for _, target := range []string{"api", "worker"} {
				ref := "localhost:5000/jobs/jobs-" + target + ":" + c.version
				if c.build {
					img := r.one(t, typeImage, "prod-"+target+"-image")
					want(t, target+" image name", in(t, img), ref, "imageName")
					ref = out(t, img)["repoDigest"].(string)
				}
				want(t, target+" container image", in(t, r.one(t, typeDeployment, "prod-"+target)), ref,
					"spec", "template", "spec", "containers", 0, "image")
				want(t, target+"Image output", r.exports, ref, target+"Image")
			}
			line := c.line
			if strings.Contains(line, "%[1]s") {
				line = fmt.Sprintf(line, c.version)
			}
			if !r.hasLog(line) {
				t.Errorf("log:\n%s\nwant the line:\n%s", strings.Join(r.logs, "\n"), line)
			}
		})
	}
}
