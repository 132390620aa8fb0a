package main

import (
	"fmt"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
)

// Type tokens of the resources the program registers.
const (
	typeEnvironment = "jobs:index:Environment"
	typeImage       = "docker:index/image:Image"
	typeNamespace   = "kubernetes:core/v1:Namespace"
	typePVC         = "kubernetes:core/v1:PersistentVolumeClaim"
	typeConfigMap   = "kubernetes:core/v1:ConfigMap"
	typeSecret      = "kubernetes:core/v1:Secret"
	typeService     = "kubernetes:core/v1:Service"
	typeDeployment  = "kubernetes:apps/v1:Deployment"
	typePolicy      = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
)

// in returns a resource's inputs as plain values.
func (r *registered) in(t *testing.T) map[string]any {
	t.Helper()
	v, err := plain(r.Inputs)
	if err != nil {
		t.Fatalf("%s %s: %v", r.Type, r.Name, err)
	}
	return v.(map[string]any)
}

// out returns a resource's outputs as plain values.
func (r *registered) out(t *testing.T) map[string]any {
	t.Helper()
	v, err := plain(r.Outputs)
	if err != nil {
		t.Fatalf("%s %s: %v", r.Type, r.Name, err)
	}
	return v.(map[string]any)
}

// at walks a plain value along a path of map keys (string) and list indexes (int); a missing
// step yields nil.
func at(v any, path ...any) any {
	for _, step := range path {
		switch s := step.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				return nil
			}
			v = m[s]
		case int:
			l, ok := v.([]any)
			if !ok || s >= len(l) {
				return nil
			}
			v = l[s]
		}
	}
	return v
}

// want fails the test when the value at path differs from expected.
func want(t *testing.T, what string, v any, expected any, path ...any) {
	t.Helper()
	got := at(v, path...)
	if !reflect.DeepEqual(got, expected) {
		t.Errorf("%s %v: got %#v, want %#v", what, path, got, expected)
	}
}

// envVar finds a container's env entry by name.
func envVar(container any, name string) any {
	for _, e := range asList(at(container, "env")) {
		if at(e, "name") == name {
			return e
		}
	}
	return nil
}

func asList(v any) []any {
	l, _ := v.([]any)
	return l
}

func asMap(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

// diffPaths lists the paths at which two plain values differ.
func diffPaths(prefix string, a, b any) []string {
	ma, aok := a.(map[string]any)
	mb, bok := b.(map[string]any)
	if aok && bok {
		var out []string
		keys := map[string]bool{}
		for k := range ma {
			keys[k] = true
		}
		for k := range mb {
			keys[k] = true
		}
		for k := range keys {
			out = append(out, diffPaths(prefix+"."+k, ma[k], mb[k])...)
		}
		sort.Strings(out)
		return out
	}
	la, aok := a.([]any)
	lb, bok := b.([]any)
	if aok && bok && len(la) == len(lb) {
		var out []string
		for i := range la {
			out = append(out, diffPaths(fmt.Sprintf("%s[%d]", prefix, i), la[i], lb[i])...)
		}
		return out
	}
	if reflect.DeepEqual(a, b) {
		return nil
	}
	return []string{strings.TrimPrefix(prefix, ".")}
}

// hasSecret reports whether a property value is, or holds, a secret.
func hasSecret(v resource.PropertyValue) bool {
	switch {
	case v.IsSecret():
		return true
	case v.IsOutput():
		return v.OutputValue().Secret || hasSecret(v.OutputValue().Element)
	case v.IsObject():
		for _, e := range v.ObjectValue() {
			if hasSecret(e) {
				return true
			}
		}
	case v.IsArray():
		for _, e := range v.ArrayValue() {
			if hasSecret(e) {
				return true
			}
		}
	}
	return false
}
