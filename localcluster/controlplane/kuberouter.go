package controlplane

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"

	"github.com/example/jobs/localcluster/binaries"
)

// The bridge CNI has no policy engine, so the node runs kube-router's
// NetworkPolicy firewall alone (no routing, no service proxy: the bridge and
// kube-proxy do those) as a host process. It filters every pod's traffic in
// the filter table's INPUT, FORWARD and OUTPUT chains with iptables rules and
// ipsets, after kube-proxy's DNAT, so it sees the endpoint a Service led to.
// This kernel has no CONFIG_NFT_QUEUE, which rules out the enforcers that
// queue packets to user space (kube-network-policies, kindnet); kube-router
// needs only the iptables matches physdev, set, conntrack and addrtype, and
// ipset. Its version and its published security reports: localcluster/README.md.

// kubeRouterRole is what kube-router's informers list and watch (it starts
// them for every controller, even those it does not run) and the events it
// records.
var kubeRouterRole = []rbacv1.PolicyRule{
	{APIGroups: []string{""}, Resources: []string{"pods", "namespaces", "nodes", "services", "endpoints"}, Verbs: []string{"get", "list", "watch"}},
	{APIGroups: []string{"discovery.k8s.io"}, Resources: []string{"endpointslices"}, Verbs: []string{"list", "watch"}},
	{APIGroups: []string{"networking.k8s.io"}, Resources: []string{"networkpolicies"}, Verbs: []string{"list", "watch"}},
	{APIGroups: []string{""}, Resources: []string{"events"}, Verbs: []string{"create", "patch", "update"}},
}

func startKubeRouter(c *Cluster, n nodePaths, bins binaries.Set, id identity, healthPort int) error {
	kubeconfig := n.path("kube-router.kubeconfig")
	if err := writeKubeconfigFor(kubeconfig, c.Server, c.CAFile, id.user, id.token); err != nil {
		return err
	}
	_, err := startProcess(c.RunDir, "kube-router", bins.KubeRouter, []string{
		"--run-firewall=true", "--run-router=false", "--run-service-proxy=false",
		"--kubeconfig=" + kubeconfig,
		"--hostname-override=" + NodeName,
		"--service-cluster-ip-range=" + serviceCIDR,
		"--service-node-port-range=" + nodePortRange,
		"--health-port=" + strconv.Itoa(healthPort),
		"--metrics-port=0",
		"--v=1",
	}, nil)
	return err
}

// waitKubeRouter waits until kube-router answers its health endpoint (it
// does from its start, before it has done anything) and has hooked its
// chains into the filter table, with the default chain for pods no policy
// selects: from then on every pod's traffic passes its rules, and a pod or
// policy created later is programmed as soon as kube-router sees it.
func waitKubeRouter(ctx context.Context, healthPort int, timeout time.Duration) error {
	if err := waitHTTP(ctx, fmt.Sprintf("http://127.0.0.1:%d/healthz", healthPort), timeout, "kube-router (logs/kube-router.log)"); err != nil {
		return err
	}
	deadline := time.Now().Add(timeout)
	for {
		dump, err := iptablesSave("iptables-save")
		if err != nil {
			return err
		}
		if kubeRouterHooked(dump) {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("kube-router has not hooked its chains into the filter table within %s (logs/kube-router.log)", timeout)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// kubeRouterHooked reports whether an iptables-save dump has kube-router's
// jumps from INPUT, FORWARD and OUTPUT and its default policy chain.
func kubeRouterHooked(dump string) bool {
	rs := parseRules(dump)
	filter, ok := rs["filter"]
	if !ok || !slices.Contains(filter.chains, "KUBE-NWPLCY-DEFAULT") {
		return false
	}
	for _, builtin := range []string{"INPUT", "FORWARD", "OUTPUT"} {
		if !slices.ContainsFunc(filter.rules, func(r string) bool {
			return strings.HasPrefix(r, "-A "+builtin+" ") && strings.HasSuffix(r, "-j KUBE-ROUTER-"+builtin)
		}) {
			return false
		}
	}
	return true
}

// ipsetNames lists the host's ipsets by name. Without the ipset command
// there are none to list (and kube-router cannot run: checkNodeHost says so).
func ipsetNames() ([]string, error) {
	if _, err := exec.LookPath("ipset"); err != nil {
		return nil, nil
	}
	out, err := exec.Command("ipset", "list", "-n").Output()
	if err != nil {
		return nil, fmt.Errorf("ipset list -n: %w", err)
	}
	return strings.Fields(string(out)), nil
}

func (n nodePaths) ipsets() string { return n.path("ipsets.before.json") }

// destroyNewIPSets destroys the ipsets that were not there before the node
// started (kube-router's). It runs after the iptables rules that use them
// are gone, since the kernel keeps a referenced set.
func destroyNewIPSets(n nodePaths) error {
	var before []string
	if err := loadJSON(n.ipsets(), &before); err != nil {
		if os.IsNotExist(err) {
			return nil
		}
		return err
	}
	now, err := ipsetNames()
	if err != nil {
		return err
	}
	var errs []error
	for _, name := range now {
		if slices.Contains(before, name) {
			continue
		}
		if out, err := exec.Command("ipset", "destroy", name).CombinedOutput(); err != nil {
			errs = append(errs, fmt.Errorf("ipset destroy %s: %w: %s", name, err, out))
		}
	}
	return errors.Join(errs...)
}
