package manifests

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"sigs.k8s.io/yaml"
)

// ConfiguredNodePort reads jobs:nodePort from the stack's Pulumi.<stack>.yaml
// in the repository root: the port the operator configured, which the live
// Service must be granted exactly.
func ConfiguredNodePort(repoRoot, stack string) (int64, error) {
	path := filepath.Join(repoRoot, "Pulumi."+stack+".yaml")
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, fmt.Errorf("stack file for %s: %w", stack, err)
	}
	var file struct {
		Config map[string]any `json:"config"`
	}
	if err := yaml.Unmarshal(b, &file); err != nil {
		return 0, fmt.Errorf("%s is not valid YAML: %w", path, err)
	}
	raw, ok := file.Config["jobs:nodePort"]
	if !ok {
		return 0, fmt.Errorf("%s sets no jobs:nodePort", path)
	}
	// Pulumi stores config values as strings, but a hand-edited file may
	// hold a bare number.
	port, err := strconv.ParseInt(fmt.Sprint(raw), 10, 32)
	if err != nil {
		return 0, fmt.Errorf("%s: jobs:nodePort %v is not a port number", path, raw)
	}
	return port, nil
}
