package components

import (
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/example/jobs/settings"
)

// Every container's node-local disk: its root filesystem is read-only and it mounts no emptyDir,
// so what it writes to the node is its log, kept by the kubelet (at most 5 files of 10Mi by
// default). A job logs 210 bytes on the API and 450 on the worker (docs/operations.md says how
// that was measured): the request holds tens of thousands of jobs of log, the limit is above what
// log rotation keeps, so only a container writing far beyond its log is evicted, before it can
// fill the node and evict its neighbours.
const (
	ephemeralStorageRequest = "16Mi"
	ephemeralStorageLimit   = "128Mi"
)

// resources sets requests (for scheduling) and limits (so one runaway pod cannot starve the node
// of CPU, memory or disk).
func resources(cpuReq, memReq, cpuLim, memLim string) *corev1.ResourceRequirementsArgs {
	return &corev1.ResourceRequirementsArgs{
		Requests: pulumi.StringMap{
			"cpu": pulumi.String(cpuReq), "memory": pulumi.String(memReq),
			"ephemeral-storage": pulumi.String(ephemeralStorageRequest),
		},
		Limits: pulumi.StringMap{
			"cpu": pulumi.String(cpuLim), "memory": pulumi.String(memLim),
			"ephemeral-storage": pulumi.String(ephemeralStorageLimit),
		},
	}
}

// secretEnv reads one key of a Secret; the Secret's output name links the pod to it.
func secretEnv(envName string, secret *corev1.Secret, key string) corev1.EnvVarArgs {
	return corev1.EnvVarArgs{
		Name: pulumi.String(envName),
		ValueFrom: &corev1.EnvVarSourceArgs{
			SecretKeyRef: &corev1.SecretKeySelectorArgs{
				Name: secret.Metadata.Name(),
				Key:  pulumi.String(key),
			},
		},
	}
}

// secretString makes a secret setting a Pulumi secret, so it stays encrypted in state and in
// every resource it reaches.
func secretString(s settings.Secret) pulumi.StringOutput {
	return pulumi.ToSecret(pulumi.String(s.Reveal())).(pulumi.StringOutput)
}
