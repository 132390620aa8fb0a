package realnode

import (
	"bufio"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/example/jobs/localcluster/controlplane"
	"github.com/example/jobs/localcluster/workspace"
)

// TestStopAfterTheRuntimeWasKilled kills containerd and the kubelet while a
// pod runs, as a crash or an OOM kill would, and checks that Stop still finds
// and removes everything: the orphaned shim and container (by the node's
// cgroup), their mounts, veth, iptables rules, CNI cache and shim socket.
func TestStopAfterTheRuntimeWasKilled(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Minute)
	defer cancel()
	if os.Geteuid() != 0 {
		t.Fatal("the real node needs root (containerd, runc, iptables, cgroups)")
	}
	clusterDir, err := workspace.ClusterDir()
	if err != nil {
		t.Fatal(err)
	}
	ensureRegistry(t)
	img := pushPodcheck(ctx, t, clusterDir)
	c, stopped := startCluster(ctx, t, clusterDir)
	client, err := kubernetes.NewForConfig(c.RESTConfig())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := waitDefaultServiceAccount(ctx, client); err != nil {
		t.Fatal(err)
	}
	if _, err := client.CoreV1().Pods(ns).Create(ctx, podcheckPod("victim", img.tag, map[string]string{"app": "victim"}), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := waitPodReady(ctx, client, "victim", 3*time.Minute); err != nil {
		t.Fatal(err)
	}
	for name, pid := range recordedPids(t, c.RunDir) {
		if name == "containerd" || name == "kubelet" {
			if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
				t.Fatalf("kill %s: %v", name, err)
			}
			waitGone(t, name, pid)
		}
	}
	if err := c.Stop(); err != nil {
		t.Fatalf("stop after the runtime was killed: %v", err)
	}
	*stopped = true
	for _, l := range controlplane.Leftovers(c.RunDir, c.HostBefore) {
		t.Error("left behind: " + l)
	}
	if err := os.RemoveAll(c.RunDir); err != nil {
		t.Errorf("remove run dir: %v", err)
	}
}

// waitGone waits until pid has exited (a zombie counts as exited).
func waitGone(t *testing.T, name string, pid int) {
	t.Helper()
	for range 100 {
		stat, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
		if err != nil {
			return
		}
		if i := strings.LastIndexByte(string(stat), ')'); i > 0 && i+2 < len(stat) && stat[i+2] == 'Z' {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s (pid %d) outlived SIGKILL", name, pid)
}

// recordedPids reads the run's pids file ("name pid executable" lines).
func recordedPids(t *testing.T, runDir string) map[string]int {
	t.Helper()
	f, err := os.Open(filepath.Join(runDir, "pids"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	pids := map[string]int{}
	s := bufio.NewScanner(f)
	for s.Scan() {
		fields := strings.Fields(s.Text())
		if len(fields) >= 2 {
			if pid, err := strconv.Atoi(fields[1]); err == nil {
				pids[fields[0]] = pid
			}
		}
	}
	return pids
}
