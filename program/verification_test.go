package program

import (
	"fmt"
	"strings"
	"testing"

	"github.com/example/jobs/release"
)

// TestVerificationGuard: prod takes the version test runs only with test's verification of it,
// with the digests test runs, recorded by test; the override deploys it anyway and says so.
func TestVerificationGuard(t *testing.T) {
	const (
		reg  = "localhost:5000/jobs"
		head = "promotion guard: version 0.2.0 of stack prod is unverified: "
		how  = "; run make verify STACK=test (it checks the stack and records the pass), or set jobs:allowUntestedVersion to true on stack prod to deploy it anyway"
	)
	runs := testedDigests(reg, "0.2.0")
	other := testedDigests(reg, "another build")
	record := func(change func(map[string]any)) map[string]any {
		r := verifiedRecord("test", "0.2.0", runs)
		change(r)
		return r
	}
	for _, c := range []struct {
		name   string
		o      runOptions
		reuses bool
		fail   string
		warn   string
	}{
		{"verified with the digests test runs", runOptions{}, true, "", ""},
		{"unverified", runOptions{unverified: true}, false,
			head + "stack organization/jobs/test runs version 0.2.0 but has not verified it (it reports no verification output)" + how, ""},
		{"verified with other digests", runOptions{verification: record(func(r map[string]any) { r["apiImage"] = other["apiImage"] })}, false,
			head + "the verification stack organization/jobs/test reports does not cover what it runs (it verified apiImage " + other["apiImage"].(string) +
				" but the stack runs " + runs["apiImage"].(string) + ")" + how, ""},
		{"a verification recorded by another stack", runOptions{verification: record(func(r map[string]any) { r["stack"] = "staging" })}, false,
			head + "the verification stack organization/jobs/test reports does not cover what it runs (it was recorded by stack staging, not by stack test)" + how, ""},
		{"a record that is not one", runOptions{verification: map[string]any{"passed": true}}, false,
			`promotion guard: output verification of stack organization/jobs/test: not a verification record`, ""},
		{"override of the unverified", runOptions{unverified: true, set: map[string]string{"jobs:allowUntestedVersion": "true"}}, true, "",
			"warning: version 0.2.0 of stack prod is unverified: stack organization/jobs/test runs version 0.2.0 but has not verified it (it reports no verification output); deploying it anyway because jobs:allowUntestedVersion is true"},
	} {
		t.Run(c.name, func(t *testing.T) {
			o := c.o
			o.testOutputs = runs
			o.tested = ptr("0.2.0")
			o.set = map[string]string{"jobs:version": "0.2.0", "jobs:registry": reg}
			for k, v := range c.o.set {
				o.set[k] = v
			}
			r := runStack(t, "prod", o)
			if c.fail != "" {
				if r.deployErr == nil || !strings.HasPrefix(r.deployErr.Error(), c.fail) {
					t.Fatalf("error:\n got %v\nwant %s", r.deployErr, c.fail)
				}
				if len(r.eng.Resources()) != 0 {
					t.Errorf("resources registered before the guard decided: %s", r.registeredNames())
				}
				return
			}
			if r.err != nil {
				t.Fatalf("guard stopped a permitted deploy: %v", r.err)
			}
			if c.warn != "" && !r.hasLog(c.warn) {
				t.Errorf("log:\n%s\nwant the line:\n%s", strings.Join(r.logs, "\n"), c.warn)
			}
			if got := r.exports["apiImage"]; (got == runs["apiImage"]) != c.reuses {
				t.Errorf("prod runs %v; reuse of test's %v wanted: %v", got, runs["apiImage"], c.reuses)
			}
		})
	}
}

// TestVerificationOutput: a stack exports the record of make verify only while it runs what the
// record verified; another version or other images void it, with a warning naming the command.
func TestVerificationOutput(t *testing.T) {
	// The images the test stack builds under the mock engine, read from a first run.
	plain := mustRun(t, "test", runOptions{})
	// Test's stack file holds no record, or one make up wrote after a real verify, whose digests
	// the mocks never build: either way nothing is vouched for.
	if v, ok := plain.exports["verification"]; ok && (v != nil || plain.config[release.VerificationKey] == "") {
		t.Fatalf("a stack never verified here exports verification %v", v)
	}
	version := plain.config["jobs:version"]
	images := release.Images{}
	for _, c := range release.Components {
		images[c] = plain.exports[release.OutputName(c)].(string)
	}
	good := release.Verification{Stack: "test", Version: version, Images: images}
	for _, c := range []struct {
		name   string
		record release.Verification
		void   string
	}{
		{"the version and images it verified", good, ""},
		{"other images", release.Verification{Stack: "test", Version: version, Images: release.Images{release.API: "x/jobs-api@sha256:00", release.Worker: images[release.Worker]}},
			"it verified apiImage x/jobs-api@sha256:00 but the stack runs " + images[release.API]},
		{"another version", release.Verification{Stack: "test", Version: "9.9.9", Images: images}, "it verified version 9.9.9 but the stack runs " + version},
		{"another stack's record", release.Verification{Stack: "prod", Version: version, Images: images}, "it was recorded by stack prod, not by stack test"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := mustRun(t, "test", runOptions{set: map[string]string{"jobs:verification": c.record.Encode()}})
			got, ok := r.exports["verification"]
			if !ok {
				t.Fatal("no verification output")
			}
			if c.void == "" {
				// Printed, so the map's element type does not matter; fmt sorts the keys.
				if want := good.Map(); fmt.Sprint(got) != fmt.Sprint(want) {
					t.Errorf("verification output %v, want %v", got, want)
				}
				return
			}
			if got != nil {
				t.Errorf("a void record is exported: %v", got)
			}
			line := "warning: config jobs:verification no longer covers what stack test runs (" + c.void +
				"), so the stack exports no verification output: run make verify STACK=test after this update"
			if !r.hasLog(line) {
				t.Errorf("log:\n%s\nwant the line:\n%s", strings.Join(r.logs, "\n"), line)
			}
		})
	}
	r := runStack(t, "test", runOptions{set: map[string]string{"jobs:verification": `{"stack":"test"}`}})
	if r.err == nil || !strings.Contains(r.err.Error(), `config jobs:verification = "{\"stack\":\"test\"}" is invalid: the verification record has no apiImage, version, workerImage`) {
		t.Errorf("a broken record: %v", r.err)
	}
}
