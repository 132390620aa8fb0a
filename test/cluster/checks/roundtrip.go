package checks

import (
	"context"
	"errors"
	"fmt"
	"reflect"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/example/jobs/test/cluster/manifests"
)

// Subset reports the first place where want (from a manifest) is not
// contained in got (the live object): every map key of want must be in got
// with a contained value, lists must match element by element. The API server
// adds defaults, so extra fields in got are fine; a dropped or rewritten
// field is not.
func Subset(want, got any, path string) error {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return fmt.Errorf("%s: live value is %T, manifest has an object", path, got)
		}
		for k, wv := range w {
			gv, ok := g[k]
			if !ok {
				return fmt.Errorf("%s.%s: in the manifest but missing from the live object", path, k)
			}
			if err := Subset(wv, gv, path+"."+k); err != nil {
				return err
			}
		}
		return nil
	case []any:
		g, ok := got.([]any)
		if !ok {
			return fmt.Errorf("%s: live value is %T, manifest has a list", path, got)
		}
		if len(g) != len(w) {
			return fmt.Errorf("%s: live list has %d items, manifest %d", path, len(g), len(w))
		}
		for i := range w {
			if err := Subset(w[i], g[i], fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
		return nil
	default:
		if !reflect.DeepEqual(number(want), number(got)) {
			return fmt.Errorf("%s: live %v, manifest %v", path, got, want)
		}
		return nil
	}
}

// number folds JSON's float64 and the API's int64 into one representation.
func number(v any) any {
	switch n := v.(type) {
	case int64:
		return float64(n)
	case int:
		return float64(n)
	case int32:
		return float64(n)
	}
	return v
}

// RoundTrip checks that labels on every object, and on Deployments the pod
// template labels, probes and security contexts, survive admission unchanged.
func (c *Clients) RoundTrip(ctx context.Context, s *manifests.Stack) error {
	var errs []error
	for _, m := range s.Objects {
		live, err := c.Get(ctx, m)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		key := manifests.Key(m)
		errs = append(errs, Subset(anyMap(m.GetLabels()), anyMap(live.GetLabels()), key+" metadata.labels"))
		if m.GetKind() != "Deployment" {
			continue
		}
		for _, field := range [][]string{
			{"spec", "template", "metadata", "labels"},
			{"spec", "template", "spec", "securityContext"},
			{"spec", "selector"},
		} {
			errs = append(errs, subsetAt(m, live, key, field...))
		}
		errs = append(errs, containersRoundTrip(m, live, key))
	}
	return errors.Join(errs...)
}

func containersRoundTrip(m, live *unstructured.Unstructured, key string) error {
	want, _, _ := unstructured.NestedSlice(m.Object, "spec", "template", "spec", "containers")
	got, _, _ := unstructured.NestedSlice(live.Object, "spec", "template", "spec", "containers")
	var errs []error
	for _, wc := range want {
		w := wc.(map[string]any)
		var g map[string]any
		for _, gc := range got {
			if gc.(map[string]any)["name"] == w["name"] {
				g = gc.(map[string]any)
			}
		}
		path := fmt.Sprintf("%s container %v", key, w["name"])
		if g == nil {
			errs = append(errs, fmt.Errorf("%s: missing from the live object", path))
			continue
		}
		for _, f := range []string{"readinessProbe", "livenessProbe", "startupProbe", "securityContext", "ports", "env", "image"} {
			if wv, ok := w[f]; ok {
				errs = append(errs, Subset(wv, g[f], path+" "+f))
			}
		}
	}
	return errors.Join(errs...)
}

func subsetAt(m, live *unstructured.Unstructured, key string, field ...string) error {
	want, found, err := unstructured.NestedFieldNoCopy(m.Object, field...)
	if err != nil || !found {
		return err
	}
	got, _, _ := unstructured.NestedFieldNoCopy(live.Object, field...)
	return Subset(want, got, fmt.Sprintf("%s %v", key, field))
}

func anyMap(m map[string]string) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
