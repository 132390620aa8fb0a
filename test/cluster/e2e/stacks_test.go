package e2e

import (
	"context"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/example/jobs/test/cluster/checks"
	"github.com/example/jobs/test/cluster/controlplane"
	"github.com/example/jobs/test/cluster/manifests"
)

// Bounds for things that take a second or two on an idle machine; generous
// because CI shares two cores with compilers.
const (
	bindTimeout      = time.Minute
	availableTimeout = 3 * time.Minute
)

// TestStacksOnRealAPIServer applies test and then prod into one cluster,
// checks each, bumps each, and finally checks they coexist.
func TestStacksOnRealAPIServer(t *testing.T) {
	c := needCluster(t)
	var live []*manifests.Stack
	for _, name := range []string{"test", "prod"} {
		var s *manifests.Stack
		ok := t.Run(name, func(t *testing.T) {
			s = needStack(t, name)
			checkStack(t, c, s)
			checkBump(t, c, s, needStack(t, name+"-bump"))
		})
		if ok {
			live = append(live, s)
		}
	}
	t.Run("side by side", func(t *testing.T) {
		if len(live) != 2 {
			t.Fatalf("only %d of 2 stacks were applied cleanly; see the failures above", len(live))
		}
		if err := checks.NoCollisions(live...); err != nil {
			t.Fatalf("stacks collide: %v", err)
		}
		// Both are live in one cluster: recheck each now that the other
		// exists, so a shared name or port would show up here.
		ctx := context.Background()
		for _, s := range live {
			if err := c.NamespaceExists(ctx, s); err != nil {
				t.Error(err)
			}
			if err := c.NodePort(ctx, s, configuredNodePort(t, s.Name)); err != nil {
				t.Error(err)
			}
			if err := c.ServiceEndpoints(ctx, s.Namespace(), s.ObjectName("api"), replicas(t, s, "api"), bindTimeout); err != nil {
				t.Error(err)
			}
		}
	})
}

func checkStack(t *testing.T, c *checks.Clients, s *manifests.Stack) {
	t.Helper()
	ctx := context.Background()
	start := time.Now()
	if err := c.Apply(ctx, s); err != nil {
		t.Fatal(err)
	}
	if err := c.NamespaceExists(ctx, s); err != nil {
		t.Fatal(err)
	}
	pv, err := c.PVCBound(ctx, s, bindTimeout)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("PVC %s is Bound to PersistentVolume %s: pre-created hostPath PV of StorageClass %q (no provisioner, Immediate binding), bound by kube-controller-manager's PV controller",
		s.ObjectName("redis-data"), pv, controlplane.StorageClassName)
	if err := c.DeploymentsAvailable(ctx, s, availableTimeout); err != nil {
		t.Fatal(err)
	}
	apiReplicas := replicas(t, s, "api")
	if err := c.ServiceEndpoints(ctx, s.Namespace(), s.ObjectName("api"), apiReplicas, bindTimeout); err != nil {
		t.Fatal(err)
	}
	ready := time.Since(start)
	figure("stack %s: Available in %s (%d objects; api %d, worker %d replicas)", s.Name, ready.Round(10*time.Millisecond), len(s.Objects), apiReplicas, replicas(t, s, "worker"))
	t.Logf("apply -> Available: %s", ready.Round(10*time.Millisecond))

	if err := c.NodePort(ctx, s, configuredNodePort(t, s.Name)); err != nil {
		t.Error(err)
	}
	if err := c.NetworkPolicyAccepted(ctx, s); err != nil {
		t.Error(err)
	}
	if err := c.RoundTrip(ctx, s); err != nil {
		t.Errorf("fields lost or changed on the way through the API server:\n%v", err)
	}
}

func checkBump(t *testing.T, c *checks.Clients, s, bump *manifests.Stack) {
	t.Helper()
	ctx := context.Background()
	before, err := c.Snapshot(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := c.Apply(ctx, bump); err != nil {
		t.Fatal(err)
	}
	if err := c.DeploymentsAvailable(ctx, bump, availableTimeout); err != nil {
		t.Fatal(err)
	}
	if err := c.ServiceEndpoints(ctx, bump.Namespace(), bump.ObjectName("api"), replicas(t, bump, "api"), bindTimeout); err != nil {
		t.Fatal(err)
	}
	figure("stack %s: tag bump rolled out in %s", s.Name, time.Since(start).Round(10*time.Millisecond))
	after, err := c.Snapshot(ctx, bump)
	if err != nil {
		t.Fatal(err)
	}
	if err := checks.BumpTouchedOnlyAppDeployments(s, before, after); err != nil {
		t.Error(err)
	}
	// The live objects now match the bumped manifests (new images and
	// version labels), not the old ones.
	if err := c.RoundTrip(ctx, bump); err != nil {
		t.Errorf("after the bump: %v", err)
	}
}

// replicas reads a Deployment's replica count from the manifest, so the
// expectations follow the stack's configuration.
func replicas(t *testing.T, s *manifests.Stack, component string) int {
	t.Helper()
	d, err := s.Find("Deployment", s.ObjectName(component))
	if err != nil {
		t.Fatal(err)
	}
	n, found, err := unstructured.NestedInt64(d.Object, "spec", "replicas")
	if err != nil {
		t.Fatalf("%s: spec.replicas: %v", manifests.Key(d), err)
	}
	if !found {
		return 1
	}
	return int(n)
}
