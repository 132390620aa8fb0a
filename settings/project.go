package settings

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// Project is what Pulumi.yaml declares: the project name, which is the namespace of every config
// key, and each key the program reads. Pulumi itself applies the defaults, insists on the keys
// without one and on encrypting the secret ones before the program runs; Load does the same, so
// a run under mocks behaves like one under the engine.
type Project struct {
	Name string
	Keys map[string]Key // by key without the namespace, e.g. "nodePort"
}

// Key is one declared setting.
type Key struct {
	Description string
	// Default is applied when the stack does not set the key; nil makes the key required.
	Default *string
	Secret  bool
}

// ParseProject reads the config declarations of a Pulumi.yaml. Every key is declared as a string
// (see docs/decisions-program.md): Pulumi's own type check would stop at the first bad key and
// never name the bad value, while Load's rules report every bad key with value, rule and fix.
func ParseProject(raw []byte) (Project, error) {
	var file struct {
		Name   string               `yaml:"name"`
		Config map[string]yaml.Node `yaml:"config"`
	}
	if err := yaml.Unmarshal(raw, &file); err != nil {
		return Project{}, fmt.Errorf("Pulumi.yaml: %w", err)
	}
	if file.Name == "" {
		return Project{}, errors.New("Pulumi.yaml: no project name")
	}
	p := Project{Name: file.Name, Keys: map[string]Key{}}
	var problems []string
	for name, node := range file.Config {
		if ns, _, found := strings.Cut(name, ":"); found && ns != file.Name {
			continue // a value for a provider (kubernetes:...), not a setting of this program
		}
		var d struct {
			Type        string    `yaml:"type"`
			Description string    `yaml:"description"`
			Default     yaml.Node `yaml:"default"`
			Secret      bool      `yaml:"secret"`
		}
		if err := node.Decode(&d); err != nil {
			problems = append(problems, fmt.Sprintf("key %s: %v", name, err))
			continue
		}
		def, err := declaredDefault(d.Type, &d.Default)
		switch {
		case strings.Contains(name, ":"):
			problems = append(problems, fmt.Sprintf("key %s: declare it without a namespace (the project's own, %s:, is implied)", name, file.Name))
		case d.Type != "string" && d.Type != "object":
			problems = append(problems, fmt.Sprintf("key %s: type %q, want string, or object for a map (the program's rules check the value)", name, d.Type))
		case d.Description == "":
			problems = append(problems, fmt.Sprintf("key %s: no description", name))
		case err != nil:
			problems = append(problems, fmt.Sprintf("key %s: %v", name, err))
		}
		p.Keys[name] = Key{Description: d.Description, Default: def, Secret: d.Secret}
	}
	if len(problems) > 0 {
		slices.Sort(problems)
		return Project{}, fmt.Errorf("Pulumi.yaml config declarations: %s", strings.Join(problems, "; "))
	}
	return p, nil
}

// Full is the key with the project's namespace, as stack files and the engine spell it.
func (p Project) Full(key string) string { return p.Name + ":" + key }

// declaredDefault is a declared default as the engine hands it to the program: a string as it
// is, a map as its JSON text (how the engine passes every object value).
func declaredDefault(typ string, n *yaml.Node) (*string, error) {
	if n.Kind == 0 {
		return nil, nil // not declared: the key is required
	}
	if typ == "object" {
		var m map[string]any
		if err := n.Decode(&m); err != nil || m == nil {
			return nil, fmt.Errorf("an object's default must be a map, like {}")
		}
		b, err := json.Marshal(m)
		if err != nil {
			return nil, err
		}
		text := string(b)
		return &text, nil
	}
	var text string
	if err := n.Decode(&text); err != nil || n.Kind != yaml.ScalarNode {
		return nil, fmt.Errorf("a string's default must be a plain value")
	}
	return &text, nil
}
