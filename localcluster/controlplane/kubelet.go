package controlplane

import (
	"encoding/json"
	"os"
	"path/filepath"

	"github.com/example/jobs/localcluster/binaries"
)

// kubeletConfig is the KubeletConfiguration of the real node. Every path
// the kubelet writes to is below the node directory, except two it cannot
// be told about (/var/log/containers symlinks and its sysctls), which Stop
// undoes.
func kubeletConfig(c *Cluster, n nodePaths, p nodePorts) map[string]any {
	return map[string]any{
		"apiVersion":               "kubelet.config.k8s.io/v1beta1",
		"kind":                     "KubeletConfiguration",
		"address":                  NodeIP,
		"port":                     p.kubelet,
		"readOnlyPort":             0,
		"healthzBindAddress":       "127.0.0.1",
		"healthzPort":              p.kubeletHealthz,
		"containerRuntimeEndpoint": "unix://" + n.containerdSocket(),
		"podLogsDir":               n.path("pod-logs"),
		"volumePluginDir":          n.path("volume-plugins"),
		"clusterDomain":            ClusterDomain,
		"clusterDNS":               []string{ClusterDNSIP},
		// Pods with dnsPolicy Default get no resolver rather than the
		// host's, which differs between machines and reaches outside.
		"resolvConf": "",
		// The API server (client certificate from the run's CA) is the only
		// client the kubelet serves; no anonymous access.
		"authentication": map[string]any{
			"anonymous": map[string]any{"enabled": false},
			"webhook":   map[string]any{"enabled": false},
			"x509":      map[string]any{"clientCAFile": c.CAFile},
		},
		"authorization": map[string]any{"mode": "AlwaysAllow"},
		// This machine has cgroup v1 (v2 mounted beside it) and no systemd;
		// since v1.35 the kubelet refuses cgroup v1 unless told otherwise.
		"cgroupDriver": "cgroupfs",
		"failCgroupV1": false,
		// A cgroup parent of its own, so Stop removes exactly the node's.
		"cgroupRoot": "/" + nodeCgroup,
		"failSwapOn": false,
		// kube-proxy owns the iptables rules; the kubelet adds none.
		"makeIPTablesUtilChains": false,
		// Lowering its own oom_score_adj needs CAP_SYS_RESOURCE.
		"oomScoreAdj": 0,
		// The sandbox image cannot be pulled again if collected, and a test
		// machine's disk is not the cluster's to judge: no image GC and
		// evictions only when nearly full.
		"imageGCHighThresholdPercent": 100,
		"imageGCLowThresholdPercent":  99,
		"evictionHard": map[string]string{
			"memory.available":  "100Mi",
			"nodefs.available":  "1%",
			"nodefs.inodesFree": "1%",
			"imagefs.available": "1%",
		},
		"serializeImagePulls": false,
		"registerNode":        true,
		"maxPods":             110,
		// No systemd-logind to take an inhibitor lock from.
		"shutdownGracePeriod":             "0s",
		"shutdownGracePeriodCriticalPods": "0s",
		"nodeStatusReportFrequency":       "10s",
	}
}

func startKubelet(c *Cluster, n nodePaths, bins binaries.Set, id identity, p nodePorts) error {
	cfg, err := json.MarshalIndent(kubeletConfig(c, n, p), "", "  ")
	if err != nil {
		return err
	}
	cfgPath := n.path("kubelet-config.json")
	if err := os.WriteFile(cfgPath, cfg, 0o644); err != nil {
		return err
	}
	kubeconfig := n.path("kubelet.kubeconfig")
	if err := writeKubeconfigFor(kubeconfig, c.Server, c.CAFile, id.user, id.token); err != nil {
		return err
	}
	_, err = startProcess(c.RunDir, "kubelet", bins.Kubelet, []string{
		"--config=" + cfgPath,
		"--kubeconfig=" + kubeconfig,
		"--root-dir=" + n.path("kubelet"),
		"--cert-dir=" + filepath.Join(n.path("kubelet"), "pki"),
		"--hostname-override=" + NodeName,
		"--node-ip=" + NodeIP,
		"--node-labels=jobs.example.com/node=real",
		"--v=1",
	}, nil)
	return err
}
