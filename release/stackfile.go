package release

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"

	"gopkg.in/yaml.v3"
)

// StackFile is one stack's settings as its Pulumi.<stack>.yaml writes them: what other stacks'
// rules read (a promotion source, a fixed NodePort) and, for a structured setting, which of its
// values are stored encrypted, which the engine only tells for the whole key.
type StackFile struct {
	Path   string
	config map[string]yaml.Node
}

// ReadStackFile reads one stack file.
func ReadStackFile(path string) (StackFile, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return StackFile{}, err
	}
	var file struct {
		Config map[string]yaml.Node `yaml:"config"`
	}
	if err := yaml.Unmarshal(raw, &file); err != nil {
		return StackFile{}, fmt.Errorf("%s is not valid YAML: %w", path, err)
	}
	return StackFile{Path: path, config: file.Config}, nil
}

// VersionKey is the stack file's key of the release version, the one setting every release step
// reads or changes.
const VersionKey = "jobs:version"

// Setting is one plain setting of the file, "" when it is not set.
func (f StackFile) Setting(key string) (string, error) {
	node, ok := f.config[key]
	if !ok {
		return "", nil
	}
	if node.Kind != yaml.ScalarNode {
		return "", errors.New(f.Path + ": " + key + " must be a plain value")
	}
	return node.Value, nil
}

// Leaf is one value inside a setting: its path below the key (API_KEY, worker.API_KEY) and
// whether the file holds it encrypted (pulumi config set --secret) or in plain text.
type Leaf struct {
	Path      string
	Encrypted bool
}

// Leaves lists every value of a setting, sorted by path; a plain scalar setting is one leaf
// with an empty path.
func (f StackFile) Leaves(key string) []Leaf {
	node, ok := f.config[key]
	if !ok {
		return nil
	}
	var out []Leaf
	walkLeaves(&node, "", &out)
	slices.SortFunc(out, func(a, b Leaf) int {
		switch {
		case a.Path < b.Path:
			return -1
		case a.Path > b.Path:
			return 1
		}
		return 0
	})
	return out
}

// walkLeaves follows Pulumi's own reading of a stack file: a map whose only key is "secure" is
// one encrypted value, any other map or list holds more values.
func walkLeaves(n *yaml.Node, path string, out *[]Leaf) {
	join := func(elem string) string {
		if path == "" {
			return elem
		}
		return path + "." + elem
	}
	switch n.Kind {
	case yaml.MappingNode:
		if len(n.Content) == 2 && n.Content[0].Value == "secure" && n.Content[1].Kind == yaml.ScalarNode {
			*out = append(*out, Leaf{Path: path, Encrypted: true})
			return
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			walkLeaves(n.Content[i+1], join(n.Content[i].Value), out)
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			walkLeaves(c, path+"["+strconv.Itoa(i)+"]", out)
		}
	case yaml.AliasNode:
		walkLeaves(n.Alias, path, out)
	default:
		*out = append(*out, Leaf{Path: path})
	}
}
