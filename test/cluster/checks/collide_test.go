package checks

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/example/jobs/test/cluster/manifests"
)

func stackWith(name, namespace, svcName string, nodePort int64) *manifests.Stack {
	ns := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{"name": namespace}}}
	svc := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "Service",
		"metadata": map[string]any{"name": svcName, "namespace": namespace},
		"spec":     map[string]any{"type": "NodePort", "ports": []any{map[string]any{"port": int64(8080), "nodePort": nodePort}}},
	}}
	return &manifests.Stack{Name: name, Objects: []*unstructured.Unstructured{ns, svc}}
}

func TestNoCollisionsPassesDisjointStacks(t *testing.T) {
	if err := NoCollisions(stackWith("test", "test-jobs", "test-api", 30042), stackWith("prod", "prod-jobs", "prod-api", 30142)); err != nil {
		t.Fatal(err)
	}
}

func TestNoCollisionsReportsSharedNamesAndPorts(t *testing.T) {
	err := NoCollisions(stackWith("test", "test-jobs", "test-api", 30042), stackWith("prod", "test-jobs", "test-api", 30042))
	if err == nil {
		t.Fatal("two stacks sharing a namespace, a Service and a NodePort passed")
	}
	for _, want := range []string{"Namespace /test-jobs is rendered by both", "nodePort 30042 is claimed by", "outside its namespace prod-jobs"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
}

func TestBumpTouchedOnlyAppDeployments(t *testing.T) {
	s := &manifests.Stack{Name: "test"}
	before := Snapshot{
		"Deployment test-jobs/test-api":    {"10", 1},
		"Deployment test-jobs/test-worker": {"11", 1},
		"Deployment test-jobs/test-redis":  {"12", 1},
		"Service test-jobs/test-api":       {"13", 0},
	}
	good := Snapshot{
		"Deployment test-jobs/test-api":    {"20", 2},
		"Deployment test-jobs/test-worker": {"21", 2},
		"Deployment test-jobs/test-redis":  {"22", 1}, // status moved, template did not
		"Service test-jobs/test-api":       {"13", 0},
	}
	if err := BumpTouchedOnlyAppDeployments(s, before, good); err != nil {
		t.Fatal(err)
	}
	bad := Snapshot{
		"Deployment test-jobs/test-api":    {"20", 1},
		"Deployment test-jobs/test-worker": {"21", 2},
		"Deployment test-jobs/test-redis":  {"22", 2},
		"Service test-jobs/test-api":       {"14", 0},
	}
	err := BumpTouchedOnlyAppDeployments(s, before, bad)
	if err == nil {
		t.Fatal("a bump that restarted Redis, changed the Service and left the API alone passed")
	}
	for _, want := range []string{"test-api generation stayed 1", "must not restart Redis", "Service test-jobs/test-api changed"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
}
