package components

import (
	"strconv"

	appsv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/apps/v1"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/example/jobs/settings"
)

// workerGracePeriod exceeds the worker's 40 s shutdown wait (itself above the 30 s longest
// job), so Kubernetes never kills a worker that is still handing jobs back.
const workerGracePeriod = 60

func newWorker(ctx *pulumi.Context, cfg settings.Worker, in appInputs, image pulumi.StringOutput, opts ...pulumi.ResourceOption) (*appsv1.Deployment, error) {
	return newAppDeployment(ctx, in, appDeployment{
		component:   componentWorker,
		image:       image,
		replicas:    cfg.Replicas,
		gracePeriod: workerGracePeriod,
		extraEnv: corev1.EnvVarArray{corev1.EnvVarArgs{
			Name: pulumi.String(settings.EnvConcurrency), Value: pulumi.String(strconv.Itoa(cfg.Concurrency)),
		}},
		appEnv: cfg.Env,
	}, opts...)
}
