package controlplane

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"

	"github.com/example/jobs/localcluster/binaries"
)

// CoreDNS runs on the host like the other node components, listening on
// the node IP, and the kube-dns Service (ClusterDNSIP, port 53) reaches it
// through a hand-made EndpointSlice. Running it as a pod would need an
// image of it and would make cluster DNS depend on the pod network it is
// meant to help test.
func corefile(n nodePaths, p nodePorts) string {
	return fmt.Sprintf(`.:%d {
    bind %s
    errors
    health 127.0.0.1:%d
    ready 127.0.0.1:%d
    kubernetes %s in-addr.arpa ip6.arpa {
        kubeconfig %s local
        pods insecure
        ttl 5
    }
    cache 5
}
`, p.dns, NodeIP, p.dnsHealth, p.dnsReady, ClusterDomain, n.path("coredns.kubeconfig"))
}

func startCoreDNS(c *Cluster, n nodePaths, bins binaries.Set, id identity, p nodePorts) error {
	if err := writeKubeconfigFor(n.path("coredns.kubeconfig"), c.Server, c.CAFile, id.user, id.token); err != nil {
		return err
	}
	path := n.path("Corefile")
	if err := os.WriteFile(path, []byte(corefile(n, p)), 0o644); err != nil {
		return err
	}
	_, err := startProcess(c.RunDir, "coredns", bins.CoreDNS, []string{"-conf", path}, nil)
	return err
}

// createDNSService makes kube-dns in kube-system: a selector-less Service
// at ClusterDNSIP whose EndpointSlice points at CoreDNS on the node IP.
func createDNSService(ctx context.Context, client *kubernetes.Clientset, port int) error {
	target := intstr.FromInt32(int32(port))
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "kube-dns", Namespace: metav1.NamespaceSystem, Labels: map[string]string{"k8s-app": "kube-dns"}},
		Spec: corev1.ServiceSpec{
			ClusterIP: ClusterDNSIP,
			Ports: []corev1.ServicePort{
				{Name: "dns", Protocol: corev1.ProtocolUDP, Port: 53, TargetPort: target},
				{Name: "dns-tcp", Protocol: corev1.ProtocolTCP, Port: 53, TargetPort: target},
			},
		},
	}
	if _, err := client.CoreV1().Services(metav1.NamespaceSystem).Create(ctx, svc, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("create kube-dns service: %w", err)
	}
	udp, tcp := corev1.ProtocolUDP, corev1.ProtocolTCP
	slice := &discoveryv1.EndpointSlice{
		ObjectMeta: metav1.ObjectMeta{
			Name:      "kube-dns-node",
			Namespace: metav1.NamespaceSystem,
			Labels: map[string]string{
				discoveryv1.LabelServiceName: "kube-dns",
				// Not the EndpointSlice controller's: it must leave it be.
				discoveryv1.LabelManagedBy: "jobs-cluster",
			},
		},
		AddressType: discoveryv1.AddressTypeIPv4,
		Endpoints: []discoveryv1.Endpoint{{
			Addresses:  []string{NodeIP},
			Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(true)},
			NodeName:   ptr.To(NodeName),
		}},
		Ports: []discoveryv1.EndpointPort{
			{Name: ptr.To("dns"), Protocol: &udp, Port: ptr.To(int32(port))},
			{Name: ptr.To("dns-tcp"), Protocol: &tcp, Port: ptr.To(int32(port))},
		},
	}
	if _, err := client.DiscoveryV1().EndpointSlices(metav1.NamespaceSystem).Create(ctx, slice, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("create kube-dns endpoint slice: %w", err)
	}
	return nil
}

func waitHTTP(ctx context.Context, url string, timeout time.Duration, what string) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var last string
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			last = "HTTP " + strconv.Itoa(resp.StatusCode)
		} else {
			last = err.Error()
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s not ready at %s within %s: %s", what, url, timeout, last)
		case <-time.After(200 * time.Millisecond):
		}
	}
}
