package acceptance

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"

	"github.com/example/jobs/localcluster/controlplane"
)

// isolation is step 4d, on the promoted stack (prod: more than one API pod): a drain's
// evictions take one API pod at a time while the service answers throughout; Pod Security refuses
// a privileged pod and a root pod; the NetworkPolicies are enforced: a pod without the API's or
// worker's labels cannot reach Redis, the worker's and the API's labels can, and the API's
// cannot reach another namespace's Service while DNS still answers it.
func (w *workflow) isolation(t *testing.T) {
	t.Run("evictions take one API pod at a time", w.evictions)
	t.Run("Pod Security refuses what breaks restricted", w.podSecurity)
	t.Run("network policies enforced", w.networkPolicies)
}

// evictions cordons the node as a drain does, so no replacement can become ready, evicts prod's
// API pods through the Eviction API, and checks that the second eviction is refused by the
// disruption budget while clients keep getting answers through the NodePort.
func (w *workflow) evictions(t *testing.T) {
	ctx := context.Background()
	s, ns := w.target, namespace(w.target)
	api := newJobsAPI(w.p.output(t, s, "url"))
	replicas, _ := strconv.Atoi(w.p.settings(t, s)["apiReplicas"])
	pods := w.k.pods(t, ns, "api")
	if replicas < 2 || len(pods) != replicas {
		t.Fatalf("%d API pods running on %s, its stack file asks for %d; the check needs two or more", len(pods), s, replicas)
	}
	setUnschedulable := func(v bool) {
		patch := fmt.Sprintf(`{"spec":{"unschedulable":%v}}`, v)
		if _, err := w.k.cs.CoreV1().Nodes().Patch(ctx, controlplane.NodeName, types.MergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
			t.Fatalf("set node %s unschedulable=%v: %v", controlplane.NodeName, v, err)
		}
	}
	setUnschedulable(true)
	t.Cleanup(func() { setUnschedulable(false) })

	l := startLoad(api, 2)
	evict := func(name string) error {
		return w.k.cs.PolicyV1().Evictions(ns).Evict(ctx, &policyv1.Eviction{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}})
	}
	if err := evict(pods[0].Name); err != nil {
		t.Fatalf("the first eviction (%s) was refused: %v", pods[0].Name, err)
	}
	refused := func(when string) {
		err := evict(pods[1].Name)
		if err == nil {
			t.Fatalf("%s: the eviction of the last serving API pod %s was allowed", when, pods[1].Name)
		}
		if !apierrors.IsTooManyRequests(err) || !strings.Contains(err.Error(), "disruption budget") {
			t.Fatalf("%s: the eviction of %s failed with %v, want the disruption budget's refusal (429)", when, pods[1].Name, err)
		}
	}
	refused("right after the first")
	// Until the first pod is gone and its replacement still cannot be scheduled: a drain stops here.
	eventually(t, 2*time.Minute, "the evicted pod gone", func() (bool, string) {
		_, err := w.k.cs.CoreV1().Pods(ns).Get(ctx, pods[0].Name, metav1.GetOptions{})
		return apierrors.IsNotFound(err), fmt.Sprint(err)
	})
	refused("with the evicted pod gone and its replacement Pending")
	setUnschedulable(false)
	w.k.waitRolledOut(t, ns, rollout)
	accepted, failed := l.finish()
	if len(accepted) < 10 {
		t.Fatalf("only %d jobs were accepted during the evictions (refused: %v)", len(accepted), failed)
	}
	if len(failed) > 0 {
		t.Errorf("submissions failed during the evictions: %v", failed)
	}
	for _, id := range accepted {
		if rec := api.waitDone(t, id, jobWait); rec.Status != "succeeded" {
			t.Errorf("job %s accepted during the evictions ended %s: %s", id, rec.Status, rec.Error)
		}
	}
	t.Logf("during the evictions %d jobs were accepted and all succeeded", len(accepted))
}

// podSecurity asks the API server (dry run) to create, in prod's namespace, a privileged pod and
// an otherwise compliant pod running as root: Pod Security refuses both, naming the version the
// namespace pins.
func (w *workflow) podSecurity(t *testing.T) {
	ctx := context.Background()
	ns := namespace(w.target)
	labels := w.k.namespace(t, ns).Labels
	level := labels["pod-security.kubernetes.io/enforce"] + ":" + labels["pod-security.kubernetes.io/enforce-version"]
	if labels["pod-security.kubernetes.io/enforce"] != "restricted" || !strings.HasPrefix(labels["pod-security.kubernetes.io/enforce-version"], "v1.") {
		t.Fatalf("namespace %s enforces %q, want restricted at a pinned version", ns, level)
	}
	privileged := w.checkPod(ns, "privileged", nil, "true")
	// Valid, so only admission can refuse it: privileged implies privilege escalation.
	privileged.Spec.Containers[0].SecurityContext.Privileged = ptr.To(true)
	privileged.Spec.Containers[0].SecurityContext.AllowPrivilegeEscalation = nil
	root := w.checkPod(ns, "root", nil, "true")
	root.Spec.SecurityContext.RunAsUser = ptr.To(int64(0))
	root.Spec.SecurityContext.RunAsNonRoot = ptr.To(false)
	root.Spec.Containers[0].SecurityContext.RunAsNonRoot = ptr.To(false)
	for _, c := range []struct {
		pod  *corev1.Pod
		says string
	}{{privileged, "privileged"}, {root, "runAsNonRoot != true"}} {
		_, err := w.k.cs.CoreV1().Pods(ns).Create(ctx, c.pod, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
		if err == nil || !strings.Contains(err.Error(), `violates PodSecurity "`+level+`"`) || !strings.Contains(err.Error(), c.says) {
			t.Errorf("pod %s in %s: %v; want it refused by Pod Security (%s) for %s", c.pod.Name, ns, err, level, c.says)
		}
	}
	// The control: the same pod without the breach is admitted.
	if _, err := w.k.cs.CoreV1().Pods(ns).Create(ctx, w.checkPod(ns, "compliant", nil, "true"), metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}}); err != nil {
		t.Errorf("a pod that meets restricted was refused in %s: %v", ns, err)
	}
}

// networkPolicies runs short-lived pods in prod's namespace that try connections and print what
// got through, with prod's own labels or none: the policies decide by labels only.
func (w *workflow) networkPolicies(t *testing.T) {
	ctx := context.Background()
	s, ns := w.target, namespace(w.target)
	redis := w.k.service(t, ns, s+"-redis")
	other := w.k.service(t, namespace(w.source), w.source+"-api")
	redisPort, otherPort := redis.Spec.Ports[0].Port, other.Spec.Ports[0].Port
	redisName := redis.Name + "." + ns + ".svc." + controlplane.ClusterDomain
	script := strings.Join([]string{
		`check() { if timeout 5 bash -c "exec 3<>/dev/tcp/$2/$3" 2>/dev/null; then echo "$1 REACHED"; else echo "$1 REFUSED"; fi; }`,
		fmt.Sprintf(`check redis %s %d`, redis.Spec.ClusterIP, redisPort),
		fmt.Sprintf(`check other-namespace %s %d`, other.Spec.ClusterIP, otherPort),
		fmt.Sprintf(`if timeout 5 getent hosts %s >/dev/null; then echo "dns REACHED"; else echo "dns REFUSED"; fi`, redisName),
	}, "\n")
	// A pod with a component's labels is also selected by its disruption budget and (for the API)
	// its Service; it never becomes ready, so it never gets a client, and it is gone before the
	// next step.
	as := func(component string) map[string]string {
		return map[string]string{"app.kubernetes.io/name": "jobs", "app.kubernetes.io/instance": s, "app.kubernetes.io/component": component}
	}
	stray := map[string]string{"app.kubernetes.io/name": "jobs", "app.kubernetes.io/instance": s}
	want := map[string]map[string]string{
		"stray":     {"redis": "REFUSED", "other-namespace": "REFUSED", "dns": "REFUSED"},
		"as-worker": {"redis": "REACHED", "other-namespace": "REFUSED", "dns": "REACHED"},
		"as-api":    {"redis": "REACHED", "other-namespace": "REFUSED", "dns": "REACHED"},
	}
	labels := map[string]map[string]string{"stray": stray, "as-worker": as("worker"), "as-api": as("api")}
	for name := range want {
		p := w.checkPod(ns, "netcheck-"+name, labels[name], script)
		if _, err := w.k.cs.CoreV1().Pods(ns).Create(ctx, p, metav1.CreateOptions{}); err != nil {
			t.Fatalf("create %s: %v", p.Name, err)
		}
		t.Cleanup(func() {
			_ = w.k.cs.CoreV1().Pods(ns).Delete(context.Background(), p.Name, metav1.DeleteOptions{GracePeriodSeconds: ptr.To(int64(0))})
		})
	}
	for name, expected := range want {
		pod := "netcheck-" + name
		eventually(t, 2*time.Minute, pod+" finished", func() (bool, string) {
			p, err := w.k.cs.CoreV1().Pods(ns).Get(ctx, pod, metav1.GetOptions{})
			if err != nil {
				return false, err.Error()
			}
			return p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed, string(p.Status.Phase)
		})
		raw, err := w.k.cs.CoreV1().Pods(ns).GetLogs(pod, &corev1.PodLogOptions{}).DoRaw(ctx)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]string{}
		for _, line := range strings.Split(strings.TrimSpace(string(raw)), "\n") {
			if f := strings.Fields(line); len(f) == 2 {
				got[f[0]] = f[1]
			}
		}
		for target, w := range expected {
			if got[target] != w {
				t.Errorf("pod %s (labels %v) to %s: %s, want %s (its output: %q)", pod, labels[name], target, got[target], w, raw)
			}
		}
	}
	for name := range want {
		_ = w.k.cs.CoreV1().Pods(ns).Delete(ctx, "netcheck-"+name, metav1.DeleteOptions{GracePeriodSeconds: ptr.To(int64(0))})
	}
	eventually(t, time.Minute, "the check pods gone", func() (bool, string) {
		list, err := w.k.cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, err.Error()
		}
		var left []string
		for _, p := range list.Items {
			if strings.HasPrefix(p.Name, "netcheck-") {
				left = append(left, p.Name)
			}
		}
		return len(left) == 0, strings.Join(left, ", ")
	})
	// The NodePort path still serves: a job end to end through it.
	newJobsAPI(w.p.output(t, s, "url")).checkPrimes(t)
}

// checkPod is a pod that meets the restricted Pod Security Standard and runs script with bash in
// the Redis image the stacks run (Debian: bash, timeout and getent are there). Its readiness
// probe always fails, so no Service ever routes to it.
func (w *workflow) checkPod(ns, name string, labels map[string]string, script string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: labels},
		Spec: corev1.PodSpec{
			RestartPolicy:                 corev1.RestartPolicyNever,
			AutomountServiceAccountToken:  ptr.To(false),
			TerminationGracePeriodSeconds: ptr.To(int64(0)),
			SecurityContext: &corev1.PodSecurityContext{
				RunAsNonRoot:   ptr.To(true),
				RunAsUser:      ptr.To(int64(999)),
				SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
			},
			Containers: []corev1.Container{{
				Name:            "check",
				Image:           w.redisImage,
				ImagePullPolicy: corev1.PullIfNotPresent,
				Command:         []string{"bash", "-c", script},
				ReadinessProbe: &corev1.Probe{
					ProbeHandler: corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: []string{"false"}}},
				},
				SecurityContext: &corev1.SecurityContext{
					RunAsNonRoot:             ptr.To(true),
					ReadOnlyRootFilesystem:   ptr.To(true),
					AllowPrivilegeEscalation: ptr.To(false),
					Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
				},
			}},
		},
	}
}
