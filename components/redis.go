package components

import (
	appsv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/apps/v1"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/example/jobs/settings"
)

const (
	redisPort        = 6379
	redisPasswordKey = "password"
	redisConfigKey   = "redis.conf"
	redisConfigDir   = "/etc/redis"
	redisDataDir     = "/data"
)

// redis is what the app needs from the Redis part.
type redis struct {
	auth *corev1.Secret
	// authChecksum rolls every pod that reads the password when it changes.
	authChecksum pulumi.StringOutput
	address      pulumi.StringOutput
}

// newRedis creates Redis: its volume, config, password Secret, Deployment and Service.
// redisConf is the contents of redis.conf; pullPolicy is every container's imagePullPolicy.
func newRedis(ctx *pulumi.Context, env string, cfg settings.Redis, redisConf, pullPolicy string, l labeler, ns *corev1.Namespace, opts ...pulumi.ResourceOption) (*redis, error) {
	pvcSpec := &corev1.PersistentVolumeClaimSpecArgs{
		AccessModes: pulumi.StringArray{pulumi.String("ReadWriteOnce")},
		Resources: &corev1.VolumeResourceRequirementsArgs{
			Requests: pulumi.StringMap{"storage": pulumi.String(cfg.StorageSize)},
		},
	}
	if cfg.StorageClass != "" {
		pvcSpec.StorageClassName = pulumi.String(cfg.StorageClass)
	}
	pvcName := objectName(env, "redis-data")
	pvc, err := corev1.NewPersistentVolumeClaim(ctx, pvcName, &corev1.PersistentVolumeClaimArgs{
		Metadata: namespacedMetadata(ns, pvcName, l.redis()),
		Spec:     pvcSpec,
	}, append(opts, pulumi.Protect(cfg.ProtectData))...)
	if err != nil {
		return nil, err
	}

	confName := objectName(env, "redis-config")
	conf, err := corev1.NewConfigMap(ctx, confName, &corev1.ConfigMapArgs{
		Metadata: namespacedMetadata(ns, confName, l.redis()),
		Data:     pulumi.StringMap{redisConfigKey: pulumi.String(redisConf)},
	}, opts...)
	if err != nil {
		return nil, err
	}

	password := secretString(cfg.Password)
	authName := objectName(env, "redis-auth")
	auth, err := corev1.NewSecret(ctx, authName, &corev1.SecretArgs{
		Metadata:   namespacedMetadata(ns, authName, l.redis()),
		Type:       pulumi.String("Opaque"),
		StringData: pulumi.StringMap{redisPasswordKey: password},
	}, opts...)
	if err != nil {
		return nil, err
	}

	container := corev1.ContainerArgs{
		Name:            pulumi.String("redis"),
		Image:           pulumi.String(cfg.Image),
		ImagePullPolicy: pulumi.String(pullPolicy),
		// $(REDIS_PASSWORD) is expanded by the kubelet from the env below, so the password
		// never appears in the pod spec.
		Args: pulumi.StringArray{
			pulumi.String("redis-server"), pulumi.String(redisConfigDir + "/" + redisConfigKey),
			pulumi.String("--requirepass"), pulumi.String("$(REDIS_PASSWORD)"),
		},
		Env: corev1.EnvVarArray{
			secretEnv("REDIS_PASSWORD", auth, redisPasswordKey),
			// redis-cli reads REDISCLI_AUTH, so the readiness probe can authenticate without
			// putting the password on a command line.
			secretEnv("REDISCLI_AUTH", auth, redisPasswordKey),
		},
		Ports: corev1.ContainerPortArray{corev1.ContainerPortArgs{
			Name: pulumi.String("redis"), ContainerPort: pulumi.Int(redisPort),
		}},
		ReadinessProbe: &corev1.ProbeArgs{
			Exec: &corev1.ExecActionArgs{Command: pulumi.StringArray{
				pulumi.String("sh"), pulumi.String("-c"), pulumi.String("redis-cli ping | grep -q PONG"),
			}},
			PeriodSeconds: pulumi.Int(5), TimeoutSeconds: pulumi.Int(2), FailureThreshold: pulumi.Int(3),
		},
		// Liveness only asks whether the port accepts connections: a Redis that is loading
		// a large AOF answers LOADING to PING and must not be restarted for it.
		LivenessProbe: &corev1.ProbeArgs{
			TcpSocket:           &corev1.TCPSocketActionArgs{Port: pulumi.String("redis")},
			InitialDelaySeconds: pulumi.Int(10), PeriodSeconds: pulumi.Int(10), FailureThreshold: pulumi.Int(6),
		},
		Resources:       resources("50m", "128Mi", "500m", "512Mi"),
		SecurityContext: containerSecurity(),
		VolumeMounts: corev1.VolumeMountArray{
			corev1.VolumeMountArgs{Name: pulumi.String("data"), MountPath: pulumi.String(redisDataDir)},
			corev1.VolumeMountArgs{Name: pulumi.String("config"), MountPath: pulumi.String(redisConfigDir), ReadOnly: pulumi.Bool(true)},
		},
	}

	authChecksum := secretChecksum(password)
	name := objectName(env, "redis")
	_, err = appsv1.NewDeployment(ctx, name, &appsv1.DeploymentArgs{
		Metadata: namespacedMetadata(ns, name, l.redis()),
		Spec: &appsv1.DeploymentSpecArgs{
			// One replica only: the data volume is ReadWriteOnce and Redis is not clustered.
			Replicas: pulumi.Int(1),
			// Recreate: an RWO volume cannot be attached to the old and the new pod at once,
			// so a rolling update would hang.
			Strategy: &appsv1.DeploymentStrategyArgs{Type: pulumi.String("Recreate")},
			Selector: &metav1.LabelSelectorArgs{MatchLabels: l.selector(componentRedis)},
			Template: &corev1.PodTemplateSpecArgs{
				Metadata: &metav1.ObjectMetaArgs{
					Labels: l.redis(),
					Annotations: pulumi.StringMap{
						redisConfigChecksum: pulumi.String(checksum(redisConf)),
						redisAuthChecksum:   authChecksum,
					},
				},
				Spec: &corev1.PodSpecArgs{
					AutomountServiceAccountToken: pulumi.Bool(false),
					SecurityContext:              podSecurity(redisUID),
					Containers:                   corev1.ContainerArray{container},
					Volumes: corev1.VolumeArray{
						corev1.VolumeArgs{
							Name: pulumi.String("data"),
							PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSourceArgs{
								ClaimName: pvc.Metadata.Name().Elem(),
							},
						},
						corev1.VolumeArgs{
							Name: pulumi.String("config"),
							ConfigMap: &corev1.ConfigMapVolumeSourceArgs{
								Name:  conf.Metadata.Name(),
								Items: corev1.KeyToPathArray{corev1.KeyToPathArgs{Key: pulumi.String(redisConfigKey), Path: pulumi.String(redisConfigKey)}},
							},
						},
					},
				},
			},
		},
	}, opts...)
	if err != nil {
		return nil, err
	}

	svc, err := corev1.NewService(ctx, name, &corev1.ServiceArgs{
		Metadata: namespacedMetadata(ns, name, l.redis()),
		Spec: &corev1.ServiceSpecArgs{
			Type:     pulumi.String("ClusterIP"),
			Selector: l.selector(componentRedis),
			Ports: corev1.ServicePortArray{corev1.ServicePortArgs{
				Name: pulumi.String("redis"), Port: pulumi.Int(redisPort), TargetPort: pulumi.String("redis"),
				Protocol: pulumi.String("TCP"),
			}},
		},
	}, opts...)
	if err != nil {
		return nil, err
	}

	// The address comes from the Service's outputs, so the app follows a renamed Service.
	address := pulumi.Sprintf("%s.%s.svc.cluster.local:%d", svc.Metadata.Name().Elem(), svc.Metadata.Namespace().Elem(), redisPort)
	return &redis{auth: auth, authChecksum: authChecksum, address: address}, nil
}
