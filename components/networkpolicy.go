package components

import (
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	networkingv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/networking/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// newRedisPolicy admits connections to Redis only from this environment's API and worker pods;
// everything else, including other environments on the same cluster, is denied.
func newRedisPolicy(ctx *pulumi.Context, env string, l labeler, ns *corev1.Namespace, opts ...pulumi.ResourceOption) (*networkingv1.NetworkPolicy, error) {
	name := objectName(env, "redis-ingress")
	return networkingv1.NewNetworkPolicy(ctx, name, &networkingv1.NetworkPolicyArgs{
		Metadata: namespacedMetadata(ns, name, l.common(componentRedis, "")),
		Spec: &networkingv1.NetworkPolicySpecArgs{
			PodSelector: &metav1.LabelSelectorArgs{MatchLabels: l.selector(componentRedis)},
			PolicyTypes: pulumi.StringArray{pulumi.String("Ingress")},
			Ingress: networkingv1.NetworkPolicyIngressRuleArray{networkingv1.NetworkPolicyIngressRuleArgs{
				From: networkingv1.NetworkPolicyPeerArray{
					networkingv1.NetworkPolicyPeerArgs{PodSelector: &metav1.LabelSelectorArgs{MatchLabels: l.selector(componentAPI)}},
					networkingv1.NetworkPolicyPeerArgs{PodSelector: &metav1.LabelSelectorArgs{MatchLabels: l.selector(componentWorker)}},
				},
				Ports: networkingv1.NetworkPolicyPortArray{networkingv1.NetworkPolicyPortArgs{
					Protocol: pulumi.String("TCP"),
					Port:     pulumi.Int(redisPort),
				}},
			}},
		},
	}, opts...)
}
