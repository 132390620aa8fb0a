package realnode

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"

	"github.com/example/jobs/localcluster/controlplane"
	"github.com/example/jobs/localcluster/workspace"
)

const (
	ns       = "realnode"
	nodePort = 30042
)

// TestRealNode starts one cluster and checks, in order, everything a pod of
// the jobs service relies on; the last step stops the cluster and checks
// that the host is as it was before.
func TestRealNode(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Minute)
	defer cancel()
	if os.Geteuid() != 0 {
		t.Fatal("the real node needs root (containerd, runc, iptables, cgroups)")
	}
	clusterDir, err := workspace.ClusterDir()
	if err != nil {
		t.Fatal(err)
	}
	ensureRegistry(t)
	img := pushPodcheck(ctx, t, clusterDir)
	c, stopped := startCluster(ctx, t, clusterDir)
	client, err := kubernetes.NewForConfig(c.RESTConfig())
	if err != nil {
		t.Fatal(err)
	}

	t.Run("NodeReady", func(t *testing.T) {
		n, err := client.CoreV1().Nodes().Get(ctx, c.Node.Name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if !ready(n.Status.Conditions) {
			t.Fatalf("node %s is not Ready: %+v", n.Name, n.Status.Conditions)
		}
		if got := n.Status.NodeInfo.ContainerRuntimeVersion; !strings.HasPrefix(got, "containerd://") {
			t.Errorf("runtime %q, want containerd", got)
		}
		if !slices.ContainsFunc(n.Status.Addresses, func(a corev1.NodeAddress) bool {
			return a.Type == corev1.NodeInternalIP && a.Address == c.Node.IP
		}) {
			t.Errorf("node addresses %v lack InternalIP %s", n.Status.Addresses, c.Node.IP)
		}
	})

	if _, err := client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := waitDefaultServiceAccount(ctx, client); err != nil {
		t.Fatal(err)
	}
	// web runs by digest, client by tag: both forms must pull over plain HTTP.
	web := podcheckPod("web", img.digest, map[string]string{"app": "web"})
	cli := podcheckPod("client", img.tag, map[string]string{"app": "client"})
	allowed := podcheckPod("allowed", img.tag, map[string]string{"app": "client", "role": "allowed"})
	start := time.Now()
	for _, p := range []*corev1.Pod{web, cli, allowed} {
		if _, err := client.CoreV1().Pods(ns).Create(ctx, p, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	pods := map[string]*corev1.Pod{}
	t.Run("PodsRunFromTheLoopbackRegistry", func(t *testing.T) {
		for _, name := range []string{"web", "client", "allowed"} {
			p, err := waitPodReady(ctx, client, name, 3*time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(os.Stderr, "realnode: pod %s Ready %s after create (image %s)\n", name, time.Since(start).Round(100*time.Millisecond), p.Spec.Containers[0].Image)
			if p.Spec.NodeName != c.Node.Name || p.Status.PodIP == "" {
				t.Fatalf("pod %s on node %q with IP %q, want the real node and a CNI address", name, p.Spec.NodeName, p.Status.PodIP)
			}
			pods[name] = p
		}
		// The API server reaches the kubelet for logs through the node's
		// InternalIP, with its own client certificate.
		logs, err := client.CoreV1().Pods(ns).GetLogs("web", &corev1.PodLogOptions{}).DoRaw(ctx)
		if err != nil || !strings.Contains(string(logs), "listening on :8080") {
			t.Fatalf("pod logs through the API server: %q, %v", logs, err)
		}
	})
	if len(pods) != 3 {
		t.FailNow()
	}

	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: ns},
		Spec: corev1.ServiceSpec{
			Type:     corev1.ServiceTypeNodePort,
			Selector: map[string]string{"app": "web"},
			Ports:    []corev1.ServicePort{{Name: "http", Port: 80, TargetPort: intstr.FromInt32(8080), NodePort: nodePort}},
		},
	}
	svc, err = client.CoreV1().Services(ns).Create(ctx, svc, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Run("ClusterIPAndNodePortAnswer", func(t *testing.T) {
		for _, u := range []string{
			fmt.Sprintf("http://%s:80/", svc.Spec.ClusterIP),
			fmt.Sprintf("http://127.0.0.1:%d/", nodePort),
			fmt.Sprintf("http://%s:%d/", c.Node.IP, nodePort),
		} {
			body, err := getEventually(ctx, u, time.Minute)
			if err != nil || !strings.HasPrefix(body, "podcheck web") {
				t.Errorf("GET %s = %q, %v; want the web pod", u, body, err)
			}
		}
	})

	t.Run("ClusterDNSResolvesInsidePods", func(t *testing.T) {
		name := "web." + ns + ".svc." + controlplane.ClusterDomain
		var got struct {
			Addrs []string
			Error string
		}
		if err := inPod(ctx, pods["client"], "/resolve?name="+url.QueryEscape(name), &got); err != nil {
			t.Fatal(err)
		}
		if !slices.Contains(got.Addrs, svc.Spec.ClusterIP) {
			t.Fatalf("%s resolved to %v (%s) inside the client pod, want %s", name, got.Addrs, got.Error, svc.Spec.ClusterIP)
		}
		// The short name through the pod's search path, then a request by
		// name: DNS and the Service route from pod to pod.
		var fetched struct {
			Status int
			Body   string
			Error  string
		}
		if err := inPod(ctx, pods["client"], "/fetch?url="+url.QueryEscape("http://web/"), &fetched); err != nil {
			t.Fatal(err)
		}
		if fetched.Status != http.StatusOK || !strings.HasPrefix(fetched.Body, "podcheck web") {
			t.Fatalf("client pod GET http://web/ = %d %q %s", fetched.Status, fetched.Body, fetched.Error)
		}
		if err := inPod(ctx, pods["client"], "/resolve?name=no-such-service."+ns+".svc."+controlplane.ClusterDomain, &got); err != nil {
			t.Fatal(err)
		}
		if len(got.Addrs) != 0 || got.Error == "" {
			t.Fatalf("a missing Service resolved to %v", got.Addrs)
		}
	})

	t.Run("NonRootWithReadOnlyRootFilesystem", func(t *testing.T) {
		var id struct {
			UID, GID       int
			RootfsWritable bool
			WriteError     string
		}
		if err := inPod(ctx, pods["web"], "/id", &id); err != nil {
			t.Fatal(err)
		}
		if id.UID != 65532 || id.GID != 65532 {
			t.Errorf("web runs as %d:%d, want 65532:65532 from its security context", id.UID, id.GID)
		}
		if id.RootfsWritable || !strings.Contains(id.WriteError, "read-only file system") {
			t.Errorf("web could write its root filesystem (error %q)", id.WriteError)
		}
	})

	t.Run("NetworkPolicyEnforced", func(t *testing.T) {
		checkNetworkPolicy(ctx, t, client, pods)
	})

	t.Run("PodSecurityAdmission", func(t *testing.T) {
		checkPodSecurity(ctx, t, client, img.tag)
	})

	t.Run("StopLeavesNothing", func(t *testing.T) {
		stopStart := time.Now()
		if err := c.Stop(); err != nil {
			t.Fatalf("stop: %v", err)
		}
		*stopped = true
		fmt.Fprintf(os.Stderr, "realnode: stopped in %s\n", time.Since(stopStart).Round(100*time.Millisecond))
		for _, l := range controlplane.Leftovers(c.RunDir, c.HostBefore) {
			t.Error("left behind: " + l)
		}
		if err := os.RemoveAll(c.RunDir); err != nil {
			t.Errorf("remove run dir: %v", err)
		}
	})
}

// policyBound is how soon a NetworkPolicy change must be enforced. kube-router
// programs a change when its informer sees it, well under a second on an idle
// machine; the bound leaves room for two busy cores.
const policyBound = 20 * time.Second

// checkNetworkPolicy applies a policy that admits only role=allowed to web
// and checks that kube-router enforces it: the other client is refused within
// policyBound, the allowed one still gets through, and deleting the policy
// opens web again within the same bound.
func checkNetworkPolicy(ctx context.Context, t *testing.T, client *kubernetes.Clientset, pods map[string]*corev1.Pod) {
	target := "http://" + pods["web"].Status.PodIP + ":8080/"
	reach := func(from string) bool {
		var got struct{ Status int }
		if err := inPod(ctx, pods[from], "/fetch?url="+url.QueryEscape(target), &got); err != nil {
			t.Fatal(err)
		}
		return got.Status == http.StatusOK
	}
	// within polls until reach(from) is want, and says how long that took.
	within := func(from string, want bool) time.Duration {
		start := time.Now()
		for time.Since(start) < policyBound {
			if reach(from) == want {
				return time.Since(start)
			}
			time.Sleep(200 * time.Millisecond)
		}
		t.Fatalf("pod %s reaching web: still %v after %s, want %v (logs/kube-router.log)", from, !want, policyBound, want)
		return 0
	}
	if !reach("client") || !reach("allowed") {
		t.Fatal("web is unreachable from its neighbours before any policy")
	}
	np := &networkingv1.NetworkPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: "web-only-allowed", Namespace: ns},
		Spec: networkingv1.NetworkPolicySpec{
			PodSelector: metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress},
			Ingress: []networkingv1.NetworkPolicyIngressRule{{
				From: []networkingv1.NetworkPolicyPeer{{PodSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"role": "allowed"}}}},
			}},
		},
	}
	if _, err := client.NetworkingV1().NetworkPolicies(ns).Create(ctx, np, metav1.CreateOptions{}); err != nil {
		t.Fatalf("the API server rejected the NetworkPolicy: %v", err)
	}
	took := within("client", false)
	fmt.Fprintf(os.Stderr, "realnode: NetworkPolicy enforced %s after create\n", took.Round(100*time.Millisecond))
	if !reach("allowed") {
		t.Fatal("the policy blocks the allowed pod too")
	}
	// The host (the kubelet's probes, the NodePort path) still reaches web.
	if _, err := getEventually(ctx, target, 10*time.Second); err != nil {
		t.Fatalf("the host no longer reaches web: %v", err)
	}
	if err := client.NetworkingV1().NetworkPolicies(ns).Delete(ctx, np.Name, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	took = within("client", true)
	fmt.Fprintf(os.Stderr, "realnode: NetworkPolicy lifted %s after delete\n", took.Round(100*time.Millisecond))
}

// checkPodSecurity: the API server's Pod Security admission refuses, in a
// namespace labelled enforce=restricted, a pod that breaks the standard.
func checkPodSecurity(ctx context.Context, t *testing.T, client *kubernetes.Clientset, image string) {
	const restricted = "realnode-restricted"
	if _, err := client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{
		Name:   restricted,
		Labels: map[string]string{"pod-security.kubernetes.io/enforce": "restricted", "pod-security.kubernetes.io/enforce-version": "latest"},
	}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	p := podcheckPod("privileged", image, nil)
	p.Namespace = restricted
	// Valid, so only admission can refuse it: privileged implies privilege escalation.
	p.Spec.Containers[0].SecurityContext.Privileged = ptr.To(true)
	p.Spec.Containers[0].SecurityContext.AllowPrivilegeEscalation = nil
	_, err := client.CoreV1().Pods(restricted).Create(ctx, p, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
	if err == nil || !strings.Contains(err.Error(), `violates PodSecurity "restricted:latest"`) || !strings.Contains(err.Error(), "privileged") {
		t.Fatalf("a privileged pod in a restricted namespace: %v; want it refused by Pod Security", err)
	}
	t.Logf("refused: %v", err)
}

func podcheckPod(name, image string, labels map[string]string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: labels},
		Spec: corev1.PodSpec{
			SecurityContext: &corev1.PodSecurityContext{
				RunAsNonRoot: ptr.To(true),
				RunAsUser:    ptr.To(int64(65532)),
				RunAsGroup:   ptr.To(int64(65532)),
			},
			TerminationGracePeriodSeconds: ptr.To(int64(1)),
			Containers: []corev1.Container{{
				Name:            "podcheck",
				Image:           image,
				ImagePullPolicy: corev1.PullIfNotPresent,
				Ports:           []corev1.ContainerPort{{ContainerPort: 8080}},
				ReadinessProbe: &corev1.Probe{
					ProbeHandler:  corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/", Port: intstr.FromInt32(8080)}},
					PeriodSeconds: 1,
				},
				SecurityContext: &corev1.SecurityContext{
					ReadOnlyRootFilesystem:   ptr.To(true),
					AllowPrivilegeEscalation: ptr.To(false),
					Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
				},
			}},
		},
	}
}

// inPod asks the podcheck server in p (reached from the host at its pod
// IP) for path and decodes the JSON answer into v.
func inPod(ctx context.Context, p *corev1.Pod, path string, v any) error {
	body, err := getEventually(ctx, "http://"+p.Status.PodIP+":8080"+path, 30*time.Second)
	if err != nil {
		return err
	}
	return json.Unmarshal([]byte(body), v)
}

// getEventually retries GET until it answers 200: kube-proxy programs a new
// Service within a second or so of the EndpointSlice appearing.
func getEventually(ctx context.Context, u string, timeout time.Duration) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	client := http.Client{Timeout: 10 * time.Second}
	var last error
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if err != nil {
			return "", err
		}
		resp, err := client.Do(req)
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return string(body), nil
			}
			err = fmt.Errorf("%s: %s", resp.Status, body)
		}
		last = err
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("GET %s: %v", u, last)
		case <-time.After(500 * time.Millisecond):
		}
	}
}

func waitPodReady(ctx context.Context, client *kubernetes.Clientset, name string, timeout time.Duration) (*corev1.Pod, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var p *corev1.Pod
	for {
		var err error
		p, err = client.CoreV1().Pods(ns).Get(ctx, name, metav1.GetOptions{})
		if err == nil && ready(p.Status.Conditions) {
			return p, nil
		}
		select {
		case <-ctx.Done():
			if p != nil {
				return nil, fmt.Errorf("pod %s not Ready within %s: phase %s, conditions %+v, containers %+v", name, timeout, p.Status.Phase, p.Status.Conditions, p.Status.ContainerStatuses)
			}
			return nil, fmt.Errorf("pod %s not Ready within %s: %v", name, timeout, err)
		case <-time.After(250 * time.Millisecond):
		}
	}
}

func waitDefaultServiceAccount(ctx context.Context, client *kubernetes.Clientset) error {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	for {
		if _, err := client.CoreV1().ServiceAccounts(ns).Get(ctx, "default", metav1.GetOptions{}); err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("no default ServiceAccount in %s", ns)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// ready reads the Ready condition of a node or a pod.
func ready[C corev1.NodeCondition | corev1.PodCondition](conds []C) bool {
	for _, c := range conds {
		switch c := any(c).(type) {
		case corev1.NodeCondition:
			if c.Type == corev1.NodeReady {
				return c.Status == corev1.ConditionTrue
			}
		case corev1.PodCondition:
			if c.Type == corev1.PodReady {
				return c.Status == corev1.ConditionTrue
			}
		}
	}
	return false
}
