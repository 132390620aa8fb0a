package acceptance

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

// kube reads and changes the live cluster, for what the engine's own output cannot show.
type kube struct {
	cs kubernetes.Interface
}

func newKube(t *testing.T, kubeconfig string) *kube {
	t.Helper()
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &kube{cs: cs}
}

// eventually polls check until it reports done, failing the test with the last reason after
// timeout.
func eventually(t *testing.T, timeout time.Duration, what string, check func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		done, why := check()
		if done {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s: %s", what, timeout, why)
		}
		time.Sleep(300 * time.Millisecond)
	}
}

func (k *kube) namespace(t *testing.T, name string) *corev1.Namespace {
	t.Helper()
	ns, err := k.cs.CoreV1().Namespaces().Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("namespace %s: %v", name, err)
	}
	return ns
}

func (k *kube) pvc(t *testing.T, ns, name string) *corev1.PersistentVolumeClaim {
	t.Helper()
	pvc, err := k.cs.CoreV1().PersistentVolumeClaims(ns).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("PVC %s/%s: %v", ns, name, err)
	}
	return pvc
}

func (k *kube) deployment(t *testing.T, ns, name string) *appsv1.Deployment {
	t.Helper()
	d, err := k.cs.AppsV1().Deployments(ns).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("Deployment %s/%s: %v", ns, name, err)
	}
	return d
}

func (k *kube) service(t *testing.T, ns, name string) *corev1.Service {
	t.Helper()
	s, err := k.cs.CoreV1().Services(ns).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("Service %s/%s: %v", ns, name, err)
	}
	return s
}

// rolledOut reports whether a Deployment runs its current template on exactly its replicas, all
// available: the controller has seen the last change, and no pod of an older template is left.
func rolledOut(d *appsv1.Deployment) (bool, string) {
	want := int32(1)
	if d.Spec.Replicas != nil {
		want = *d.Spec.Replicas
	}
	s := d.Status
	if s.ObservedGeneration < d.Generation || s.UpdatedReplicas != want || s.AvailableReplicas != want || s.Replicas != want {
		return false, fmt.Sprintf("%s: generation %d observed %d, replicas %d updated %d available %d of %d",
			d.Name, d.Generation, s.ObservedGeneration, s.Replicas, s.UpdatedReplicas, s.AvailableReplicas, want)
	}
	return true, ""
}

// waitRolledOut waits until every Deployment of the namespace has rolled out.
func (k *kube) waitRolledOut(t *testing.T, ns string, timeout time.Duration) {
	t.Helper()
	eventually(t, timeout, "Deployments of "+ns+" rolled out", func() (bool, string) {
		list, err := k.cs.AppsV1().Deployments(ns).List(context.Background(), metav1.ListOptions{})
		if err != nil {
			return false, err.Error()
		}
		if len(list.Items) == 0 {
			return false, "no Deployments"
		}
		for i := range list.Items {
			if ok, why := rolledOut(&list.Items[i]); !ok {
				return false, why
			}
		}
		return true, ""
	})
}

// generations maps each Deployment of the namespace to its generation.
func (k *kube) generations(t *testing.T, ns string) map[string]int64 {
	t.Helper()
	list, err := k.cs.AppsV1().Deployments(ns).List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int64{}
	for _, d := range list.Items {
		out[d.Name] = d.Generation
	}
	return out
}

// listers list every kind of object a stack creates, in one namespace ("" for all).
func (k *kube) listers(ctx context.Context, ns string, opts metav1.ListOptions) map[string]func() (runtime.Object, error) {
	return map[string]func() (runtime.Object, error){
		"Deployment":            func() (runtime.Object, error) { return k.cs.AppsV1().Deployments(ns).List(ctx, opts) },
		"Pod":                   func() (runtime.Object, error) { return k.cs.CoreV1().Pods(ns).List(ctx, opts) },
		"Service":               func() (runtime.Object, error) { return k.cs.CoreV1().Services(ns).List(ctx, opts) },
		"PersistentVolumeClaim": func() (runtime.Object, error) { return k.cs.CoreV1().PersistentVolumeClaims(ns).List(ctx, opts) },
		"ConfigMap":             func() (runtime.Object, error) { return k.cs.CoreV1().ConfigMaps(ns).List(ctx, opts) },
		"Secret":                func() (runtime.Object, error) { return k.cs.CoreV1().Secrets(ns).List(ctx, opts) },
		"NetworkPolicy":         func() (runtime.Object, error) { return k.cs.NetworkingV1().NetworkPolicies(ns).List(ctx, opts) },
	}
}

// versions maps every object the program made in a namespace (pods aside: they come and go with
// rollouts) to what moves when someone changes it, so a step can show which objects it touched:
// a Deployment's generation (its resourceVersion moves with every status update of a rollout),
// any other object's resourceVersion.
func (k *kube) versions(t *testing.T, ns string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for kind, list := range k.listers(context.Background(), ns, metav1.ListOptions{LabelSelector: partOf}) {
		if kind == "Pod" {
			continue
		}
		l, err := list()
		if err != nil {
			t.Fatal(err)
		}
		items, err := apimeta.ExtractList(l)
		if err != nil {
			t.Fatal(err)
		}
		for _, item := range items {
			m, err := apimeta.Accessor(item)
			if err != nil {
				t.Fatal(err)
			}
			v := m.GetResourceVersion()
			if kind == "Deployment" {
				v = fmt.Sprintf("generation %d", m.GetGeneration())
			}
			out[kind+"/"+m.GetName()] = v
		}
	}
	return out
}

// touched lists the objects whose resourceVersion differs between two versions maps.
func touched(before, after map[string]string) []string {
	var out []string
	for k, v := range after {
		if before[k] != v {
			out = append(out, k)
		}
	}
	for k := range before {
		if _, ok := after[k]; !ok {
			out = append(out, k+" (gone)")
		}
	}
	slices.Sort(out)
	return out
}

// partOf selects every object the program labels as the jobs service's.
const partOf = "app.kubernetes.io/part-of=jobs"

// pods are the running pods of one component of a stack.
func (k *kube) pods(t *testing.T, ns, component string) []corev1.Pod {
	t.Helper()
	list, err := k.cs.CoreV1().Pods(ns).List(context.Background(), metav1.ListOptions{
		LabelSelector: "app.kubernetes.io/component=" + component, FieldSelector: "status.phase=Running",
	})
	if err != nil {
		t.Fatal(err)
	}
	var out []corev1.Pod
	for _, p := range list.Items {
		if p.DeletionTimestamp == nil {
			out = append(out, p)
		}
	}
	return out
}

func (k *kube) deletePod(t *testing.T, ns, name string, grace int64) {
	t.Helper()
	err := k.cs.CoreV1().Pods(ns).Delete(context.Background(), name, metav1.DeleteOptions{GracePeriodSeconds: &grace})
	if err != nil {
		t.Fatalf("delete pod %s/%s: %v", ns, name, err)
	}
}

// leftovers lists what of these stacks is still in the cluster: their namespaces and any object
// labelled as theirs (part-of jobs, instance one of them), in any namespace.
func (k *kube) leftovers(t *testing.T, stacks []string) []string {
	t.Helper()
	ctx := context.Background()
	var out []string
	for _, s := range stacks {
		_, err := k.cs.CoreV1().Namespaces().Get(ctx, s+"-jobs", metav1.GetOptions{})
		switch {
		case err == nil:
			out = append(out, "Namespace/"+s+"-jobs")
		case !apierrors.IsNotFound(err):
			t.Fatal(err)
		}
	}
	// Only these stacks' objects: a review stack goes while test and prod keep running.
	selector := partOf + ",app.kubernetes.io/instance in (" + strings.Join(stacks, ",") + ")"
	for kind, list := range k.listers(ctx, "", metav1.ListOptions{LabelSelector: selector}) {
		l, err := list()
		if err != nil {
			t.Fatal(err)
		}
		if n := apimeta.LenList(l); n > 0 {
			out = append(out, fmt.Sprintf("%d %s", n, kind))
		}
	}
	slices.Sort(out)
	return out
}

// process is one container process of a pod, seen from the host.
type process struct {
	pid      int
	comm     string
	uids     []string // real, effective, saved, filesystem
	gids     []string
	rootOpts string // mount options of the container's root filesystem
}

// containerProcesses finds the processes of a pod on this machine by the pod's cgroup, and reads
// who they run as and how their root is mounted from /proc: the kernel's view, not the spec's.
func containerProcesses(t *testing.T, pod corev1.Pod, comm string) []process {
	t.Helper()
	uid := string(pod.UID)
	markers := []string{"pod" + uid, "pod" + strings.ReplaceAll(uid, "-", "_")}
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	var out []process
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		dir := filepath.Join("/proc", e.Name())
		cg, err := os.ReadFile(filepath.Join(dir, "cgroup"))
		if err != nil || !containsAny(string(cg), markers) {
			continue
		}
		c, err := os.ReadFile(filepath.Join(dir, "comm"))
		if err != nil || strings.TrimSpace(string(c)) != comm {
			continue
		}
		p := process{pid: pid, comm: comm}
		status, err := os.ReadFile(filepath.Join(dir, "status"))
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(status), "\n") {
			f := strings.Fields(line)
			if len(f) == 5 && f[0] == "Uid:" {
				p.uids = f[1:]
			}
			if len(f) == 5 && f[0] == "Gid:" {
				p.gids = f[1:]
			}
		}
		mounts, err := os.ReadFile(filepath.Join(dir, "mountinfo"))
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(mounts), "\n") {
			f := strings.Fields(line)
			if len(f) > 5 && f[4] == "/" {
				p.rootOpts = f[5]
			}
		}
		out = append(out, p)
	}
	return out
}

func containsAny(s string, subs []string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}
