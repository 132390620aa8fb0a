package main

import "testing"

func ptr(s string) *string { return &s }

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
			if len(r.mocks.reads) != 1 || r.mocks.reads[0] != "organization/jobs/test" {
				t.Errorf("want one read of stack organization/jobs/test, got %v", r.mocks.reads)
			}
			if c.wantOK {
				if r.err != nil {
					t.Fatalf("guard stopped a permitted deploy: %v", r.err)
				}
				if len(r.mocks.resources) == 0 {
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
			if len(r.mocks.resources) != 0 {
				t.Errorf("resources registered before the guard decided: %s", r.mocks.names())
			}
		})
	}
}

// TestNoPromotionGuardOnTest: the test stack promotes from nothing, so it reads no other stack.
func TestNoPromotionGuardOnTest(t *testing.T) {
	r := mustRun(t, "test", runOptions{})
	if len(r.mocks.reads) != 0 {
		t.Errorf("the test stack read %v", r.mocks.reads)
	}
}
