package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"sort"
	"strings"
	"testing"
)

// expectedResources is every resource one environment registers (without registry credentials).
func expectedResources(env string, build bool) []string {
	r := []string{
		typeEnvironment + " " + env,
		typeNamespace + " " + env + "-jobs",
		typePVC + " " + env + "-redis-data",
		typeConfigMap + " " + env + "-redis-config",
		typeSecret + " " + env + "-redis-auth",
		typeDeployment + " " + env + "-redis",
		typeService + " " + env + "-redis",
		typeDeployment + " " + env + "-api",
		typeService + " " + env + "-api",
		typeDeployment + " " + env + "-worker",
		typePolicy + " " + env + "-redis-ingress",
	}
	if build {
		r = append(r, typeImage+" "+env+"-api-image", typeImage+" "+env+"-worker-image")
	}
	sort.Strings(r)
	return r
}

func mustRun(t *testing.T, stack string, o runOptions) *run {
	t.Helper()
	r := runStack(t, stack, o)
	if r.err != nil {
		t.Fatalf("stack %s: program failed: %v", stack, r.err)
	}
	return r
}

func TestEnvironmentRegistersEachResourceOnce(t *testing.T) {
	for _, stack := range []string{"test", "prod"} {
		t.Run(stack, func(t *testing.T) {
			r := mustRun(t, stack, runOptions{})
			var got []string
			for _, res := range r.mocks.resources {
				got = append(got, res.Type+" "+res.Name)
			}
			sort.Strings(got)
			if w := expectedResources(stack, true); strings.Join(got, "\n") != strings.Join(w, "\n") {
				t.Fatalf("registered:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(w, "\n"))
			}
			for _, res := range r.mocks.resources {
				if res.Type == typeEnvironment {
					if res.Custom {
						t.Error("the Environment must be a component resource")
					}
					continue
				}
				// Every child hangs under the component, so the stack shows one tree.
				if !strings.HasSuffix(res.Parent, typeEnvironment+"::"+stack) {
					t.Errorf("%s %s: parent %q, want the Environment component", res.Type, res.Name, res.Parent)
				}
				if strings.HasPrefix(res.Type, "kubernetes:") {
					want(t, res.Name, res.in(t), res.Name, "metadata", "name")
				}
			}
		})
	}
}

func TestEnvironmentUsesStackConfig(t *testing.T) {
	for _, c := range []struct {
		stack                string
		apiReplicas, workers int64
		nodePort             int64
		size, pullPolicy     string
	}{
		{"test", 1, 1, 30042, "1Gi", "Always"},
		{"prod", 2, 2, 30142, "5Gi", "IfNotPresent"},
	} {
		t.Run(c.stack, func(t *testing.T) {
			r := mustRun(t, c.stack, runOptions{})
			m := r.mocks
			api := m.one(t, typeDeployment, c.stack+"-api").in(t)
			worker := m.one(t, typeDeployment, c.stack+"-worker").in(t)
			redis := m.one(t, typeDeployment, c.stack+"-redis").in(t)
			want(t, "api replicas", api, c.apiReplicas, "spec", "replicas")
			want(t, "worker replicas", worker, c.workers, "spec", "replicas")
			want(t, "redis replicas", redis, int64(1), "spec", "replicas")
			for name, d := range map[string]any{"api": api, "worker": worker, "redis": redis} {
				want(t, name+" imagePullPolicy", d, c.pullPolicy, "spec", "template", "spec", "containers", 0, "imagePullPolicy")
			}
			want(t, "worker CONCURRENCY", envVar(at(worker, "spec", "template", "spec", "containers", 0), "CONCURRENCY"), "10", "value")

			svc := m.one(t, typeService, c.stack+"-api").in(t)
			want(t, "api service type", svc, "NodePort", "spec", "type")
			want(t, "api service port", svc, map[string]any{
				"name": "http", "port": int64(8080), "targetPort": "http", "nodePort": c.nodePort, "protocol": "TCP",
			}, "spec", "ports", 0)
			rsvc := m.one(t, typeService, c.stack+"-redis").in(t)
			want(t, "redis service type", rsvc, "ClusterIP", "spec", "type")
			want(t, "redis service port", rsvc, int64(6379), "spec", "ports", 0, "port")

			pvc := m.one(t, typePVC, c.stack+"-redis-data").in(t)
			want(t, "pvc size", pvc, c.size, "spec", "resources", "requests", "storage")
			want(t, "pvc class", pvc, "standard", "spec", "storageClassName")
			want(t, "pvc access", pvc, []any{"ReadWriteOnce"}, "spec", "accessModes")

			conf, err := os.ReadFile(redisConfigPath)
			if err != nil {
				t.Fatal(err)
			}
			cm := m.one(t, typeConfigMap, c.stack+"-redis-config").in(t)
			want(t, "redis.conf", cm, string(conf), "data", "redis.conf")
			if !strings.Contains(string(conf), "appendonly yes") {
				t.Error("app/redis/redis.conf must turn AOF on")
			}

			auth := m.one(t, typeSecret, c.stack+"-redis-auth")
			want(t, "redis password", auth.in(t), testRedisPassword, "stringData", "password")
			if !hasSecret(auth.Inputs["stringData"]) {
				t.Error("the Redis password reaches the Secret as a plain value; it must stay a Pulumi secret")
			}

			want(t, "redis strategy", redis, "Recreate", "spec", "strategy", "type")
			rc := at(redis, "spec", "template", "spec", "containers", 0)
			want(t, "redis image", rc, "docker.io/library/redis:7.4.2", "image")
			want(t, "redis args", rc, []any{"redis-server", "/etc/redis/redis.conf", "--requirepass", "$(REDIS_PASSWORD)"}, "args")
			want(t, "redis data mount", rc, "/data", "volumeMounts", 0, "mountPath")
			want(t, "redis config mount", rc, "/etc/redis", "volumeMounts", 1, "mountPath")
			if at(rc, "readinessProbe") == nil || at(rc, "livenessProbe") == nil {
				t.Error("redis needs readiness and liveness probes")
			}
		})
	}
}

func TestEnvironmentHardening(t *testing.T) {
	r := mustRun(t, "test", runOptions{})
	for _, c := range []struct {
		name string
		uid  int64
	}{{"test-api", 65532}, {"test-worker", 65532}, {"test-redis", 999}} {
		d := r.mocks.one(t, typeDeployment, c.name).in(t)
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
		d := r.mocks.one(t, typeDeployment, name).in(t)
		c := at(d, "spec", "template", "spec", "containers", 0)
		want(t, name, c, map[string]any{"name": "http", "containerPort": int64(8080), "protocol": "TCP"}, "ports", 0)
		want(t, name+" readiness", c, map[string]any{"path": "/readyz", "port": "http"}, "readinessProbe", "httpGet")
		want(t, name+" liveness", c, map[string]any{"path": "/healthz", "port": "http"}, "livenessProbe", "httpGet")
		want(t, name, d, "RollingUpdate", "spec", "strategy", "type")
		want(t, name, d, int64(0), "spec", "strategy", "rollingUpdate", "maxUnavailable")
	}
	worker := r.mocks.one(t, typeDeployment, "test-worker").in(t)
	want(t, "worker grace period", worker, int64(60), "spec", "template", "spec", "terminationGracePeriodSeconds")
}

// TestLabelsAndSelectors checks the label rules of docs/contracts.md on every object.
func TestLabelsAndSelectors(t *testing.T) {
	r := mustRun(t, "test", runOptions{
		set:     map[string]string{"jobs:registryUsername": testRegistryUser},
		secrets: map[string]string{"jobs:registryPassword": testRegistryPassword},
	})
	for _, c := range []struct {
		typ, name, component, version string
	}{
		{typeNamespace, "test-jobs", "", ""},
		{typeSecret, "test-registry", "", ""},
		{typePVC, "test-redis-data", "redis", "7.4.2"},
		{typeConfigMap, "test-redis-config", "redis", "7.4.2"},
		{typeSecret, "test-redis-auth", "redis", "7.4.2"},
		{typeDeployment, "test-redis", "redis", "7.4.2"},
		{typeService, "test-redis", "redis", "7.4.2"},
		{typeDeployment, "test-api", "api", "0.1.0"},
		{typeService, "test-api", "api", ""},
		{typeDeployment, "test-worker", "worker", "0.1.0"},
		{typePolicy, "test-redis-ingress", "redis", ""},
	} {
		obj := r.mocks.one(t, c.typ, c.name).in(t)
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
		want(t, c.typ+" "+c.name+" labels", obj, wantLabels, "metadata", "labels")
		if c.typ == typeDeployment {
			// The pod template carries the same labels, so pods show their version too.
			want(t, c.name+" pod labels", obj, wantLabels, "spec", "template", "metadata", "labels")
			want(t, c.name+" selector", obj, map[string]any{
				"app.kubernetes.io/name": "jobs", "app.kubernetes.io/instance": "test", "app.kubernetes.io/component": c.component,
			}, "spec", "selector", "matchLabels")
		}
	}

	podLabels := func(name string) map[string]any {
		return asMap(at(r.mocks.one(t, typeDeployment, name).in(t), "spec", "template", "metadata", "labels"))
	}
	selects := func(selector any, labels map[string]any) bool {
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
	api, worker, redis := podLabels("test-api"), podLabels("test-worker"), podLabels("test-redis")
	for svc, pods := range map[string]map[string]any{"test-api": api, "test-redis": redis} {
		sel := at(r.mocks.one(t, typeService, svc).in(t), "spec", "selector")
		if !selects(sel, pods) {
			t.Errorf("Service %s selector %v does not select its pods %v", svc, sel, pods)
		}
		for k := range asMap(sel) {
			if k == "app.kubernetes.io/version" {
				t.Errorf("Service %s selects on the version label; a tag bump would orphan its pods", svc)
			}
		}
	}
	policy := r.mocks.one(t, typePolicy, "test-redis-ingress").in(t)
	if !selects(at(policy, "spec", "podSelector", "matchLabels"), redis) {
		t.Error("the NetworkPolicy does not select the Redis pods")
	}
	if selects(at(policy, "spec", "podSelector", "matchLabels"), api) {
		t.Error("the NetworkPolicy selects the API pods; it must guard Redis only")
	}
	want(t, "policy types", policy, []any{"Ingress"}, "spec", "policyTypes")
	want(t, "policy port", policy, map[string]any{"port": int64(6379), "protocol": "TCP"}, "spec", "ingress", 0, "ports", 0)
	from := asList(at(policy, "spec", "ingress", 0, "from"))
	admitted := map[string]bool{}
	for _, pods := range []struct {
		name   string
		labels map[string]any
	}{{"api", api}, {"worker", worker}, {"redis", redis}} {
		for _, peer := range from {
			if selects(at(peer, "podSelector", "matchLabels"), pods.labels) {
				admitted[pods.name] = true
			}
			if at(peer, "namespaceSelector") != nil || at(peer, "ipBlock") != nil {
				t.Errorf("the NetworkPolicy admits a namespace or IP block: %v", peer)
			}
		}
	}
	if !admitted["api"] || !admitted["worker"] || admitted["redis"] || len(from) != 2 {
		t.Errorf("the NetworkPolicy must admit exactly the API and worker pods; admits %v from %v", admitted, from)
	}
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
	m := r.mocks
	ns := m.one(t, typeNamespace, "test-jobs")
	pvc := m.one(t, typePVC, "test-redis-data")
	conf := m.one(t, typeConfigMap, "test-redis-config")
	auth := m.one(t, typeSecret, "test-redis-auth")
	pull := m.one(t, typeSecret, "test-registry")
	redisSvc := m.one(t, typeService, "test-redis")

	for _, res := range m.resources {
		if !strings.HasPrefix(res.Type, "kubernetes:") || res.Type == typeNamespace {
			continue
		}
		want(t, res.Name+" namespace", res.in(t), traceName("test-jobs"), "metadata", "namespace")
		if !res.dependsOn("metadata", ns) {
			t.Errorf("%s %s: metadata does not depend on the Namespace", res.Type, res.Name)
		}
	}

	redis := m.one(t, typeDeployment, "test-redis")
	rin := redis.in(t)
	want(t, "redis claimName", rin, traceName("test-redis-data"), "spec", "template", "spec", "volumes", 0, "persistentVolumeClaim", "claimName")
	want(t, "redis config volume", rin, traceName("test-redis-config"), "spec", "template", "spec", "volumes", 1, "configMap", "name")
	want(t, "redis password ref", envVar(at(rin, "spec", "template", "spec", "containers", 0), "REDIS_PASSWORD"),
		traceName("test-redis-auth"), "valueFrom", "secretKeyRef", "name")
	for _, dep := range []*registered{pvc, conf, auth} {
		if !redis.dependsOn("spec", dep) {
			t.Errorf("the Redis Deployment's spec does not depend on %s %s", dep.Type, dep.Name)
		}
	}

	address := traceName("test-redis") + "." + traceName("test-jobs") + ".svc.cluster.local:6379"
	for _, name := range []string{"test-api", "test-worker"} {
		d := m.one(t, typeDeployment, name)
		in := d.in(t)
		c := at(in, "spec", "template", "spec", "containers", 0)
		want(t, name+" REDIS_ADDR", envVar(c, "REDIS_ADDR"), address, "value")
		want(t, name+" REDIS_PASSWORD", envVar(c, "REDIS_PASSWORD"), traceName("test-redis-auth"), "valueFrom", "secretKeyRef", "name")
		want(t, name+" imagePullSecrets", in, []any{map[string]any{"name": traceName("test-registry")}}, "spec", "template", "spec", "imagePullSecrets")
		image := m.one(t, typeImage, name+"-image")
		want(t, name+" image", c, image.out(t)["repoDigest"], "image")
		for _, dep := range []*registered{redisSvc, auth, pull, image} {
			if !d.dependsOn("spec", dep) {
				t.Errorf("%s spec does not depend on %s %s", name, dep.Type, dep.Name)
			}
		}
	}
	want(t, "redisAddress output", r.exports, address, "redisAddress")
	want(t, "namespace output", r.exports, traceName("test-jobs"), "namespace")
}

func TestImagesAreBuiltAndPinnedByDigest(t *testing.T) {
	r := mustRun(t, "test", runOptions{})
	for _, target := range []string{"api", "worker"} {
		img := r.mocks.one(t, typeImage, "test-"+target+"-image")
		in := img.in(t)
		want(t, target+" image name", in, "localhost:5000/jobs/jobs-"+target+":0.1.0", "imageName")
		want(t, target+" build", in, map[string]any{
			"context": "app", "dockerfile": "app/Dockerfile", "target": target, "network": "host",
			"args": map[string]any{"VERSION": "0.1.0"},
		}, "build")
		if at(in, "registry") != nil {
			t.Errorf("%s image: registry login set without credentials", target)
		}
		digest, _ := img.out(t)["repoDigest"].(string)
		if !strings.HasPrefix(digest, "localhost:5000/jobs/jobs-"+target+"@sha256:") {
			t.Fatalf("mock digest %q", digest)
		}
		d := r.mocks.one(t, typeDeployment, "test-"+target).in(t)
		want(t, target+" container image", d, digest, "spec", "template", "spec", "containers", 0, "image")
		want(t, target+"Image output", r.exports, digest, target+"Image")
	}
	if at(r.mocks.one(t, typeDeployment, "test-api").in(t), "spec", "template", "spec", "imagePullSecrets") != nil {
		t.Error("imagePullSecrets set without registry credentials")
	}
}

func TestOutputs(t *testing.T) {
	for _, c := range []struct {
		stack string
		port  int64
	}{{"test", 30042}, {"prod", 30142}} {
		r := mustRun(t, c.stack, runOptions{})
		api := r.mocks.one(t, typeImage, c.stack+"-api-image").out(t)["repoDigest"]
		worker := r.mocks.one(t, typeImage, c.stack+"-worker-image").out(t)["repoDigest"]
		wantExports := map[string]any{
			"namespace":    c.stack + "-jobs",
			"version":      "0.1.0",
			"apiImage":     api,
			"workerImage":  worker,
			"nodePort":     c.port,
			"url":          "http://localhost:" + itoa(int(c.port)),
			"redisAddress": c.stack + "-redis." + c.stack + "-jobs.svc.cluster.local:6379",
		}
		got := map[string]any{}
		for k, v := range r.exports {
			if f, ok := v.(float64); ok {
				v = int64(f)
			}
			if n, ok := v.(int); ok {
				v = int64(n)
			}
			got[k] = v
		}
		if !equalJSON(got, wantExports) {
			t.Errorf("%s exports:\n got %v\nwant %v", c.stack, got, wantExports)
		}
	}
}

func equalJSON(a, b any) bool {
	ja, err1 := json.Marshal(a)
	jb, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && string(ja) == string(jb)
}

func TestURLBracketsIPv6Host(t *testing.T) {
	r := mustRun(t, "test", runOptions{set: map[string]string{"jobs:nodeHost": "::1"}})
	want(t, "url", r.exports, "http://[::1]:30042", "url")
}

func TestBuildFalseDeploysExistingImages(t *testing.T) {
	r := mustRun(t, "prod", runOptions{set: map[string]string{"jobs:build": "false"}})
	if got, w := strings.Join(func() []string {
		var s []string
		for _, res := range r.mocks.resources {
			s = append(s, res.Type+" "+res.Name)
		}
		sort.Strings(s)
		return s
	}(), "\n"), strings.Join(expectedResources("prod", false), "\n"); got != w {
		t.Fatalf("registered:\n%s\nwant:\n%s", got, w)
	}
	for _, target := range []string{"api", "worker"} {
		ref := "localhost:5000/jobs/jobs-" + target + ":0.1.0"
		want(t, target, r.mocks.one(t, typeDeployment, "prod-"+target).in(t), ref, "spec", "template", "spec", "containers", 0, "image")
		want(t, target+"Image output", r.exports, ref, target+"Image")
	}
}

func TestRegistryCredentialsBecomePullSecret(t *testing.T) {
	r := mustRun(t, "test", runOptions{
		set:     map[string]string{"jobs:registryUsername": testRegistryUser},
		secrets: map[string]string{"jobs:registryPassword": testRegistryPassword},
	})
	s := r.mocks.one(t, typeSecret, "test-registry")
	in := s.in(t)
	want(t, "registry secret type", in, "kubernetes.io/dockerconfigjson", "type")
	if !hasSecret(s.Inputs["stringData"]) {
		t.Error("the registry password reaches the pull Secret as a plain value")
	}
	var cfg any
	if err := json.Unmarshal([]byte(at(in, "stringData", ".dockerconfigjson").(string)), &cfg); err != nil {
		t.Fatalf(".dockerconfigjson: %v", err)
	}
	want(t, "docker config", cfg, map[string]any{
		"username": testRegistryUser, "password": testRegistryPassword,
		"auth": "Y2k6cmVnaXN0cnktc2VjcmV0LWZyb20tdGVzdA==", // base64("ci:registry-secret-from-test")
	}, "auths", "localhost:5000")
	for _, target := range []string{"api", "worker"} {
		img := r.mocks.one(t, typeImage, "test-"+target+"-image")
		want(t, target+" registry login", img.in(t), map[string]any{
			"server": "localhost:5000", "username": testRegistryUser, "password": testRegistryPassword,
		}, "registry")
		if !hasSecret(img.Inputs["registry"]) {
			t.Errorf("%s image: the registry password is not a secret", target)
		}
		want(t, target+" imagePullSecrets", r.mocks.one(t, typeDeployment, "test-"+target).in(t),
			[]any{map[string]any{"name": "test-registry"}}, "spec", "template", "spec", "imagePullSecrets")
	}
}

// TestTagBumpChangesOnlyImages compares every resource's inputs before and after a version
// bump: only the images and the API and worker Deployments' image and version labels move. prod
// promotes what test runs, so there test is at each version too and exports its digests: prod
// builds no image and only its Deployments move, to test's digests.
func TestTagBumpChangesOnlyImages(t *testing.T) {
	deploymentPaths := []string{
		"metadata.labels.app.kubernetes.io/version",
		"spec.template.metadata.labels.app.kubernetes.io/version",
		"spec.template.spec.containers[0].image",
	}
	for _, c := range []struct {
		stack string
		build string
	}{{"test", "true"}, {"prod", "true"}, {"test", "false"}} {
		t.Run(c.stack+"/build="+c.build, func(t *testing.T) {
			cfg := stackFileConfig(t, c.stack)
			base := cfg["jobs:version"]
			next := bumpPatch(t, base)
			promotes := cfg["jobs:promoteFrom"] != ""
			runAt := func(version string) *run {
				o := runOptions{set: map[string]string{"jobs:build": c.build, "jobs:version": version}}
				if promotes {
					o.testOutputs = testedDigests(cfg["jobs:registry"], version)
				}
				return mustRun(t, c.stack, o)
			}
			before, after := runAt(base), runAt(next)
			if len(before.mocks.resources) != len(after.mocks.resources) {
				t.Fatalf("a bump changed the resource count: %s vs %s", before.mocks.names(), after.mocks.names())
			}
			wantChanged := map[string][]string{
				typeDeployment + " " + c.stack + "-api":    deploymentPaths,
				typeDeployment + " " + c.stack + "-worker": deploymentPaths,
			}
			if c.build == "true" && !promotes {
				for _, target := range []string{"api", "worker"} {
					wantChanged[typeImage+" "+c.stack+"-"+target+"-image"] = []string{"build.args.VERSION", "imageName"}
				}
			}
			for _, b := range before.mocks.resources {
				a := after.mocks.one(t, b.Type, b.Name)
				got := diffPaths("", b.in(t), a.in(t))
				key := b.Type + " " + b.Name
				if strings.Join(got, ",") != strings.Join(wantChanged[key], ",") {
					t.Errorf("%s: bump %s -> %s changed %v, want %v", key, base, next, got, wantChanged[key])
				}
			}
			if !promotes {
				return
			}
			tested := testedDigests(cfg["jobs:registry"], next)
			for _, target := range []string{"api", "worker"} {
				want(t, target+" image after the bump", after.mocks.one(t, typeDeployment, c.stack+"-"+target).in(t),
					tested[target+"Image"], "spec", "template", "spec", "containers", 0, "image")
			}
			for _, res := range append(before.mocks.resources, after.mocks.resources...) {
				if res.Type == typeImage {
					t.Errorf("%s promotes test's images but registered %s %s", c.stack, res.Type, res.Name)
				}
			}
		})
	}
}

// A new Redis password or redis.conf must roll exactly the pods that read them (their env and
// config are read at container start), and nothing else.
func TestSecretAndConfigChangesRollTheirReaders(t *testing.T) {
	authPath := "spec.template.metadata.annotations.checksum/redis-auth"
	before := mustRun(t, "test", runOptions{})
	rotated := mustRun(t, "test", runOptions{secrets: map[string]string{"jobs:redisPassword": "a-new-password"}})
	wantChanged := map[string][]string{
		typeSecret + " test-redis-auth": {"stringData.password"},
		typeDeployment + " test-redis":  {authPath},
		typeDeployment + " test-api":    {authPath},
		typeDeployment + " test-worker": {authPath},
	}
	for _, b := range before.mocks.resources {
		a := rotated.mocks.one(t, b.Type, b.Name)
		got := diffPaths("", b.in(t), a.in(t))
		key := b.Type + " " + b.Name
		if strings.Join(got, ",") != strings.Join(wantChanged[key], ",") {
			t.Errorf("%s: rotating the Redis password changed %v, want %v", key, got, wantChanged[key])
		}
	}
	for _, name := range []string{"test-redis", "test-api", "test-worker"} {
		d := rotated.mocks.one(t, typeDeployment, name)
		if !hasSecret(d.Inputs["spec"]) {
			t.Errorf("%s: the password checksum must stay a Pulumi secret", name)
		}
		sum := at(d.in(t), "spec", "template", "metadata", "annotations", "checksum/redis-auth")
		if sum != checksum("a-new-password") {
			t.Errorf("%s: checksum/redis-auth = %v, want the sha256 of the new password", name, sum)
		}
	}
	redis := before.mocks.one(t, typeDeployment, "test-redis")
	conf, err := os.ReadFile(redisConfigPath)
	if err != nil {
		t.Fatal(err)
	}
	if got := at(redis.in(t), "spec", "template", "metadata", "annotations", "checksum/redis-config"); got != checksum(string(conf)) {
		t.Errorf("test-redis: checksum/redis-config = %v, want the sha256 of %s", got, redisConfigPath)
	}
}

func checksum(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// TestProtectData: with jobs:protectData (prod) exactly the objects whose deletion loses Redis's
// data, the Namespace and the volume, are protected; without it (test) nothing is.
func TestProtectData(t *testing.T) {
	for _, c := range []struct {
		stack, protect string
		want           []string
	}{
		{"prod", "", []string{typeNamespace + " prod-jobs", typePVC + " prod-redis-data"}},
		{"test", "", nil},
		{"test", "true", []string{typeNamespace + " test-jobs", typePVC + " test-redis-data"}},
		{"prod", "false", nil},
	} {
		t.Run(c.stack+"/"+c.protect, func(t *testing.T) {
			o := runOptions{}
			if c.protect != "" {
				o.set = map[string]string{"jobs:protectData": c.protect}
			}
			if c.stack == "prod" {
				o.testOutputs = testedDigests("localhost:5000/jobs", stackFileConfig(t, "prod")["jobs:version"])
			}
			r := mustRun(t, c.stack, o)
			var got []string
			for _, res := range r.mocks.resources {
				if res.Protect {
					got = append(got, res.Type+" "+res.Name)
				}
			}
			sort.Strings(got)
			if strings.Join(got, ",") != strings.Join(c.want, ",") {
				t.Errorf("protected: %v, want %v", got, c.want)
			}
		})
	}
}
