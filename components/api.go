package components

import (
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/example/jobs/settings"
)

// apiShutdownGrace covers the API's HTTP shutdown after SIGTERM (20 s at most, docs/contracts.md)
// with a margin; the grace period is the drain plus this.
const apiShutdownGrace = 25

type api struct {
	nodePort pulumi.IntOutput
}

func newAPI(ctx *pulumi.Context, cfg settings.API, in appInputs, image pulumi.StringOutput, opts ...pulumi.ResourceOption) (*api, error) {
	if _, err := newAppDeployment(ctx, in, appDeployment{
		component: componentAPI,
		image:     image,
		replicas:  cfg.Replicas,
		// The drain keeps a terminating pod serving while kube-proxy takes it out of the Service:
		// without it, requests that reach the pod after it stops listening are refused (a rollout
		// under load on the real engine lost 26 of 1,362 submissions that way).
		drainSeconds: cfg.DrainSeconds,
		gracePeriod:  cfg.DrainSeconds + apiShutdownGrace,
		appEnv:       cfg.Env,
	}, opts...); err != nil {
		return nil, err
	}

	// Unset, the cluster assigns a free port (jobs:nodePort: auto); under server-side apply the
	// program then does not manage the field, so the assigned port is neither drift nor changed
	// by a later up.
	var fixedPort pulumi.IntPtrInput
	if cfg.NodePort != settings.AutoNodePort {
		fixedPort = pulumi.IntPtr(cfg.NodePort)
	}
	name := objectName(in.env, componentAPI)
	svc, err := corev1.NewService(ctx, name, &corev1.ServiceArgs{
		// No version label: the Service outlives every release.
		Metadata: namespacedMetadata(in.ns, name, in.labels.common(componentAPI, "")),
		Spec: &corev1.ServiceSpecArgs{
			Type:     pulumi.String("NodePort"),
			Selector: in.labels.selector(componentAPI),
			Ports: corev1.ServicePortArray{corev1.ServicePortArgs{
				Name:       pulumi.String(httpPortName),
				Port:       pulumi.Int(httpPort),
				TargetPort: pulumi.String(httpPortName),
				NodePort:   fixedPort,
				Protocol:   pulumi.String("TCP"),
			}},
		},
	}, opts...)
	if err != nil {
		return nil, err
	}
	nodePort := svc.Spec.Ports().Index(pulumi.Int(0)).NodePort().Elem()
	return &api{nodePort: nodePort}, nil
}
