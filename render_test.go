package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// kindOrder is the order objects are applied in: each one after what it refers to.
var kindOrder = map[string]int{
	"Namespace": 0, "Secret": 1, "ConfigMap": 2, "PersistentVolumeClaim": 3,
	"Service": 4, "Deployment": 5, "NetworkPolicy": 6,
}

// clusterScoped kinds have no namespace.
var clusterScoped = map[string]bool{"Namespace": true}

// manifests converts every registered Kubernetes resource into the object the provider would
// send: apiVersion and kind from the type token, the rest from the inputs.
func manifests(m *mocks) ([]map[string]any, error) {
	var objs []map[string]any
	for _, r := range m.resources {
		if !r.Custom || !strings.HasPrefix(r.Type, "kubernetes:") {
			continue
		}
		obj, err := manifest(r)
		if err != nil {
			return nil, fmt.Errorf("%s %s: %w", r.Type, r.Name, err)
		}
		objs = append(objs, obj)
	}
	sort.SliceStable(objs, func(i, j int) bool {
		ki, kj := kindRank(objs[i]), kindRank(objs[j])
		if ki != kj {
			return ki < kj
		}
		return objectName(objs[i]) < objectName(objs[j])
	})
	return objs, nil
}

func kindRank(obj map[string]any) int {
	if r, ok := kindOrder[obj["kind"].(string)]; ok {
		return r
	}
	return len(kindOrder)
}

func manifest(r *registered) (map[string]any, error) {
	// kubernetes:<group>/<version>:<Kind>
	parts := strings.Split(r.Type, ":")
	if len(parts) != 3 {
		return nil, fmt.Errorf("type token %q is not kubernetes:<group>/<version>:<Kind>", r.Type)
	}
	group, version, ok := strings.Cut(parts[1], "/")
	if !ok {
		return nil, fmt.Errorf("type token %q has no group/version", r.Type)
	}
	apiVersion := group + "/" + version
	if group == "core" {
		apiVersion = version
	}
	v, err := plain(r.Inputs)
	if err != nil {
		return nil, err
	}
	obj := v.(map[string]any)
	// The SDK sends apiVersion and kind as inputs too; they must agree with the token.
	if got, ok := obj["apiVersion"]; ok && got != apiVersion {
		return nil, fmt.Errorf("input apiVersion %v disagrees with type token %s", got, r.Type)
	}
	if got, ok := obj["kind"]; ok && got != parts[2] {
		return nil, fmt.Errorf("input kind %v disagrees with type token %s", got, r.Type)
	}
	obj["apiVersion"] = apiVersion
	obj["kind"] = parts[2]
	return obj, nil
}

func objectName(obj map[string]any) string {
	md, _ := obj["metadata"].(map[string]any)
	name, _ := md["name"].(string)
	return name
}

func objectNamespace(obj map[string]any) string {
	md, _ := obj["metadata"].(map[string]any)
	ns, _ := md["namespace"].(string)
	return ns
}

// checkWellFormed is what the API server would reject first: a missing apiVersion, kind,
// name, or namespace, or a namespaced object outside the environment's namespace.
func checkWellFormed(objs []map[string]any) error {
	namespaces := map[string]bool{}
	for _, o := range objs {
		if o["kind"] == "Namespace" {
			namespaces[objectName(o)] = true
		}
	}
	if len(namespaces) != 1 {
		return fmt.Errorf("want exactly one Namespace, got %d", len(namespaces))
	}
	seen := map[string]bool{}
	for i, o := range objs {
		kind, _ := o["kind"].(string)
		apiVersion, _ := o["apiVersion"].(string)
		name := objectName(o)
		if kind == "" || apiVersion == "" || name == "" {
			return fmt.Errorf("object %d lacks apiVersion, kind or metadata.name: %v", i, o)
		}
		ns := objectNamespace(o)
		switch {
		case clusterScoped[kind] && ns != "":
			return fmt.Errorf("%s %s is cluster-scoped but has namespace %q", kind, name, ns)
		case !clusterScoped[kind] && !namespaces[ns]:
			return fmt.Errorf("%s %s has namespace %q, not the environment's Namespace", kind, name, ns)
		}
		key := kind + "/" + ns + "/" + name
		if seen[key] {
			return fmt.Errorf("%s %s/%s appears twice", kind, ns, name)
		}
		seen[key] = true
	}
	return nil
}

// renderStack renders one stack's manifests; bump raises its version by one patch release.
// A stack that promotes (prod) is given the test stack rendered at the same version as its
// source, so the guard passes and prod's manifests carry the digests test's render built.
func renderStack(t *testing.T, stack string, bump bool) []map[string]any {
	t.Helper()
	o := runOptions{}
	cfg := stackFileConfig(t, stack)
	if bump {
		o.set = map[string]string{"jobs:version": bumpPatch(t, cfg["jobs:version"])}
	}
	var source *run
	if cfg["jobs:promoteFrom"] != "" {
		source = runStack(t, "test", runOptions{set: o.set})
		if source.err != nil {
			t.Fatalf("the test stack prod promotes from failed: %v", source.err)
		}
		o.testOutputs = map[string]any{"apiImage": source.exports["apiImage"], "workerImage": source.exports["workerImage"]}
	}
	r := runStack(t, stack, o)
	if r.err != nil {
		t.Fatalf("program failed: %v", r.err)
	}
	if source != nil {
		// A build of the same inputs would give the same mock digest, so the images alone
		// cannot show that prod built nothing.
		for _, res := range r.mocks.resources {
			if res.Type == typeImage {
				t.Errorf("%s promotes test's images but registered %s %s", stack, res.Type, res.Name)
			}
		}
		for _, target := range []string{"api", "worker"} {
			want(t, stack+" runs test's "+target+" image", r.mocks.one(t, typeDeployment, stack+"-"+target).in(t),
				source.exports[target+"Image"], "spec", "template", "spec", "containers", 0, "image")
		}
	}
	objs, err := manifests(r.mocks)
	if err != nil {
		t.Fatal(err)
	}
	if err := checkWellFormed(objs); err != nil {
		t.Fatal(err)
	}
	return objs
}

// TestRenderManifests renders test, prod and their patch-bumped variants. With JOBS_RENDER_DIR
// set it writes DIR/<name>.json for the end-to-end test to apply.
func TestRenderManifests(t *testing.T) {
	dir := os.Getenv("JOBS_RENDER_DIR")
	if dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct {
		name  string
		stack string
		bump  bool
	}{
		{"test", "test", false}, {"prod", "prod", false},
		{"test-bump", "test", true}, {"prod-bump", "prod", true},
	} {
		t.Run(c.name, func(t *testing.T) {
			objs := renderStack(t, c.stack, c.bump)
			if len(objs) < 10 {
				t.Fatalf("rendered %d objects, want the whole environment (at least 10)", len(objs))
			}
			if dir == "" {
				return
			}
			b, err := json.MarshalIndent(objs, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, c.name+".json"), append(b, '\n'), 0o644); err != nil {
				t.Fatal(err)
			}
		})
	}
}
