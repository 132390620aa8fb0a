package program

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/example/jobs/mockengine"
	"github.com/example/jobs/release"
)

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
			cfg := stackFileConfig(t, root, c.stack)
			base := cfg["jobs:version"]
			next := nextPatch(t, base)
			promotes := cfg["jobs:promoteFrom"] != ""
			runAt := func(version string) *run {
				o := runOptions{set: map[string]string{"jobs:build": c.build, "jobs:version": version}}
				if promotes {
					o.testOutputs = testedDigests(cfg["jobs:registry"], version)
				}
				return mustRun(t, c.stack, o)
			}
			before, after := runAt(base), runAt(next)
			if len(before.eng.Resources()) != len(after.eng.Resources()) {
				t.Fatalf("a bump changed the resource count: %s vs %s", before.registeredNames(), after.registeredNames())
			}
			wantChanged := map[string][]string{
				typeDeployment + " " + c.stack + "-api":    deploymentPaths,
				typeDeployment + " " + c.stack + "-worker": deploymentPaths,
			}
			if c.build == "true" && !promotes {
				for _, target := range release.Components {
					wantChanged[typeImage+" "+c.stack+"-"+target+"-image"] = []string{"build.args.VERSION", "imageName"}
				}
			}
			for _, b := range before.eng.Resources() {
				a := after.one(t, b.Type, b.Name)
				got := mockengine.DiffPaths(in(t, b), in(t, a))
				key := b.Type + " " + b.Name
				if strings.Join(got, ",") != strings.Join(wantChanged[key], ",") {
					t.Errorf("%s: bump %s -> %s changed %v, want %v", key, base, next, got, wantChanged[key])
				}
			}
			if !promotes {
				return
			}
			tested := testedDigests(cfg["jobs:registry"], next)
			for _, target := range release.Components {
				want(t, target+" image after the bump", in(t, after.one(t, typeDeployment, c.stack+"-"+target)),
					tested[release.OutputName(target)], "spec", "template", "spec", "containers", 0, "image")
			}
			for _, res := range append(before.eng.Resources(), after.eng.Resources()...) {
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
	for _, b := range before.eng.Resources() {
		a := rotated.one(t, b.Type, b.Name)
		got := mockengine.DiffPaths(in(t, b), in(t, a))
		key := b.Type + " " + b.Name
		if strings.Join(got, ",") != strings.Join(wantChanged[key], ",") {
			t.Errorf("%s: rotating the Redis password changed %v, want %v", key, got, wantChanged[key])
		}
	}
	for _, name := range []string{"test-redis", "test-api", "test-worker"} {
		d := rotated.one(t, typeDeployment, name)
		if !mockengine.HasSecret(d.Inputs["spec"]) {
			t.Errorf("%s: the password checksum must stay a Pulumi secret", name)
		}
		sum := at(in(t, d), "spec", "template", "metadata", "annotations", "checksum/redis-auth")
		if sum != checksum("a-new-password") {
			t.Errorf("%s: checksum/redis-auth = %v, want the sha256 of the new password", name, sum)
		}
	}
	redis := before.one(t, typeDeployment, "test-redis")
	if got := at(in(t, redis), "spec", "template", "metadata", "annotations", "checksum/redis-config"); got != checksum(redisConf(t)) {
		t.Errorf("test-redis: checksum/redis-config = %v, want the sha256 of %s", got, redisConfig)
	}
}

func checksum(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}
