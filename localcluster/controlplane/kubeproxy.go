package controlplane

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/example/jobs/localcluster/binaries"
)

// kubeProxyConfig runs kube-proxy in iptables mode with NodePorts on
// 127.0.0.1 and the node IP. Its conntrack settings are all zero, which
// means "leave the host's values alone"; the one sysctl it must change,
// net.ipv4.conf.all.route_localnet (for NodePorts on localhost), is put back
// by Stop.
func kubeProxyConfig(kubeconfig string, p nodePorts) map[string]any {
	return map[string]any{
		"apiVersion":         "kubeproxy.config.k8s.io/v1alpha1",
		"kind":               "KubeProxyConfiguration",
		"mode":               "iptables",
		"clientConnection":   map[string]any{"kubeconfig": kubeconfig},
		"hostnameOverride":   NodeName,
		"bindAddress":        NodeIP,
		"healthzBindAddress": fmt.Sprintf("127.0.0.1:%d", p.proxyHealthz),
		"metricsBindAddress": fmt.Sprintf("127.0.0.1:%d", p.proxyMetrics),
		"clusterCIDR":        podCIDR,
		"detectLocalMode":    "ClusterCIDR",
		"nodePortAddresses":  []string{"127.0.0.0/8", NodeIP + "/32"},
		"oomScoreAdj":        0,
		"iptables": map[string]any{
			"localhostNodePorts": true,
			"masqueradeAll":      false,
			"syncPeriod":         "30s",
			"minSyncPeriod":      "0s",
		},
		"conntrack": map[string]any{
			"maxPerCore":            0,
			"min":                   0,
			"tcpEstablishedTimeout": "0s",
			"tcpCloseWaitTimeout":   "0s",
			"udpTimeout":            "0s",
			"udpStreamTimeout":      "0s",
		},
	}
}

func startKubeProxy(c *Cluster, n nodePaths, bins binaries.Set, id identity, p nodePorts) error {
	kubeconfig := n.path("kube-proxy.kubeconfig")
	if err := writeKubeconfigFor(kubeconfig, c.Server, c.CAFile, id.user, id.token); err != nil {
		return err
	}
	cfg, err := json.MarshalIndent(kubeProxyConfig(kubeconfig, p), "", "  ")
	if err != nil {
		return err
	}
	cfgPath := n.path("kube-proxy-config.json")
	if err := os.WriteFile(cfgPath, cfg, 0o644); err != nil {
		return err
	}
	_, err = startProcess(c.RunDir, "kube-proxy", bins.KubeProxy, []string{"--config=" + cfgPath, "--v=1"}, nil)
	return err
}
