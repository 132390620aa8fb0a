package program

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
)

// TestDisruptionBudgetsWhereReplicasAllowOne: every component with more than one replica has a
// PodDisruptionBudget over exactly its pods that leaves at least one serving and still lets a
// drain evict one; a one-replica component (Redis always) has none, since its budget could only
// block every drain. Each stack file's replica counts and overrides of 1 to 3 are checked.
func TestDisruptionBudgetsWhereReplicasAllowOne(t *testing.T) {
	type run1 struct {
		stack string
		set   map[string]string
	}
	var runs []run1
	for _, stack := range stacks(t, root) {
		runs = append(runs, run1{stack, nil})
		for _, n := range []int{1, 2, 3} {
			runs = append(runs, run1{stack, map[string]string{"jobs:apiReplicas": itoa(n), "jobs:workerReplicas": itoa(4 - n)}})
		}
	}
	for _, c := range runs {
		t.Run(fmt.Sprintf("%s %v", c.stack, c.set), func(t *testing.T) {
			r := mustRun(t, c.stack, runOptions{set: c.set})
			budgets := map[string]bool{}
			for _, res := range r.eng.Resources() {
				if res.Type == typePDB {
					budgets[res.Name] = true
				}
			}
			for _, component := range []string{"api", "worker", "redis"} {
				name := c.stack + "-" + component
				d := in(t, r.one(t, typeDeployment, name))
				replicas := at(d, "spec", "replicas").(int64)
				if replicas <= 1 {
					if budgets[name] {
						t.Errorf("%s has %d replica and a PodDisruptionBudget, which would block every drain", name, replicas)
					}
					continue
				}
				if !budgets[name] {
					t.Errorf("%s has %d replicas and no PodDisruptionBudget", name, replicas)
					continue
				}
				pdb := in(t, r.one(t, typePDB, name))
				want(t, name+" budget selector", pdb, at(d, "spec", "selector", "matchLabels"), "spec", "selector", "matchLabels")
				if !selects(at(pdb, "spec", "selector", "matchLabels"), asMap(at(d, "spec", "template", "metadata", "labels"))) {
					t.Errorf("%s budget does not select its pods", name)
				}
				// Pods the budget lets a voluntary disruption take at once, by whichever field is set.
				var disruptible int64
				switch {
				case at(pdb, "spec", "maxUnavailable") != nil:
					disruptible = at(pdb, "spec", "maxUnavailable").(int64)
				case at(pdb, "spec", "minAvailable") != nil:
					disruptible = replicas - at(pdb, "spec", "minAvailable").(int64)
				}
				if disruptible < 1 || replicas-disruptible < 1 {
					t.Errorf("%s: %d replicas, the budget lets %d go at once; want at least one evictable and one serving", name, replicas, disruptible)
				}
				want(t, name+" unready pods evictable", pdb, "AlwaysAllow", "spec", "unhealthyPodEvictionPolicy")
			}
		})
	}
}

// TestAppReplicasSpreadButStillScheduleOnOneNode: the API's and the worker's pods are spread over
// nodes by a soft rule that selects exactly their pods, so a one-node cluster still runs them all.
func TestAppReplicasSpreadButStillScheduleOnOneNode(t *testing.T) {
	for _, stack := range stacks(t, root) {
		r := mustRun(t, stack, runOptions{})
		for _, component := range []string{"api", "worker"} {
			name := stack + "-" + component
			d := in(t, r.one(t, typeDeployment, name))
			constraints := asList(at(d, "spec", "template", "spec", "topologySpreadConstraints"))
			if len(constraints) == 0 {
				t.Errorf("%s: no topologySpreadConstraints", name)
				continue
			}
			byHost := false
			for _, tsc := range constraints {
				if w := at(tsc, "whenUnsatisfiable"); w != "ScheduleAnyway" {
					t.Errorf("%s: whenUnsatisfiable %v; a hard rule leaves replicas Pending on a one-node cluster", name, w)
				}
				if !selects(at(tsc, "labelSelector", "matchLabels"), asMap(at(d, "spec", "template", "metadata", "labels"))) {
					t.Errorf("%s: spread selector %v does not select its pods", name, at(tsc, "labelSelector"))
				}
				if at(tsc, "topologyKey") == "kubernetes.io/hostname" && at(tsc, "maxSkew") == int64(1) {
					byHost = true
				}
			}
			if !byHost {
				t.Errorf("%s: no spread over nodes (kubernetes.io/hostname, maxSkew 1): %v", name, constraints)
			}
		}
	}
}

// TestEveryContainerLimitsItsDisk: every container of every Deployment requests and limits
// ephemeral storage (and CPU and memory), each request within its limit.
func TestEveryContainerLimitsItsDisk(t *testing.T) {
	for _, stack := range stacks(t, root) {
		r := mustRun(t, stack, runOptions{})
		n := 0
		for _, res := range r.eng.Resources() {
			if res.Type != typeDeployment {
				continue
			}
			pod := at(in(t, res), "spec", "template", "spec")
			for _, list := range []string{"containers", "initContainers"} {
				for _, c := range asList(at(pod, list)) {
					n++
					for _, kind := range []string{"cpu", "memory", "ephemeral-storage"} {
						req, lim := at(c, "resources", "requests", kind), at(c, "resources", "limits", kind)
						if req == nil || lim == nil {
							t.Errorf("%s container %v: %s request %v, limit %v; want both", res.Name, at(c, "name"), kind, req, lim)
							continue
						}
						rq, err1 := quantity(req.(string))
						lq, err2 := quantity(lim.(string))
						if err1 != nil || err2 != nil {
							t.Errorf("%s container %v %s: %v %v", res.Name, at(c, "name"), kind, err1, err2)
						} else if rq <= 0 || rq > lq {
							t.Errorf("%s container %v: %s request %v above its limit %v", res.Name, at(c, "name"), kind, req, lim)
						}
					}
				}
			}
		}
		if n < 3 {
			t.Errorf("stack %s: only %d containers checked", stack, n)
		}
	}
}

// quantity reads the Kubernetes quantities the program writes (500m, 64Mi, 1Gi, 2) as numbers.
func quantity(q string) (float64, error) {
	for suffix, mult := range map[string]float64{"m": 1e-3, "Ki": 1 << 10, "Mi": 1 << 20, "Gi": 1 << 30} {
		if num, ok := strings.CutSuffix(q, suffix); ok {
			v, err := strconv.ParseFloat(num, 64)
			return v * mult, err
		}
	}
	return strconv.ParseFloat(q, 64)
}

// TestEveryNamespaceEnforcesRestrictedPodSecurity: each namespace the program registers carries
// Pod Security's enforce, audit and warn labels at "restricted", each pinned to one version.
func TestEveryNamespaceEnforcesRestrictedPodSecurity(t *testing.T) {
	for _, stack := range stacks(t, root) {
		r := mustRun(t, stack, runOptions{})
		n := 0
		for _, res := range r.eng.Resources() {
			if res.Type != typeNamespace {
				continue
			}
			n++
			labels := asMap(at(in(t, res), "metadata", "labels"))
			version := labels["pod-security.kubernetes.io/enforce-version"]
			if v, _ := version.(string); !strings.HasPrefix(v, "v1.") || v == "latest" {
				t.Errorf("namespace %s: enforce-version %v; want a pinned v1.<minor>", res.Name, version)
			}
			for _, mode := range []string{"enforce", "audit", "warn"} {
				key := "pod-security.kubernetes.io/" + mode
				if labels[key] != "restricted" {
					t.Errorf("namespace %s: %s = %v, want restricted", res.Name, key, labels[key])
				}
				if labels[key+"-version"] != version {
					t.Errorf("namespace %s: %s-version = %v, want %v like enforce", res.Name, key, labels[key+"-version"], version)
				}
			}
		}
		if n == 0 {
			t.Errorf("stack %s registers no namespace", stack)
		}
	}
}
