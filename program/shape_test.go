package program

import (
	"strconv"
	"strings"
	"testing"

	"github.com/example/jobs/mockengine"

	"github.com/example/jobs/release"
)

func TestEnvironmentHardening(t *testing.T) {
	r := mustRun(t, "test", runOptions{})
	for _, c := range []struct {
		name string
		uid  int64
	}{{"test-api", 65532}, {"test-worker", 65532}, {"test-redis", 999}} {
		d := in(t, r.one(t, typeDeployment, c.name))
		pod := at(d, "spec", "template", "spec")
		want(t, c.name, pod, true, "securityContext", "runAsNonRoot")
		want(t, c.name, pod, c.uid, "securityContext", "runAsUser")
		want(t, c.name, pod, c.uid, "securityContext", "fsGroup")
		want(t, c.name, pod, "RuntimeDefault", "securityContext", "seccompProfile", "type")
		want(t, c.name, pod, false, "automountServiceAccountToken")
		containers := asList(at(pod, "containers"))
		if len(containers) != 1 {
			t.Fatalf("%s: want one container, got %d", c.name, len(containers))
		}
		sc := at(containers[0], "securityContext")
		want(t, c.name, sc, true, "runAsNonRoot")
		want(t, c.name, sc, true, "readOnlyRootFilesystem")
		want(t, c.name, sc, false, "allowPrivilegeEscalation")
		want(t, c.name, sc, []any{"ALL"}, "capabilities", "drop")
		want(t, c.name, sc, "RuntimeDefault", "seccompProfile", "type")
		for _, k := range []string{"requests", "limits"} {
			for _, res := range []string{"cpu", "memory"} {
				if at(containers[0], "resources", k, res) == nil {
					t.Errorf("%s: resources.%s.%s unset", c.name, k, res)
				}
			}
		}
	}
	for _, name := range []string{"test-api", "test-worker"} {
		d := in(t, r.one(t, typeDeployment, name))
		c := at(d, "spec", "template", "spec", "containers", 0)
		want(t, name, c, map[string]any{"name": "http", "containerPort": int64(8080), "protocol": "TCP"}, "ports", 0)
		want(t, name+" readiness", c, map[string]any{"path": "/readyz", "port": "http"}, "readinessProbe", "httpGet")
		want(t, name+" liveness", c, map[string]any{"path": "/healthz", "port": "http"}, "livenessProbe", "httpGet")
		want(t, name, d, "RollingUpdate", "spec", "strategy", "type")
		want(t, name, d, int64(0), "spec", "strategy", "rollingUpdate", "maxUnavailable")
	}
	worker := in(t, r.one(t, typeDeployment, "test-worker"))
	want(t, "worker grace period", worker, int64(60), "spec", "template", "spec", "terminationGracePeriodSeconds")
	if at(worker, "spec", "template", "spec", "containers", 0, "lifecycle") != nil {
		t.Error("the worker has a lifecycle hook; it serves no clients to drain")
	}
}

// TestAPIDrainsBeforeItStops: a terminating API pod keeps serving for jobs:apiDrainSeconds, and its
// grace period still leaves the API its 20 s of HTTP shutdown after that; 0 means no drain.
func TestAPIDrainsBeforeItStops(t *testing.T) {
	drain := stackSettings(t, root, "test").API.DrainSeconds
	for _, seconds := range []int{drain, 0, 45} {
		r := mustRun(t, "test", runOptions{set: map[string]string{"jobs:apiDrainSeconds": itoa(seconds)}})
		api := in(t, r.one(t, typeDeployment, "test-api"))
		pod := at(api, "spec", "template", "spec")
		hook := at(pod, "containers", 0, "lifecycle", "preStop", "sleep", "seconds")
		switch {
		case seconds == 0 && hook != nil:
			t.Errorf("drain 0: preStop %v, want none", hook)
		case seconds > 0 && hook != int64(seconds):
			t.Errorf("drain %d: preStop sleeps %v", seconds, hook)
		}
		if grace, _ := at(pod, "terminationGracePeriodSeconds").(int64); grace < int64(seconds)+20 {
			t.Errorf("drain %d: grace period %d leaves the API less than its 20 s of shutdown", seconds, grace)
		}
	}
}

// TestLabelsAndSelectors checks the label rules of docs/contracts.md on every object.
func TestLabelsAndSelectors(t *testing.T) {
	cfg := stackSettings(t, root, "test")
	// Two replicas each, so the test stack has disruption budgets to check too.
	r := mustRun(t, "test", runOptions{
		set:     map[string]string{"jobs:registryUsername": testRegistryUser, "jobs:apiReplicas": "2", "jobs:workerReplicas": "2"},
		secrets: map[string]string{"jobs:registryPassword": testRegistryPassword},
	})
	for _, c := range []struct {
		typ, name, component, version string
	}{
		{typeNamespace, "test-jobs", "", ""},
		{typeSecret, "test-registry", "", ""},
		{typePVC, "test-redis-data", "redis", cfg.Redis.Version},
		{typeConfigMap, "test-redis-config", "redis", cfg.Redis.Version},
		{typeSecret, "test-redis-auth", "redis", cfg.Redis.Version},
		{typeDeployment, "test-redis", "redis", cfg.Redis.Version},
		{typeService, "test-redis", "redis", cfg.Redis.Version},
		{typeDeployment, "test-api", "api", cfg.Version},
		{typeService, "test-api", "api", ""},
		{typeDeployment, "test-worker", "worker", cfg.Version},
		{typePolicy, "test-default-deny", "", ""},
		{typePolicy, "test-api-ingress", "api", ""},
		{typePolicy, "test-api-egress", "api", ""},
		{typePolicy, "test-worker-egress", "worker", ""},
		{typePolicy, "test-redis-ingress", "redis", ""},
		{typePolicy, "test-verify-egress", release.Verifier, ""},
		{typePDB, "test-api", "api", ""},
		{typePDB, "test-worker", "worker", ""},
	} {
		obj := in(t, r.one(t, c.typ, c.name))
		wantLabels := map[string]any{
			"app.kubernetes.io/name": "jobs", "app.kubernetes.io/instance": "test",
			"app.kubernetes.io/part-of": "jobs", "app.kubernetes.io/managed-by": "pulumi",
		}
		if c.component != "" {
			wantLabels["app.kubernetes.io/component"] = c.component
		}
		if c.version != "" {
			wantLabels["app.kubernetes.io/version"] = c.version
		}
		want(t, c.typ+" "+c.name+" labels", appLabels(at(obj, "metadata", "labels")), wantLabels)
		if c.typ == typeDeployment {
			// The pod template carries the same labels, so pods show their version too.
			want(t, c.name+" pod labels", obj, wantLabels, "spec", "template", "metadata", "labels")
			want(t, c.name+" selector", obj, map[string]any{
				"app.kubernetes.io/name": "jobs", "app.kubernetes.io/instance": "test", "app.kubernetes.io/component": c.component,
			}, "spec", "selector", "matchLabels")
		}
	}

	api, redis := podLabels(t, r, "test-api"), podLabels(t, r, "test-redis")
	for svc, pods := range map[string]map[string]any{"test-api": api, "test-redis": redis} {
		sel := at(in(t, r.one(t, typeService, svc)), "spec", "selector")
		if !selects(sel, pods) {
			t.Errorf("Service %s selector %v does not select its pods %v", svc, sel, pods)
		}
		for k := range asMap(sel) {
			if k == "app.kubernetes.io/version" {
				t.Errorf("Service %s selects on the version label; a tag bump would orphan its pods", svc)
			}
		}
	}
}

// podLabels are the labels of a Deployment's pods.
func podLabels(t *testing.T, r *run, deployment string) map[string]any {
	t.Helper()
	return asMap(at(in(t, r.one(t, typeDeployment, deployment)), "spec", "template", "metadata", "labels"))
}

// selects reports whether a non-empty matchLabels selector selects labels.
func selects(selector any, labels map[string]any) bool {
	sel := asMap(selector)
	if len(sel) == 0 {
		return false
	}
	for k, v := range sel {
		if labels[k] != v {
			return false
		}
	}
	return true
}

// appLabels are the app.kubernetes.io/* labels of a label map; other keys (Pod Security's on the
// namespace) have tests of their own.
func appLabels(labels any) map[string]any {
	out := map[string]any{}
	for k, v := range asMap(labels) {
		if strings.HasPrefix(k, "app.kubernetes.io/") {
			out[k] = v
		}
	}
	return out
}

// TestInputLinks proves each dependency is an input taken from another resource's output: the
// mock renames every output name, so a value equal to the renamed name came from that output,
// and the SDK's property dependencies name the resource it came from.
func TestInputLinks(t *testing.T) {
	r := mustRun(t, "test", runOptions{
		trace:   true,
		set:     map[string]string{"jobs:registryUsername": testRegistryUser},
		secrets: map[string]string{"jobs:registryPassword": testRegistryPassword},
	})
	m := r
	ns := m.one(t, typeNamespace, "test-jobs")
	pvc := m.one(t, typePVC, "test-redis-data")
	conf := m.one(t, typeConfigMap, "test-redis-config")
	auth := m.one(t, typeSecret, "test-redis-auth")
	pull := m.one(t, typeSecret, "test-registry")
	redisSvc := m.one(t, typeService, "test-redis")

	for _, res := range m.eng.Resources() {
		if !strings.HasPrefix(res.Type, "kubernetes:") || res.Type == typeNamespace {
			continue
		}
		want(t, res.Name+" namespace", in(t, res), mockengine.TraceName("test-jobs"), "metadata", "namespace")
		if !res.DependsOn("metadata", ns) {
			t.Errorf("%s %s: metadata does not depend on the Namespace", res.Type, res.Name)
		}
	}

	redis := m.one(t, typeDeployment, "test-redis")
	rin := in(t, redis)
	want(t, "redis claimName", rin, mockengine.TraceName("test-redis-data"), "spec", "template", "spec", "volumes", 0, "persistentVolumeClaim", "claimName")
	want(t, "redis config volume", rin, mockengine.TraceName("test-redis-config"), "spec", "template", "spec", "volumes", 1, "configMap", "name")
	want(t, "redis password ref", envVar(at(rin, "spec", "template", "spec", "containers", 0), "REDIS_PASSWORD"),
		mockengine.TraceName("test-redis-auth"), "valueFrom", "secretKeyRef", "name")
	for _, dep := range []*mockengine.Resource{pvc, conf, auth} {
		if !redis.DependsOn("spec", dep) {
			t.Errorf("the Redis Deployment's spec does not depend on %s %s", dep.Type, dep.Name)
		}
	}

	address := mockengine.TraceName("test-redis") + "." + mockengine.TraceName("test-jobs") + ".svc.cluster.local:6379"
	for _, name := range []string{"test-api", "test-worker"} {
		d := m.one(t, typeDeployment, name)
		in := in(t, d)
		c := at(in, "spec", "template", "spec", "containers", 0)
		want(t, name+" REDIS_ADDR", envVar(c, "REDIS_ADDR"), address, "value")
		want(t, name+" REDIS_PASSWORD", envVar(c, "REDIS_PASSWORD"), mockengine.TraceName("test-redis-auth"), "valueFrom", "secretKeyRef", "name")
		want(t, name+" imagePullSecrets", in, []any{map[string]any{"name": mockengine.TraceName("test-registry")}}, "spec", "template", "spec", "imagePullSecrets")
		image := m.one(t, typeImage, name+"-image")
		want(t, name+" image", c, out(t, image)["repoDigest"], "image")
		for _, dep := range []*mockengine.Resource{redisSvc, auth, pull, image} {
			if !d.DependsOn("spec", dep) {
				t.Errorf("%s spec does not depend on %s %s", name, dep.Type, dep.Name)
			}
		}
	}
	want(t, "redisAddress output", r.exports, address, "redisAddress")
	want(t, "namespace output", r.exports, mockengine.TraceName("test-jobs"), "namespace")
}

func itoa(n int) string { return strconv.Itoa(n) }
