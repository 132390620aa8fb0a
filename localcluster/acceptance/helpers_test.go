package acceptance

import (
	"slices"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// The checks the workflow builds on, each shown to fail on what it must catch. They need no
// cluster: go test ./acceptance -run '^TestCheck'.

func TestCheckChangesIgnoresOnlySameAndRead(t *testing.T) {
	steps := []step{
		{Op: "same", URN: "urn:pulumi:test::jobs::jobs:index:Environment$kubernetes:core/v1:Service::test-api"},
		{Op: "read", URN: "urn:pulumi:prod::jobs::pulumi:pulumi:StackReference::organization/jobs/test"},
		{Op: "update", URN: "urn:pulumi:test::jobs::jobs:index:Environment$kubernetes:apps/v1:Deployment::test-api"},
		{Op: "replace", URN: "urn:pulumi:test::jobs::jobs:index:Environment$kubernetes:core/v1:Secret::test-redis-auth"},
	}
	want := []string{"replace kubernetes:core/v1:Secret::test-redis-auth", "update kubernetes:apps/v1:Deployment::test-api"}
	if got := changes(steps); !slices.Equal(got, want) {
		t.Errorf("changes = %v, want %v", got, want)
	}
}

func TestCheckTouchedSeesChangedAddedAndGone(t *testing.T) {
	before := map[string]string{"Secret/a": "1", "Service/b": "2", "ConfigMap/c": "3"}
	after := map[string]string{"Secret/a": "1", "Service/b": "5", "PersistentVolumeClaim/d": "9"}
	want := []string{"ConfigMap/c (gone)", "PersistentVolumeClaim/d", "Service/b"}
	if got := touched(before, after); !slices.Equal(got, want) {
		t.Errorf("touched = %v, want %v", got, want)
	}
	if got := touched(before, before); len(got) != 0 {
		t.Errorf("nothing changed, touched = %v", got)
	}
}

func TestCheckRolledOutNeedsEveryReplicaOfTheCurrentTemplate(t *testing.T) {
	two := int32(2)
	d := func(gen, observed int64, replicas, updated, available int32) *appsv1.Deployment {
		return &appsv1.Deployment{
			ObjectMeta: metav1.ObjectMeta{Name: "x", Generation: gen},
			Spec:       appsv1.DeploymentSpec{Replicas: &two},
			Status: appsv1.DeploymentStatus{ObservedGeneration: observed, Replicas: replicas,
				UpdatedReplicas: updated, AvailableReplicas: available},
		}
	}
	if ok, why := rolledOut(d(3, 3, 2, 2, 2)); !ok {
		t.Errorf("a finished rollout is not rolled out: %s", why)
	}
	for name, dep := range map[string]*appsv1.Deployment{
		"the controller has not seen the change": d(4, 3, 2, 2, 2),
		"an old pod is left":                     d(3, 3, 3, 2, 2),
		"a new pod is not available":             d(3, 3, 2, 2, 1),
		"a pod runs the old template":            d(3, 3, 2, 1, 2),
	} {
		if ok, _ := rolledOut(dep); ok {
			t.Errorf("%s: counted as rolled out", name)
		}
	}
}

func TestCheckCopiesDropGeneratedSecrets(t *testing.T) {
	in := "config:\n  # Release version.\n  jobs:version: 0.1.0\n  jobs:redisPassword:\n    secure: v1:abc\n  # Build.\n  jobs:build: \"true\"\nencryptionsalt: v1:xyz\n"
	want := "config:\n  # Release version.\n  jobs:version: 0.1.0\n  # Build.\n  jobs:build: \"true\"\n"
	if got := string(withoutGeneratedSecrets([]byte(in))); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

func TestCheckNextPatch(t *testing.T) {
	for v, want := range map[string]string{"0.1.0": "0.1.1", "1.9.9": "1.9.10", "2.0.0-rc.1": "2.0.0", "1.0.0+b.7": "1.0.1"} {
		if got := nextPatch(t, v); got != want {
			t.Errorf("nextPatch(%s) = %s, want %s", v, got, want)
		}
	}
}

func TestCheckDigestReferences(t *testing.T) {
	hex := "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	if m := digestRef.FindStringSubmatch("localhost:5000/jobs/jobs-api@sha256:" + hex); m == nil || m[1] != "jobs/jobs-api" {
		t.Errorf("a digest reference in the loopback registry is not recognised: %v", m)
	}
	for _, ref := range []string{"localhost:5000/jobs/jobs-api:0.1.0", "localhost:5000/jobs/jobs-api@sha256:abc", "ghcr.io/x/jobs-api@sha256:" + hex} {
		if digestRef.MatchString(ref) {
			t.Errorf("%s passes as a digest reference in the loopback registry", ref)
		}
	}
}
