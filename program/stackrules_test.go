package program

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
)

// TestSharedNodePortIsCaughtBeforeAnythingIsRegistered: a review stack file that copies test's
// NodePort fails its preview naming both stacks; the same file pointing at another cluster's
// node host passes.
func TestSharedNodePortIsCaughtBeforeAnythingIsRegistered(t *testing.T) {
	dir := copyStacks(t)
	cfg := stackSettings(t, root, "test")
	review := strings.Replace(string(readFile(t, filepath.Join(dir, "Pulumi.test.yaml"))), "config:\n", "config:\n  # A review stack.\n", 1)
	writeFile(t, filepath.Join(dir, "Pulumi.review.yaml"), review)
	r := runStack(t, "review", runOptions{dir: dir})
	want := `config jobs:nodePort = "30042" is invalid: stack review and stack test (Pulumi.test.yaml) both fix NodePort 30042 at jobs:nodeHost localhost, ` +
		`and one cluster has each NodePort once (a stack on another cluster sets that cluster's jobs:nodeHost); fix: pulumi config set jobs:nodePort <value>`
	if cfg.API.NodePort != 30042 || cfg.API.NodeHost != "localhost" {
		t.Fatalf("this test copies test's NodePort 30042 at localhost; test has %d at %s", cfg.API.NodePort, cfg.API.NodeHost)
	}
	if r.deployErr == nil || r.deployErr.Error() != want {
		t.Fatalf("error:\n got %v\nwant %s", r.deployErr, want)
	}
	if len(r.eng.Resources()) != 0 || len(r.eng.Reads()) != 0 {
		t.Errorf("registered before the rule failed: %s", r.registeredNames())
	}
	// Test itself, run against the same files, is told of the review stack too.
	if r := runStack(t, "test", runOptions{dir: dir}); r.deployErr == nil || !strings.Contains(r.deployErr.Error(), "stack test and stack review (Pulumi.review.yaml)") {
		t.Errorf("test beside the copy: %v", r.deployErr)
	}
	other := strings.Replace(review, "jobs:nodeHost: localhost", "jobs:nodeHost: node-1.example.com", 1)
	writeFile(t, filepath.Join(dir, "Pulumi.review.yaml"), other)
	mustRun(t, "review", runOptions{dir: dir})
}

// TestRegistryLoginIsCheckedFirst: the login is asked of the registry before anything is
// registered; a refusal stops the program naming the registry and the keys to fix, without the
// password; a registry without login is never asked.
func TestRegistryLoginIsCheckedFirst(t *testing.T) {
	cfg := stackSettings(t, root, "test")
	var asked []string
	refuse := func(_ context.Context, server, user, password string) error {
		asked = append(asked, server+" "+user+" "+password)
		return &LoginRefused{Server: server, Status: "401 Unauthorized"}
	}
	r := runStack(t, "test", runOptions{
		set:     map[string]string{"jobs:registryUsername": testRegistryUser},
		secrets: map[string]string{"jobs:registryPassword": testRegistryPassword},
		login:   refuse,
	})
	want := "registry " + cfg.Images.Server + ` (the server of jobs:registry) refused the login of jobs:registryUsername "ci" with jobs:registryPassword (401 Unauthorized), ` +
		"so no image could be pushed and no pod could pull; fix: pulumi config set --secret jobs:registryPassword <the password of ci at " + cfg.Images.Server + "> " +
		"(or pulumi config set jobs:registryUsername <user>)"
	if r.deployErr == nil || r.deployErr.Error() != want {
		t.Fatalf("error:\n got %v\nwant %s", r.deployErr, want)
	}
	if strings.Contains(r.err.Error(), testRegistryPassword) {
		t.Errorf("the error shows the password: %v", r.err)
	}
	if len(asked) != 1 || asked[0] != cfg.Images.Server+" "+testRegistryUser+" "+testRegistryPassword {
		t.Errorf("asked the registry %v", asked)
	}
	if len(r.eng.Resources()) != 0 || len(r.eng.Reads()) != 0 {
		t.Errorf("registered before the login was refused: %s", r.registeredNames())
	}

	asked = nil
	mustRun(t, "test", runOptions{login: refuse})
	if len(asked) != 0 {
		t.Errorf("a registry without login was asked: %v", asked)
	}
}
