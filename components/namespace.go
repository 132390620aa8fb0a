package components

import (
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Pod Security admission: the namespace enforces the "restricted" standard, so the API server
// refuses any pod that breaks it (privileged, root, host namespaces, added capabilities), whoever
// creates it; audit and warn report the same at the same level. The version is pinned: a newer
// cluster's stricter "restricted" must not start refusing these pods on an upgrade before the
// pods were checked against it. It is the version of the local cluster they are checked on; a
// cluster older than it evaluates the labels as its own latest.
const (
	podSecurityLevel   = "restricted"
	podSecurityVersion = "v1.36"
	podSecurityPrefix  = "pod-security.kubernetes.io/"
)

func newNamespace(ctx *pulumi.Context, env string, l labeler, opts ...pulumi.ResourceOption) (*corev1.Namespace, error) {
	name := objectName(env, "jobs")
	labels := l.common("", "")
	for _, mode := range []string{"enforce", "audit", "warn"} {
		labels[podSecurityPrefix+mode] = pulumi.String(podSecurityLevel)
		labels[podSecurityPrefix+mode+"-version"] = pulumi.String(podSecurityVersion)
	}
	return corev1.NewNamespace(ctx, name, &corev1.NamespaceArgs{
		Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String(name), Labels: labels},
	}, opts...)
}

// ForceApplyAnnotation tells the kubernetes provider to apply the program's fields even where a
// hand edit (kubectl scale, kubectl set env) took them over under server-side apply. Without it
// such a field conflicts: the preview fails instead of showing the drift, and make up cannot put
// the declared value back. Fields the program does not set stay the editor's.
const ForceApplyAnnotation = "pulumi.com/patchForce"

// namespacedMetadata names an object in the environment's namespace. The namespace comes from
// the Namespace's output, which both orders creation and keeps a renamed namespace from leaving
// objects behind.
func namespacedMetadata(ns *corev1.Namespace, name string, labels pulumi.StringMap) *metav1.ObjectMetaArgs {
	return &metav1.ObjectMetaArgs{
		Name:        pulumi.String(name),
		Namespace:   ns.Metadata.Name(),
		Labels:      labels,
		Annotations: pulumi.StringMap{ForceApplyAnnotation: pulumi.String("true")},
	}
}
