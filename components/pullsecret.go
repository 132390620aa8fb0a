package components

import (
	"encoding/base64"
	"encoding/json"

	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/example/jobs/settings"
)

// newPullSecret turns the registry login into an image pull secret. It returns nil without a
// login: a registry that needs no login needs no secret.
func newPullSecret(ctx *pulumi.Context, env string, cfg settings.Images, l labeler, ns *corev1.Namespace, opts ...pulumi.ResourceOption) (*corev1.Secret, error) {
	if cfg.Login == nil {
		return nil, nil
	}
	dockerConfig := secretString(cfg.Login.Password).ApplyT(func(pass string) (string, error) {
		user := cfg.Login.Username
		b, err := json.Marshal(map[string]any{"auths": map[string]any{
			cfg.Server: map[string]string{
				"username": user,
				"password": pass,
				"auth":     base64.StdEncoding.EncodeToString([]byte(user + ":" + pass)),
			},
		}})
		return string(b), err
	}).(pulumi.StringOutput)
	name := objectName(env, "registry")
	return corev1.NewSecret(ctx, name, &corev1.SecretArgs{
		Metadata:   namespacedMetadata(ns, name, l.common("", "")),
		Type:       pulumi.String("kubernetes.io/dockerconfigjson"),
		StringData: pulumi.StringMap{".dockerconfigjson": pulumi.ToSecret(dockerConfig).(pulumi.StringOutput)},
	}, opts...)
}

// pullSecrets is the pod's imagePullSecrets list, empty without a login.
func pullSecrets(s *corev1.Secret) corev1.LocalObjectReferenceArray {
	if s == nil {
		return nil
	}
	return corev1.LocalObjectReferenceArray{corev1.LocalObjectReferenceArgs{Name: s.Metadata.Name()}}
}
