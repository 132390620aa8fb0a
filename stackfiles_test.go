package main

import (
	"os"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// TestStackFiles pins the values the environments are specified with, and keeps the files
// readable and free of plain-text secrets.
func TestStackFiles(t *testing.T) {
	common := map[string]string{
		"jobs:version": "0.1.0", "jobs:storageClass": "standard", "jobs:registry": "localhost:5000/jobs",
		"jobs:nodeHost": "localhost",
	}
	for stack, values := range map[string]map[string]string{
		"test": {"jobs:nodePort": "30042", "jobs:imagePullPolicy": "Always", "jobs:apiReplicas": "1",
			"jobs:workerReplicas": "1", "jobs:redisStorageSize": "1Gi"},
		"prod": {"jobs:nodePort": "30142", "jobs:imagePullPolicy": "IfNotPresent", "jobs:apiReplicas": "2",
			"jobs:workerReplicas": "2", "jobs:redisStorageSize": "5Gi", "jobs:promoteFrom": "organization/jobs/test"},
	} {
		t.Run(stack, func(t *testing.T) {
			cfg := stackFileConfig(t, stack)
			for k, v := range common {
				values[k] = v
			}
			for k, v := range values {
				if cfg[k] != v {
					t.Errorf("%s = %q, want %q", k, cfg[k], v)
				}
			}
			if stack == "test" && cfg["jobs:promoteFrom"] != "" {
				t.Error("the test stack must not promote from another stack")
			}

			raw, err := os.ReadFile("Pulumi." + stack + ".yaml")
			if err != nil {
				t.Fatal(err)
			}
			var doc yaml.Node
			if err := yaml.Unmarshal(raw, &doc); err != nil {
				t.Fatal(err)
			}
			config := mapValue(doc.Content[0], "config")
			if config == nil {
				t.Fatal("no config: section")
			}
			for i := 0; i+1 < len(config.Content); i += 2 {
				key, value := config.Content[i], config.Content[i+1]
				if !strings.HasPrefix(key.Value, "jobs:") {
					t.Errorf("key %s is outside the jobs: namespace", key.Value)
				}
				if strings.TrimSpace(key.HeadComment) == "" {
					t.Errorf("key %s has no comment line above it", key.Value)
				}
				secretKey := key.Value == "jobs:redisPassword" || key.Value == "jobs:registryPassword"
				if secretKey && mapValue(value, "secure") == nil {
					t.Errorf("%s is in the stack file in plain text; set it with pulumi config set --secret", key.Value)
				}
			}
		})
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

func TestProjectFile(t *testing.T) {
	raw, err := os.ReadFile("Pulumi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var project struct {
		Name    string `yaml:"name"`
		Runtime any    `yaml:"runtime"`
	}
	if err := yaml.Unmarshal(raw, &project); err != nil {
		t.Fatal(err)
	}
	if project.Name != "jobs" || project.Runtime != "go" {
		t.Errorf("Pulumi.yaml: name %q runtime %v, want jobs and go", project.Name, project.Runtime)
	}
}
