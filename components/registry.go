package components

import (
	"encoding/base64"
	"encoding/json"

	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// newRegistrySecret turns the registry credentials into an imagePullSecret. It returns nil when
// no credentials are configured: a registry that needs no login needs no secret.
func newRegistrySecret(ctx *pulumi.Context, a *EnvironmentArgs, l labeler, ns *corev1.Namespace, opts ...pulumi.ResourceOption) (*corev1.Secret, error) {
	if !a.hasRegistryCredentials() {
		return nil, nil
	}
	dockerConfig := pulumi.All(a.RegistryUsername, a.RegistryPassword).ApplyT(func(v []any) (string, error) {
		user, pass := v[0].(string), v[1].(string)
		b, err := json.Marshal(map[string]any{"auths": map[string]any{
			a.RegistryServer: map[string]string{
				"username": user,
				"password": pass,
				"auth":     base64.StdEncoding.EncodeToString([]byte(user + ":" + pass)),
			},
		}})
		return string(b), err
	}).(pulumi.StringOutput)
	return corev1.NewSecret(ctx, a.objectName("registry"), &corev1.SecretArgs{
		Metadata:   meta(ns, a.objectName("registry"), l.common("", "")),
		Type:       pulumi.String("kubernetes.io/dockerconfigjson"),
		StringData: pulumi.StringMap{".dockerconfigjson": pulumi.ToSecret(dockerConfig).(pulumi.StringOutput)},
	}, opts...)
}

// pullSecrets is the pod's imagePullSecrets list, empty without credentials.
func pullSecrets(s *corev1.Secret) corev1.LocalObjectReferenceArray {
	if s == nil {
		return nil
	}
	return corev1.LocalObjectReferenceArray{corev1.LocalObjectReferenceArgs{Name: s.Metadata.Name()}}
}
