package checks

import (
	"errors"
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/example/jobs/test/cluster/manifests"
)

// NoCollisions checks that stacks meant to share one cluster use disjoint
// object keys (kind, namespace, name), namespaces and NodePorts.
func NoCollisions(stacks ...*manifests.Stack) error {
	var errs []error
	owner := map[string]string{}
	ports := map[int64]string{}
	for _, s := range stacks {
		for _, o := range s.Objects {
			key := manifests.Key(o)
			if other, ok := owner[key]; ok && other != s.Name {
				errs = append(errs, fmt.Errorf("%s is rendered by both stack %s and stack %s", key, other, s.Name))
			}
			owner[key] = s.Name
			if o.GetKind() == "Namespace" {
				continue
			}
			if o.GetNamespace() != s.Namespace() {
				errs = append(errs, fmt.Errorf("%s of stack %s is outside its namespace %s", key, s.Name, s.Namespace()))
			}
			if o.GetKind() != "Service" {
				continue
			}
			svcPorts, _, _ := unstructured.NestedSlice(o.Object, "spec", "ports")
			for _, p := range svcPorts {
				np, found, _ := unstructured.NestedInt64(p.(map[string]any), "nodePort")
				if !found || np == 0 {
					continue
				}
				if other, ok := ports[np]; ok {
					errs = append(errs, fmt.Errorf("nodePort %d is claimed by %s and by %s", np, other, key))
				}
				ports[np] = key
			}
		}
	}
	return errors.Join(errs...)
}
