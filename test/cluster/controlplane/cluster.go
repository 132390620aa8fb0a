// Package controlplane starts and stops a real Kubernetes control plane on
// loopback: etcd, kube-apiserver (token auth, RBAC, per-run service-account
// keys), kube-controller-manager, kube-scheduler and kwok with fake nodes.
// Nothing runs containers; kwok plays the kubelet's part in pod status.
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
	"strconv"
	"strings"
	"time"

	"github.com/example/jobs/test/cluster/binaries"
)

// Ranges the API server allocates from; the NodePort range is the
// Kubernetes default so manifests are judged by production rules.
const (
	serviceCIDR      = "10.96.0.0/16"
	serviceClusterIP = "10.96.0.1"
	nodePortRange    = "30000-32767"
	podCIDR          = "10.244.0.0/16"
)

// Options configure Start.
type Options struct {
	// RunDir holds pids, keys, data, logs and the kubeconfig. It must be
	// empty or absent.
	RunDir string
	// Nodes is how many fake nodes kwok manages (default 3).
	Nodes int
	// PersistentVolumes is how many hostPath PVs of class "standard" are
	// pre-created (default 8), PVSize each (default "10Gi").
	PersistentVolumes int
	PVSize            string
	// Log receives progress lines; nil discards them.
	Log io.Writer
}

// Cluster is a running control plane.
type Cluster struct {
	RunDir     string
	Kubeconfig string
	Server     string
	Token      string
	CAFile     string
	Nodes      []string
	// PersistentVolumes are the names of the pre-created PVs.
	PersistentVolumes []string
}

// Start builds (or reuses) the binaries, starts every component, bootstraps
// nodes and storage, and returns once the API is healthy and every fake node
// is Ready. On error it stops whatever it had started.
func Start(ctx context.Context, clusterDir string, opts Options) (c *Cluster, err error) {
	if opts.Nodes == 0 {
		opts.Nodes = 3
	}
	if opts.PersistentVolumes == 0 {
		opts.PersistentVolumes = 8
	}
	if opts.PVSize == "" {
		opts.PVSize = "10Gi"
	}
	if opts.Log == nil {
		opts.Log = io.Discard
	}
	bins, err := binaries.Ensure(ctx, clusterDir, opts.Log)
	if err != nil {
		return nil, err
	}
	runDir, err := filepath.Abs(opts.RunDir)
	if err != nil {
		return nil, err
	}
	if entries, err := os.ReadDir(runDir); err == nil && len(entries) > 0 {
		return nil, fmt.Errorf("run dir %s is not empty: a cluster may still run there; stop it with `go run ./cmd/cluster down` in test/cluster", runDir)
	}
	if err := os.MkdirAll(runDir, 0o755); err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			err = errors.Join(err, Stop(runDir), fmt.Errorf("component logs are in %s", filepath.Join(runDir, "logs")))
		}
	}()

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
	// and the components need no bootstrap role bindings.
	if err := os.WriteFile(tokenFile, []byte(token+`,admin,admin-uid,"system:masters"`+"\n"), 0o600); err != nil {
		return nil, err
	}
	c = &Cluster{
		RunDir:     runDir,
		Kubeconfig: filepath.Join(runDir, "kubeconfig"),
		Server:     "https://127.0.0.1:" + strconv.Itoa(apiPort),
		Token:      token,
		CAFile:     keys.CACert,
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

	kwokArgs := []string{
		kubeconfigArg,
		"--manage-all-nodes=false",
		"--manage-nodes-with-annotation-selector=" + kwokNodeAnnotation + "=fake",
		"--cidr=" + podCIDR,
		"--node-ip=10.0.0.1",
		"--node-lease-duration-seconds=40",
	}
	for _, st := range bins.KwokStages {
		kwokArgs = append(kwokArgs, "--config="+st)
	}
	fmt.Fprintln(opts.Log, "starting kwok")
	if _, err := startProcess(runDir, "kwok", bins.Kwok, kwokArgs, nil); err != nil {
		return nil, err
	}

	nodes, pvs, err := bootstrap(ctx, client, opts)
	if err != nil {
		return nil, err
	}
	c.Nodes, c.PersistentVolumes = nodes, pvs
	if err := waitNodesReady(ctx, client, nodes, 2*time.Minute); err != nil {
		return nil, err
	}
	if err := waitControllers(ctx, client, 2*time.Minute); err != nil {
		return nil, err
	}
	fmt.Fprintf(opts.Log, "cluster ready: %d nodes, kubeconfig %s\n", len(nodes), c.Kubeconfig)
	return c, nil
}

// stopOrder stops clients before servers: kwok and the controllers first,
// then the API server, and etcd last, because an API server whose etcd is
// gone blocks on shutdown instead of exiting.
var stopOrder = []string{"kwok", "kube-scheduler", "kube-controller-manager", "kube-apiserver", "etcd"}

// Stop stops exactly the processes recorded in runDir's pids file, in
// dependency order, and removes the pids file once all are gone.
func Stop(runDir string) error {
	ps, err := readPids(runDir)
	if err != nil {
		return err
	}
	rank := func(name string) int {
		for i, n := range stopOrder {
			if n == name {
				return i
			}
		}
		return -1 // unknown names (none today) go first
	}
	var errs []error
	for r := -1; r < len(stopOrder); r++ {
		for _, p := range ps {
			if rank(p.Name) == r {
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
	cfg := strings.Join([]string{
		"apiVersion: v1",
		"kind: Config",
		"clusters:",
		"- name: local",
		"  cluster:",
		"    server: " + c.Server,
		"    certificate-authority: " + c.CAFile,
		"users:",
		"- name: admin",
		"  user:",
		"    token: " + c.Token,
		"contexts:",
		"- name: local",
		"  context:",
		"    cluster: local",
		"    user: admin",
		"current-context: local",
		"",
	}, "\n")
	return os.WriteFile(c.Kubeconfig, []byte(cfg), 0o600)
}
