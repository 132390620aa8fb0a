package program

import (
	"strings"
	"testing"
)

// TestConfigRules runs the program with one bad value at a time: each must stop it with the
// exact message (key, value, rule, fix) before any resource is registered.
func TestConfigRules(t *testing.T) {
	const fix = "; fix: pulumi config set jobs:"
	cases := []struct {
		name  string
		stack string
		o     runOptions
		want  string
	}{
		{"version latest", "test", runOptions{set: map[string]string{"jobs:version": "latest"}},
			`config jobs:version = "latest" is invalid: "latest" is not a version: use a semantic version like 0.1.0, never latest` + fix + "version <value>"},
		{"version with v", "test", runOptions{set: map[string]string{"jobs:version": "v0.1.0"}},
			`config jobs:version = "v0.1.0" is invalid: "v0.1.0" is not a strict semantic version MAJOR.MINOR.PATCH[-PRERELEASE] (for example 0.1.0 or 1.2.0-rc.1)` + fix + "version <value>"},
		{"version with build metadata", "test", runOptions{set: map[string]string{"jobs:version": "1.2.3+build.5"}},
			`config jobs:version = "1.2.3+build.5" is invalid: "1.2.3+build.5" carries build metadata (+build.5): the version is also the image tag, and a Docker tag cannot hold '+'; drop it, or make it part of a pre-release such as 1.2.3-build.5` + fix + "version <value>"},
		{"promoteFrom names the stack itself", "prod", runOptions{set: map[string]string{"jobs:promoteFrom": "organization/jobs/prod"}},
			`config jobs:promoteFrom = "organization/jobs/prod" is invalid: it names this stack (prod) itself, and a stack gated on itself refuses every new version; name the stack whose tested versions this one deploys, or leave it empty for the stack releases land on first` + fix + "promoteFrom <value>"},
		{"platform", "test", runOptions{set: map[string]string{"jobs:platform": "arm64"}},
			`config jobs:platform = "arm64" is invalid: must be the OS/architecture of the cluster's nodes (kubectl get nodes -L kubernetes.io/arch), one of linux/amd64, linux/arm64, linux/arm/v7, linux/arm/v6, linux/386, linux/ppc64le, linux/s390x, linux/riscv64` + fix + "platform <value>"},
		{"env sets a reserved variable", "test", runOptions{set: map[string]string{"jobs:env": `{"REDIS_ADDR":"elsewhere:6379"}`}},
			`config jobs:env.REDIS_ADDR = "elsewhere:6379" is invalid: REDIS_ADDR is the program's own: the program sets it to the environment's own Redis Service; fix: pulumi config rm --path 'jobs:env.REDIS_ADDR', then set the variable you meant`},
		{"secretEnv in plain text", "test", runOptions{set: map[string]string{"jobs:secretEnv": `{"API_KEY":"hunter2"}`}},
			`config jobs:secretEnv.API_KEY is stored in plain text: it must be a secret; fix: pulumi config set --secret --path 'jobs:secretEnv.API_KEY' <value>`},
		{"version missing", "test", runOptions{unset: []string{"jobs:version"}},
			"config jobs:version is required but not set" + fix + "version <value>"},
		{"nodePort below range", "test", runOptions{set: map[string]string{"jobs:nodePort": "8080"}},
			`config jobs:nodePort = "8080" is invalid: must be a whole number from 30000 to 32767 (the Kubernetes NodePort range, or auto for one the cluster assigns)` + fix + "nodePort <value>"},
		{"nodePort not a number", "prod", runOptions{set: map[string]string{"jobs:nodePort": "http"}},
			`config jobs:nodePort = "http" is invalid: must be a whole number from 30000 to 32767 (the Kubernetes NodePort range, or auto for one the cluster assigns)` + fix + "nodePort <value>"},
		{"nodePort missing", "test", runOptions{unset: []string{"jobs:nodePort"}},
			"config jobs:nodePort is required but not set" + fix + "nodePort <value>"},
		{"nodeHost", "test", runOptions{set: map[string]string{"jobs:nodeHost": "my_host"}},
			`config jobs:nodeHost = "my_host" is invalid: must be a lowercase DNS name or an IP address, the host where the cluster's NodePorts are reached (e.g. localhost)` + fix + "nodeHost <value>"},
		{"apiDrainSeconds too long", "test", runOptions{set: map[string]string{"jobs:apiDrainSeconds": "90"}},
			`config jobs:apiDrainSeconds = "90" is invalid: must be a whole number from 0 to 60` + fix + "apiDrainSeconds <value>"},
		{"apiReplicas zero", "test", runOptions{set: map[string]string{"jobs:apiReplicas": "0"}},
			`config jobs:apiReplicas = "0" is invalid: must be a whole number from 1 to 20` + fix + "apiReplicas <value>"},
		{"workerReplicas negative", "prod", runOptions{set: map[string]string{"jobs:workerReplicas": "-1"}},
			`config jobs:workerReplicas = "-1" is invalid: must be a whole number from 1 to 20` + fix + "workerReplicas <value>"},
		{"workerConcurrency too high", "test", runOptions{set: map[string]string{"jobs:workerConcurrency": "1000"}},
			`config jobs:workerConcurrency = "1000" is invalid: must be a whole number from 1 to 100` + fix + "workerConcurrency <value>"},
		{"redisReplicas", "test", runOptions{set: map[string]string{"jobs:redisReplicas": "3"}},
			`config jobs:redisReplicas = "3" is invalid: must be 1 (Redis runs as exactly one pod on a ReadWriteOnce volume; it cannot be scaled)` + fix + "redisReplicas <value>"},
		{"redisStorageSize unit", "test", runOptions{set: map[string]string{"jobs:redisStorageSize": "1GB"}},
			`config jobs:redisStorageSize = "1GB" is invalid: must be a positive Kubernetes quantity such as 1Gi, 500Mi or 5G` + fix + "redisStorageSize <value>"},
		{"redisStorageSize zero", "prod", runOptions{set: map[string]string{"jobs:redisStorageSize": "0Gi"}},
			`config jobs:redisStorageSize = "0Gi" is invalid: must be a positive Kubernetes quantity such as 1Gi, 500Mi or 5G` + fix + "redisStorageSize <value>"},
		{"storageClass", "test", runOptions{set: map[string]string{"jobs:storageClass": "Fast_SSD"}},
			`config jobs:storageClass = "Fast_SSD" is invalid: must be a DNS-1123 subdomain: lowercase letters, digits, '-' and '.', starting and ending with a letter or digit, at most 253 characters` + fix + "storageClass <value>"},
		{"imagePullPolicy", "test", runOptions{set: map[string]string{"jobs:imagePullPolicy": "always"}},
			`config jobs:imagePullPolicy = "always" is invalid: must be one of Always, IfNotPresent, Never (the Kubernetes imagePullPolicy values, case-sensitive)` + fix + "imagePullPolicy <value>"},
		{"registry with scheme", "test", runOptions{set: map[string]string{"jobs:registry": "http://localhost:5000/jobs"}},
			`config jobs:registry = "http://localhost:5000/jobs" is invalid: must be a registry server with an optional lowercase repository prefix, like localhost:5000/jobs or registry.example.com/team (no scheme, no trailing '/', no tag)` + fix + "registry <value>"},
		{"registry without server", "test", runOptions{set: map[string]string{"jobs:registry": "jobs"}},
			`config jobs:registry = "jobs" is invalid: must be a registry server with an optional lowercase repository prefix, like localhost:5000/jobs or registry.example.com/team (no scheme, no trailing '/', no tag)` + fix + "registry <value>"},
		{"registry user without password", "test", runOptions{set: map[string]string{"jobs:registryUsername": "ci"}},
			"config jobs:registryUsername and jobs:registryPassword must be set together (both for a registry that needs a login, neither for one that does not); fix: pulumi config set jobs:registryUsername <user> && pulumi config set --secret jobs:registryPassword <password>"},
		{"registry password without user", "test", runOptions{secrets: map[string]string{"jobs:registryPassword": "pw"}},
			"config jobs:registryUsername and jobs:registryPassword must be set together (both for a registry that needs a login, neither for one that does not); fix: pulumi config set jobs:registryUsername <user> && pulumi config set --secret jobs:registryPassword <password>"},
		{"registry username", "test", runOptions{set: map[string]string{"jobs:registryUsername": "ci:bot"}, secrets: map[string]string{"jobs:registryPassword": "pw"}},
			`config jobs:registryUsername = "ci:bot" is invalid: must not contain ':' or whitespace (it is sent as HTTP basic auth user)` + fix + "registryUsername <value>"},
		{"registry password in plain text", "test", runOptions{set: map[string]string{"jobs:registryUsername": "ci", "jobs:registryPassword": "pw"}},
			"config jobs:registryPassword is stored in plain text: it must be a secret; fix: pulumi config set --secret jobs:registryPassword <value>"},
		{"build", "test", runOptions{set: map[string]string{"jobs:build": "yes"}},
			`config jobs:build = "yes" is invalid: must be true or false` + fix + "build <value>"},
		{"buildNetwork", "test", runOptions{set: map[string]string{"jobs:buildNetwork": "my net"}},
			`config jobs:buildNetwork = "my net" is invalid: must be host, default (the engine's default network), none, or the name of a Docker network (letters, digits, '_', '.', '-'); it is the network the image builds' RUN steps use` + fix + "buildNetwork <value>"},
		{"protectData", "prod", runOptions{set: map[string]string{"jobs:protectData": "on"}},
			`config jobs:protectData = "on" is invalid: must be true or false` + fix + "protectData <value>"},
		{"redisImage without tag", "test", runOptions{set: map[string]string{"jobs:redisImage": "docker.io/library/redis"}},
			`config jobs:redisImage = "docker.io/library/redis" is invalid: must be a full image reference with a fixed tag, like docker.io/library/redis:7.4.2 (the tag becomes Redis's version label, so not latest and at most 63 characters)` + fix + "redisImage <value>"},
		{"redisImage latest", "prod", runOptions{set: map[string]string{"jobs:redisImage": "docker.io/library/redis:latest"}},
			`config jobs:redisImage = "docker.io/library/redis:latest" is invalid: must be a full image reference with a fixed tag, like docker.io/library/redis:7.4.2 (the tag becomes Redis's version label, so not latest and at most 63 characters)` + fix + "redisImage <value>"},
		{"redisPassword missing", "test", runOptions{secrets: map[string]string{"jobs:redisPassword": ""}},
			"config jobs:redisPassword is required but not set; fix: pulumi config set --secret jobs:redisPassword <value>"},
		{"redisPassword in plain text", "test", runOptions{plainText: []string{"jobs:redisPassword"}},
			"config jobs:redisPassword is stored in plain text: it must be a secret; fix: pulumi config set --secret jobs:redisPassword <value>"},
		{"promoteFrom", "prod", runOptions{set: map[string]string{"jobs:promoteFrom": "organization/jobs/test/extra"}},
			`config jobs:promoteFrom = "organization/jobs/test/extra" is invalid: must be the stack reference of the test stack, like organization/jobs/test` + fix + "promoteFrom <value>"},
		{"allowUntestedVersion", "prod", runOptions{set: map[string]string{"jobs:allowUntestedVersion": "maybe"}},
			`config jobs:allowUntestedVersion = "maybe" is invalid: must be true or false` + fix + "allowUntestedVersion <value>"},
		{"stack name", "test", runOptions{stackName: "Test_1"},
			`stack name "Test_1" is invalid: it prefixes every Kubernetes object name, so it must be lowercase letters, digits and '-', start with a letter, end with a letter or digit, and be at most 40 characters; fix: pulumi stack init <name> with such a name (e.g. test, prod)`},
		{"every bad key at once", "test", runOptions{set: map[string]string{"jobs:nodePort": "1", "jobs:apiReplicas": "0"}},
			`config jobs:apiReplicas = "0" is invalid: must be a whole number from 1 to 20` + fix + "apiReplicas <value>\n" +
				`config jobs:nodePort = "1" is invalid: must be a whole number from 30000 to 32767 (the Kubernetes NodePort range, or auto for one the cluster assigns)` + fix + "nodePort <value>"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := runStack(t, c.stack, c.o)
			if r.deployErr == nil || r.err == nil {
				t.Fatalf("program accepted the bad config (err %v)", r.err)
			}
			if got := r.deployErr.Error(); got != c.want {
				t.Errorf("error:\n got %s\nwant %s", got, c.want)
			}
			if !strings.Contains(r.err.Error(), c.want) {
				t.Errorf("the run's error %q does not carry the message", r.err)
			}
			if len(r.eng.Resources()) != 0 || len(r.eng.Reads()) != 0 {
				t.Errorf("resources were registered before the config was rejected: %s (reads %v)", r.registeredNames(), r.eng.Reads())
			}
		})
	}
}

// TestSecretsNeverEchoed keeps secret values out of error messages, which end up in CI logs.
func TestSecretsNeverEchoed(t *testing.T) {
	r := runStack(t, "test", runOptions{
		set:       map[string]string{"jobs:registryUsername": "ci", "jobs:registryPassword": "hunter2-registry"},
		plainText: []string{"jobs:redisPassword"},
	})
	if r.deployErr == nil {
		t.Fatal("plain-text secrets were accepted")
	}
	for _, secret := range []string{"hunter2-registry", testRedisPassword} {
		if strings.Contains(r.deployErr.Error(), secret) {
			t.Errorf("error message reveals a secret: %s", r.deployErr)
		}
	}
}
