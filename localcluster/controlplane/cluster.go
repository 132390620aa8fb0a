// Package controlplane starts and stops a local Kubernetes cluster: etcd,
// kube-apiserver (token auth, RBAC, per-run keys), kube-controller-manager
// and kube-scheduler on loopback, and one real node on which pods really run
// (containerd and runc, a CNI bridge, the kubelet, kube-proxy in iptables
// mode and CoreDNS). kwok can add fake nodes for scale tests; they are
// tainted so only pods that ask for them land there.
package controlplane

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"github.com/example/jobs/localcluster/binaries"
)

// Ranges the API server allocates from; the NodePort range is the
// Kubernetes default so manifests are judged by production rules.
const (
	serviceCIDR      = "10.96.0.0/16"
	serviceClusterIP = "10.96.0.1"
	nodePortRange    = "30000-32767"
	podCIDR          = "10.244.0.0/16"
	// kwokPodCIDR is where kwok invents fake pods' addresses, apart from
	// the real node's so kube-proxy never routes to an address nobody has.
	kwokPodCIDR = "10.245.0.0/16"
)

// Options configure Start.
type Options struct {
	// RunDir holds pids, keys, data, logs and the kubeconfig. It must be
	// empty or absent.
	RunDir string
	// FakeNodes is how many fake nodes kwok manages besides the real node
	// (default 0: kwok is then neither built nor started). They carry the
	// taint FakeNodeTaint, so only pods that tolerate it are placed there.
	FakeNodes int
	// PersistentVolumes is how many hostPath PVs of class "standard" are
	// pre-created (default 8), PVSize each (default "10Gi").
	PersistentVolumes int
	PVSize            string
	// Kubectl also builds kubectl (Cluster.Kubectl); without it the start
	// waits for no client build (make up needs none).
	Kubectl bool
	// Log receives progress lines; nil discards them.
	Log io.Writer
}

// Cluster is a running cluster.
type Cluster struct {
	// RunDir holds everything of the run: pids, keys, data, logs/<component>.log,
	// and node/ with containerd's, the kubelet's and the CNI's state.
	RunDir string
	// Kubeconfig is an admin (system:masters) kubeconfig for the cluster.
	Kubeconfig string
	// Server is the API server's URL (https://127.0.0.1:<port>).
	Server string
	// Token is the admin bearer token; CAFile verifies the API server.
	Token  string
	CAFile string
	// Kubectl is a kubectl of the cluster's release, when Options.Kubectl
	// asked for it.
	Kubectl string
	// Node is the real node: its name and IP (NodePorts answer on that IP
	// and on 127.0.0.1), containerd's socket and the sandbox image.
	Node NodeInfo
	// NodeReadyAfter is how long the node took from the kubelet's start to
	// Ready.
	NodeReadyAfter time.Duration
	// FakeNodes are the names of kwok's nodes (empty unless asked for).
	FakeNodes []string
	// PersistentVolumes are the names of the pre-created PVs.
	PersistentVolumes []string
	// HostBefore is the host as it was once this cluster held the node and
	// before it changed anything: what Leftovers compares a stopped cluster
	// against. Taken before the lock, it would hold another cluster's rules.
	HostBefore HostSnapshot
}

// Start builds (or reuses) the binaries, starts every component, bootstraps
// the real node and storage, and returns once the API is healthy and every node
// is Ready. On error it stops whatever it had started.
func Start(ctx context.Context, clusterDir string, opts Options) (c *Cluster, err error) {
	if opts.PersistentVolumes == 0 {
		opts.PersistentVolumes = 8
	}
	if opts.PVSize == "" {
		opts.PVSize = "10Gi"
	}
	if opts.Log == nil {
		opts.Log = io.Discard
	}
	logf := func(format string, args ...any) { fmt.Fprintf(opts.Log, format+"\n", args...) }
	bins, err := binaries.Ensure(ctx, clusterDir, opts.Log, binaries.Options{Kwok: opts.FakeNodes > 0, Kubectl: opts.Kubectl})
	if err != nil {
		return nil, err
	}
	runDir, err := filepath.Abs(opts.RunDir)
	if err != nil {
		return nil, err
	}
	if entries, err := os.ReadDir(runDir); err == nil && len(entries) > 0 {
		return nil, fmt.Errorf("run dir %s is not empty: a cluster may still run there; stop it with `go run ./cmd/cluster down` in localcluster", runDir)
	}
	if err := os.MkdirAll(runDir, 0o755); err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			err = errors.Join(err, Stop(runDir), fmt.Errorf("component logs are in %s", filepath.Join(runDir, "logs")))
		}
	}()
	// Before anything starts: the wait for another test's node may be long.
	if err := acquireNode(ctx, runDir, logf); err != nil {
		return nil, err
	}
	hostBefore, err := CaptureHost()
	if err != nil {
		return nil, fmt.Errorf("record the host before the node changes it: %w", err)
	}

	keys, err := writePKI(runDir)
	if err != nil {
		return nil, err
	}
	ports, err := freePorts(5)
	if err != nil {
		return nil, err
	}
	etcdClient, etcdPeer, apiPort, kcmPort, schedPort := ports[0], ports[1], ports[2], ports[3], ports[4]
	token := randomToken()
	tokenFile := filepath.Join(runDir, "tokens.csv")
	// system:masters is the one group RBAC never consults, so the admin user
	// and the controllers need no bootstrap role bindings. The node's
	// components get users of their own (identity.go).
	ids := nodeIdentities()
	tokens := identity{user: "admin", uid: "admin-uid", groups: []string{"system:masters"}, token: token}.csvLine()
	for _, id := range ids {
		tokens += id.csvLine()
	}
	if err := os.WriteFile(tokenFile, []byte(tokens), 0o600); err != nil {
		return nil, err
	}
	c = &Cluster{
		RunDir:     runDir,
		Kubeconfig: filepath.Join(runDir, "kubeconfig"),
		Server:     "https://127.0.0.1:" + strconv.Itoa(apiPort),
		Token:      token,
		CAFile:     keys.CACert,
		Kubectl:    bins.Kubectl,
		HostBefore: hostBefore,
	}
	if err := writeKubeconfig(c); err != nil {
		return nil, err
	}

	fmt.Fprintf(opts.Log, "starting etcd on 127.0.0.1:%d\n", etcdClient)
	peerURL := fmt.Sprintf("http://127.0.0.1:%d", etcdPeer)
	clientURL := fmt.Sprintf("http://127.0.0.1:%d", etcdClient)
	if _, err := startProcess(runDir, "etcd", bins.Etcd, []string{
		"--name=default",
		"--data-dir=" + filepath.Join(runDir, "etcd"),
		"--listen-client-urls=" + clientURL,
		"--advertise-client-urls=" + clientURL,
		"--listen-peer-urls=" + peerURL,
		"--initial-advertise-peer-urls=" + peerURL,
		"--initial-cluster=default=" + peerURL,
		// The data is thrown away after the run; fsync only costs time.
		"--unsafe-no-fsync=true",
		"--log-level=warn",
	}, nil); err != nil {
		return nil, err
	}

	fmt.Fprintf(opts.Log, "starting kube-apiserver on %s\n", c.Server)
	if _, err := startProcess(runDir, "kube-apiserver", bins.KubeAPIServer, []string{
		"--etcd-servers=" + clientURL,
		"--bind-address=127.0.0.1",
		"--advertise-address=127.0.0.1",
		"--secure-port=" + strconv.Itoa(apiPort),
		"--cert-dir=" + filepath.Join(runDir, "apiserver-certs"),
		"--tls-cert-file=" + keys.ServingCert,
		"--tls-private-key-file=" + keys.ServingKey,
		"--client-ca-file=" + keys.CACert,
		"--token-auth-file=" + tokenFile,
		"--authorization-mode=RBAC",
		"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
		"--service-account-key-file=" + keys.SAPublic,
		"--service-account-signing-key-file=" + keys.SAPrivate,
		"--service-cluster-ip-range=" + serviceCIDR,
		"--service-node-port-range=" + nodePortRange,
		// A loopback address is not a valid endpoint for the kubernetes
		// Service; nothing here needs in-cluster API access.
		"--endpoint-reconciler-type=none",
		"--allow-privileged=true",
		// The kubelet accepts this certificate for logs, exec and port-forward;
		// the node's name resolves nowhere, its InternalIP does.
		"--kubelet-client-certificate=" + keys.KubeletClientCert,
		"--kubelet-client-key=" + keys.KubeletClientKey,
		"--kubelet-preferred-address-types=InternalIP,Hostname",
	}, nil); err != nil {
		return nil, err
	}
	client, err := newClient(c)
	if err != nil {
		return nil, err
	}
	if err := waitHealthy(ctx, client, 2*time.Minute); err != nil {
		return nil, err
	}

	kubeconfigArg := "--kubeconfig=" + c.Kubeconfig
	fmt.Fprintln(opts.Log, "starting kube-controller-manager and kube-scheduler")
	// Both controllers reach the API server with the admin kubeconfig and serve their own health
	// endpoint on loopback; they differ only in what they run.
	controllerArgs := func(port int, certDir string, extra ...string) []string {
		return append([]string{
			kubeconfigArg,
			"--authentication-kubeconfig=" + c.Kubeconfig,
			"--authorization-kubeconfig=" + c.Kubeconfig,
			"--bind-address=127.0.0.1",
			"--secure-port=" + strconv.Itoa(port),
			"--cert-dir=" + filepath.Join(runDir, certDir),
			"--leader-elect=false",
		}, extra...)
	}
	if _, err := startProcess(runDir, "kube-controller-manager", bins.KubeControllerManager, controllerArgs(kcmPort, "kcm-certs",
		"--service-account-private-key-file="+keys.SAPrivate,
		"--root-ca-file="+keys.CACert,
		"--service-cluster-ip-range="+serviceCIDR,
		"--use-service-account-credentials=false",
		// kwok's lease heartbeat is 40s; the default grace matches kwokctl.
		"--node-monitor-grace-period=40s",
	), nil); err != nil {
		return nil, err
	}
	if _, err := startProcess(runDir, "kube-scheduler", bins.KubeScheduler, controllerArgs(schedPort, "scheduler-certs"), nil); err != nil {
		return nil, err
	}

	if err := startNode(ctx, c, bins, ids, logf); err != nil {
		return nil, err
	}
	if opts.FakeNodes > 0 {
		if err := startKwok(runDir, kubeconfigArg, bins); err != nil {
			return nil, err
		}
	}
	fakeNodes, pvs, err := bootstrap(ctx, client, runDir, opts)
	if err != nil {
		return nil, err
	}
	c.FakeNodes, c.PersistentVolumes = fakeNodes, pvs
	if err := waitNodesReady(ctx, client, fakeNodes, 2*time.Minute); err != nil {
		return nil, err
	}
	if err := waitControllers(ctx, client, 2*time.Minute); err != nil {
		return nil, err
	}
	fmt.Fprintf(opts.Log, "cluster ready: node %s (%s) and %d fake nodes, kubeconfig %s\n", NodeName, NodeIP, len(fakeNodes), c.Kubeconfig)
	return c, nil
}

// stopOrder stops clients before servers: the node (see stopNode), kwok
// and the controllers first, then the API server, and etcd last, because an
// API server whose etcd is gone blocks on shutdown instead of exiting.
var stopOrder = []string{"kwok", "kube-scheduler", "kube-controller-manager", "kube-apiserver", "etcd"}

// Stop stops exactly the processes recorded in runDir's pids file, in
// dependency order, puts back what the real node changed on the host, and
// removes the pids file once all are gone.
func Stop(runDir string) error {
	ps, err := readPids(runDir)
	if err != nil {
		return err
	}
	nodeErr := stopNode(runDir, ps)
	releaseNode(runDir)
	rank := func(name string) int {
		for i, n := range stopOrder {
			if n == name {
				return i
			}
		}
		return -1 // unknown names (none today) go first
	}
	errs := []error{nodeErr}
	for r := -1; r < len(stopOrder); r++ {
		for _, p := range ps {
			if rank(p.Name) == r && !slices.Contains(nodeStopOrder, p.Name) {
				errs = append(errs, p.stop(20*time.Second))
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	if err := os.Remove(filepath.Join(runDir, pidsFile)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}

// Running reports the recorded processes of runDir that are still alive.
func Running(runDir string) ([]string, error) {
	ps, err := readPids(runDir)
	if err != nil {
		return nil, err
	}
	var alive []string
	for _, p := range ps {
		if p.alive() {
			alive = append(alive, fmt.Sprintf("%s (pid %d)", p.Name, p.Pid))
		}
	}
	return alive, nil
}

// Stop stops this cluster's processes.
func (c *Cluster) Stop() error { return Stop(c.RunDir) }

func randomToken() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func writeKubeconfig(c *Cluster) error {
	return writeKubeconfigFor(c.Kubeconfig, c.Server, c.CAFile, "admin", c.Token)
}

// startKwok runs kwok for the fake nodes only (those annotated by bootstrap).
func startKwok(runDir, kubeconfigArg string, bins binaries.Set) error {
	args := []string{
		kubeconfigArg,
		"--manage-all-nodes=false",
		"--manage-nodes-with-annotation-selector=" + kwokNodeAnnotation + "=fake",
		"--cidr=" + kwokPodCIDR,
		"--node-ip=10.0.0.1",
		"--node-lease-duration-seconds=40",
	}
	for _, st := range bins.KwokStages {
		args = append(args, "--config="+st)
	}
	_, err := startProcess(runDir, "kwok", bins.Kwok, args, nil)
	return err
}
