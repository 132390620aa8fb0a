package components

import (
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

const (
	// appUID is the distroless nonroot user the app images run as (see app/Dockerfile).
	appUID = 65532
	// redisUID is the redis user of the official image, which owns /data.
	redisUID = 999

	httpPort     = 8080
	httpPortName = "http"
	redisPort    = 6379
)

// podSecurity runs every container of a pod as a fixed non-root user; fsGroup makes mounted
// volumes writable for it.
func podSecurity(uid int) *corev1.PodSecurityContextArgs {
	return &corev1.PodSecurityContextArgs{
		RunAsNonRoot:   pulumi.Bool(true),
		RunAsUser:      pulumi.Int(uid),
		RunAsGroup:     pulumi.Int(uid),
		FsGroup:        pulumi.Int(uid),
		SeccompProfile: &corev1.SeccompProfileArgs{Type: pulumi.String("RuntimeDefault")},
	}
}

// containerSecurity is the restricted Pod Security Standard for one container.
func containerSecurity() *corev1.SecurityContextArgs {
	return &corev1.SecurityContextArgs{
		RunAsNonRoot:             pulumi.Bool(true),
		ReadOnlyRootFilesystem:   pulumi.Bool(true),
		AllowPrivilegeEscalation: pulumi.Bool(false),
		Privileged:               pulumi.Bool(false),
		Capabilities:             &corev1.CapabilitiesArgs{Drop: pulumi.StringArray{pulumi.String("ALL")}},
		SeccompProfile:           &corev1.SeccompProfileArgs{Type: pulumi.String("RuntimeDefault")},
	}
}

// resources sets requests (for scheduling) and limits (so one runaway pod cannot starve the node).
func resources(cpuReq, memReq, cpuLim, memLim string) *corev1.ResourceRequirementsArgs {
	return &corev1.ResourceRequirementsArgs{
		Requests: pulumi.StringMap{"cpu": pulumi.String(cpuReq), "memory": pulumi.String(memReq)},
		Limits:   pulumi.StringMap{"cpu": pulumi.String(cpuLim), "memory": pulumi.String(memLim)},
	}
}

// httpProbe checks a path on the named http port, which both app processes serve.
func httpProbe(path string, period, failures int) *corev1.ProbeArgs {
	return &corev1.ProbeArgs{
		HttpGet: &corev1.HTTPGetActionArgs{
			Path: pulumi.String(path),
			Port: pulumi.String(httpPortName),
		},
		PeriodSeconds:    pulumi.Int(period),
		TimeoutSeconds:   pulumi.Int(2),
		FailureThreshold: pulumi.Int(failures),
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
