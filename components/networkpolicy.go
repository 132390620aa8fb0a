package components

import (
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	networkingv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/networking/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/example/jobs/release"
)

// dnsPort is where pods ask cluster DNS (the kube-dns Service and, after it, the DNS server).
const dnsPort = 53

// The environment's network policies: everything in its namespace is denied in and out, then
// each policy opens exactly one path the service needs. They only take effect on a cluster whose
// network plugin enforces NetworkPolicy; elsewhere they are accepted and ignored.
func newNetworkPolicies(ctx *pulumi.Context, env string, l labeler, ns *corev1.Namespace, opts ...pulumi.ResourceOption) error {
	policies := []struct {
		suffix, component string
		spec              *networkingv1.NetworkPolicySpecArgs
	}{
		{"default-deny", "", defaultDeny()},
		{"api-ingress", componentAPI, apiIngress(l)},
		{"api-egress", componentAPI, egressTo(l, componentAPI, componentRedis, redisPort)},
		{"worker-egress", componentWorker, egressTo(l, componentWorker, componentRedis, redisPort)},
		{"redis-ingress", componentRedis, redisIngress(l)},
		{"verify-egress", release.Verifier, egressTo(l, release.Verifier, componentAPI, httpPort)},
	}
	for _, p := range policies {
		name := objectName(env, p.suffix)
		if _, err := networkingv1.NewNetworkPolicy(ctx, name, &networkingv1.NetworkPolicyArgs{
			Metadata: namespacedMetadata(ns, name, l.common(p.component, "")),
			Spec:     p.spec,
		}, opts...); err != nil {
			return err
		}
	}
	return nil
}

// defaultDeny selects every pod of the namespace for both directions and allows nothing, so a
// pod no other policy names (a debug pod, a later addition) can neither be reached nor reach out.
func defaultDeny() *networkingv1.NetworkPolicySpecArgs {
	return &networkingv1.NetworkPolicySpecArgs{
		PodSelector: &metav1.LabelSelectorArgs{},
		PolicyTypes: pulumi.StringArray{pulumi.String("Ingress"), pulumi.String("Egress")},
	}
}

// apiIngress opens the API's HTTP port to every source: clients come through the NodePort from
// outside the namespace and the cluster, with addresses the program cannot know.
func apiIngress(l labeler) *networkingv1.NetworkPolicySpecArgs {
	return &networkingv1.NetworkPolicySpecArgs{
		PodSelector: &metav1.LabelSelectorArgs{MatchLabels: l.selector(componentAPI)},
		PolicyTypes: pulumi.StringArray{pulumi.String("Ingress")},
		Ingress: networkingv1.NetworkPolicyIngressRuleArray{networkingv1.NetworkPolicyIngressRuleArgs{
			Ports: tcpPorts(httpPort),
		}},
	}
}

// egressTo lets the pods of component from reach the pods of component to on port, and cluster
// DNS, nothing else: the API and worker reach Redis; the pod `make verify` runs inside the
// namespace (tools/verify) reaches the API, as a client inside the cluster would, and not Redis.
// DNS is allowed on its port to any address: where cluster DNS answers differs between clusters
// (CoreDNS pods in kube-system, a NodeLocal DNSCache on a link-local address, a host process on
// the local cluster), and no selector names them all.
func egressTo(l labeler, from, to string, port int) *networkingv1.NetworkPolicySpecArgs {
	return &networkingv1.NetworkPolicySpecArgs{
		PodSelector: &metav1.LabelSelectorArgs{MatchLabels: l.selector(from)},
		PolicyTypes: pulumi.StringArray{pulumi.String("Egress")},
		Egress: networkingv1.NetworkPolicyEgressRuleArray{
			networkingv1.NetworkPolicyEgressRuleArgs{
				To: networkingv1.NetworkPolicyPeerArray{
					networkingv1.NetworkPolicyPeerArgs{PodSelector: &metav1.LabelSelectorArgs{MatchLabels: l.selector(to)}},
				},
				Ports: tcpPorts(port),
			},
			networkingv1.NetworkPolicyEgressRuleArgs{
				Ports: networkingv1.NetworkPolicyPortArray{
					networkingv1.NetworkPolicyPortArgs{Protocol: pulumi.String("UDP"), Port: pulumi.Int(dnsPort)},
					networkingv1.NetworkPolicyPortArgs{Protocol: pulumi.String("TCP"), Port: pulumi.Int(dnsPort)},
				},
			},
		},
	}
}

// redisIngress admits connections to Redis only from this environment's API and worker pods;
// everything else, including other environments on the same cluster, is denied.
func redisIngress(l labeler) *networkingv1.NetworkPolicySpecArgs {
	return &networkingv1.NetworkPolicySpecArgs{
		PodSelector: &metav1.LabelSelectorArgs{MatchLabels: l.selector(componentRedis)},
		PolicyTypes: pulumi.StringArray{pulumi.String("Ingress")},
		Ingress: networkingv1.NetworkPolicyIngressRuleArray{networkingv1.NetworkPolicyIngressRuleArgs{
			From: networkingv1.NetworkPolicyPeerArray{
				networkingv1.NetworkPolicyPeerArgs{PodSelector: &metav1.LabelSelectorArgs{MatchLabels: l.selector(componentAPI)}},
				networkingv1.NetworkPolicyPeerArgs{PodSelector: &metav1.LabelSelectorArgs{MatchLabels: l.selector(componentWorker)}},
			},
			Ports: tcpPorts(redisPort),
		}},
	}
}

func tcpPorts(port int) networkingv1.NetworkPolicyPortArray {
	return networkingv1.NetworkPolicyPortArray{networkingv1.NetworkPolicyPortArgs{
		Protocol: pulumi.String("TCP"), Port: pulumi.Int(port),
	}}
}
