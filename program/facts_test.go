package program

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/example/jobs/release"
	"github.com/example/jobs/settings"
)

// The tests read what they expect from the stack files and Pulumi.yaml, typed by package
// settings (tested on its own), instead of restating values: a release or a config change must
// not break them, only a program that stops following its config.

// stacks are the project's stacks in dir, from their stack files.
func stacks(t *testing.T, dir string) []string {
	t.Helper()
	top, err := release.ReadTopology(dir)
	if err != nil {
		t.Fatal(err)
	}
	return top.Stacks
}

// stackSettings is a stack file's config as the program types it, with the tests' secrets.
func stackSettings(t *testing.T, dir, stack string) settings.Config {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(root, "Pulumi.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	p, err := settings.ParseProject(raw)
	if err != nil {
		t.Fatal(err)
	}
	values := map[string]settings.Value{"jobs:redisPassword": {Text: testRedisPassword, Secret: true}}
	for k, v := range stackFileConfig(t, dir, stack) {
		values[k] = settings.Value{Text: v}
	}
	cfg, err := settings.Load(stack, p, values)
	if err != nil {
		t.Fatalf("stack %s: %v", stack, err)
	}
	return cfg
}

// expectedResources is every resource the environment of cfg registers (without registry login):
// a PodDisruptionBudget for each component with more than one replica, none for one.
func expectedResources(cfg settings.Config, build bool) []string {
	env := cfg.Stack
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
		typePolicy + " " + env + "-default-deny",
		typePolicy + " " + env + "-api-ingress",
		typePolicy + " " + env + "-api-egress",
		typePolicy + " " + env + "-worker-egress",
		typePolicy + " " + env + "-redis-ingress",
		typePolicy + " " + env + "-verify-egress",
	}
	for c, replicas := range map[string]int{"api": cfg.API.Replicas, "worker": cfg.Worker.Replicas} {
		if replicas > 1 {
			r = append(r, typePDB+" "+env+"-"+c)
		}
	}
	if build {
		for _, c := range release.Components {
			r = append(r, typeImage+" "+env+"-"+c+"-image")
		}
	}
	slices.Sort(r)
	return r
}

// redisConf is the project's redis.conf.
func redisConf(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, redisConfig))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
