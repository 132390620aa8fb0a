package checks

import (
	"context"
	"errors"
	"fmt"

	"github.com/example/jobs/test/cluster/manifests"
)

// Snapshot records resourceVersion and generation of every live object of a
// stack, to tell afterwards which objects a later apply touched.
type Snapshot map[string]Version

// Version is one object's change counters.
type Version struct {
	ResourceVersion string
	Generation      int64
}

// Snapshot reads the current versions of every object in the stack.
func (c *Clients) Snapshot(ctx context.Context, s *manifests.Stack) (Snapshot, error) {
	snap := Snapshot{}
	for _, m := range s.Objects {
		live, err := c.Get(ctx, m)
		if err != nil {
			return nil, err
		}
		snap[manifests.Key(m)] = Version{live.GetResourceVersion(), live.GetGeneration()}
	}
	return snap, nil
}

// BumpTouchedOnlyAppDeployments compares snapshots around a tag-bump apply:
// the API and worker Deployments must have a new generation (new pod
// template), Redis's Deployment must keep its generation, and no other
// object may change at all.
func BumpTouchedOnlyAppDeployments(s *manifests.Stack, before, after Snapshot) error {
	var errs []error
	for key, b := range before {
		a, ok := after[key]
		if !ok {
			errs = append(errs, fmt.Errorf("%s disappeared after the bump", key))
			continue
		}
		switch key {
		case "Deployment " + s.Namespace() + "/" + s.ObjectName("api"), "Deployment " + s.Namespace() + "/" + s.ObjectName("worker"):
			if a.Generation <= b.Generation {
				errs = append(errs, fmt.Errorf("%s generation stayed %d: the bump did not change its pod template", key, a.Generation))
			}
		case "Deployment " + s.Namespace() + "/" + s.ObjectName("redis"):
			if a.Generation != b.Generation {
				errs = append(errs, fmt.Errorf("%s generation moved %d -> %d: a tag bump must not restart Redis", key, b.Generation, a.Generation))
			}
		default:
			if a.ResourceVersion != b.ResourceVersion {
				errs = append(errs, fmt.Errorf("%s changed (resourceVersion %s -> %s): a tag bump must touch only the API and worker Deployments", key, b.ResourceVersion, a.ResourceVersion))
			}
		}
	}
	for key := range after {
		if _, ok := before[key]; !ok {
			errs = append(errs, fmt.Errorf("%s is new after the bump: a tag bump must not add objects", key))
		}
	}
	return errors.Join(errs...)
}
