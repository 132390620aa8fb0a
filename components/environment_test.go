package components

import (
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/example/jobs/mockengine"
	"github.com/example/jobs/settings"
)

// config is a complete, valid configuration (settings.Load's output shape).
func config() settings.Config {
	return settings.Config{
		Stack: "test", Version: "1.2.3",
		Images: settings.Images{Registry: "localhost:5000/jobs", Server: "localhost:5000", Build: true, Network: "host", PullPolicy: "IfNotPresent"},
		API:    settings.API{Replicas: 1, NodePort: 30042, NodeHost: "localhost"},
		Worker: settings.Worker{Replicas: 1, Concurrency: 10},
		Redis:  settings.Redis{Image: "r.io/redis:7.0.15", Version: "7.0.15", StorageSize: "1Gi", Password: settings.NewSecret("pw")},
	}
}

// TestChildrenAreNamedFromTheComponent: the component's own name, not the stack's, names every
// child and prefixes every Kubernetes object, so two environments can live in one stack.
func TestChildrenAreNamedFromTheComponent(t *testing.T) {
	eng := mockengine.New()
	res := eng.Run(mockengine.Stack{Project: "jobs", Name: "test"}, func(ctx *pulumi.Context) (pulumi.Map, error) {
		env, err := NewEnvironment(ctx, "review-7", &EnvironmentArgs{Config: config(), RedisConfig: "appendonly yes\n"})
		if err != nil {
			return nil, err
		}
		return env.Outputs(), nil
	})
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	resources := eng.Resources()
	if len(resources) < 10 {
		t.Fatalf("only %d resources registered: %v", len(resources), eng.Names())
	}
	for _, r := range resources {
		if !strings.HasPrefix(r.Name, "review-7") {
			t.Errorf("%s %s is not named from the component", r.Type, r.Name)
		}
		if r.Type == EnvironmentType {
			continue
		}
		if !strings.HasSuffix(r.Parent, EnvironmentType+"::review-7") {
			t.Errorf("%s %s: parent %q, want the component", r.Type, r.Name, r.Parent)
		}
		if strings.HasPrefix(r.Type, "kubernetes:") {
			in, err := r.In()
			if err != nil {
				t.Fatal(err)
			}
			if name := mockengine.At(in, "metadata", "name"); !strings.HasPrefix(name.(string), "review-7-") {
				t.Errorf("%s object name %v is not prefixed by the component's name", r.Type, name)
			}
		}
	}
	if res.Outputs["namespace"] != "review-7-jobs" {
		t.Errorf("namespace output %v", res.Outputs["namespace"])
	}
}
