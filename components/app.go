package components

import (
	"strconv"

	appsv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/apps/v1"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/example/jobs/settings"
)

const (
	// httpPort is where both app processes serve HTTP (PORT), probes included.
	httpPort     = 8080
	httpPortName = "http"
)

// appInputs are what the API and worker Deployments take from the rest of the environment.
type appInputs struct {
	env        string
	labels     labeler
	ns         *corev1.Namespace
	redis      *redis
	pullSecret *corev1.Secret
	pullPolicy string
	appEnv     *appEnv
}

// appDeployment is the Deployment shape the API and the worker share: the same image family,
// hardening, probes and Redis connection; they differ in replicas, extra env and grace period.
type appDeployment struct {
	component string
	image     pulumi.StringOutput
	replicas  int
	extraEnv  corev1.EnvVarArray
	// appEnv is what this process reads from jobs:env and jobs:secretEnv.
	appEnv      settings.Env
	gracePeriod int
	// drainSeconds delays SIGTERM after a pod starts terminating, so clients stop being routed to
	// it before it stops listening (0: no delay). The kubelet sleeps: no shell in the image needed.
	drainSeconds int
}

// newAppDeployment registers the Deployment and, where the replicas call for one, its
// PodDisruptionBudget.
func newAppDeployment(ctx *pulumi.Context, in appInputs, d appDeployment, opts ...pulumi.ResourceOption) (*appsv1.Deployment, error) {
	dep, err := appDeploymentOf(ctx, in, d, opts...)
	if err != nil {
		return nil, err
	}
	if needsBudget(d.replicas) {
		if _, err := newDisruptionBudget(ctx, in, d.component, opts...); err != nil {
			return nil, err
		}
	}
	return dep, nil
}

func appDeploymentOf(ctx *pulumi.Context, in appInputs, d appDeployment, opts ...pulumi.ResourceOption) (*appsv1.Deployment, error) {
	env := corev1.EnvVarArray{
		corev1.EnvVarArgs{Name: pulumi.String(settings.EnvRedisAddr), Value: in.redis.address},
		secretEnv(settings.EnvRedisPassword, in.redis.auth, redisPasswordKey),
		corev1.EnvVarArgs{Name: pulumi.String(settings.EnvPort), Value: pulumi.String(strconv.Itoa(httpPort))},
	}
	env = append(env, d.extraEnv...)
	annotations := pulumi.StringMap{redisAuthChecksum: in.redis.authChecksum}
	if in.appEnv != nil {
		own, sums := in.appEnv.forProcess(d.appEnv)
		env = append(env, own...)
		for k, v := range sums {
			annotations[k] = v
		}
	}

	var lifecycle *corev1.LifecycleArgs
	if d.drainSeconds > 0 {
		lifecycle = &corev1.LifecycleArgs{PreStop: &corev1.LifecycleHandlerArgs{
			Sleep: &corev1.SleepActionArgs{Seconds: pulumi.Int(d.drainSeconds)},
		}}
	}
	l := in.labels
	name := objectName(in.env, d.component)
	return appsv1.NewDeployment(ctx, name, &appsv1.DeploymentArgs{
		Metadata: namespacedMetadata(in.ns, name, l.release(d.component)),
		Spec: &appsv1.DeploymentSpecArgs{
			Replicas: pulumi.Int(d.replicas),
			// maxUnavailable 0: a new pod must be ready before an old one goes, so a rollout
			// never lowers capacity.
			Strategy: &appsv1.DeploymentStrategyArgs{
				Type: pulumi.String("RollingUpdate"),
				RollingUpdate: &appsv1.RollingUpdateDeploymentArgs{
					MaxUnavailable: pulumi.Int(0),
					MaxSurge:       pulumi.Int(1),
				},
			},
			Selector: &metav1.LabelSelectorArgs{MatchLabels: l.selector(d.component)},
			Template: &corev1.PodTemplateSpecArgs{
				Metadata: &metav1.ObjectMetaArgs{
					Labels:      l.release(d.component),
					Annotations: annotations,
				},
				Spec: &corev1.PodSpecArgs{
					AutomountServiceAccountToken:  pulumi.Bool(false),
					TerminationGracePeriodSeconds: pulumi.Int(d.gracePeriod),
					SecurityContext:               podSecurity(appUID),
					TopologySpreadConstraints:     spread(l, d.component),
					ImagePullSecrets:              pullSecrets(in.pullSecret),
					Containers: corev1.ContainerArray{corev1.ContainerArgs{
						Name:            pulumi.String(d.component),
						Image:           d.image,
						ImagePullPolicy: pulumi.String(in.pullPolicy),
						Env:             env,
						Ports: corev1.ContainerPortArray{corev1.ContainerPortArgs{
							Name: pulumi.String(httpPortName), ContainerPort: pulumi.Int(httpPort), Protocol: pulumi.String("TCP"),
						}},
						ReadinessProbe:  httpProbe("/readyz", 5, 3),
						LivenessProbe:   httpProbe("/healthz", 10, 3),
						Lifecycle:       lifecycle,
						Resources:       resources("50m", "64Mi", "500m", "256Mi"),
						SecurityContext: containerSecurity(),
					}},
				},
			},
		},
	}, opts...)
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
