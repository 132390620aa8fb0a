package acceptance

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// The restructuring of the program (settings grouped by concern and declared in Pulumi.yaml, the
// component's own args, packages program and release) must deploy nothing new: stacks that
// baselineCommit, the last commit before it, brought up preview with no changes under
// refactoredCommit, the program once restructured. Both are pinned, so later, deliberate changes
// to what is deployed do not blur the proof.
const (
	baselineCommit   = "a1ab57647cea544a79ccdb592ad7e123971ede74"
	refactoredCommit = "800106a67cb886fd808c36837fa7913a9e1c2c47"
)

// Bounds for things that take seconds on an idle machine; generous because CI shares two cores
// with compilers.
const (
	rollout = 5 * time.Minute
	jobWait = 2 * time.Minute
)

// workflow is one run of the release workflow on a copy of the project.
type workflow struct {
	e      *env
	p      *project
	k      *kube
	stacks []string // every stack, each after the one it promotes from
	source string   // the stack the others promote from (test)
	target string   // the stack promoted to (prod)
	v0     string   // the version in the stack files
	vBad   string   // a release whose API refuses every job: verify fails, promotion refuses it
	v1     string   // the release cut during the run
	v2     string   // the version of the failing build
	// verified is the source's verification output once make verify passed on v1.
	verified map[string]any
	// redisImage is the Redis image the stacks run; the isolation checks run their pods from it.
	redisImage string
}

// TestReleaseWorkflow runs the release workflow of the README with the real engine, a step at a
// time, each step checked before the next one starts.
func TestReleaseWorkflow(t *testing.T) {
	// Not t.TempDir: a failed run keeps the copy and every command's log to read.
	tmp, err := os.MkdirTemp("", "jobs-acceptance-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("the project copy and the commands' logs are kept in %s", tmp)
			return
		}
		os.RemoveAll(tmp)
	})
	e := setUp(t, tmp)
	// Every README command runs as a user types it in a new shell after make up (issue 15:
	// destroy and refresh failed there while this test, exporting DOCKER_HOST, passed).
	w := &workflow{e: e, p: newProject(t, e.checkout, tmp, e.plain), k: newKube(t, e.cluster.Kubeconfig)}
	userCheckout(t, e, w.p.dir)
	w.stacks = strings.Fields(w.p.must(t, "go", "run", "./tools/release", "stacks").out)
	if len(w.stacks) != 2 {
		t.Fatalf("the workflow is written for a source and a promoted stack; the project has %v", w.stacks)
	}
	w.source, w.target = w.stacks[0], w.stacks[1]
	w.v0 = w.p.settings(t, w.source)["version"]
	w.vBad = nextPatch(t, w.v0)
	w.v1 = nextPatch(t, w.vBad)
	w.v2 = nextPatch(t, w.v1)
	// The local Redis image the stacks name, as make up makes it; the harness names the engine.
	w.redisImage = w.p.settings(t, w.source)["redisImage"]
	w.p.env = e.vars
	w.p.must(t, "scripts/redis-image.sh", w.redisImage)
	w.p.env = e.plain

	for _, s := range []struct {
		name string
		run  func(*testing.T)
	}{
		{"0 the restructuring of the program changed nothing deployed", w.zeroDiff},
		{"1 preview and up of the source stack", w.firstUp},
		{"1b the service through the NodePort, as its pods really run", w.service},
		{"2 no changes and no drift", w.noDrift},
		{"3a a release that fails every job: verify fails, promotion refuses", w.faultyRelease},
		{"3 a tag bump with the release tool", w.tagBump},
		{"3b make verify passes and records the digests", w.verifyGood},
		{"4 promote, then up of the promoted stack", w.promote},
		{"4b hand edits found by make drift, put back by make up", w.drift},
		{"4c a review stack beside test and prod, and gone again", w.review},
		{"4d the promoted stack survives a drain and keeps its parts apart", w.isolation},
		{"5 an untested version stops at the preview", w.untested},
		{"5b the app's own settings and secrets on the source stack", w.appSettings},
		{"5c a registry with a login, and the images' platform", w.loginRegistry},
		{"6 a Redis password rotation", w.rotate},
		{"7 a failing image build", w.failingBuild},
		{"8 destroy leaves nothing", w.destroy},
		{"9 the seeds' way on the same cluster", w.seeds},
	} {
		if !t.Run(s.name, s.run) {
			t.Fatalf("step %q failed; the later steps build on it", s.name)
		}
	}
}

// nextPatch is the version one patch release after v, by the semver rule: a pre-release moves to
// its release, a release to the next patch.
func nextPatch(t *testing.T, v string) string {
	t.Helper()
	core, pre, _ := strings.Cut(strings.SplitN(v, "+", 2)[0], "-")
	parts := strings.Split(core, ".")
	if len(parts) != 3 {
		t.Fatalf("version %q is not MAJOR.MINOR.PATCH", v)
	}
	if pre != "" {
		return core
	}
	patch, err := strconv.Atoi(parts[2])
	if err != nil {
		t.Fatalf("version %q: %v", v, err)
	}
	return parts[0] + "." + parts[1] + "." + strconv.Itoa(patch+1)
}

// namespace of a stack.
func namespace(stack string) string { return stack + "-jobs" }

// zeroDiff brings both stacks up with the program of baselineCommit and previews them with the
// program of refactoredCommit: both trees from git, with this run's app/ so the builds are the same,
// and the refactored tree's stack files for both, so only the program differs.
func (w *workflow) zeroDiff(t *testing.T) {
	p := w.p
	// Trees other than the project: the harness names the cluster, engine and this run's state
	// outright, with a passphrase of its own (their stacks are gone before step 1).
	plain := p.env
	p.env = w.e.vars
	defer func() { p.env = plain }()
	trees := filepath.Dir(p.dir)
	before, after := filepath.Join(trees, "baseline"), filepath.Join(trees, "refactored")
	for dir, commit := range map[string]string{before: baselineCommit, after: refactoredCommit} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		archive := exec.Command("sh", "-c", fmt.Sprintf("git -C %q archive %s | tar -x -C %q", w.e.checkout, commit, dir))
		if out, err := archive.CombinedOutput(); err != nil {
			t.Fatalf("git archive %s (the checkout needs its history): %v\n%s", commit, err, out)
		}
		if err := os.RemoveAll(filepath.Join(dir, "app")); err != nil {
			t.Fatal(err)
		}
		copyTree(t, filepath.Join(p.dir, "app"), filepath.Join(dir, "app"))
	}
	pulumi := func(dir string, args ...string) result {
		t.Helper()
		r := p.run(t, dir, "pulumi", args...)
		if r.err != nil {
			t.Fatalf("pulumi %s in %s: %v\n%s", strings.Join(args, " "), filepath.Base(dir), r.err, tail(r.combined, 40))
		}
		return r
	}
	for _, s := range w.stacks {
		pulumi(after, "stack", "init", s, "--non-interactive")
		r := p.run(t, after, "sh", "-c", "head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \\n' | pulumi config set --secret redisPassword -s "+s)
		if r.err != nil {
			t.Fatal(r.combined)
		}
		// The same stack file on both sides: the same config and the same encrypted password.
		b, err := os.ReadFile(filepath.Join(after, "Pulumi."+s+".yaml"))
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(before, "Pulumi."+s+".yaml"), b, 0o644)
		pulumi(before, "up", "-s", s, "--yes", "--skip-preview", "--suppress-progress")
		w.k.waitRolledOut(t, namespace(s), rollout)
	}
	for _, s := range w.stacks {
		r := p.run(t, after, "pulumi", "preview", "-s", s, "--expect-no-changes", "--diff")
		if r.err != nil {
			t.Fatalf("stack %s brought up by %s: %s proposes changes:\n%s", s, baselineCommit[:7], refactoredCommit[:7], tail(r.combined, 60))
		}
	}
	// Gone again, stacks included, so step 1 starts from nothing.
	pulumi(after, "state", "unprotect", "-s", w.target, "--all", "--yes")
	for _, s := range slices.Backward(w.stacks) {
		pulumi(after, "destroy", "-s", s, "--yes", "--suppress-progress")
		pulumi(after, "stack", "rm", s, "--yes")
	}
	eventually(t, 3*time.Minute, "nothing of the stacks left in the cluster", func() (bool, string) {
		left := w.k.leftovers(t, w.stacks)
		return len(left) == 0, strings.Join(left, ", ")
	})
}

// destroyAll destroys the promoted stack (protected) and then the source stack, checking that the
// protection holds until it is lifted on purpose, and that nothing is left.
func (w *workflow) destroyAll(t *testing.T) {
	t.Helper()
	p := w.p
	if w.p.settings(t, w.target)["protectData"] != "true" {
		t.Fatalf("stack %s does not protect its data (jobs:protectData)", w.target)
	}
	before := w.k.versions(t, namespace(w.target))
	r := p.run(t, p.dir, "make", "destroy", "STACK="+w.target)
	if r.err == nil || !strings.Contains(r.combined, "because it is protected") {
		t.Fatalf("make destroy STACK=%s of protected data: %v\n%s\nwant it refused because the data is protected", w.target, r.err, tail(r.combined, 30))
	}
	if got := touched(before, w.k.versions(t, namespace(w.target))); len(got) > 0 {
		t.Fatalf("a refused destroy changed %v", got)
	}
	// The deliberate step of docs/operations.md.
	p.pulumi(t, "config", "set", "protectData", "false", "-s", w.target)
	p.must(t, "make", "up", "STACK="+w.target)
	for _, s := range slices.Backward(w.stacks) {
		start := time.Now()
		p.must(t, "make", "destroy", "STACK="+s)
		figure("make destroy STACK="+s, time.Since(start))
	}
	p.pulumi(t, "config", "set", "protectData", "true", "-s", w.target)
	eventually(t, 3*time.Minute, "nothing of the stacks left in the cluster", func() (bool, string) {
		left := w.k.leftovers(t, w.stacks)
		return len(left) == 0, strings.Join(left, ", ")
	})
}

// firstUp is step 1: the preview plans every resource, up creates them, and the cluster and the
// registry hold what the stack's config says.
func (w *workflow) firstUp(t *testing.T) {
	p, s := w.p, w.source
	planned := p.preview(t, s)
	var creates []string
	for _, st := range planned {
		if st.Op != "create" && st.Op != "same" {
			t.Errorf("a first preview plans %s for %s", st.Op, st.URN)
		}
		if st.Op == "create" {
			creates = append(creates, st.URN)
		}
	}
	if len(creates) < 12 {
		t.Fatalf("the preview plans %d creates, want the whole environment: %v", len(creates), changes(planned))
	}
	start := time.Now()
	p.must(t, "make", "up", "STACK="+s)
	figure("first make up STACK="+s+" (images built, pods ready)", time.Since(start))

	var inState []string
	for _, r := range p.state(t, s) {
		inState = append(inState, r.URN)
	}
	for _, urn := range creates {
		if !slices.Contains(inState, urn) {
			t.Errorf("planned %s is not in the state after up", urn)
		}
	}
	w.checkEnvironment(t, s)
}

// checkEnvironment checks a deployed stack in the cluster against its config.
func (w *workflow) checkEnvironment(t *testing.T, s string) {
	t.Helper()
	cfg := w.p.settings(t, s)
	ns := namespace(s)
	if phase := w.k.namespace(t, ns).Status.Phase; phase != "Active" {
		t.Errorf("namespace %s is %s", ns, phase)
	}
	if pvc := w.k.pvc(t, ns, s+"-redis-data"); pvc.Status.Phase != "Bound" {
		t.Errorf("PVC %s-redis-data is %s", s, pvc.Status.Phase)
	}
	w.k.waitRolledOut(t, ns, rollout)
	for component, key := range map[string]string{"api": "apiReplicas", "worker": "workerReplicas", "redis": ""} {
		want := 1
		if key != "" {
			want, _ = strconv.Atoi(cfg[key])
		}
		d := w.k.deployment(t, ns, s+"-"+component)
		if d.Status.AvailableReplicas != int32(want) || *d.Spec.Replicas != int32(want) {
			t.Errorf("Deployment %s: %d of %d replicas available, want %d", d.Name, d.Status.AvailableReplicas, *d.Spec.Replicas, want)
		}
	}
	svc := w.k.service(t, ns, s+"-api")
	if got := strconv.Itoa(int(svc.Spec.Ports[0].NodePort)); svc.Spec.Type != "NodePort" || got != cfg["nodePort"] {
		t.Errorf("Service %s: type %s NodePort %s, want NodePort %s", svc.Name, svc.Spec.Type, got, cfg["nodePort"])
	}
	out := w.p.outputs(t, s)
	for _, component := range []string{"api", "worker"} {
		ref, _ := out[component+"Image"].(string)
		repo := servedDigest(t, ref)
		if want := cfg["registry"] + "/jobs-" + component; "localhost:5000/"+repo != want {
			t.Errorf("%s image %s is not in %s", component, ref, want)
		}
		d := w.k.deployment(t, ns, s+"-"+component)
		if got := d.Spec.Template.Spec.Containers[0].Image; got != ref {
			t.Errorf("Deployment %s runs %s, the stack exports %s", d.Name, got, ref)
		}
	}
}

// service is the service check of the real pods: jobs through the NodePort, the users the pods
// run as, Redis's data across a restart, a worker killed mid-job, and the network policy.
func (w *workflow) service(t *testing.T) {
	s, ns := w.source, namespace(w.source)
	api := newJobsAPI(w.p.output(t, s, "url"))
	done := api.checkPrimes(t)
	if v := api.version(t); v != w.v0 {
		t.Errorf("/version says %s, the stack deployed %s", v, w.v0)
	}
	if !slices.ContainsFunc(api.list(t, 100), func(r record) bool { return r.ID == done.ID }) {
		t.Errorf("GET /jobs does not list job %s", done.ID)
	}
	w.checkPodUsers(t, s)

	// Redis keeps its data when its pod goes: the same PVC, the append-only file on it.
	redis := w.k.pods(t, ns, "redis")
	if len(redis) != 1 {
		t.Fatalf("%d Redis pods running, want 1", len(redis))
	}
	w.k.deletePod(t, ns, redis[0].Name, 30)
	eventually(t, rollout, "a new Redis pod", func() (bool, string) {
		pods := w.k.pods(t, ns, "redis")
		return len(pods) == 1 && pods[0].Name != redis[0].Name && podReady(pods[0]), fmt.Sprintf("%d pods", len(pods))
	})
	api.waitReady(t, time.Minute)
	if got := api.job(t, done.ID); got.Status != "succeeded" || string(got.Result) != string(done.Result) {
		t.Fatalf("after Redis's pod was replaced, job %s reads %+v, want it as it was: %+v", done.ID, got, done)
	}

	// A worker killed in the middle of a job: the job still finishes, on the next worker.
	job := api.mustSubmit(t, "sleep", map[string]float64{"seconds": 8})
	eventually(t, time.Minute, "job "+job.ID+" running", func() (bool, string) {
		r := api.job(t, job.ID)
		return r.Status == "running", r.Status
	})
	workers := w.k.pods(t, ns, "worker")
	for _, pod := range workers {
		w.k.deletePod(t, ns, pod.Name, 0)
	}
	start := time.Now()
	// asynq takes a dead worker's job back after its lease (30 s) expires, at its recoverer's next
	// run (every minute): 60-120 s in all (docs/performance.md).
	end := api.waitDone(t, job.ID, 4*time.Minute)
	if end.Status != "succeeded" || end.Attempts < 2 {
		t.Fatalf("job %s after its worker was killed: %+v, want succeeded on a second attempt", job.ID, end)
	}
	figure("a job whose worker was killed finishes after", time.Since(start))

	// The NetworkPolicies are enforced (kube-router on the local node): step 4d checks them on the
	// promoted stack, with the other stack's Service as the address outside them.
}

// checkPodUsers reads, from the kernel, who each container process of the stack runs as and how
// its root filesystem is mounted.
func (w *workflow) checkPodUsers(t *testing.T, s string) {
	t.Helper()
	ns := namespace(s)
	for component, want := range map[string]struct {
		comm string
		uid  string
	}{"api": {"api", "65532"}, "worker": {"worker", "65532"}, "redis": {"redis-server", "999"}} {
		pods := w.k.pods(t, ns, component)
		if len(pods) == 0 {
			t.Fatalf("no %s pod running", component)
		}
		for _, pod := range pods {
			procs := containerProcesses(t, pod, want.comm)
			if len(procs) == 0 {
				t.Fatalf("pod %s: no %s process found on the node", pod.Name, want.comm)
			}
			for _, pr := range procs {
				if strings.Join(pr.uids, ",") != strings.Repeat(want.uid+",", 3)+want.uid ||
					strings.Join(pr.gids, ",") != strings.Repeat(want.uid+",", 3)+want.uid {
					t.Errorf("pod %s: %s (pid %d) runs as uids %v gids %v, want %s", pod.Name, pr.comm, pr.pid, pr.uids, pr.gids, want.uid)
				}
				if !slices.Contains(strings.Split(pr.rootOpts, ","), "ro") {
					t.Errorf("pod %s: %s (pid %d) has its root mounted %q, want read-only", pod.Name, pr.comm, pr.pid, pr.rootOpts)
				}
			}
		}
	}
}

// noDrift is step 2: a second preview changes nothing and a refresh finds nothing changed.
func (w *workflow) noDrift(t *testing.T) {
	start := time.Now()
	w.p.must(t, "scripts/pulumi.sh", "preview", w.source, "--expect-no-changes")
	figure("preview with no changes", time.Since(start))
	w.p.must(t, "scripts/pulumi.sh", "refresh", w.source, "--preview-only", "--expect-no-changes")
}

// tagBump is step 3: make release cuts the next version; the preview touches exactly the images
// and the API and worker Deployments; the rollout loses no job while a client keeps submitting.
func (w *workflow) tagBump(t *testing.T) {
	p, s, ns := w.p, w.source, namespace(w.source)
	// The first up generated each stack's Redis password into its stack file; the README says to
	// commit it, and make release insists on a clean tree.
	if p.git(t, "status", "--porcelain") != "" {
		p.git(t, "commit", "-qam", "the Redis passwords the first make up generated")
	}
	p.must(t, "make", "release", "VERSION="+w.v1)
	if got := p.git(t, "describe", "--tags", "--exact-match", "HEAD"); got != w.v1 {
		t.Errorf("make release tagged HEAD %q, want %s", got, w.v1)
	}
	want := []string{
		"update docker:index/image:Image::" + s + "-api-image",
		"update docker:index/image:Image::" + s + "-worker-image",
		"update kubernetes:apps/v1:Deployment::" + s + "-api",
		"update kubernetes:apps/v1:Deployment::" + s + "-worker",
	}
	if got := changes(p.preview(t, s)); !slices.Equal(got, want) {
		t.Fatalf("the tag bump's preview plans\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
	before := w.k.generations(t, ns)
	api := newJobsAPI(p.output(t, s, "url"))
	l := startLoad(api, 2)
	start := time.Now()
	r := p.run(t, p.dir, "make", "up", "STACK="+s)
	upTook := time.Since(start)
	if r.err == nil {
		w.k.waitRolledOut(t, ns, rollout)
	}
	accepted, refused := l.finish()
	if r.err != nil {
		t.Fatalf("make up of the tag bump: %v\n%s", r.err, tail(r.combined, 40))
	}
	figure("tag-bump make up STACK="+s+" (warm build caches)", upTook)
	after := w.k.generations(t, ns)
	if after[s+"-redis"] != before[s+"-redis"] {
		t.Errorf("the tag bump moved Redis's Deployment from generation %d to %d", before[s+"-redis"], after[s+"-redis"])
	}
	for _, c := range []string{"api", "worker"} {
		if after[s+"-"+c] == before[s+"-"+c] {
			t.Errorf("the tag bump did not roll %s-%s", s, c)
		}
	}
	api.waitVersion(t, w.v1, time.Minute)
	if len(accepted) < 10 {
		t.Fatalf("only %d jobs were accepted during the rollout (refused: %v)", len(accepted), refused)
	}
	for _, id := range accepted {
		if rec := api.waitDone(t, id, jobWait); rec.Status != "succeeded" {
			t.Errorf("job %s accepted during the rollout ended %s: %s", id, rec.Status, rec.Error)
		}
	}
	t.Logf("during the rollout %d jobs were accepted and all succeeded; refused: %v", len(accepted), refused)
	// The API drains before it stops (a preStop sleep), so the rollout refuses no one either.
	if len(refused) > 0 {
		t.Errorf("submissions failed during the rollout: %v", refused)
	}
}

// promote is step 4: make promote copies what the source runs; up of the target builds and pushes
// nothing and runs the source's digests.
func (w *workflow) promote(t *testing.T) {
	p := w.p
	p.must(t, "make", "promote")
	if v := p.settings(t, w.target)["version"]; v != w.v1 {
		t.Fatalf("make promote set %s to %s, want %s", w.target, v, w.v1)
	}
	pushed := map[string]map[string]string{}
	for _, c := range []string{"api", "worker"} {
		pushed[c] = tags(t, "jobs/jobs-"+c)
	}
	start := time.Now()
	p.must(t, "make", "up", "STACK="+w.target)
	figure("promote make up STACK="+w.target+" (test's digests, nothing built)", time.Since(start))
	for _, r := range p.state(t, w.target) {
		if r.Type == "docker:index/image:Image" {
			t.Errorf("%s built or pushed an image: %s", w.target, r.URN)
		}
	}
	for _, c := range []string{"api", "worker"} {
		if now := tags(t, "jobs/jobs-"+c); fmt.Sprint(now) != fmt.Sprint(pushed[c]) {
			t.Errorf("up of %s changed the registry's jobs-%s tags: %v -> %v", w.target, c, pushed[c], now)
		}
	}
	src, dst := p.outputs(t, w.source), p.outputs(t, w.target)
	for _, o := range []string{"apiImage", "workerImage"} {
		if src[o] != dst[o] {
			t.Errorf("%s runs %v, %s runs %v", w.target, dst[o], w.source, src[o])
		}
		// Exactly the digests make verify checked and recorded.
		if dst[o] != w.verified[o] {
			t.Errorf("%s runs %s %v, %s verified %v", w.target, o, dst[o], w.source, w.verified[o])
		}
	}
	w.checkEnvironment(t, w.target)
	api := newJobsAPI(p.output(t, w.target, "url"))
	done := api.checkPrimes(t)
	if !slices.ContainsFunc(api.list(t, 100), func(r record) bool { return r.ID == done.ID }) {
		t.Errorf("GET /jobs on %s does not list job %s", w.target, done.ID)
	}
	if v := api.version(t); v != w.v1 {
		t.Errorf("%s /version says %s, want %s", w.target, v, w.v1)
	}
	w.checkPodUsers(t, w.target)
}

// untested is step 5: the target set to a version its source has not deployed fails its preview
// with the guard's message, and nothing changes.
func (w *workflow) untested(t *testing.T) {
	p := w.p
	p.must(t, "make", "bump", "STACK="+w.target, "VERSION="+w.v2, "FORCE=1")
	before := w.k.versions(t, namespace(w.target))
	state := p.state(t, w.target)
	r := p.run(t, p.dir, "make", "preview", "STACK="+w.target)
	guard := fmt.Sprintf("promotion guard: version %s of stack %s is newer than version %s deployed on stack", w.v2, w.target, w.v1)
	if r.err == nil || !strings.Contains(r.combined, guard) {
		t.Fatalf("preview of an untested version: %v\n%s\nwant it stopped with %q", r.err, tail(r.combined, 30), guard)
	}
	if got := touched(before, w.k.versions(t, namespace(w.target))); len(got) > 0 {
		t.Errorf("the refused preview changed %v", got)
	}
	if after := p.state(t, w.target); fmt.Sprint(after) != fmt.Sprint(state) {
		t.Error("the refused preview changed the state")
	}
	p.must(t, "make", "bump", "STACK="+w.target, "VERSION="+w.v1, "FORCE=1")
}

// rotate is step 6: a new Redis password rolls Redis, the API and the worker, and nothing else.
func (w *workflow) rotate(t *testing.T) {
	p, s, ns := w.p, w.source, namespace(w.source)
	api := newJobsAPI(p.output(t, s, "url"))
	kept := api.checkPrimes(t)
	p.must(t, "sh", "-c", "head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \\n' | scripts/pulumi-env.sh pulumi config set --secret redisPassword -s "+s)
	want := []string{
		"update kubernetes:apps/v1:Deployment::" + s + "-api",
		"update kubernetes:apps/v1:Deployment::" + s + "-redis",
		"update kubernetes:apps/v1:Deployment::" + s + "-worker",
		"update kubernetes:core/v1:Secret::" + s + "-redis-auth",
	}
	if got := changes(p.preview(t, s)); !slices.Equal(got, want) {
		t.Fatalf("the rotation's preview plans\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
	before := w.k.versions(t, ns)
	gens := w.k.generations(t, ns)
	p.must(t, "make", "up", "STACK="+s)
	w.k.waitRolledOut(t, ns, rollout)
	gotTouched := touched(before, w.k.versions(t, ns))
	wantTouched := []string{"Deployment/" + s + "-api", "Deployment/" + s + "-redis", "Deployment/" + s + "-worker", "Secret/" + s + "-redis-auth"}
	if !slices.Equal(gotTouched, wantTouched) {
		t.Errorf("the rotation touched %v, want %v", gotTouched, wantTouched)
	}
	for name, g := range w.k.generations(t, ns) {
		if g == gens[name] {
			t.Errorf("the rotation did not roll %s", name)
		}
	}
	// Old API pods drain for jobs:apiDrainSeconds after up returns, and with the old password they
	// answer 503: a client following the API's contract retries and reaches a new pod.
	rec, unavailable := api.submitRetrying(t, "primes", primes100, time.Minute)
	t.Logf("after the rotation %d submissions answered 503 (Connection: close) before one reached a pod with the new password", unavailable)
	api.checkPrimesOf(t, rec)
	if got := api.waitDone(t, kept.ID, time.Minute); got.Status != "succeeded" {
		t.Errorf("job %s from before the rotation reads %+v", kept.ID, got)
	}
}

// failingBuild is step 7: a Dockerfile that cannot build fails up, what runs stays as it was, and
// the next good up succeeds.
func (w *workflow) failingBuild(t *testing.T) {
	p, s, ns := w.p, w.source, namespace(w.source)
	dockerfile := filepath.Join(p.dir, "app", "Dockerfile")
	good, err := os.ReadFile(dockerfile)
	if err != nil {
		t.Fatal(err)
	}
	broken := strings.Replace(string(good), "\nFROM scratch AS api", "\nRUN echo 'broken on purpose by the acceptance test' >&2; exit 3\n\nFROM scratch AS api", 1)
	if broken == string(good) {
		t.Fatal("app/Dockerfile has no 'FROM scratch AS api' stage to break before")
	}
	writeFile(t, dockerfile, []byte(broken), 0o644)
	p.must(t, "make", "bump", "STACK="+s, "VERSION="+w.v2)
	before := w.k.versions(t, ns)
	api := newJobsAPI(p.output(t, s, "url"))
	r := p.run(t, p.dir, "make", "up", "STACK="+s)
	if r.err == nil || !strings.Contains(r.combined, "exit code: 3") {
		t.Fatalf("up with a broken Dockerfile: %v\n%s\nwant it to fail in the build step that exits 3", r.err, tail(r.combined, 30))
	}
	if got := touched(before, w.k.versions(t, ns)); len(got) > 0 {
		t.Errorf("the failed up changed %v", got)
	}
	if v := api.version(t); v != w.v1 {
		t.Errorf("after the failed up /version says %s, want %s still", v, w.v1)
	}
	if v := p.output(t, s, "version"); v != w.v1 {
		t.Errorf("after the failed up the stack reports %s, want %s still", v, w.v1)
	}
	api.checkPrimes(t)
	writeFile(t, dockerfile, good, 0o644)
	p.must(t, "make", "up", "STACK="+s)
	w.k.waitRolledOut(t, ns, rollout)
	api.waitVersion(t, w.v2, time.Minute)
}

// destroy is step 8.
func (w *workflow) destroy(t *testing.T) { w.destroyAll(t) }

// podReady reports whether a pod's Ready condition is true.
func podReady(p corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}
