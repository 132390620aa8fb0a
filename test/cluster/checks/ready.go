package checks

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/example/jobs/test/cluster/manifests"
)

// poll calls check until it reports done or the timeout passes; the error
// then carries check's last explanation of why it was not done yet.
func poll(ctx context.Context, timeout time.Duration, what string, check func(context.Context) (bool, string, error)) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	reason := "not checked yet"
	for {
		done, why, err := check(ctx)
		if err != nil && ctx.Err() == nil {
			return err
		}
		if done {
			return nil
		}
		if why != "" {
			reason = why
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s: not within %s: %s", what, timeout, reason)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// NamespaceExists checks the stack's namespace is live and Active.
func (c *Clients) NamespaceExists(ctx context.Context, s *manifests.Stack) error {
	ns, err := c.Typed.CoreV1().Namespaces().Get(ctx, s.Namespace(), metav1.GetOptions{})
	if err != nil {
		return fmt.Errorf("namespace %s: %w", s.Namespace(), err)
	}
	if ns.Status.Phase != corev1.NamespaceActive {
		return fmt.Errorf("namespace %s is %s, want Active", ns.Name, ns.Status.Phase)
	}
	return nil
}

// PVCBound waits for the Redis claim to be Bound and returns the name of the
// PersistentVolume the PV controller bound it to.
func (c *Clients) PVCBound(ctx context.Context, s *manifests.Stack, timeout time.Duration) (string, error) {
	name := s.ObjectName("redis-data")
	if _, err := s.Find("PersistentVolumeClaim", name); err != nil {
		return "", err
	}
	var volume string
	err := poll(ctx, timeout, "PVC "+s.Namespace()+"/"+name+" Bound", func(ctx context.Context) (bool, string, error) {
		pvc, err := c.Typed.CoreV1().PersistentVolumeClaims(s.Namespace()).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return false, err.Error(), nil
		}
		volume = pvc.Spec.VolumeName
		class := "<none>"
		if pvc.Spec.StorageClassName != nil {
			class = *pvc.Spec.StorageClassName
		}
		return pvc.Status.Phase == corev1.ClaimBound, fmt.Sprintf("phase %s (storage class %s): no PersistentVolume of that class fits", pvc.Status.Phase, class), nil
	})
	return volume, err
}

// DeploymentsAvailable waits until every Deployment of the stack runs the
// replicas its manifest asks for, all updated and available.
func (c *Clients) DeploymentsAvailable(ctx context.Context, s *manifests.Stack, timeout time.Duration) error {
	for _, d := range s.OfKind("Deployment") {
		want, found, err := unstructured.NestedInt64(d.Object, "spec", "replicas")
		if err != nil {
			return fmt.Errorf("%s: spec.replicas: %w", manifests.Key(d), err)
		}
		if !found {
			want = 1 // the API default
		}
		err = poll(ctx, timeout, fmt.Sprintf("Deployment %s/%s Available with %d replicas", d.GetNamespace(), d.GetName(), want),
			func(ctx context.Context) (bool, string, error) {
				live, err := c.Typed.AppsV1().Deployments(d.GetNamespace()).Get(ctx, d.GetName(), metav1.GetOptions{})
				if err != nil {
					return false, err.Error(), nil
				}
				if available(live, int32(want)) {
					return true, "", nil
				}
				return false, c.whyNotAvailable(ctx, live), nil
			})
		if err != nil {
			return err
		}
	}
	return nil
}

func available(d *appsv1.Deployment, want int32) bool {
	st := d.Status
	if d.Spec.Replicas == nil || *d.Spec.Replicas != want || st.ObservedGeneration < d.Generation {
		return false
	}
	if st.Replicas != want || st.UpdatedReplicas != want || st.AvailableReplicas != want || st.ReadyReplicas != want {
		return false
	}
	for _, cond := range st.Conditions {
		if cond.Type == appsv1.DeploymentAvailable {
			return cond.Status == corev1.ConditionTrue
		}
	}
	return false
}

// whyNotAvailable explains a stuck rollout from its pods: a pod the
// scheduler cannot place says why (missing claim, no node), which is the
// message that names the broken manifest field.
func (c *Clients) whyNotAvailable(ctx context.Context, d *appsv1.Deployment) string {
	st := d.Status
	msg := fmt.Sprintf("replicas %d, updated %d, ready %d, available %d", st.Replicas, st.UpdatedReplicas, st.ReadyReplicas, st.AvailableReplicas)
	sel, err := metav1.LabelSelectorAsSelector(d.Spec.Selector)
	if err != nil {
		return msg + "; bad selector: " + err.Error()
	}
	pods, err := c.Typed.CoreV1().Pods(d.Namespace).List(ctx, metav1.ListOptions{LabelSelector: sel.String()})
	if err != nil {
		return msg + "; list pods: " + err.Error()
	}
	if len(pods.Items) == 0 {
		for _, cond := range st.Conditions {
			if cond.Type == appsv1.DeploymentReplicaFailure && cond.Status == corev1.ConditionTrue {
				return msg + "; no pods: " + cond.Message
			}
		}
		return msg + "; no pods created yet"
	}
	var problems []string
	for _, p := range pods.Items {
		for _, cond := range p.Status.Conditions {
			if cond.Status != corev1.ConditionTrue && cond.Message != "" {
				problems = append(problems, fmt.Sprintf("pod %s %s: %s", p.Name, cond.Type, cond.Message))
			}
		}
		if len(p.Status.Conditions) == 0 {
			problems = append(problems, fmt.Sprintf("pod %s %s", p.Name, p.Status.Phase))
		}
	}
	if len(problems) > 0 {
		msg += "; " + strings.Join(problems, "; ")
	}
	return msg
}

// ServiceEndpoints waits until the Service's EndpointSlices list exactly want
// ready endpoints. When they do not, it says what the selector matches.
func (c *Clients) ServiceEndpoints(ctx context.Context, namespace, name string, want int, timeout time.Duration) error {
	return poll(ctx, timeout, fmt.Sprintf("Service %s/%s with %d ready endpoints", namespace, name, want),
		func(ctx context.Context) (bool, string, error) {
			slices, err := c.Typed.DiscoveryV1().EndpointSlices(namespace).List(ctx, metav1.ListOptions{
				LabelSelector: discoveryv1.LabelServiceName + "=" + name,
			})
			if err != nil {
				return false, err.Error(), nil
			}
			ready := 0
			for _, sl := range slices.Items {
				for _, ep := range sl.Endpoints {
					// The API documents a nil ready condition as ready.
					if ep.Conditions.Ready == nil || *ep.Conditions.Ready {
						ready++
					}
				}
			}
			if ready == want {
				return true, "", nil
			}
			return false, fmt.Sprintf("%d ready endpoints, want %d; %s", ready, want, c.selectorMatches(ctx, namespace, name)), nil
		})
}

func (c *Clients) selectorMatches(ctx context.Context, namespace, name string) string {
	svc, err := c.Typed.CoreV1().Services(namespace).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return err.Error()
	}
	sel := labels.SelectorFromSet(svc.Spec.Selector)
	pods, err := c.Typed.CoreV1().Pods(namespace).List(ctx, metav1.ListOptions{LabelSelector: sel.String()})
	if err != nil {
		return err.Error()
	}
	if len(pods.Items) == 0 {
		return fmt.Sprintf("the Service selector {%s} matches no pods in namespace %s", sel, namespace)
	}
	var names []string
	for _, p := range pods.Items {
		names = append(names, p.Name+"("+string(p.Status.Phase)+")")
	}
	sort.Strings(names)
	return fmt.Sprintf("the Service selector {%s} matches %s", sel, strings.Join(names, ", "))
}

// NodePort checks the live Service is of type NodePort, was granted exactly
// the port its manifest asks for, and that this is the stack's configured port.
func (c *Clients) NodePort(ctx context.Context, s *manifests.Stack, configured int64) error {
	name := s.ObjectName("api")
	m, err := s.Find("Service", name)
	if err != nil {
		return err
	}
	ports, _, _ := unstructured.NestedSlice(m.Object, "spec", "ports")
	if len(ports) != 1 {
		return fmt.Errorf("manifest Service %s has %d ports, want exactly 1", name, len(ports))
	}
	manifestPort, _, _ := unstructured.NestedInt64(ports[0].(map[string]any), "nodePort")
	live, err := c.Typed.CoreV1().Services(s.Namespace()).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return fmt.Errorf("Service %s/%s: %w", s.Namespace(), name, err)
	}
	if live.Spec.Type != corev1.ServiceTypeNodePort {
		return fmt.Errorf("Service %s/%s is %s, want NodePort", s.Namespace(), name, live.Spec.Type)
	}
	if len(live.Spec.Ports) != 1 {
		return fmt.Errorf("Service %s/%s has %d ports live, want 1", s.Namespace(), name, len(live.Spec.Ports))
	}
	got := int64(live.Spec.Ports[0].NodePort)
	if got != manifestPort {
		return fmt.Errorf("Service %s/%s got nodePort %d, manifest asks for %d", s.Namespace(), name, got, manifestPort)
	}
	if got != configured {
		return fmt.Errorf("Service %s/%s has nodePort %d, but stack %s is configured for %d", s.Namespace(), name, got, s.Name, configured)
	}
	return nil
}

// NetworkPolicyAccepted checks the policy is live and the API server kept
// the manifest's spec (it validates selectors and ports on admission).
func (c *Clients) NetworkPolicyAccepted(ctx context.Context, s *manifests.Stack) error {
	m, err := s.Find("NetworkPolicy", s.ObjectName("redis-ingress"))
	if err != nil {
		return err
	}
	live, err := c.Get(ctx, m)
	if err != nil {
		return err
	}
	return Subset(m.Object["spec"], live.Object["spec"], manifests.Key(m)+" spec")
}
