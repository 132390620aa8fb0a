package components

import (
	"encoding/json"
	"slices"
	"strings"

	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/example/jobs/settings"
)

// Checksums of the app's own variables on the API and worker pod templates: each covers only
// the variables that process reads, so a change rolls exactly the pods that read it.
const (
	appConfigChecksum  = "checksum/app-config"
	appSecretsChecksum = "checksum/app-secrets"
)

// appEnv holds the stack's own variables for the app (jobs:env, jobs:secretEnv): one ConfigMap
// and one Secret per environment, keyed by where the stack sets each variable (LOG_LEVEL,
// worker.API_KEY), each made only when it has something to hold. A stack without such
// variables gets neither, and its pods are exactly what they were before the settings existed.
type appEnv struct {
	config  *corev1.ConfigMap
	secrets *corev1.Secret
}

func newAppEnv(ctx *pulumi.Context, env string, processes []settings.Env, l labeler, ns *corev1.Namespace, opts ...pulumi.ResourceOption) (*appEnv, error) {
	plain, secret := map[string]string{}, map[string]string{}
	for _, p := range processes {
		for _, v := range p.Plain {
			plain[v.Path] = v.Value
		}
		for _, v := range p.Secret {
			secret[v.Path] = v.Value.Reveal()
		}
	}
	a := &appEnv{}
	if len(plain) > 0 {
		name := objectName(env, "app-config")
		cm, err := corev1.NewConfigMap(ctx, name, &corev1.ConfigMapArgs{
			Metadata: namespacedMetadata(ns, name, l.common("", "")),
			Data:     pulumi.ToStringMap(plain),
		}, opts...)
		if err != nil {
			return nil, err
		}
		a.config = cm
	}
	if len(secret) > 0 {
		name := objectName(env, "app-secrets")
		s, err := corev1.NewSecret(ctx, name, &corev1.SecretArgs{
			Metadata: namespacedMetadata(ns, name, l.common("", "")),
			Type:     pulumi.String("Opaque"),
			// The whole map is one Pulumi secret: encrypted in state, [secret] in previews.
			StringData: pulumi.ToSecret(pulumi.ToStringMap(secret)).(pulumi.StringMapOutput),
		}, opts...)
		if err != nil {
			return nil, err
		}
		a.secrets = s
	}
	return a, nil
}

// forProcess is one process's variables, each read from the ConfigMap or Secret by its key, and
// the checksums that roll its pods when one of their values changes (a changed ConfigMap or
// Secret alone reaches no running container: the environment is read at start). The references
// are optional so that a pod of the previous template, restarted in the moment between the
// update of the ConfigMap and its rollout, still starts when a variable was just removed.
func (a *appEnv) forProcess(e settings.Env) (corev1.EnvVarArray, pulumi.StringMap) {
	type ref struct {
		name string
		v    corev1.EnvVarArgs
	}
	var refs []ref
	annotations := pulumi.StringMap{}
	if len(e.Plain) > 0 {
		sums := map[string]string{}
		for _, v := range e.Plain {
			sums[v.Path] = v.Value
			refs = append(refs, ref{v.Name, corev1.EnvVarArgs{
				Name: pulumi.String(v.Name),
				ValueFrom: &corev1.EnvVarSourceArgs{ConfigMapKeyRef: &corev1.ConfigMapKeySelectorArgs{
					Name: a.config.Metadata.Name(), Key: pulumi.String(v.Path), Optional: pulumi.Bool(true),
				}},
			}})
		}
		annotations[appConfigChecksum] = pulumi.String(checksum(canonical(sums)))
	}
	if len(e.Secret) > 0 {
		sums := map[string]string{}
		for _, v := range e.Secret {
			sums[v.Path] = v.Value.Reveal()
			refs = append(refs, ref{v.Name, corev1.EnvVarArgs{
				Name: pulumi.String(v.Name),
				ValueFrom: &corev1.EnvVarSourceArgs{SecretKeyRef: &corev1.SecretKeySelectorArgs{
					Name: a.secrets.Metadata.Name(), Key: pulumi.String(v.Path), Optional: pulumi.Bool(true),
				}},
			}})
		}
		// Even the hash of a secret stays a Pulumi secret.
		annotations[appSecretsChecksum] = secretChecksum(pulumi.String(canonical(sums)))
	}
	slices.SortFunc(refs, func(x, y ref) int { return strings.Compare(x.name, y.name) })
	var out corev1.EnvVarArray
	for _, r := range refs {
		out = append(out, r.v)
	}
	return out, annotations
}

// canonical is a map's JSON text, keys sorted, so its checksum moves only with its content.
func canonical(m map[string]string) string {
	b, err := json.Marshal(m) // encoding/json sorts map keys
	if err != nil {
		panic(err) // a map of strings always marshals
	}
	return string(b)
}
