package program

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/example/jobs/release"
	"github.com/example/jobs/settings"
)

// TestStackFiles keeps every stack file loadable by the program's own rules, readable (a comment
// above each key someone wrote) and free of plain-text secrets, and the stacks of one cluster apart: each has
// its own NodePort.
func TestStackFiles(t *testing.T) { checkStackFiles(t, root) }

func checkStackFiles(t *testing.T, dir string) {
	t.Helper()
	ports := map[int]string{}
	for _, stack := range stacks(t, dir) {
		cfg := stackSettings(t, dir, stack) // fails on any rule the file breaks
		// Ports the cluster assigns (review stacks) never collide.
		if other, taken := ports[cfg.API.NodePort]; taken && cfg.API.NodePort != settings.AutoNodePort {
			t.Errorf("stacks %s and %s both use NodePort %d", other, stack, cfg.API.NodePort)
		}
		ports[cfg.API.NodePort] = stack

		raw, err := os.ReadFile(filepath.Join(dir, "Pulumi."+stack+".yaml"))
		if err != nil {
			t.Fatal(err)
		}
		var doc yaml.Node
		if err := yaml.Unmarshal(raw, &doc); err != nil {
			t.Fatal(err)
		}
		config := mapValue(doc.Content[0], "config")
		if config == nil {
			t.Fatalf("Pulumi.%s.yaml has no config: section", stack)
		}
		for i := 0; i+1 < len(config.Content); i += 2 {
			key, value := config.Content[i], config.Content[i+1]
			if !strings.HasPrefix(key.Value, "jobs:") {
				t.Errorf("%s: key %s is outside the jobs: namespace", stack, key.Value)
			}
			// Secrets are set by pulumi config set --secret, and make verify's record by pulumi
			// config set: neither writes a comment; Pulumi.yaml describes them.
			encrypted := mapValue(value, "secure") != nil
			written := key.Value == release.VerificationKey
			if strings.TrimSpace(key.HeadComment) == "" && !encrypted && !written {
				t.Errorf("%s: key %s has no comment line above it", stack, key.Value)
			}
			secretKey := key.Value == "jobs:redisPassword" || key.Value == "jobs:registryPassword"
			if secretKey && !encrypted {
				t.Errorf("%s: %s is in the stack file in plain text; set it with pulumi config set --secret", stack, key.Value)
			}
		}
	}
}

func mapValue(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

// TestPromotionChain: releases land on one stack and every other stack that promotes reaches it.
func TestPromotionChain(t *testing.T) {
	top, err := release.ReadTopology(root)
	if err != nil {
		t.Fatal(err)
	}
	entry, err := top.Entry()
	if err != nil {
		t.Fatal(err)
	}
	if cfg := stackSettings(t, root, entry); cfg.Promotion.From != "" {
		t.Errorf("the entry stack %s promotes from %s", entry, cfg.Promotion.From)
	}
	if len(top.Promoted()) == 0 {
		t.Error("no stack promotes from the entry stack: nothing is ever checked before production")
	}
}
