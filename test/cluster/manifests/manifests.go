// Package manifests obtains the Kubernetes objects the Pulumi program renders
// for a stack and answers questions about them, so the e2e checks read every
// expectation (replicas, ports, names) from the manifest instead of
// hard-coding it.
package manifests

import (
	"fmt"
	"os"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/json"
)

// Stack is one rendered stack: its name and its objects in registration order.
type Stack struct {
	Name    string
	Objects []*unstructured.Unstructured
}

// Load reads a JSON array of Kubernetes objects.
func Load(name, path string) (*Stack, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read rendered manifests: %w", err)
	}
	// apimachinery's json keeps integers int64, as the API machinery expects.
	var raw []any
	if err := json.Unmarshal(b, &raw); err != nil {
		return nil, fmt.Errorf("%s is not a JSON array of objects: %w", path, err)
	}
	if len(raw) == 0 {
		return nil, fmt.Errorf("%s holds no objects: the render wrote an empty stack", path)
	}
	s := &Stack{Name: name}
	for i, item := range raw {
		obj, ok := item.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%s: item %d is %T, want a Kubernetes object", path, i, item)
		}
		u := &unstructured.Unstructured{Object: obj}
		if u.GetAPIVersion() == "" || u.GetKind() == "" || u.GetName() == "" {
			return nil, fmt.Errorf("%s: object %d lacks apiVersion, kind or metadata.name", path, i)
		}
		s.Objects = append(s.Objects, u)
	}
	return s, nil
}

// Namespace is the stack's namespace name, <stack>-jobs by contract.
func (s *Stack) Namespace() string { return s.Name + "-jobs" }

// ObjectName is the contract's name for a component object: <stack>-<suffix>.
func (s *Stack) ObjectName(suffix string) string { return s.Name + "-" + suffix }

// Find returns the object of the given kind and name.
func (s *Stack) Find(kind, name string) (*unstructured.Unstructured, error) {
	for _, o := range s.Objects {
		if o.GetKind() == kind && o.GetName() == name {
			return o, nil
		}
	}
	return nil, fmt.Errorf("stack %s renders no %s named %q (it has: %s)", s.Name, kind, name, s.summary())
}

// OfKind returns the objects of one kind in registration order.
func (s *Stack) OfKind(kind string) []*unstructured.Unstructured {
	var out []*unstructured.Unstructured
	for _, o := range s.Objects {
		if o.GetKind() == kind {
			out = append(out, o)
		}
	}
	return out
}

// Key identifies an object across stacks in one cluster.
func Key(o *unstructured.Unstructured) string {
	return fmt.Sprintf("%s %s/%s", o.GetKind(), o.GetNamespace(), o.GetName())
}

// DeepCopy copies the stack so a test can break it without touching others.
func (s *Stack) DeepCopy() *Stack {
	c := &Stack{Name: s.Name}
	for _, o := range s.Objects {
		c.Objects = append(c.Objects, o.DeepCopy())
	}
	return c
}

func (s *Stack) summary() string {
	var keys []string
	for _, o := range s.Objects {
		keys = append(keys, o.GetKind()+"/"+o.GetName())
	}
	return strings.Join(keys, ", ")
}
