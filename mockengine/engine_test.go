package mockengine

import (
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

func TestPlainUnwrapsSecretsAndRejectsUnknowns(t *testing.T) {
	v, err := Plain(resource.PropertyMap{
		"password": resource.MakeSecret(resource.NewProperty("s3cret")),
		"replicas": resource.NewProperty(2.0),
	})
	if err != nil {
		t.Fatal(err)
	}
	if At(v, "password") != "s3cret" || At(v, "replicas") != int64(2) {
		t.Errorf("plain value %v", v)
	}
	_, err = Plain(resource.PropertyMap{"spec": resource.NewProperty(resource.PropertyMap{
		"image": resource.MakeComputed(resource.NewProperty("")),
	})})
	if err == nil || !strings.Contains(err.Error(), "spec: image: unknown value") {
		t.Errorf("unknown value: err %v, want one naming spec: image", err)
	}
}

func TestDiffPaths(t *testing.T) {
	a := map[string]any{"x": map[string]any{"y": 1, "z": []any{1, 2}}, "k": "v"}
	b := map[string]any{"x": map[string]any{"y": 2, "z": []any{1, 3}}, "k": "v", "n": true}
	if got := strings.Join(DiffPaths(a, b), ","); got != "n,x.y,x.z[1]" {
		t.Errorf("DiffPaths = %s", got)
	}
}

// TestRunRecordsAndTraces: a registration is recorded with its parent and the traced output
// name, the config reaches the program, and the program's outputs and logs come back.
func TestRunRecordsAndTraces(t *testing.T) {
	eng := New()
	eng.Trace = true
	res := eng.Run(Stack{Project: "p", Name: "s", Config: map[string]string{"p:k": "v"}, Secret: []string{"p:k"}},
		func(ctx *pulumi.Context) (pulumi.Map, error) {
			v, _ := ctx.GetConfig("p:k")
			if !ctx.IsConfigSecret("p:k") {
				v = "not secret"
			}
			var cm pulumi.CustomResourceState
			err := ctx.RegisterResource("kubernetes:core/v1:ConfigMap", "cm", pulumi.Map{
				"metadata": pulumi.Map{"name": pulumi.String("cm")},
			}, &cm)
			if err != nil {
				return nil, err
			}
			if err := ctx.Log.Info("hello", nil); err != nil {
				return nil, err
			}
			return pulumi.Map{"config": pulumi.String(v)}, nil
		})
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	if res.Outputs["config"] != "v" {
		t.Errorf("config reached the program as %v", res.Outputs["config"])
	}
	cm, err := eng.One("kubernetes:core/v1:ConfigMap", "cm")
	if err != nil {
		t.Fatal(err)
	}
	out, err := cm.Out()
	if err != nil {
		t.Fatal(err)
	}
	if At(out, "metadata", "name") != TraceName("cm") {
		t.Errorf("traced output name %v", At(out, "metadata", "name"))
	}
	if len(res.Logs) != 1 || res.Logs[0] != "info: hello" {
		t.Errorf("logs %v", res.Logs)
	}
}
