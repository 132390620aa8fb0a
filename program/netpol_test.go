package program

import (
	"fmt"
	"testing"

	"github.com/example/jobs/release"
)

// peer is one end of a connection as NetworkPolicy sees it: a pod of the environment's namespace
// (labels set) or an address outside it (labels nil).
type peer struct {
	name   string
	labels map[string]any
}

// policyModel is the environment's NetworkPolicies, evaluated as the NetworkPolicy API defines
// them: a pod selected by no policy of a direction is open in it; a selected pod admits only what
// one of the rules of its selecting policies allows; a connection needs the sender's egress and
// the receiver's ingress.
type policyModel struct {
	t        *testing.T
	policies []map[string]any
}

func (m policyModel) allowed(from, to peer, proto string, port int64) bool {
	if from.labels != nil && !m.admits("Egress", from, to, proto, port) {
		return false
	}
	return to.labels == nil || m.admits("Ingress", to, from, proto, port)
}

// admits reports whether pod's policies of one direction let it talk to other on proto/port.
func (m policyModel) admits(direction string, pod, other peer, proto string, port int64) bool {
	selected := false
	for _, p := range m.policies {
		if !selectsPod(at(p, "spec", "podSelector"), pod.labels) || !hasType(p, direction) {
			continue
		}
		selected = true
		rulesKey, peersKey := "ingress", "from"
		if direction == "Egress" {
			rulesKey, peersKey = "egress", "to"
		}
		for _, rule := range asList(at(p, "spec", rulesKey)) {
			if m.peerMatches(at(rule, peersKey), other) && portMatches(at(rule, "ports"), proto, port) {
				return true
			}
		}
	}
	return !selected
}

func hasType(policy map[string]any, direction string) bool {
	for _, t := range asList(at(policy, "spec", "policyTypes")) {
		if t == direction {
			return true
		}
	}
	return false
}

// selectsPod is a podSelector's meaning: empty selects every pod of the namespace.
func selectsPod(selector any, labels map[string]any) bool {
	if labels == nil {
		return false
	}
	if at(selector, "matchExpressions") != nil {
		panic(fmt.Sprintf("the model reads matchLabels only: %v", selector))
	}
	for k, v := range asMap(at(selector, "matchLabels")) {
		if labels[k] != v {
			return false
		}
	}
	return true
}

func (m policyModel) peerMatches(peers any, other peer) bool {
	list := asList(peers)
	if len(list) == 0 {
		return true // no peers: every source or destination
	}
	for _, p := range list {
		if at(p, "namespaceSelector") != nil || at(p, "ipBlock") != nil {
			m.t.Errorf("a policy names a namespace or an address block: %v", p)
			return true
		}
		if selectsPod(at(p, "podSelector"), other.labels) {
			return true
		}
	}
	return false
}

func portMatches(ports any, proto string, port int64) bool {
	list := asList(ports)
	if len(list) == 0 {
		return true
	}
	for _, p := range list {
		pp, _ := at(p, "protocol").(string)
		if pp == "" {
			pp = "TCP"
		}
		if pp == proto && at(p, "port") == port && at(p, "endPort") == nil {
			return true
		}
	}
	return false
}

// TestNetworkPoliciesAllowExactlyWhatTheServiceNeeds evaluates every policy of each stack over
// every pair of ends and ports that matter: the API's port from outside (the NodePort path), the
// API and worker to Redis and to DNS, and nothing else in or out, for the environment's own pods,
// a stray pod in its namespace and addresses outside. Ports and labels are read from the
// Deployments and Services the program registers.
func TestNetworkPoliciesAllowExactlyWhatTheServiceNeeds(t *testing.T) {
	for _, stack := range stacks(t, root) {
		t.Run(stack, func(t *testing.T) {
			r := mustRun(t, stack, runOptions{})
			m := policyModel{t: t}
			for _, res := range r.eng.Resources() {
				if res.Type == typePolicy {
					p := in(t, res)
					want(t, res.Name+" namespace", p, stack+"-jobs", "metadata", "namespace")
					m.policies = append(m.policies, p)
				}
			}
			api := peer{"api", podLabels(t, r, stack+"-api")}
			worker := peer{"worker", podLabels(t, r, stack+"-worker")}
			redis := peer{"redis", podLabels(t, r, stack+"-redis")}
			// A pod of the namespace without the API's or worker's labels (a debug pod, a hand edit).
			stray := peer{"a stray pod", map[string]any{"app.kubernetes.io/name": "jobs", "app.kubernetes.io/instance": stack}}
			// The pod make verify runs inside the namespace (tools/verify), by the label it carries.
			verify := peer{"the verify pod", map[string]any{"app.kubernetes.io/name": "jobs", "app.kubernetes.io/instance": stack, "app.kubernetes.io/component": release.Verifier}}
			outside := peer{"outside", nil}
			apiPort := at(in(t, r.one(t, typeDeployment, stack+"-api")), "spec", "template", "spec", "containers", 0, "ports", 0, "containerPort").(int64)
			redisPort := at(in(t, r.one(t, typeService, stack+"-redis")), "spec", "ports", 0, "port").(int64)
			const dns = 53

			type conn struct {
				from, to peer
				proto    string
				port     int64
			}
			allowed := map[string]bool{}
			key := func(c conn) string { return fmt.Sprintf("%s -> %s %s/%d", c.from.name, c.to.name, c.proto, c.port) }
			for _, c := range []conn{
				{outside, api, "TCP", apiPort},
				{api, redis, "TCP", redisPort},
				{worker, redis, "TCP", redisPort},
				{api, outside, "UDP", dns}, {api, outside, "TCP", dns},
				{worker, outside, "UDP", dns}, {worker, outside, "TCP", dns},
				{verify, api, "TCP", apiPort},
				{verify, outside, "UDP", dns}, {verify, outside, "TCP", dns},
			} {
				allowed[key(c)] = true
			}
			pods := []peer{api, worker, redis, stray, verify}
			ends := append(append([]peer{}, pods...), outside)
			checked := 0
			for _, from := range ends {
				for _, to := range ends {
					if from.labels == nil && to.labels == nil {
						continue
					}
					for _, pp := range []struct {
						proto string
						port  int64
					}{{"TCP", apiPort}, {"TCP", redisPort}, {"UDP", dns}, {"TCP", dns}, {"TCP", 443}} {
						c := conn{from, to, pp.proto, pp.port}
						checked++
						if got, w := m.allowed(from, to, pp.proto, pp.port), allowed[key(c)]; got != w {
							t.Errorf("%s: allowed %v, want %v", key(c), got, w)
						}
					}
				}
			}
			if checked < 100 {
				t.Errorf("only %d connections checked", checked)
			}
		})
	}
}
