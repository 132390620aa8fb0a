package acceptance

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// faultySubmit is put at the top of the API's submit handler in the project's copy of app/: every
// submission answers 500, while health, readiness and /version stay fine, so only a check that
// really submits a job can tell this release from a good one.
const faultySubmit = "\tif true {\n\t\tweb.JSON(w, http.StatusInternalServerError, web.ErrorBody{Error: \"broken on purpose by the acceptance test\"})\n\t\treturn\n\t}\n"

// faultyRelease is step 3a: a release whose API fails every submission goes to the source stack;
// make verify fails naming the check and records nothing; make promote and the promoted stack's
// preview refuse it, each naming the command to run; test is rolled back.
func (w *workflow) faultyRelease(t *testing.T) {
	p, s := w.p, w.source
	handlers := filepath.Join(p.dir, "app", "internal", "api", "handlers.go")
	good, err := os.ReadFile(handlers)
	if err != nil {
		t.Fatal(err)
	}
	head := "func (a *API) submit(w http.ResponseWriter, r *http.Request) {\n"
	if !bytes.Contains(good, []byte(head)) {
		t.Fatalf("%s has no %q to put the fault in", handlers, strings.TrimSpace(head))
	}
	writeFile(t, handlers, bytes.Replace(good, []byte(head), []byte(head+faultySubmit), 1), 0o644)
	p.must(t, "make", "bump", "STACK="+s, "VERSION="+w.vBad)
	p.must(t, "make", "up", "STACK="+s)
	writeFile(t, handlers, good, 0o644)
	w.k.waitRolledOut(t, namespace(s), rollout)
	newJobsAPI(p.output(t, s, "url")).waitVersion(t, w.vBad, rollout)

	stackFile := filepath.Join(p.dir, "Pulumi."+s+".yaml")
	before, err := os.ReadFile(stackFile)
	if err != nil {
		t.Fatal(err)
	}
	r := p.run(t, p.dir, "make", "verify", "STACK="+s)
	failed := "FAIL  outside: a primes job submitted, run and fetched: POST /jobs"
	if r.err == nil || !strings.Contains(r.out, failed) || !strings.Contains(r.out, "answered 500") || !strings.Contains(r.out, "the API refuses a valid submission") {
		t.Fatalf("make verify of a release that refuses every job: %v\n%s\nwant it to fail with %q", r.err, tail(r.combined, 40), failed)
	}
	// What works is still reported as working, so the failure stands out.
	for _, ok := range []string{"ok    outside: GET /healthz", "ok    outside: GET /version is the deployed version " + w.vBad, "ok    inside: Service " + s + "-api." + namespace(s) + " resolves"} {
		if !strings.Contains(r.out, ok) {
			t.Errorf("make verify does not report %q:\n%s", ok, tail(r.out, 40))
		}
	}
	if !strings.Contains(r.out, "nothing recorded") {
		t.Errorf("make verify does not say it recorded nothing:\n%s", tail(r.out, 10))
	}
	w.noProbeLeft(t, s)
	if after, _ := os.ReadFile(stackFile); !bytes.Equal(after, before) {
		t.Errorf("a failed make verify changed Pulumi.%s.yaml", s)
	}
	// Nothing vouched for: no output, or a void one (null) where the stack file still holds an
	// older record, such as the one make up writes for the version it deployed.
	if v := p.outputs(t, s)["verification"]; v != nil {
		t.Errorf("stack %s exports verification %v after a failed make verify", s, v)
	}

	// make promote refuses it, naming the command, and changes nothing.
	targetFile := filepath.Join(p.dir, "Pulumi."+w.target+".yaml")
	targetBefore, err := os.ReadFile(targetFile)
	if err != nil {
		t.Fatal(err)
	}
	guard := fmt.Sprintf("promotion guard: version %s of stack %s is unverified: stack organization/jobs/%s runs version %s but has not verified it", w.vBad, w.target, s, w.vBad)
	r = p.run(t, p.dir, "make", "promote")
	if r.err == nil || !strings.Contains(r.combined, guard) || !strings.Contains(r.combined, "run make verify STACK="+s) {
		t.Fatalf("make promote of an unverified release: %v\n%s\nwant %q", r.err, tail(r.combined, 20), guard)
	}
	if after, _ := os.ReadFile(targetFile); !bytes.Equal(after, targetBefore) {
		t.Errorf("a refused make promote changed Pulumi.%s.yaml", w.target)
	}
	// Set by hand, the promoted stack's preview refuses it just the same.
	p.must(t, "make", "bump", "STACK="+w.target, "VERSION="+w.vBad)
	r = p.run(t, p.dir, "make", "preview", "STACK="+w.target)
	if r.err == nil || !strings.Contains(r.combined, guard) || !strings.Contains(r.combined, "run make verify STACK="+s) {
		t.Fatalf("preview of %s at an unverified version: %v\n%s\nwant %q", w.target, r.err, tail(r.combined, 30), guard)
	}
	p.must(t, "make", "bump", "STACK="+w.target, "VERSION="+w.v0, "FORCE=1")

	// What a team does with a release that fails its checks: roll test back to the last good one
	// (docs/release.md), so the next release rolls out from a version that takes jobs.
	p.must(t, "make", "bump", "STACK="+s, "VERSION="+w.v0, "FORCE=1")
	p.must(t, "make", "up", "STACK="+s)
	w.k.waitRolledOut(t, namespace(s), rollout)
	api := newJobsAPI(p.output(t, s, "url"))
	api.waitVersion(t, w.v0, rollout)
	api.checkPrimes(t)
}

// verifyGood is step 3b: make verify passes on the good release, records it in the source's
// outputs with the digests it runs, and leaves no pod behind.
func (w *workflow) verifyGood(t *testing.T) {
	p, s := w.p, w.source
	r := p.must(t, "make", "verify", "STACK="+s)
	figure("make verify STACK="+s+" (checks, probe pod, the record's up)", r.took)
	if !strings.Contains(r.out, "verify: all ") || strings.Contains(r.out, "FAIL") {
		t.Fatalf("make verify of the good release:\n%s", tail(r.out, 40))
	}
	for _, ok := range []string{
		"ok    outside: a primes job", "ok    outside: a stats job", "ok    outside: a sleep job", "ok    outside: GET /jobs lists",
		"ok    cluster: Deployment " + s + "-api runs apiImage", "ok    inside: Service " + s + "-redis." + namespace(s) + " resolves",
		fmt.Sprintf(`ok    inside: GET http://%s-api.%s:`, s, namespace(s)), fmt.Sprintf(`/version answers "version":%q`, w.v1),
	} {
		if !strings.Contains(r.out, ok) {
			t.Errorf("make verify does not report %q:\n%s", ok, tail(r.out, 40))
		}
	}
	w.noProbeLeft(t, s)
	out := p.outputs(t, s)
	rec, _ := out["verification"].(map[string]any)
	want := map[string]any{"stack": s, "version": w.v1, "apiImage": out["apiImage"], "workerImage": out["workerImage"]}
	if fmt.Sprint(rec) != fmt.Sprint(want) {
		t.Fatalf("stack %s's verification output %v, want %v", s, rec, want)
	}
	w.verified = want
	// A second run checks again but needs no second up to record the same pass.
	r = p.must(t, "make", "verify", "STACK="+s)
	figure("make verify STACK="+s+" again (checks and probe pod only)", r.took)
	if !strings.Contains(r.out, "already records this pass") {
		t.Errorf("a second make verify of the same release:\n%s", tail(r.out, 10))
	}
}

// noProbeLeft checks that make verify deleted its probe pod.
func (w *workflow) noProbeLeft(t *testing.T, s string) {
	t.Helper()
	pods, err := w.k.cs.CoreV1().Pods(namespace(s)).List(context.Background(), metav1.ListOptions{LabelSelector: "app.kubernetes.io/component=verify"})
	if err != nil {
		t.Fatal(err)
	}
	for _, pod := range pods.Items {
		t.Errorf("make verify left pod %s (phase %s)", pod.Name, pod.Status.Phase)
	}
}
