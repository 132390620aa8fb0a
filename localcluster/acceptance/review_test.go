package acceptance

import (
	"errors"
	"io/fs"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// exitCode is a finished command's exit status (-1 when it did not run).
func exitCode(r result) int {
	var exit *exec.ExitError
	switch {
	case r.err == nil:
		return 0
	case errors.As(r.err, &exit):
		return exit.ExitCode()
	}
	return -1
}

// The drift check's exit codes (tools/drift).
const (
	driftInSync    = 0
	driftFound     = 3
	driftUnchecked = 4
)

// drift is step 4b, with test and prod running: hand edits the program manages (replicas, an
// environment variable's value, a deleted NetworkPolicy) make the drift check exit with the drift
// code and name each; a label added by hand is not drift (and make up drops it); make up puts
// everything back; an unreachable cluster is "could not check", never "in sync". All with a plain
// user's environment.
func (w *workflow) drift(t *testing.T) {
	p, s, ns := w.p, w.source, namespace(w.source)
	r := p.run(t, p.dir, "scripts/drift.sh")
	if exitCode(r) != driftInSync || !strings.Contains(r.out, "drift: stack "+s+": in sync") || !strings.Contains(r.out, "drift: stack "+w.target+": in sync") {
		t.Fatalf("make drift before any hand edit: exit %d\n%s\nwant both stacks in sync", exitCode(r), tail(r.combined, 30))
	}

	ctx := t.Context()
	deployments := w.k.cs.AppsV1().Deployments(ns)
	api := s + "-api"
	scale, err := deployments.GetScale(ctx, api, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	scale.Spec.Replicas = 3
	if _, err := deployments.UpdateScale(ctx, api, scale, metav1.UpdateOptions{FieldManager: "kubectl-scale"}); err != nil {
		t.Fatal(err)
	}
	d := w.k.deployment(t, ns, api)
	var declaredPort string
	portAt := -1
	for i, e := range d.Spec.Template.Spec.Containers[0].Env {
		if e.Name == "PORT" {
			declaredPort, portAt = e.Value, i
		}
	}
	if declaredPort == "" {
		t.Fatalf("Deployment %s sets no PORT to change by hand", api)
	}
	// A patch of that one value, as kubectl set env sends it (the controller keeps changing the
	// object's status, so a whole-object update would race it).
	setEnv := []byte(`[{"op":"test","path":"/spec/template/spec/containers/0/env/` + strconv.Itoa(portAt) + `/name","value":"PORT"},` +
		`{"op":"replace","path":"/spec/template/spec/containers/0/env/` + strconv.Itoa(portAt) + `/value","value":"9090"}]`)
	if _, err := deployments.Patch(ctx, api, types.JSONPatchType, setEnv, metav1.PatchOptions{FieldManager: "kubectl-set"}); err != nil {
		t.Fatal(err)
	}
	policy := s + "-redis-ingress"
	if err := w.k.cs.NetworkingV1().NetworkPolicies(ns).Delete(ctx, policy, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	label := []byte(`{"metadata":{"labels":{"owner":"added-by-hand"}}}`)
	if _, err := w.k.cs.CoreV1().Services(ns).Patch(ctx, api, types.MergePatchType, label, metav1.PatchOptions{FieldManager: "kubectl-label"}); err != nil {
		t.Fatal(err)
	}

	start := time.Now()
	r = p.run(t, p.dir, "scripts/drift.sh", "-stack", s)
	figure("drift check of one stack (refresh-preview)", time.Since(start))
	for _, want := range []string{
		"drift: stack " + s + ": drifted",
		"kubernetes:apps/v1:Deployment::" + api + ": changed in the cluster",
		"spec.replicas: 3 -> 1",
		`"9090" -> "` + declaredPort + `"`,
		"kubernetes:networking.k8s.io/v1:NetworkPolicy::" + policy + ": missing from the cluster",
	} {
		if !strings.Contains(r.out, want) {
			t.Errorf("the drift report does not say %q", want)
		}
	}
	if exitCode(r) != driftFound || strings.Contains(r.out, "added-by-hand") || strings.Contains(r.out, "owner") {
		t.Errorf("drift check after hand edits: exit %d, want %d, and the hand-added label not reported", exitCode(r), driftFound)
	}
	if t.Failed() {
		t.Fatalf("report:\n%s", tail(r.combined, 60))
	}
	// make reports the check's code in its own failure.
	if r := p.run(t, p.dir, "make", "drift", "STACK="+s); r.err == nil || !strings.Contains(r.combined, "Error 3") {
		t.Errorf("make drift STACK=%s with drift: %v\n%s\nwant make to fail with Error 3", s, r.err, tail(r.combined, 10))
	}

	p.must(t, "make", "up", "STACK="+s)
	w.k.waitRolledOut(t, ns, rollout)
	d = w.k.deployment(t, ns, api)
	if *d.Spec.Replicas != 1 {
		t.Errorf("after make up, %s has %d replicas", api, *d.Spec.Replicas)
	}
	for _, e := range d.Spec.Template.Spec.Containers[0].Env {
		if e.Name == "PORT" && e.Value != declaredPort {
			t.Errorf("after make up, PORT is %s, want %s", e.Value, declaredPort)
		}
	}
	if _, err := w.k.cs.NetworkingV1().NetworkPolicies(ns).Get(ctx, policy, metav1.GetOptions{}); err != nil {
		t.Errorf("after make up, NetworkPolicy %s: %v", policy, err)
	}
	// Not drift, but make up's refresh takes it into the state and the update then applies the
	// program's labels only, so it is gone (docs/review.md says so and why).
	if svc := w.k.service(t, ns, api); svc.Labels["owner"] != "" {
		t.Errorf("make up kept the hand-added label, which docs/review.md says it removes: %v", svc.Labels)
	}
	r = p.run(t, p.dir, "scripts/drift.sh")
	if exitCode(r) != driftInSync || strings.Count(r.out, ": in sync") != 2 {
		t.Fatalf("make drift after make up: exit %d\n%s\nwant both stacks in sync again", exitCode(r), tail(r.combined, 30))
	}

	// The cluster unreachable: the kubeconfig make up left points at a port nothing serves.
	link := filepath.Join(p.dir, "localcluster", ".run", "kubeconfig")
	b, err := os.ReadFile(link)
	if err != nil {
		t.Fatal(err)
	}
	dead := regexp.MustCompile(`server: https://[^\s]+`).ReplaceAll(b, []byte("server: https://127.0.0.1:1"))
	if string(dead) == string(b) {
		t.Fatal("the kubeconfig names no server to replace")
	}
	if err := os.Rename(link, link+".kept"); err != nil {
		t.Fatal(err)
	}
	writeFile(t, link, dead, 0o600)
	r = p.run(t, p.dir, "scripts/drift.sh", "-stack", s)
	if err := os.Remove(link); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(link+".kept", link); err != nil {
		t.Fatal(err)
	}
	if exitCode(r) != driftUnchecked || !strings.Contains(r.out, "drift: stack "+s+": could not check") || strings.Contains(r.out, "in sync") {
		t.Errorf("drift check with the cluster unreachable: exit %d\n%s\nwant %d, could not check", exitCode(r), tail(r.combined, 20), driftUnchecked)
	}
}

// review is step 4c: a pull request's review stack beside test and prod: its own namespace, a
// NodePort the cluster assigned, a job through it, images under a tag of its own; test's and
// prod's Deployments untouched; review-down leaves nothing of it in the cluster, the state or
// the working tree, and no tag test or prod uses changed.
func (w *workflow) review(t *testing.T) {
	p := w.p
	const pr = "4242"
	stack := strings.TrimSpace(p.must(t, "go", "run", "./tools/release", "review", "-pr", pr, "-name-only").out)
	ns := namespace(stack)
	gens := map[string]map[string]int64{}
	for _, s := range w.stacks {
		gens[s] = w.k.generations(t, namespace(s))
	}
	repos := []string{"jobs/jobs-api", "jobs/jobs-worker"}
	pushed := map[string]map[string]string{}
	for _, repo := range repos {
		pushed[repo] = tags(t, repo)
	}
	treeBefore := p.git(t, "status", "--porcelain", "--ignored")
	// untouched: every tag pushed before keeps its digest, and test's and prod's Deployments their
	// generations.
	untouched := func(what string) {
		t.Helper()
		for _, repo := range repos {
			now := tags(t, repo)
			for tag, digest := range pushed[repo] {
				if now[tag] != digest {
					t.Errorf("%s moved %s:%s from %s to %s", what, repo, tag, digest, now[tag])
				}
			}
		}
		for _, s := range w.stacks {
			if got := w.k.generations(t, namespace(s)); !maps.Equal(got, gens[s]) {
				t.Errorf("%s changed stack %s's Deployments: %v -> %v", what, s, gens[s], got)
			}
		}
	}

	start := time.Now()
	p.must(t, "make", "review", "PR="+pr)
	figure("make review PR="+pr+" (a new stack beside test and prod)", time.Since(start))

	out := p.outputs(t, stack)
	version, _ := out["version"].(string)
	if version == "" || version == w.p.settings(t, w.source)["version"] || !strings.Contains(version, "-pr."+pr) {
		t.Errorf("review stack version %q: want a pre-release of its own (-pr.%s), not test's", version, pr)
	}
	svc := w.k.service(t, ns, stack+"-api")
	port := int(svc.Spec.Ports[0].NodePort)
	if port < 30000 || port > 32767 {
		t.Errorf("review NodePort %d is not one the cluster assigns", port)
	}
	for _, s := range w.stacks {
		if strconv.Itoa(port) == w.p.settings(t, s)["nodePort"] {
			t.Errorf("review NodePort %d is stack %s's", port, s)
		}
	}
	if url, _ := out["url"].(string); !strings.HasSuffix(url, ":"+strconv.Itoa(port)) {
		t.Errorf("url output %q does not report the assigned NodePort %d", url, port)
	}
	api := newJobsAPI(out["url"].(string))
	api.checkPrimes(t)
	if v := api.version(t); v != version {
		t.Errorf("the review's /version says %s, its stack %s", v, version)
	}
	for _, c := range []string{"api", "worker"} {
		if d := w.k.deployment(t, ns, stack+"-"+c); *d.Spec.Replicas != 1 {
			t.Errorf("review Deployment %s runs %d replicas, want 1", d.Name, *d.Spec.Replicas)
		}
		ref, _ := out[c+"Image"].(string)
		if ref == "" || ref == p.outputs(t, w.source)[c+"Image"] {
			t.Errorf("the review's %s image %q is test's", c, ref)
		}
	}
	for _, res := range p.state(t, stack) {
		if res.Protect {
			t.Errorf("review resource %s is protected", res.URN)
		}
	}
	for _, repo := range repos {
		now := tags(t, repo)
		if _, ok := now[version]; !ok {
			t.Errorf("%s has no tag %s after make review: %v", repo, version, now)
		}
	}
	untouched("make review")

	p.must(t, "make", "review-down", "PR="+pr)
	eventually(t, 3*time.Minute, "nothing of the review stack left in the cluster", func() (bool, string) {
		left := w.k.leftovers(t, []string{stack})
		return len(left) == 0, strings.Join(left, ", ")
	})
	if ls := p.pulumi(t, "stack", "ls", "--json").out; strings.Contains(ls, `"`+stack+`"`) || strings.Contains(ls, "/"+stack+`"`) {
		t.Errorf("the state backend still lists %s:\n%s", stack, ls)
	}
	filepath.WalkDir(w.e.state, func(path string, d fs.DirEntry, err error) error {
		if err == nil && strings.Contains(d.Name(), stack) {
			t.Errorf("the state backend still holds %s", path)
		}
		return nil
	})
	if after := p.git(t, "status", "--porcelain", "--ignored"); after != treeBefore {
		t.Errorf("the working tree changed:\nbefore:\n%s\nafter:\n%s", treeBefore, after)
	}
	untouched("the review")
}
