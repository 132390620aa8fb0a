package program

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"

	"github.com/example/jobs/mockengine"
	"github.com/example/jobs/settings"
)

// Paths of a Deployment that the app's own variables move.
const (
	envPath             = "spec.template.spec.containers[0].env"
	appConfigAnnotation = "spec.template.metadata.annotations.checksum/app-config"
	appSecretAnnotation = "spec.template.metadata.annotations.checksum/app-secrets"
)

// changed compares two runs resource by resource: each resource's changed input paths, "added"
// or "removed", keyed by "<type> <name>".
func changed(t *testing.T, before, after *run) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, b := range before.eng.Resources() {
		a, err := after.eng.One(b.Type, b.Name)
		if err != nil {
			out[b.Type+" "+b.Name] = "removed"
			continue
		}
		if d := mockengine.DiffPaths(in(t, b), in(t, a)); len(d) > 0 {
			out[b.Type+" "+b.Name] = strings.Join(d, ",")
		}
	}
	for _, a := range after.eng.Resources() {
		if _, err := before.eng.One(a.Type, a.Name); err != nil {
			out[a.Type+" "+a.Name] = "added"
		}
	}
	return out
}

func sameChanges(t *testing.T, what string, got, want map[string]string) {
	t.Helper()
	keys := map[string]bool{}
	for k := range got {
		keys[k] = true
	}
	for k := range want {
		keys[k] = true
	}
	for k := range keys {
		if got[k] != want[k] {
			t.Errorf("%s: %s changed %q, want %q", what, k, got[k], want[k])
		}
	}
}

// envRefs are a container's variables read from a ConfigMap or Secret: name -> "<kind> <object>/<key>".
func envRefs(t *testing.T, d map[string]any) map[string]string {
	t.Helper()
	out := map[string]string{}
	env, _ := at(d, "spec", "template", "spec", "containers", 0, "env").([]any)
	for _, e := range env {
		name := at(e, "name").(string)
		for kind, field := range map[string]string{"ConfigMap": "configMapKeyRef", "Secret": "secretKeyRef"} {
			if ref := at(e, "valueFrom", field); ref != nil {
				if at(ref, "optional") != true && at(ref, "name") != "test-redis-auth" {
					t.Errorf("%s: the reference of %s is not optional", at(d, "metadata", "name"), name)
				}
				out[name] = kind + " " + at(ref, "name").(string) + "/" + at(ref, "key").(string)
			}
		}
	}
	return out
}

// TestAppEnvChangesRollExactlyItsReaders: a plain setting for both processes creates the
// environment's ConfigMap and moves the API's and the worker's env and checksum, nothing else;
// a worker-only change moves the ConfigMap and the worker; a secret creates the Secret, stays a
// Pulumi secret everywhere and rolls only its reader; removing every setting brings every
// resource back to what it was.
func TestAppEnvChangesRollExactlyItsReaders(t *testing.T) {
	base := mustRun(t, "test", runOptions{})
	both := mustRun(t, "test", runOptions{set: map[string]string{"jobs:env": `{"LOG_LEVEL":"debug","worker":{"BATCH":"5"}}`}})
	sameChanges(t, "a plain setting", changed(t, base, both), map[string]string{
		typeConfigMap + " test-app-config": "added",
		typeDeployment + " test-api":       appConfigAnnotation + "," + envPath,
		typeDeployment + " test-worker":    appConfigAnnotation + "," + envPath,
	})
	want(t, "ConfigMap data", in(t, both.one(t, typeConfigMap, "test-app-config")),
		map[string]any{"LOG_LEVEL": "debug", "worker.BATCH": "5"}, "data")
	api, worker := in(t, both.one(t, typeDeployment, "test-api")), in(t, both.one(t, typeDeployment, "test-worker"))
	if got := envRefs(t, api); len(got) != 2 || got["LOG_LEVEL"] != "ConfigMap test-app-config/LOG_LEVEL" {
		t.Errorf("API variables from objects: %v", got)
	}
	if got := envRefs(t, worker); got["BATCH"] != "ConfigMap test-app-config/worker.BATCH" || got["LOG_LEVEL"] != "ConfigMap test-app-config/LOG_LEVEL" {
		t.Errorf("worker variables from objects: %v", got)
	}
	if at(api, "spec", "template", "metadata", "annotations", "checksum/app-config") ==
		at(worker, "spec", "template", "metadata", "annotations", "checksum/app-config") {
		t.Error("the API and the worker read different variables but carry the same checksum")
	}

	workerOnly := mustRun(t, "test", runOptions{set: map[string]string{"jobs:env": `{"LOG_LEVEL":"debug","worker":{"BATCH":"6"}}`}})
	sameChanges(t, "a worker-only value", changed(t, both, workerOnly), map[string]string{
		typeConfigMap + " test-app-config": "data.worker.BATCH",
		typeDeployment + " test-worker":    appConfigAnnotation,
	})

	const secretValue = "api-key-hunter2"
	secret := mustRun(t, "test", runOptions{
		set:     map[string]string{"jobs:env": `{"LOG_LEVEL":"debug","worker":{"BATCH":"6"}}`},
		secrets: map[string]string{"jobs:secretEnv": `{"worker":{"API_KEY":"` + secretValue + `"}}`},
	})
	sameChanges(t, "a worker-only secret", changed(t, workerOnly, secret), map[string]string{
		typeSecret + " test-app-secrets": "added",
		typeDeployment + " test-worker":  appSecretAnnotation + "," + envPath,
	})
	s := secret.one(t, typeSecret, "test-app-secrets")
	want(t, "Secret data", in(t, s), map[string]any{"worker.API_KEY": secretValue}, "stringData")
	if !mockengine.HasSecret(s.Inputs["stringData"]) {
		t.Error("the Secret's values reach it as plain values; they must stay Pulumi secrets")
	}
	w := secret.one(t, typeDeployment, "test-worker")
	if got := envRefs(t, in(t, w))["API_KEY"]; got != "Secret test-app-secrets/worker.API_KEY" {
		t.Errorf("worker API_KEY: %s", got)
	}
	if !secretAt(w.Inputs["spec"], "template", "metadata", "annotations", "checksum/app-secrets") {
		t.Error("the checksum of the secret variables is not a Pulumi secret")
	}
	if secretAt(w.Inputs["spec"], "template", "metadata", "annotations", "checksum/app-config") {
		t.Error("the checksum of the plain variables is a secret: the preview would hide a plain change")
	}
	for _, res := range secret.eng.Resources() {
		if res.Type == typeSecret && res.Name == "test-app-secrets" {
			continue
		}
		if got := plainText(t, res); strings.Contains(got, secretValue) {
			t.Errorf("%s %s holds the secret value outside a Pulumi secret", res.Type, res.Name)
		}
	}

	// Removing the secret takes the Secret and the worker's reference and checksum away again.
	sameChanges(t, "removing the secret", changed(t, secret, workerOnly), map[string]string{
		typeSecret + " test-app-secrets": "removed",
		typeDeployment + " test-worker":  appSecretAnnotation + "," + envPath,
	})
	gone := mustRun(t, "test", runOptions{set: map[string]string{"jobs:env": "{}"}, secrets: map[string]string{"jobs:secretEnv": "{}"}})
	sameChanges(t, "removing every setting", changed(t, base, gone), map[string]string{})
}

// plainText is a resource's inputs with every Pulumi secret in them left out, as text.
func plainText(t *testing.T, res *mockengine.Resource) string {
	t.Helper()
	var b strings.Builder
	for k, v := range res.Inputs {
		p, err := mockengine.Plain(withoutSecrets(v))
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "%s=%v\n", k, p)
	}
	return b.String()
}

// withoutSecrets is v with each Pulumi secret in it replaced by "[secret]".
func withoutSecrets(v resource.PropertyValue) resource.PropertyValue {
	switch {
	case v.IsSecret(), v.IsOutput() && v.OutputValue().Secret:
		return resource.NewStringProperty("[secret]")
	case v.IsOutput():
		return withoutSecrets(v.OutputValue().Element)
	case v.IsObject():
		m := resource.PropertyMap{}
		for k, e := range v.ObjectValue() {
			m[k] = withoutSecrets(e)
		}
		return resource.NewObjectProperty(m)
	case v.IsArray():
		var a []resource.PropertyValue
		for _, e := range v.ArrayValue() {
			a = append(a, withoutSecrets(e))
		}
		return resource.NewArrayProperty(a)
	}
	return v
}

// secretAt reports whether the value at path under v is a Pulumi secret or lies inside one.
func secretAt(v resource.PropertyValue, path ...string) bool {
	for {
		switch {
		case v.IsSecret(), v.IsOutput() && v.OutputValue().Secret:
			return true
		case v.IsOutput():
			v = v.OutputValue().Element
			continue
		}
		if len(path) == 0 || !v.IsObject() {
			return false
		}
		v, path = v.ObjectValue()[resource.PropertyKey(path[0])], path[1:]
	}
}

// TestProgramSetsOnlyReservedVariables: every variable the program itself gives the API and the
// worker is one the stack may not set, so jobs:env can never shadow or be shadowed by it.
func TestProgramSetsOnlyReservedVariables(t *testing.T) {
	r := mustRun(t, "test", runOptions{})
	for _, c := range []string{"api", "worker"} {
		env, _ := at(in(t, r.one(t, typeDeployment, "test-"+c)), "spec", "template", "spec", "containers", 0, "env").([]any)
		if len(env) == 0 {
			t.Fatalf("test-%s sets no variables", c)
		}
		for _, e := range env {
			if name := at(e, "name").(string); !slices.Contains(settings.ReservedEnv(), name) {
				t.Errorf("test-%s: the program sets %s, which jobs:env may set too; add it to the reserved variables", c, name)
			}
		}
	}
}
