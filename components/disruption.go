package components

import (
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	policyv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/policy/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// hostnameKey is the node label that tells nodes apart, the domain replicas spread over.
const hostnameKey = "kubernetes.io/hostname"

// needsBudget is the rule for PodDisruptionBudgets: a component with more than one replica gets
// one, so a voluntary disruption (a drain, an upgrade, an eviction) takes its pods one at a time
// and one always serves. A one-replica component gets none: any budget that keeps its only pod
// would block every drain of its node, which is worse than a short gap.
func needsBudget(replicas int) bool { return replicas > 1 }

// newDisruptionBudget lets the eviction API take at most one of a component's pods at a time.
// maxUnavailable (rather than minAvailable 1) keeps all but one serving at any replica count.
// Pods that are not ready may always be evicted: they serve nothing, and a broken rollout must not
// block a node drain.
func newDisruptionBudget(ctx *pulumi.Context, in appInputs, component string, opts ...pulumi.ResourceOption) (*policyv1.PodDisruptionBudget, error) {
	name := objectName(in.env, component)
	return policyv1.NewPodDisruptionBudget(ctx, name, &policyv1.PodDisruptionBudgetArgs{
		// No version label: the budget outlives every release, like the Service.
		Metadata: namespacedMetadata(in.ns, name, in.labels.common(component, "")),
		Spec: &policyv1.PodDisruptionBudgetSpecArgs{
			MaxUnavailable:             pulumi.Int(1),
			Selector:                   &metav1.LabelSelectorArgs{MatchLabels: in.labels.selector(component)},
			UnhealthyPodEvictionPolicy: pulumi.String("AlwaysAllow"),
		},
	}, opts...)
}

// spread asks the scheduler to put a component's replicas on different nodes when it can, and
// still to schedule them on one node when there is only one (ScheduleAnyway): a hard rule would
// leave a second replica Pending on a one-node cluster. pod-template-hash counts only the pods of
// the same rollout, so old pods about to go do not skew where new ones land.
func spread(l labeler, component string) corev1.TopologySpreadConstraintArray {
	return corev1.TopologySpreadConstraintArray{corev1.TopologySpreadConstraintArgs{
		MaxSkew:           pulumi.Int(1),
		TopologyKey:       pulumi.String(hostnameKey),
		WhenUnsatisfiable: pulumi.String("ScheduleAnyway"),
		LabelSelector:     &metav1.LabelSelectorArgs{MatchLabels: l.selector(component)},
		MatchLabelKeys:    pulumi.StringArray{pulumi.String("pod-template-hash")},
	}}
}
