package settings

import (
	"strings"
	"testing"
)

// lookupOf serves a config map; keys in secret are marked secret.
func lookupOf(cfg map[string]string, secret ...string) Lookup {
	return func(key string) (Value, bool) {
		v, ok := cfg[key]
		isSecret := false
		for _, s := range secret {
			isSecret = isSecret || s == key
		}
		return Value{Text: v, Secret: isSecret}, ok
	}
}

func minimal() map[string]string {
	return map[string]string{
		"jobs:version": "1.2.3", "jobs:nodePort": "30042", "jobs:nodeHost": "localhost",
		"jobs:redisStorageSize": "1Gi", "jobs:registry": "localhost:5000/jobs", "jobs:redisPassword": "pw",
	}
}

func TestLoadDefaults(t *testing.T) {
	c, err := Load("test", lookupOf(minimal(), "jobs:redisPassword"))
	if err != nil {
		t.Fatal(err)
	}
	want := Config{
		Stack: "test", Version: "1.2.3", NodePort: 30042, NodeHost: "localhost",
		APIReplicas: 1, WorkerReplicas: 1, WorkerConcurrency: 10,
		RedisImage: DefaultRedisImage, RedisVersion: "7.4.2", RedisStorageSize: "1Gi", RedisPassword: "pw",
		ImagePullPolicy: "IfNotPresent", Registry: "localhost:5000/jobs", RegistryServer: "localhost:5000",
		Build: true, BuildNetwork: "host",
	}
	if c != want {
		t.Errorf("got  %+v\nwant %+v", c, want)
	}
	if c.HasRegistryCredentials() {
		t.Error("credentials reported without any")
	}
}

// TestLoadAcceptsValidValues guards the rules against rejecting what Kubernetes accepts.
func TestLoadAcceptsValidValues(t *testing.T) {
	for key, values := range map[string][]string{
		"jobs:redisStorageSize": {"500Mi", "1.5Gi", "10G", "1e9", "2Ti", ".5Gi"},
		"jobs:nodeHost":         {"127.0.0.1", "::1", "node-1.example.com"},
		"jobs:nodePort":         {"30000", "32767"},
		"jobs:registry":         {"registry.example.com", "ghcr.io/org/team", "127.0.0.1:5000/a_b/c-d"},
		"jobs:redisImage":       {"docker.io/library/redis:7.4.2-alpine", "localhost:5000/redis:7"},
		"jobs:storageClass":     {"local-path", "fast.ssd"},
		"jobs:version":          {"0.0.1", "1.2.0-rc.1", "2.0.0+build.5"},
		"jobs:imagePullPolicy":  {"Always", "IfNotPresent", "Never"},
		"jobs:buildNetwork":     {"host", "default", "none", "ci_builds", "my-net.1"},
	} {
		for _, v := range values {
			cfg := minimal()
			cfg[key] = v
			if _, err := Load("test", lookupOf(cfg, "jobs:redisPassword")); err != nil {
				t.Errorf("%s = %q rejected: %v", key, v, err)
			}
		}
	}
}

func TestLoadRegistryCredentials(t *testing.T) {
	cfg := minimal()
	cfg["jobs:registryUsername"] = "ci"
	cfg["jobs:registryPassword"] = "secret"
	c, err := Load("prod", lookupOf(cfg, "jobs:redisPassword", "jobs:registryPassword"))
	if err != nil {
		t.Fatal(err)
	}
	if !c.HasRegistryCredentials() || c.RegistryPassword != "secret" {
		t.Errorf("credentials lost: %+v", c)
	}
}

func TestCheckPromotion(t *testing.T) {
	c := Config{Stack: "prod", Version: "1.1.0"}
	if w, err := CheckPromotion(c, TestedVersion{Stack: "o/jobs/test", Version: "1.1.0"}); err != nil || w != "" {
		t.Errorf("equal versions: warning %q, err %v", w, err)
	}
	_, err := CheckPromotion(c, TestedVersion{Stack: "o/jobs/test", Version: "not-a-version"})
	if err == nil || !strings.Contains(err.Error(), `stack o/jobs/test reports version "not-a-version", which is not a semantic version`) {
		t.Errorf("garbage tested version: %v", err)
	}
	c.AllowUntestedVersion = true
	w, err := CheckPromotion(c, TestedVersion{Stack: "o/jobs/test", Version: "1.0.0"})
	if err != nil {
		t.Fatal(err)
	}
	if want := "version 1.1.0 of stack prod is newer than version 1.0.0 deployed on stack o/jobs/test, so it is untested; deploying it anyway because jobs:allowUntestedVersion is true"; w != want {
		t.Errorf("warning:\n got %s\nwant %s", w, want)
	}
}
