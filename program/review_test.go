package program

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/example/jobs/components"
	"github.com/example/jobs/release"
)

// reviewDir is a copy of the project's stack files and review template with the review stack
// of pull request pr generated beside them, as make review does.
func reviewDir(t *testing.T, pr string) (dir string, rf release.ReviewFile) {
	t.Helper()
	dir = t.TempDir()
	files, _ := filepath.Glob(filepath.Join(root, "Pulumi.*.yaml"))
	for _, f := range append(files, filepath.Join(root, release.ReviewTemplate)) {
		name := filepath.Base(f)
		if name == "Pulumi.yaml" || release.IsReviewStack(strings.TrimSuffix(strings.TrimPrefix(name, "Pulumi."), ".yaml")) {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	rf, err := release.MakeReviewFile(dir, pr)
	if err != nil {
		t.Fatal(err)
	}
	return dir, rf
}

var dns1123Label = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)

// TestReviewStackOfTheLongestPullRequest: the review stack of the longest pull request number
// loads under the program's rules, names every Kubernetes object with a DNS-1123 label of at most
// 63 characters, protects nothing, runs one pod of each, leaves the NodePort to the cluster and
// tags its images with its own version.
func TestReviewStackOfTheLongestPullRequest(t *testing.T) {
	dir, rf := reviewDir(t, strings.Repeat("9", release.MaxReviewDigits))
	checkStackFiles(t, dir)
	r := mustRun(t, rf.Stack, runOptions{dir: dir})
	kube := 0
	for _, res := range r.eng.Resources() {
		if res.Protect {
			t.Errorf("%s %s is protected; a review stack is destroyed whole", res.Type, res.Name)
		}
		if !strings.HasPrefix(res.Type, "kubernetes:") {
			continue
		}
		kube++
		meta := in(t, res)["metadata"]
		for _, field := range []string{"name", "namespace"} {
			v, _ := at(meta, field).(string)
			if field == "namespace" && res.Type == typeNamespace {
				continue
			}
			if len(v) > 63 || !dns1123Label.MatchString(v) {
				t.Errorf("%s %s: metadata.%s %q is not a DNS-1123 label of at most 63 characters", res.Type, res.Name, field, v)
			}
		}
	}
	if kube < 10 {
		t.Fatalf("only %d Kubernetes objects registered:\n%s", kube, r.registeredNames())
	}
	svc := in(t, r.one(t, typeService, rf.Stack+"-api"))
	if p := at(svc, "spec", "ports", 0, "nodePort"); p != nil {
		t.Errorf("the review's API Service fixes NodePort %v; want it left to the cluster", p)
	}
	for _, c := range []string{"api", "worker"} {
		d := in(t, r.one(t, typeDeployment, rf.Stack+"-"+c))
		want(t, c+" replicas", d, int64(1), "spec", "replicas")
		img := in(t, r.one(t, typeImage, rf.Stack+"-"+c+"-image"))
		if name, _ := img["imageName"].(string); !strings.HasSuffix(name, ":"+rf.Version) || !release.IsReviewVersion(rf.Version) {
			t.Errorf("%s image %q, want the review's own version %s", c, name, rf.Version)
		}
	}
}

// TestNoStackPromotesFromAReviewStack: prod set to promote from a review stack fails the preview
// before anything is registered, naming the key and the rule.
func TestNoStackPromotesFromAReviewStack(t *testing.T) {
	dir, rf := reviewDir(t, "7")
	r := runStack(t, "prod", runOptions{dir: dir, set: map[string]string{"jobs:promoteFrom": "organization/jobs/" + rf.Stack}})
	if r.err == nil || !strings.Contains(r.err.Error(), `config jobs:promoteFrom = "organization/jobs/pr-7" is invalid: it names review stack pr-7`) {
		t.Fatalf("prod promoting from %s: %v", rf.Stack, r.err)
	}
	if n := len(r.eng.Resources()); n > 1 {
		t.Errorf("%d resources registered before the refusal:\n%s", n, r.registeredNames())
	}
}

// TestEveryNamespacedObjectIsForceApplied: a field the program sets wins over a hand edit of it,
// so make up puts a drifted stack back instead of failing on a field-manager conflict.
func TestEveryNamespacedObjectIsForceApplied(t *testing.T) {
	r := mustRun(t, "test", runOptions{})
	n := 0
	for _, res := range r.eng.Resources() {
		if !strings.HasPrefix(res.Type, "kubernetes:") || res.Type == typeNamespace {
			continue
		}
		n++
		if v := at(in(t, res)["metadata"], "annotations", components.ForceApplyAnnotation); v != "true" {
			t.Errorf("%s %s: annotation %s is %v, want \"true\"", res.Type, res.Name, components.ForceApplyAnnotation, v)
		}
	}
	if n < 8 {
		t.Fatalf("only %d namespaced objects", n)
	}
}
