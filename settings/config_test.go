package settings

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/example/jobs/release"
)

// project is the real Pulumi.yaml's declarations: the tests check the rules against them.
func project(t *testing.T) Project {
	t.Helper()
	raw, err := os.ReadFile("../Pulumi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	p, err := ParseProject(raw)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// values builds the engine's view of a stack; keys in secret are marked secret.
func values(plain map[string]string, secret ...string) map[string]Value {
	out := map[string]Value{}
	for k, v := range plain {
		out[k] = Value{Text: v}
	}
	for _, k := range secret {
		v := out[k]
		v.Secret = true
		out[k] = v
	}
	return out
}

// minimal sets exactly the keys Pulumi.yaml declares without a default.
func minimal(t *testing.T, p Project) map[string]string {
	t.Helper()
	sample := map[string]string{
		"version": "1.2.3", "nodePort": "30042", "nodeHost": "localhost", "redisStorageSize": "1Gi",
		"registry": "localhost:5000/jobs", "redisPassword": "pw",
	}
	out := map[string]string{}
	for key, decl := range p.Keys {
		if decl.Default != nil {
			continue
		}
		v, ok := sample[key]
		if !ok {
			t.Fatalf("Pulumi.yaml declares %s required; add a sample value to this test", key)
		}
		out[p.Full(key)] = v
	}
	return out
}

// TestDefaultsComeFromPulumiYAML: an unset key takes the default Pulumi.yaml declares, so the
// program under mocks sees what the engine would hand it.
func TestDefaultsComeFromPulumiYAML(t *testing.T) {
	p := project(t)
	c, err := Load("test", p, values(minimal(t, p), "jobs:redisPassword"))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{
		"apiReplicas": strconv.Itoa(c.API.Replicas), "workerReplicas": strconv.Itoa(c.Worker.Replicas),
		"apiDrainSeconds":   strconv.Itoa(c.API.DrainSeconds),
		"workerConcurrency": strconv.Itoa(c.Worker.Concurrency), "redisImage": c.Redis.Image,
		"storageClass": c.Redis.StorageClass, "protectData": strconv.FormatBool(c.Redis.ProtectData),
		"imagePullPolicy": c.Images.PullPolicy, "registryUsername": loginUser(c),
		"build": strconv.FormatBool(c.Images.Build), "buildNetwork": c.Images.Network,
		"promoteFrom": c.Promotion.From, "allowUntestedVersion": strconv.FormatBool(c.Promotion.AllowUntested),
		"redisReplicas": "1", "registryPassword": "", "platform": c.Images.Platform,
		"verification": verificationText(c.Promotion.Verification),
		// The maps of the app's variables: empty by default, so no process gets any.
		"env": envJSON(c.API.Env.Plain, c.Worker.Env.Plain), "secretEnv": envJSON(c.API.Env.Secret, c.Worker.Env.Secret),
	}
	for key, decl := range p.Keys {
		if decl.Default == nil {
			continue
		}
		v, ok := got[key]
		if !ok {
			t.Errorf("Pulumi.yaml declares %s with a default; map it to its Config field in this test", key)
			continue
		}
		if v != *decl.Default {
			t.Errorf("%s: Config holds %q, Pulumi.yaml's default is %q", key, v, *decl.Default)
		}
	}
	if c.Redis.Version != imageTag(c.Redis.Image) || c.Redis.Version == "" {
		t.Errorf("Redis version %q is not the tag of %s", c.Redis.Version, c.Redis.Image)
	}
	if c.Images.Server != "localhost:5000" || c.Images.Login != nil {
		t.Errorf("images: %+v", c.Images)
	}
}

// envJSON is "{}" when every list is empty, as a map default of Pulumi.yaml reaches the program.
func envJSON[T any](lists ...[]T) string {
	for _, l := range lists {
		if len(l) > 0 {
			return fmt.Sprint(lists)
		}
	}
	return "{}"
}

func loginUser(c Config) string {
	if c.Images.Login == nil {
		return ""
	}
	return c.Images.Login.Username
}

// TestEveryDeclaredKeyHasARule sets every declared key to a value no rule accepts: each must be
// reported, so a key declared in Pulumi.yaml can never go unchecked or unread.
func TestEveryDeclaredKeyHasARule(t *testing.T) {
	p := project(t)
	bad := map[string]string{}
	for key := range p.Keys {
		bad[p.Full(key)] = "not valid: ; \t"
	}
	_, err := Load("test", p, values(bad)) // nothing marked secret: the secrets are plain text
	if err == nil {
		t.Fatal("every key invalid, yet Load passed")
	}
	for key := range p.Keys {
		if !strings.Contains(err.Error(), "config "+p.Full(key)+" ") {
			t.Errorf("no error names %s:\n%v", p.Full(key), err)
		}
	}
}

// TestLoadAcceptsValidValues guards the rules against rejecting what Kubernetes accepts.
func TestLoadAcceptsValidValues(t *testing.T) {
	p := project(t)
	for key, vs := range map[string][]string{
		"jobs:redisStorageSize": {"500Mi", "1.5Gi", "10G", "1e9", "2Ti", ".5Gi"},
		"jobs:nodeHost":         {"127.0.0.1", "::1", "node-1.example.com"},
		"jobs:nodePort":         {"30000", "32767"},
		"jobs:registry":         {"registry.example.com", "ghcr.io/org/team", "127.0.0.1:5000/a_b/c-d"},
		"jobs:redisImage":       {"docker.io/library/redis:7.4.2-alpine", "localhost:5000/redis:7"},
		"jobs:storageClass":     {"local-path", "fast.ssd"},
		"jobs:version":          {"0.0.1", "1.2.0-rc.1", "2.0.0-build.5"},
		"jobs:platform":         {"linux/amd64", "linux/arm64", "linux/arm/v7"},
		"jobs:promoteFrom":      {"organization/jobs/prod", "staging"},
		"jobs:imagePullPolicy":  {"Always", "IfNotPresent", "Never"},
		"jobs:buildNetwork":     {"host", "default", "none", "ci_builds", "my-net.1"},
	} {
		for _, v := range vs {
			cfg := minimal(t, p)
			cfg[key] = v
			if _, err := Load("test", p, values(cfg, "jobs:redisPassword")); err != nil {
				t.Errorf("%s = %q rejected: %v", key, v, err)
			}
		}
	}
}

func TestLoadRegistryLogin(t *testing.T) {
	p := project(t)
	cfg := minimal(t, p)
	cfg["jobs:registryUsername"] = "ci"
	cfg["jobs:registryPassword"] = "hunter2"
	c, err := Load("prod", p, values(cfg, "jobs:redisPassword", "jobs:registryPassword"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Images.Login == nil || c.Images.Login.Username != "ci" || c.Images.Login.Password.Reveal() != "hunter2" {
		t.Errorf("login lost: %+v", c.Images.Login)
	}
}

// TestUnknownKeyNamesTheNearest: a typo is an error naming the key and the declared one meant;
// other namespaces belong to the providers and pass.
func TestUnknownKeyNamesTheNearest(t *testing.T) {
	p := project(t)
	cfg := minimal(t, p)
	cfg["jobs:apiReplica"] = "2"
	cfg["jobs:NodePort"] = "30043"
	cfg["kubernetes:context"] = "local"
	_, err := Load("test", p, values(cfg, "jobs:redisPassword"))
	want := "config jobs:NodePort is not a setting of this project (did you mean jobs:nodePort?); fix: pulumi config rm jobs:NodePort, then set the key you meant (Pulumi.yaml declares them all)\n" +
		"config jobs:apiReplica is not a setting of this project (did you mean jobs:apiReplicas?); fix: pulumi config rm jobs:apiReplica, then set the key you meant (Pulumi.yaml declares them all)"
	if err == nil || err.Error() != want {
		t.Errorf("error:\n got %v\nwant %s", err, want)
	}
}

// TestSecretsNeverPrint: a Config printed any way shows no secret.
func TestSecretsNeverPrint(t *testing.T) {
	p := project(t)
	cfg := minimal(t, p)
	cfg["jobs:redisPassword"] = "redis-hunter2"
	cfg["jobs:registryUsername"] = "ci"
	cfg["jobs:registryPassword"] = "registry-hunter2"
	c, err := Load("test", p, values(cfg, "jobs:redisPassword", "jobs:registryPassword"))
	if err != nil {
		t.Fatal(err)
	}
	for _, format := range []string{"%v", "%+v", "%#v", "%s", "%d", "%x"} {
		out := fmt.Sprintf(format, c) + fmt.Sprintf(format, *c.Images.Login)
		if strings.Contains(out, "hunter2") {
			t.Errorf("%s prints a secret: %s", format, out)
		}
	}
}

// TestParseProjectLeavesProviderValuesAlone: a value for a provider in Pulumi.yaml
// (kubernetes:enableSecretMutable) is the provider's, not a setting of the program.
func TestParseProjectLeavesProviderValuesAlone(t *testing.T) {
	p, err := ParseProject([]byte("name: jobs\nconfig:\n  kubernetes:enableSecretMutable: true\n  x:\n    type: string\n    description: d\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Keys) != 1 || p.Keys["x"].Description != "d" {
		t.Errorf("keys %v, want only x", p.Keys)
	}
}

func TestParseProjectRejectsBadDeclarations(t *testing.T) {
	for _, c := range []struct{ yaml, want string }{
		{"config: {}", "Pulumi.yaml: no project name"},
		{"name: jobs\nconfig:\n  jobs:x:\n    type: string\n    description: d", "key jobs:x: declare it without a namespace"},
		{"name: jobs\nconfig:\n  x:\n    type: integer\n    description: d", `key x: type "integer", want string, or object for a map`},
		{"name: jobs\nconfig:\n  x:\n    type: object\n    default: text\n    description: d", "key x: an object's default must be a map, like {}"},
		{"name: jobs\nconfig:\n  x:\n    type: string\n    default: {}\n    description: d", "key x: a string's default must be a plain value"},
		{"name: jobs\nconfig:\n  x:\n    type: string", "key x: no description"},
	} {
		_, err := ParseProject([]byte(c.yaml))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: error %v, want %q", c.yaml, err, c.want)
		}
	}
}

// verificationText is a stack's verification record as its setting holds it, "" for none.
func verificationText(v *release.Verification) string {
	if v == nil {
		return ""
	}
	return v.Encode()
}
