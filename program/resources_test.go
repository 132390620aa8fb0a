package program

import (
	"encoding/json"
	"fmt"
	"net"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/example/jobs/mockengine"
	"github.com/example/jobs/release"
)

func TestEveryStackRegistersItsEnvironment(t *testing.T) {
	for _, stack := range stacks(t, root) {
		t.Run(stack, func(t *testing.T) { checkEnvironment(t, root, stack) })
	}
}

// checkEnvironment runs one stack of the stack files in dir and checks each resource against
// the stack's settings: every resource once, under the component, named after the stack, with
// the configured values, images named for the release, the outputs.
func checkEnvironment(t *testing.T, dir, stack string) {
	t.Helper()
	cfg := stackSettings(t, dir, stack)
	r := mustRun(t, stack, runOptions{dir: dir})
	// A stack that promotes gets no images from its source here, so it builds, as logged.
	if got, w := r.registeredNames(), strings.Join(expectedResources(cfg, cfg.Images.Build), "\n"); got != w {
		t.Fatalf("registered:\n%s\nwant:\n%s", got, w)
	}
	for _, res := range r.eng.Resources() {
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
			want(t, res.Name, in(t, res), res.Name, "metadata", "name")
		}
	}

	container := func(d map[string]any) any { return at(d, "spec", "template", "spec", "containers", 0) }
	api := in(t, r.one(t, typeDeployment, stack+"-api"))
	worker := in(t, r.one(t, typeDeployment, stack+"-worker"))
	redis := in(t, r.one(t, typeDeployment, stack+"-redis"))
	want(t, "api replicas", api, int64(cfg.API.Replicas), "spec", "replicas")
	want(t, "worker replicas", worker, int64(cfg.Worker.Replicas), "spec", "replicas")
	want(t, "redis replicas", redis, int64(1), "spec", "replicas")
	for name, d := range map[string]map[string]any{"api": api, "worker": worker, "redis": redis} {
		want(t, name+" imagePullPolicy", container(d), cfg.Images.PullPolicy, "imagePullPolicy")
	}
	want(t, "worker CONCURRENCY", envVar(container(worker), "CONCURRENCY"), strconv.Itoa(cfg.Worker.Concurrency), "value")

	svc := in(t, r.one(t, typeService, stack+"-api"))
	want(t, "api service type", svc, "NodePort", "spec", "type")
	want(t, "api service port", svc, map[string]any{
		"name": "http", "port": int64(8080), "targetPort": "http", "nodePort": int64(cfg.API.NodePort), "protocol": "TCP",
	}, "spec", "ports", 0)
	rsvc := in(t, r.one(t, typeService, stack+"-redis"))
	want(t, "redis service type", rsvc, "ClusterIP", "spec", "type")
	want(t, "redis service port", rsvc, int64(6379), "spec", "ports", 0, "port")

	pvc := in(t, r.one(t, typePVC, stack+"-redis-data"))
	want(t, "pvc size", pvc, cfg.Redis.StorageSize, "spec", "resources", "requests", "storage")
	if cfg.Redis.StorageClass != "" {
		want(t, "pvc class", pvc, cfg.Redis.StorageClass, "spec", "storageClassName")
	}
	want(t, "pvc access", pvc, []any{"ReadWriteOnce"}, "spec", "accessModes")

	conf := redisConf(t)
	want(t, "redis.conf", in(t, r.one(t, typeConfigMap, stack+"-redis-config")), conf, "data", "redis.conf")
	if !strings.Contains(conf, "appendonly yes") {
		t.Error("app/redis/redis.conf must turn AOF on")
	}
	auth := r.one(t, typeSecret, stack+"-redis-auth")
	want(t, "redis password", in(t, auth), testRedisPassword, "stringData", "password")
	if !mockengine.HasSecret(auth.Inputs["stringData"]) {
		t.Error("the Redis password reaches the Secret as a plain value; it must stay a Pulumi secret")
	}
	want(t, "redis strategy", redis, "Recreate", "spec", "strategy", "type")
	rc := container(redis)
	want(t, "redis image", rc, cfg.Redis.Image, "image")
	want(t, "redis args", rc, []any{"redis-server", "/etc/redis/redis.conf", "--requirepass", "$(REDIS_PASSWORD)"}, "args")
	want(t, "redis data mount", rc, "/data", "volumeMounts", 0, "mountPath")
	want(t, "redis config mount", rc, "/etc/redis", "volumeMounts", 1, "mountPath")
	if at(rc, "readinessProbe") == nil || at(rc, "livenessProbe") == nil {
		t.Error("redis needs readiness and liveness probes")
	}

	images := map[string]any{}
	for _, c := range release.Components {
		ref := any(release.Tagged(cfg.Images.Registry, c, cfg.Version))
		if cfg.Images.Build {
			img := r.one(t, typeImage, stack+"-"+c+"-image")
			want(t, c+" image name", in(t, img), ref, "imageName")
			want(t, c+" build version", in(t, img), cfg.Version, "build", "args", "VERSION")
			ref = out(t, img)["repoDigest"]
		}
		want(t, c+" container image", container(in(t, r.one(t, typeDeployment, stack+"-"+c))), ref, "image")
		images[release.OutputName(c)] = ref
	}
	labels := func(d map[string]any) any { return at(d, "metadata", "labels", "app.kubernetes.io/version") }
	if labels(api) != cfg.Version || labels(worker) != cfg.Version || labels(redis) != cfg.Redis.Version {
		t.Errorf("version labels: api %v, worker %v, redis %v; want %s, %s, %s", labels(api), labels(worker), labels(redis), cfg.Version, cfg.Version, cfg.Redis.Version)
	}

	wantExports := map[string]any{
		"namespace":    stack + "-jobs",
		"version":      cfg.Version,
		"nodePort":     cfg.API.NodePort,
		"url":          "http://" + net.JoinHostPort(cfg.API.NodeHost, strconv.Itoa(cfg.API.NodePort)),
		"redisAddress": stack + "-redis." + stack + "-jobs.svc.cluster.local:6379",
	}
	for k, v := range images {
		wantExports[k] = v
	}
	// A stack file holding make verify's record (make up writes one into test's) exports it only
	// while it covers the very digests deployed; the mocks' digests are never the recorded ones.
	if cfg.Promotion.Verification != nil {
		wantExports[release.VerificationOutput] = nil
	}
	if fmt.Sprint(r.exports) != fmt.Sprint(wantExports) {
		t.Errorf("%s exports:\n got %v\nwant %v", stack, r.exports, wantExports)
	}
}

func TestImagesAreBuiltAndPinnedByDigest(t *testing.T) {
	cfg := stackSettings(t, root, "test")
	r := mustRun(t, "test", runOptions{})
	for _, c := range release.Components {
		img := in(t, r.one(t, typeImage, "test-"+c+"-image"))
		app := filepath.Join(root, "app")
		want(t, c+" build", img, map[string]any{
			"context": app, "dockerfile": filepath.Join(app, "Dockerfile"), "target": c,
			"network": cfg.Images.Network, "args": map[string]any{"VERSION": cfg.Version},
			"platform": cfg.Images.Platform,
		}, "build")
		if at(img, "registry") != nil {
			t.Errorf("%s image: registry login set without credentials", c)
		}
	}
	if at(in(t, r.one(t, typeDeployment, "test-api")), "spec", "template", "spec", "imagePullSecrets") != nil {
		t.Error("imagePullSecrets set without registry credentials")
	}
}

func TestURLBracketsIPv6Host(t *testing.T) {
	cfg := stackSettings(t, root, "test")
	r := mustRun(t, "test", runOptions{set: map[string]string{"jobs:nodeHost": "::1"}})
	want(t, "url", r.exports, "http://[::1]:"+strconv.Itoa(cfg.API.NodePort), "url")
}

func TestBuildFalseDeploysExistingImages(t *testing.T) {
	cfg := stackSettings(t, root, "prod")
	r := mustRun(t, "prod", runOptions{set: map[string]string{"jobs:build": "false"}})
	if got, w := r.registeredNames(), strings.Join(expectedResources(stackSettings(t, root, "prod"), false), "\n"); got != w {
		t.Fatalf("registered:\n%s\nwant:\n%s", got, w)
	}
	for _, c := range release.Components {
		ref := release.Tagged(cfg.Images.Registry, c, cfg.Version)
		want(t, c, in(t, r.one(t, typeDeployment, "prod-"+c)), ref, "spec", "template", "spec", "containers", 0, "image")
		want(t, c+"Image output", r.exports, ref, release.OutputName(c))
	}
}

func TestRegistryLoginBecomesPullSecret(t *testing.T) {
	cfg := stackSettings(t, root, "test")
	r := mustRun(t, "test", runOptions{
		set:     map[string]string{"jobs:registryUsername": testRegistryUser},
		secrets: map[string]string{"jobs:registryPassword": testRegistryPassword},
	})
	s := r.one(t, typeSecret, "test-registry")
	sin := in(t, s)
	want(t, "registry secret type", sin, "kubernetes.io/dockerconfigjson", "type")
	if !mockengine.HasSecret(s.Inputs["stringData"]) {
		t.Error("the registry password reaches the pull Secret as a plain value")
	}
	var dockerConfig any
	if err := json.Unmarshal([]byte(at(sin, "stringData", ".dockerconfigjson").(string)), &dockerConfig); err != nil {
		t.Fatalf(".dockerconfigjson: %v", err)
	}
	want(t, "docker config", dockerConfig, map[string]any{
		"username": testRegistryUser, "password": testRegistryPassword,
		"auth": "Y2k6cmVnaXN0cnktc2VjcmV0LWZyb20tdGVzdA==", // base64("ci:registry-secret-from-test")
	}, "auths", cfg.Images.Server)
	for _, c := range release.Components {
		img := r.one(t, typeImage, "test-"+c+"-image")
		want(t, c+" registry login", in(t, img), map[string]any{
			"server": cfg.Images.Server, "username": testRegistryUser, "password": testRegistryPassword,
		}, "registry")
		if !mockengine.HasSecret(img.Inputs["registry"]) {
			t.Errorf("%s image: the registry password is not a secret", c)
		}
		want(t, c+" imagePullSecrets", in(t, r.one(t, typeDeployment, "test-"+c)),
			[]any{map[string]any{"name": "test-registry"}}, "spec", "template", "spec", "imagePullSecrets")
	}
}

// TestProtectData: with jobs:protectData exactly the objects whose deletion loses Redis's data,
// the Namespace and the volume, are protected; without it nothing is.
func TestProtectData(t *testing.T) {
	for _, stack := range stacks(t, root) {
		for _, protect := range []string{"true", "false"} {
			t.Run(stack+"/"+protect, func(t *testing.T) {
				r := mustRun(t, stack, runOptions{set: map[string]string{"jobs:protectData": protect}})
				var got []string
				for _, res := range r.eng.Resources() {
					if res.Protect {
						got = append(got, res.Type+" "+res.Name)
					}
				}
				var w []string
				if protect == "true" {
					w = []string{typeNamespace + " " + stack + "-jobs", typePVC + " " + stack + "-redis-data"}
				}
				slices.Sort(got)
				if !slices.Equal(got, w) {
					t.Errorf("protected: %v, want %v", got, w)
				}
			})
		}
	}
}
