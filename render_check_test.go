package main

import (
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
)

// TestPlainUnwrapsSecretsAndRejectsUnknowns: a manifest holds the secret's value, and an
// unknown value (a preview-only output) is an error instead of an empty field.
func TestPlainUnwrapsSecretsAndRejectsUnknowns(t *testing.T) {
	v, err := plain(resource.PropertyMap{
		"password": resource.MakeSecret(resource.NewProperty("s3cret")),
		"replicas": resource.NewProperty(2.0),
	})
	if err != nil {
		t.Fatal(err)
	}
	want(t, "secret", v, "s3cret", "password")
	want(t, "number", v, int64(2), "replicas")

	_, err = plain(resource.PropertyMap{"spec": resource.NewProperty(resource.PropertyMap{
		"image": resource.MakeComputed(resource.NewProperty("")),
	})})
	if err == nil || !strings.Contains(err.Error(), "spec: image: unknown value") {
		t.Errorf("unknown value: err %v, want one naming spec: image", err)
	}
}

func TestCheckWellFormedRejects(t *testing.T) {
	ns := map[string]any{"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{"name": "test-jobs"}}
	obj := func(name, namespace string) map[string]any {
		md := map[string]any{"name": name}
		if namespace != "" {
			md["namespace"] = namespace
		}
		return map[string]any{"apiVersion": "v1", "kind": "ConfigMap", "metadata": md}
	}
	for _, c := range []struct {
		name string
		objs []map[string]any
		want string
	}{
		{"no namespace object", []map[string]any{obj("a", "test-jobs")}, "want exactly one Namespace, got 0"},
		{"missing namespace", []map[string]any{ns, obj("a", "")}, `ConfigMap a has namespace "", not the environment's Namespace`},
		{"missing name", []map[string]any{ns, obj("", "test-jobs")}, "lacks apiVersion, kind or metadata.name"},
		{"duplicate", []map[string]any{ns, obj("a", "test-jobs"), obj("a", "test-jobs")}, "ConfigMap test-jobs/a appears twice"},
	} {
		err := checkWellFormed(c.objs)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err %v, want %q", c.name, err, c.want)
		}
	}
	if err := checkWellFormed([]map[string]any{ns, obj("a", "test-jobs")}); err != nil {
		t.Errorf("well-formed objects rejected: %v", err)
	}
}
