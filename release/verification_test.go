package release

import (
	"strings"
	"testing"
)

func TestCheckVerified(t *testing.T) {
	const (
		hexA = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
		hexB = "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"
		hexC = "00000000000000000000000000000000000000000000000000000000000000cc"
		api  = "localhost:5000/jobs/jobs-api@sha256:" + hexA
		wrk  = "localhost:5000/jobs/jobs-worker@sha256:" + hexB
		how  = "; run make verify STACK=test (it checks the stack and records the pass), or set jobs:allowUntestedVersion to true on stack prod to deploy it anyway"
		head = "promotion guard: version 0.2.0 of stack prod is unverified: "
	)
	runs := Images{API: api, Worker: wrk}
	verified := &Verification{Stack: "test", Version: "0.2.0", Images: Images{API: api, Worker: wrk}}
	with := func(change func(*Verification)) *Verification {
		v := *verified
		v.Images = Images{API: api, Worker: wrk}
		change(&v)
		return &v
	}
	prod := Target{Stack: "prod", Version: "0.2.0", From: "organization/jobs/test"}
	for _, c := range []struct {
		name          string
		version       string // what the source runs
		record        *Verification
		allow         bool
		warning, fail string
	}{
		{"verified version with the digests it runs", "0.2.0", verified, false, "", ""},
		{"unverified", "0.2.0", nil, false, "",
			head + "stack organization/jobs/test runs version 0.2.0 but has not verified it (it reports no verification output)" + how},
		{"verified with another api digest", "0.2.0", with(func(v *Verification) { v.Images[API] = "localhost:5000/jobs/jobs-api@sha256:" + hexC }), false, "",
			head + "the verification stack organization/jobs/test reports does not cover what it runs (it verified apiImage localhost:5000/jobs/jobs-api@sha256:" + hexC + " but the stack runs " + api + ")" + how},
		{"verified with another worker digest", "0.2.0", with(func(v *Verification) { v.Images[Worker] = "localhost:5000/jobs/jobs-worker@sha256:" + hexC }), false, "",
			head + "the verification stack organization/jobs/test reports does not cover what it runs (it verified workerImage localhost:5000/jobs/jobs-worker@sha256:" + hexC + " but the stack runs " + wrk + ")" + how},
		{"verified another version", "0.2.0", with(func(v *Verification) { v.Version = "0.1.0" }), false, "",
			head + "the verification stack organization/jobs/test reports does not cover what it runs (it verified version 0.1.0 but the stack runs 0.2.0)" + how},
		{"a verification recorded by another stack", "0.2.0", with(func(v *Verification) { v.Stack = "staging" }), false, "",
			head + "the verification stack organization/jobs/test reports does not cover what it runs (it was recorded by stack staging, not by stack test)" + how},
		{"override of the unverified", "0.2.0", nil, true,
			"version 0.2.0 of stack prod is unverified: stack organization/jobs/test runs version 0.2.0 but has not verified it (it reports no verification output); deploying it anyway because jobs:allowUntestedVersion is true", ""},
		{"rollback: the source runs a newer version", "0.3.0", nil, false, "", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			target := prod
			target.AllowUntested = c.allow
			w, err := CheckVerified(target, Tested{Stack: "organization/jobs/test", Version: c.version, Images: runs, Verification: c.record})
			if w != c.warning {
				t.Errorf("warning:\n got %q\nwant %q", w, c.warning)
			}
			if (err == nil) != (c.fail == "") || (err != nil && err.Error() != c.fail) {
				t.Errorf("error:\n got %v\nwant %s", err, c.fail)
			}
		})
	}
	// A stack that promotes from none has no guard.
	if w, err := CheckVerified(Target{Stack: "test", Version: "0.2.0"}, Tested{}); w != "" || err != nil {
		t.Errorf("a stack without a source: %q, %v", w, err)
	}
}

func TestVerificationRecord(t *testing.T) {
	v := Verification{Stack: "test", Version: "0.2.0-rc.1", Images: Images{API: "r/jobs-api@sha256:aa", Worker: "r/jobs-worker@sha256:bb"}}
	got, err := ParseVerification(v.Encode())
	if err != nil || got.Encode() != v.Encode() {
		t.Fatalf("round trip of %s: %+v, %v", v.Encode(), got, err)
	}
	for _, c := range []struct{ text, want string }{
		{`{"stack":"test","version":"0.2.0","apiImage":"a"}`, "the verification record has no workerImage; run make verify STACK=test again"},
		{`{"stack":"test","version":"latest","apiImage":"a","workerImage":"w"}`, `the verification record's version: "latest" is not a version`},
		{`{"stack":"test","version":"0.2.0","apiImage":"a","workerImage":"w","passed":true}`, `unknown field "passed"`},
		{`0.2.0`, "not a verification record"},
	} {
		if _, err := ParseVerification(c.text); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("ParseVerification(%s) = %v, want an error with %q", c.text, err, c.want)
		}
	}
	if ok, why := v.Covers("organization/jobs/test", "0.2.0-rc.1", v.Images); !ok {
		t.Errorf("the record does not cover what it recorded: %s", why)
	}
	if ok, why := v.Covers("test", "0.2.0-rc.1", Images{API: v.Images[API]}); ok || why != "it verified workerImage r/jobs-worker@sha256:bb but the stack runs no image" {
		t.Errorf("a stack without a worker image: %v, %s", ok, why)
	}
}
