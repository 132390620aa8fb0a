package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/example/jobs/test/cluster/checks"
	"github.com/example/jobs/test/cluster/manifests"
)

// brokenTimeout bounds a check expected to fail: long enough for a healthy
// stack to pass it on this machine, short enough to keep the test quick.
const brokenTimeout = 20 * time.Second

// TestBrokenManifestsAreCaught breaks the rendered test stack on purpose and
// asserts that the checks report each fault by name. Each broken copy lives
// in its own namespace (a renamed stack) so it cannot disturb the real ones.
func TestBrokenManifestsAreCaught(t *testing.T) {
	c := needCluster(t)
	base := needStack(t, "test")
	ctx := context.Background()

	t.Run("service selector matches no pods", func(t *testing.T) {
		s := relocate(t, base, "brksel", 30510)
		svc := mustFind(t, s, "Service", s.ObjectName("api"))
		if err := unstructured.SetNestedField(svc.Object, "api-typo", "spec", "selector", "app.kubernetes.io/component"); err != nil {
			t.Fatal(err)
		}
		if err := c.Apply(ctx, s); err != nil {
			t.Fatal(err)
		}
		// The pods themselves are fine; only the Service cannot find them.
		if err := c.DeploymentsAvailable(ctx, s, availableTimeout); err != nil {
			t.Fatal(err)
		}
		err := c.ServiceEndpoints(ctx, s.Namespace(), s.ObjectName("api"), replicas(t, s, "api"), brokenTimeout)
		wantError(t, err, "0 ready endpoints", "matches no pods", "api-typo")
	})

	t.Run("claim name points at no PVC", func(t *testing.T) {
		s := relocate(t, base, "brkclaim", 30520)
		redis := mustFind(t, s, "Deployment", s.ObjectName("redis"))
		bad := s.ObjectName("redis-data-typo")
		setClaimName(t, redis, bad)
		if err := c.Apply(ctx, s); err != nil {
			t.Fatal(err)
		}
		err := c.DeploymentsAvailable(ctx, s, brokenTimeout)
		// The scheduler refuses the pod and says which claim is missing.
		wantError(t, err, s.ObjectName("redis"), `persistentvolumeclaim "`+bad+`" not found`)
	})

	t.Run("nodePort already taken", func(t *testing.T) {
		first := relocate(t, base, "brkporta", 30530)
		if err := c.Apply(ctx, first); err != nil {
			t.Fatal(err)
		}
		second := relocate(t, base, "brkportb", 30530)
		err := c.Apply(ctx, second)
		wantError(t, err, "Service brkportb-jobs/brkportb-api", "30530", "already allocated")
	})

	t.Run("nodePort outside the node port range", func(t *testing.T) {
		s := relocate(t, base, "brkportc", 29999)
		err := c.Apply(ctx, s)
		wantError(t, err, "Service brkportc-jobs/brkportc-api", "29999", "valid range")
	})

	t.Run("nodePort differs from the stack's configured port", func(t *testing.T) {
		s := relocate(t, base, "brkportd", 30541)
		if err := c.Apply(ctx, s); err != nil {
			t.Fatal(err)
		}
		err := c.NodePort(ctx, s, 30540)
		wantError(t, err, "nodePort 30541", "configured for 30540")
	})
}

func wantError(t *testing.T, err error, parts ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("the broken manifest passed the check; want an error naming %q", parts)
	}
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Errorf("error does not name %q:\n%v", p, err)
		}
	}
	t.Logf("caught as expected: %v", err)
}

// prefixRef matches the stack name where it starts a name or a host:
// "test-api", "test-redis:6379", "test-redis.test-jobs.svc".
var prefixRef = regexp.MustCompile(`(["./])(test|prod)-`)

// relocate renames a stack to a fresh one, so a broken copy gets its own
// namespace, names and instance label, and a NodePort no real stack uses.
func relocate(t *testing.T, s *manifests.Stack, to string, nodePort int64) *manifests.Stack {
	t.Helper()
	out := &manifests.Stack{Name: to}
	for _, o := range s.Objects {
		b, err := json.Marshal(o.Object)
		if err != nil {
			t.Fatal(err)
		}
		b = prefixRef.ReplaceAll(b, []byte("${1}"+to+"-"))
		b = bytes.ReplaceAll(b, []byte(`"`+s.Name+`"`), []byte(`"`+to+`"`))
		var obj map[string]any
		if err := json.Unmarshal(b, &obj); err != nil {
			t.Fatal(err)
		}
		u := &unstructured.Unstructured{Object: normalizeNumbers(obj).(map[string]any)}
		out.Objects = append(out.Objects, u)
	}
	svc := mustFind(t, out, "Service", out.ObjectName("api"))
	ports, _, _ := unstructured.NestedSlice(svc.Object, "spec", "ports")
	if len(ports) != 1 {
		t.Fatalf("Service %s has %d ports, want 1", svc.GetName(), len(ports))
	}
	ports[0].(map[string]any)["nodePort"] = nodePort
	if err := unstructured.SetNestedSlice(svc.Object, ports, "spec", "ports"); err != nil {
		t.Fatal(err)
	}
	if err := checks.NoCollisions(s, out); err != nil {
		t.Fatalf("relocating %s to %s left shared names: %v", s.Name, to, err)
	}
	return out
}

// normalizeNumbers turns encoding/json's float64 integers back into int64,
// the form unstructured helpers expect.
func normalizeNumbers(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = normalizeNumbers(e)
		}
	case []any:
		for i, e := range x {
			x[i] = normalizeNumbers(e)
		}
	case float64:
		if x == float64(int64(x)) {
			return int64(x)
		}
	}
	return v
}

func setClaimName(t *testing.T, d *unstructured.Unstructured, claim string) {
	t.Helper()
	vols, _, _ := unstructured.NestedSlice(d.Object, "spec", "template", "spec", "volumes")
	changed := 0
	for _, v := range vols {
		if pvc, ok := v.(map[string]any)["persistentVolumeClaim"].(map[string]any); ok {
			pvc["claimName"] = claim
			changed++
		}
	}
	if changed != 1 {
		t.Fatalf("%s has %d claim volumes, want exactly 1 to break", d.GetName(), changed)
	}
	if err := unstructured.SetNestedSlice(d.Object, vols, "spec", "template", "spec", "volumes"); err != nil {
		t.Fatal(err)
	}
}

func mustFind(t *testing.T, s *manifests.Stack, kind, name string) *unstructured.Unstructured {
	t.Helper()
	o, err := s.Find(kind, name)
	if err != nil {
		t.Fatal(err)
	}
	return o
}
