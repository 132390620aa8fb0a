// Package checks applies rendered stacks to a live cluster and verifies what
// only a real API server can prove: that Kubernetes accepts the objects and
// that the pieces fit (claims bind, selectors find pods, ports are granted).
// Every check returns an error naming the problem, so a test can assert
// that a deliberately broken manifest is caught.
package checks

import (
	"context"
	"fmt"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"

	"github.com/example/jobs/test/cluster/manifests"
)

// FieldManager owns the fields the e2e test applies, like Pulumi's own
// field manager does for a real deployment.
const FieldManager = "jobs-e2e"

// Clients bundles what the checks need.
type Clients struct {
	Typed   kubernetes.Interface
	Dynamic dynamic.Interface
	Mapper  meta.RESTMapper
}

// NewClients builds typed and dynamic clients and a discovery-backed mapper.
func NewClients(cfg *rest.Config) (*Clients, error) {
	typed, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return nil, err
	}
	return &Clients{
		Typed:   typed,
		Dynamic: dyn,
		Mapper:  restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(dc)),
	}, nil
}

// resource returns the dynamic client for an object's kind and namespace.
func (c *Clients) resource(o *unstructured.Unstructured) (dynamic.ResourceInterface, error) {
	gvk := o.GroupVersionKind()
	m, err := c.Mapper.RESTMapping(schema.GroupKind{Group: gvk.Group, Kind: gvk.Kind}, gvk.Version)
	if err != nil {
		return nil, fmt.Errorf("%s: the API server does not serve %s: %w", manifests.Key(o), gvk, err)
	}
	if m.Scope.Name() == meta.RESTScopeNameNamespace {
		if o.GetNamespace() == "" {
			return nil, fmt.Errorf("%s is namespaced but the manifest sets no metadata.namespace", manifests.Key(o))
		}
		return c.Dynamic.Resource(m.Resource).Namespace(o.GetNamespace()), nil
	}
	return c.Dynamic.Resource(m.Resource), nil
}

// Get reads the live version of a manifest object.
func (c *Clients) Get(ctx context.Context, o *unstructured.Unstructured) (*unstructured.Unstructured, error) {
	r, err := c.resource(o)
	if err != nil {
		return nil, err
	}
	live, err := r.Get(ctx, o.GetName(), metav1.GetOptions{})
	if err != nil {
		return nil, fmt.Errorf("get live %s: %w", manifests.Key(o), err)
	}
	return live, nil
}

// Apply server-side applies every object of the stack, Namespaces first
// (everything else lives in one), then the rest in registration order, and
// stops at the first object the API server rejects.
func (c *Clients) Apply(ctx context.Context, s *manifests.Stack) error {
	var ordered []*unstructured.Unstructured
	ordered = append(ordered, s.OfKind("Namespace")...)
	for _, o := range s.Objects {
		if o.GetKind() != "Namespace" {
			ordered = append(ordered, o)
		}
	}
	for _, o := range ordered {
		r, err := c.resource(o)
		if err != nil {
			return err
		}
		obj := o.DeepCopy()
		// Apply configurations carry desired state only.
		unstructured.RemoveNestedField(obj.Object, "status")
		unstructured.RemoveNestedField(obj.Object, "metadata", "resourceVersion")
		unstructured.RemoveNestedField(obj.Object, "metadata", "creationTimestamp")
		if _, err := r.Apply(ctx, o.GetName(), obj, metav1.ApplyOptions{FieldManager: FieldManager, Force: true}); err != nil {
			return fmt.Errorf("API server rejected %s of stack %s: %w", manifests.Key(o), s.Name, err)
		}
	}
	return nil
}
