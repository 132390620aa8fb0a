package controlplane

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/example/jobs/localcluster/binaries"
)

// The real node's host-wide names and addresses. One machine runs one real
// node (see nodelock.go), so they are fixed.
const (
	// NodeName is the real node's name; pods that must run for real can
	// select it with nodeName or the kubernetes.io/hostname label.
	NodeName = "jobs-node"
	// NodeIP is the node's InternalIP: the gateway address of the pod
	// bridge, created before the kubelet starts. Using it instead of the
	// machine's own interface keeps every address of the cluster private
	// to the machine and the same on every machine.
	NodeIP = "10.244.0.1"
	// ClusterDNSIP is the kube-dns Service address pods resolve with.
	ClusterDNSIP = "10.96.0.10"
	// ClusterDomain is the DNS suffix of Services: <svc>.<ns>.svc.cluster.local.
	ClusterDomain = "cluster.local"

	nodeBridge    = "jobs-br0"
	nodePodSubnet = "10.244.0.0/24"
	nodeCIDRBits  = "/24"
	// nodeCgroup is the cgroup parent of the node's pods and of
	// containerd, in every hierarchy; everything the node runs is in it.
	nodeCgroup = "jobs-cluster"
	cniNetwork = "jobs-cluster"
	// LocalRegistry is the loopback registry (scripts/local-registry.sh)
	// containerd pulls from over plain HTTP.
	LocalRegistry = "localhost:5000"
)

// nodePaths are the node's files, all below <run dir>/node.
type nodePaths struct {
	dir string
}

func (n nodePaths) path(elem ...string) string {
	return filepath.Join(append([]string{n.dir}, elem...)...)
}
func (n nodePaths) containerdSocket() string { return n.path("containerd", "containerd.sock") }
func (n nodePaths) sysctls() string          { return n.path("sysctls.before.json") }
func (n nodePaths) sysctlsStarted() string   { return n.path("sysctls.started.json") }
func (n nodePaths) hostPaths() string        { return n.path("hostpaths.before.json") }

// NodeInfo describes the real node of a running cluster.
type NodeInfo struct {
	// Name is the Node object's name (NodeName).
	Name string
	// IP is the node's InternalIP (NodeIP); NodePorts answer on it and on
	// 127.0.0.1.
	IP string
	// ContainerdSocket is the private containerd's CRI endpoint.
	ContainerdSocket string
	// PauseImage is the pod sandbox image, built from servers/pause and
	// named after the binary's digest.
	PauseImage string
}

// nodePorts are the loopback or node-IP ports the node's components serve on.
type nodePorts struct {
	kubelet, kubeletHealthz, proxyHealthz, proxyMetrics, dns, dnsHealth, dnsReady, routerHealth int
}

// dnsPort is where CoreDNS listens on the node IP: 53, as cluster DNS does on
// any cluster. NetworkPolicy is enforced after kube-proxy's DNAT, so a policy
// that allows DNS on port 53 must find the server on 53, not on the port a
// Service happens to translate to. The node IP is the node's own, so only a
// DNS server bound to every address could hold it (CoreDNS then fails to
// start and its log says so).
const dnsPort = 53

// startNode brings up the real node: the pod bridge, containerd, the
// kubelet, kube-proxy, CoreDNS and kube-router's NetworkPolicy firewall.
// Host state the components change is recorded first so Stop can put it
// back.
func startNode(ctx context.Context, c *Cluster, bins binaries.Set, ids map[string]identity, logf func(string, ...any)) error {
	n := nodePaths{dir: filepath.Join(c.RunDir, "node")}
	if err := os.MkdirAll(n.dir, 0o755); err != nil {
		return err
	}
	if err := checkNodeHost(n, logf); err != nil {
		return err
	}
	if err := recordHost(n); err != nil {
		return err
	}
	ports, err := freePorts(6)
	if err != nil {
		return err
	}
	p := nodePorts{ports[0], ports[1], ports[2], ports[3], dnsPort, ports[4], ports[5], 0}
	if p.routerHealth, err = freeAnyPort(); err != nil {
		return err
	}

	client, err := newClient(c)
	if err != nil {
		return err
	}
	if err := bindNodeIdentities(ctx, client, ids); err != nil {
		return err
	}
	if err := createDNSService(ctx, client, p.dns); err != nil {
		return err
	}
	logf("creating bridge %s (%s) and cgroup %s", nodeBridge, NodeIP+nodeCIDRBits, nodeCgroup)
	if err := makeBridge(); err != nil {
		return err
	}
	if err := makeCgroup(nodeCgroup); err != nil {
		return err
	}
	// The kubelet's own sysctls are set when it starts; pod-to-Service
	// traffic between two pods on the bridge only passes kube-proxy's rules
	// when bridged packets traverse iptables.
	if err := os.WriteFile("/proc/sys/net/bridge/bridge-nf-call-iptables", []byte("1"), 0o644); err != nil {
		return fmt.Errorf("enable bridge netfilter (br_netfilter): %w", err)
	}
	// The bridge plugin would enable forwarding at the first pod; doing it
	// now puts it in the snapshot taken once the node is up (see stopNode).
	if err := os.WriteFile("/proc/sys/net/ipv4/ip_forward", []byte("1"), 0o644); err != nil {
		return fmt.Errorf("enable IPv4 forwarding: %w", err)
	}

	pause, err := startContainerd(ctx, c.RunDir, n, bins, logf)
	if err != nil {
		return err
	}
	c.Node = NodeInfo{Name: NodeName, IP: NodeIP, ContainerdSocket: n.containerdSocket(), PauseImage: pause}

	logf("starting kubelet (node %s, %s)", NodeName, NodeIP)
	if err := startKubelet(c, n, bins, ids["kubelet"], p); err != nil {
		return err
	}
	logf("starting kube-proxy (iptables) and CoreDNS (%s:%d behind Service %s)", NodeIP, p.dns, ClusterDNSIP)
	if err := startKubeProxy(c, n, bins, ids["kube-proxy"], p); err != nil {
		return err
	}
	if err := startCoreDNS(c, n, bins, ids["coredns"], p); err != nil {
		return err
	}
	start := time.Now()
	if err := waitNodesReady(ctx, client, []string{NodeName}, 2*time.Minute); err != nil {
		return fmt.Errorf("%w (see logs/kubelet.log and logs/containerd.log)", err)
	}
	c.NodeReadyAfter = time.Since(start)
	logf("node %s Ready after %s", NodeName, c.NodeReadyAfter.Round(100*time.Millisecond))
	// kube-router finds its node by name when it starts and exits if the
	// kubelet has not registered it yet.
	logf("starting kube-router (NetworkPolicy firewall only)")
	if err := startKubeRouter(c, n, bins, ids["kube-router"], p.routerHealth); err != nil {
		return err
	}
	if err := waitHTTP(ctx, fmt.Sprintf("http://127.0.0.1:%d/ready", p.dnsReady), time.Minute, "CoreDNS (logs/coredns.log)"); err != nil {
		return err
	}
	// The kubelet sets its sysctls before it reports Ready, kube-proxy
	// before it serves healthz. From here on a setting that changes is
	// someone else's, and Stop leaves it alone.
	if err := waitHTTP(ctx, fmt.Sprintf("http://127.0.0.1:%d/healthz", p.proxyHealthz), time.Minute, "kube-proxy (logs/kube-proxy.log)"); err != nil {
		return err
	}
	if err := waitKubeRouter(ctx, p.routerHealth, time.Minute); err != nil {
		return err
	}
	started, err := snapshotSysctls("/proc/sys")
	if err != nil {
		return err
	}
	return saveJSON(n.sysctlsStarted(), started)
}

// checkNodeHost fails early, naming what to install or free, instead of
// letting a component die with a cryptic error later.
func checkNodeHost(n nodePaths, logf func(string, ...any)) error {
	if os.Geteuid() != 0 {
		return errors.New("the real node needs root (containerd, runc, iptables, cgroups, network interfaces)")
	}
	var missing []string
	for _, bin := range []string{"containerd", "ctr", "runc", "iptables-save", "ip6tables-save", "ip", "ipset"} {
		if _, err := lookPath(bin); err != nil {
			missing = append(missing, bin)
		}
	}
	for _, plugin := range []string{"bridge", "host-local", "portmap", "loopback"} {
		if _, err := os.Stat(filepath.Join(cniBinDir, plugin)); err != nil {
			missing = append(missing, cniBinDir+"/"+plugin)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("the real node needs %v: run scripts/install-deps.sh containerd runc iptables ipset %s/bridge (Debian: containerd runc iptables ipset containernetworking-plugins)", missing, cniBinDir)
	}
	// Unix socket paths are limited to 108 bytes; containerd adds ".ttrpc".
	if l := len(n.containerdSocket()) + len(".ttrpc"); l > 100 {
		return fmt.Errorf("run directory %s is too deep for containerd's socket (%d bytes, limit about 100): use a shorter checkout path", n.dir, l)
	}
	return reclaimStaleBridge(nodeBridge, nodeCgroup, logf)
}

// reclaimStaleBridge removes a bridge left by a node that no longer runs. It
// is called with the node lock held and after the recorded owner was found
// dead, so only a process in the node's cgroup can still use the bridge. A
// node whose processes were killed (a test binary past its timeout, a
// machine's session ended mid-run) leaves the bridge behind; refusing to
// start then would make every later start fail until someone found the
// checkout that made it.
func reclaimStaleBridge(bridge, cgroup string, logf func(string, ...any)) error {
	if !linkExists(bridge) {
		return nil
	}
	if pids := cgroupPids(cgroup); len(pids) > 0 {
		return fmt.Errorf("interface %s exists and processes %v still run in cgroup %s: a node started from another checkout runs; stop it with `go run ./cmd/cluster down` in that checkout's localcluster", bridge, pids, cgroup)
	}
	logf("interface %s was left by a node that no longer runs (no process holds the node or runs in cgroup %s): removing it and its ports %v", bridge, cgroup, bridgePorts(bridge))
	return deleteBridge(bridge)
}

// recordHost saves the sysctls, iptables rules and host directories the
// node may change, before anything changes them.
func recordHost(n nodePaths) error {
	sysctls, err := snapshotSysctls("/proc/sys")
	if err != nil {
		return err
	}
	if err := saveJSON(n.sysctls(), sysctls); err != nil {
		return err
	}
	if err := saveJSON(n.hostPaths(), existingHostPaths()); err != nil {
		return err
	}
	sets, err := ipsetNames()
	if err != nil {
		return err
	}
	if err := saveJSON(n.ipsets(), sets); err != nil {
		return err
	}
	return snapshotIPTables(n.dir)
}

func makeBridge() error {
	steps := [][]string{
		{"link", "add", "name", nodeBridge, "type", "bridge"},
		{"addr", "add", NodeIP + nodeCIDRBits, "dev", nodeBridge},
		{"link", "set", nodeBridge, "up"},
		// Service addresses are virtual: kube-proxy rewrites them. Routing
		// them to the bridge keeps a packet kube-proxy has no rule for on
		// this machine instead of sending it out of the default route.
		{"route", "add", serviceCIDR, "dev", nodeBridge, "src", NodeIP},
	}
	for _, s := range steps {
		if err := ipCmd(s...); err != nil {
			return err
		}
	}
	return nil
}

// nodeStopOrder stops the node's processes: the kubelet first so it does
// not restart what is being removed, then (after the sandboxes are
// removed through containerd) the others, containerd last. kube-router goes
// before the iptables rules and ipsets are removed, so it cannot put them back.
var nodeStopOrder = []string{"kubelet", "kube-router", "kube-proxy", "coredns", "containerd"}

// stopNode stops the node's processes and puts the host back: no pod,
// shim, mount, interface, iptables rule, cgroup or changed sysctl remains.
// It is safe to call on a run without a node or one that failed half way.
func stopNode(runDir string, ps []process) error {
	n := nodePaths{dir: filepath.Join(runDir, "node")}
	if _, err := os.Stat(n.dir); os.IsNotExist(err) {
		return nil
	}
	var errs []error
	stop := func(name string) {
		for _, p := range ps {
			if p.Name == name {
				errs = append(errs, p.stop(20*time.Second))
			}
		}
	}
	stop("kubelet")
	for _, p := range ps {
		if p.Name == "containerd" && p.alive() {
			if err := removeSandboxes(context.Background(), n.containerdSocket()); err != nil {
				errs = append(errs, fmt.Errorf("remove pods through containerd: %w", err))
			}
		}
	}
	for _, name := range nodeStopOrder[1:] {
		stop(name)
	}
	errs = append(errs, killCgroup(nodeCgroup))
	errs = append(errs, removeRuntimeFiles(n))
	errs = append(errs, unmountUnder(runDir))
	errs = append(errs, deleteBridge(nodeBridge))
	errs = append(errs, restoreIPTables(n.dir))
	errs = append(errs, destroyNewIPSets(n))
	var sysctls, started map[string]string
	if err := loadJSON(n.sysctls(), &sysctls); err == nil {
		_ = loadJSON(n.sysctlsStarted(), &started) // absent if start failed: restore all
		errs = append(errs, restoreSysctls("/proc/sys", sysctls, started))
	} else if !os.IsNotExist(err) {
		errs = append(errs, err)
	}
	errs = append(errs, removeCgroups(nodeCgroup))
	var before map[string]bool
	if err := loadJSON(n.hostPaths(), &before); err == nil {
		errs = append(errs, removeHostFiles(runDir, cniNetwork, before))
	}
	releaseNode(runDir)
	return errors.Join(errs...)
}
