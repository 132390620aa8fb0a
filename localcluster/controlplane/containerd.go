package controlplane

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/example/jobs/localcluster/binaries"
	"github.com/example/jobs/localcluster/ociimage"
)

// cniBinDir is where Debian's containernetworking-plugins installs them.
const cniBinDir = "/usr/lib/cni"

var lookPath = exec.LookPath

// startContainerd writes containerd's private configuration, starts it in
// the node's cgroup, and imports the pod sandbox image. It returns the
// sandbox image's name.
func startContainerd(ctx context.Context, runDir string, n nodePaths, bins binaries.Set, logf func(string, ...any)) (string, error) {
	pauseBin, err := os.ReadFile(bins.Pause)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(pauseBin)
	// Named after the program's own digest: the image holds this build of
	// servers/pause, not any upstream pause release.
	pauseRef := "localhost/jobs-cluster/pause:sha256-" + hex.EncodeToString(sum[:])[:16]
	pause, err := ociimage.New([]ociimage.File{{Path: "/pause", Mode: 0o755, Data: pauseBin}}, ociimage.Config{
		Entrypoint: []string{"/pause"},
		User:       "65535:65535",
		Labels:     map[string]string{"org.opencontainers.image.source": "localcluster/servers/pause"},
	})
	if err != nil {
		return "", err
	}
	snapshotter := "native"
	if overlayWorks(n.path("overlay-probe")) {
		// overlayfs shares image layers between containers; native copies
		// the whole image for each one but works on any filesystem.
		snapshotter = "overlayfs"
	}
	for _, d := range []string{"containerd/root", "containerd/state", "cni/net.d", "cni/ipam", "runc", "certs.d/" + LocalRegistry} {
		if err := os.MkdirAll(n.path(d), 0o755); err != nil {
			return "", err
		}
	}
	files := map[string]string{
		n.path("containerd", "config.toml"):                  containerdConfig(n, snapshotter, pauseRef),
		n.path("certs.d", LocalRegistry, "hosts.toml"):       registryHosts(),
		n.path("cni", "net.d", "10-"+cniNetwork+".conflist"): cniConfig(n),
	}
	for path, content := range files {
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			return "", err
		}
	}
	logf("starting containerd (snapshotter %s, socket %s)", snapshotter, n.containerdSocket())
	p, err := startProcess(runDir, "containerd", mustLook("containerd"), []string{"--config", n.path("containerd", "config.toml")}, nil)
	if err != nil {
		return "", err
	}
	// In the node's cgroup, the shims containerd spawns (and so every
	// container process) can be found exactly even if containerd dies.
	if err := joinCgroup(nodeCgroup, p.Pid); err != nil {
		return "", err
	}
	if err := waitSocket(ctx, n.containerdSocket(), 30*time.Second); err != nil {
		return "", fmt.Errorf("containerd: %w (see logs/containerd.log)", err)
	}
	var archive bytes.Buffer
	if err := pause.WriteArchive(&archive, pauseRef); err != nil {
		return "", err
	}
	tarPath := n.path("pause-image.tar")
	if err := os.WriteFile(tarPath, archive.Bytes(), 0o644); err != nil {
		return "", err
	}
	out, err := exec.CommandContext(ctx, mustLook("ctr"), "--address", n.containerdSocket(), "--namespace", "k8s.io",
		"images", "import", "--snapshotter", snapshotter, tarPath).CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("import the sandbox image into containerd: %w: %s", err, out)
	}
	return pauseRef, nil
}

func mustLook(bin string) string {
	if p, err := lookPath(bin); err == nil {
		return p
	}
	return bin
}

// containerdConfig keeps containerd to itself: its own root, state, socket
// and CNI configuration, no debug or metrics listeners, and runc's state
// below the run directory too, so neither a system containerd nor the
// project's private dockerd is ever touched.
func containerdConfig(n nodePaths, snapshotter, pauseRef string) string {
	q := func(s string) string { return fmt.Sprintf("%q", s) }
	return strings.Join([]string{
		"version = 2",
		"root = " + q(n.path("containerd", "root")),
		"state = " + q(n.path("containerd", "state")),
		"oom_score = 0",
		// Snapshotters the node does not use would probe kernel modules.
		`disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper"]`,
		"",
		"[grpc]",
		"  address = " + q(n.containerdSocket()),
		"[ttrpc]",
		`  address = ""`,
		"[debug]",
		`  address = ""`,
		"[metrics]",
		`  address = ""`,
		"",
		`[plugins."io.containerd.internal.v1.opt"]`,
		"  path = " + q(n.path("containerd", "opt")),
		`[plugins."io.containerd.grpc.v1.cri"]`,
		"  sandbox_image = " + q(pauseRef),
		// Root here lacks CAP_SYS_RESOURCE: without this every pod fails in
		// runc with "can't get final child's PID from pipe: EOF" because
		// the kubelet's negative oom_score_adj cannot be applied.
		"  restrict_oom_score_adj = true",
		"  netns_mounts_under_state_dir = true",
		"  enable_selinux = false",
		"  disable_apparmor = true",
		`  stream_server_address = "127.0.0.1"`,
		`  [plugins."io.containerd.grpc.v1.cri".containerd]`,
		"    snapshotter = " + q(snapshotter),
		`    default_runtime_name = "runc"`,
		`    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]`,
		`      runtime_type = "io.containerd.runc.v2"`,
		`      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]`,
		"        BinaryName = " + q(mustLook("runc")),
		"        Root = " + q(n.path("runc")),
		// cgroup v1 here and no systemd: the kubelet uses cgroupfs too.
		"        SystemdCgroup = false",
		`  [plugins."io.containerd.grpc.v1.cri".cni]`,
		"    bin_dir = " + q(cniBinDir),
		"    conf_dir = " + q(n.path("cni", "net.d")),
		"    max_conf_num = 1",
		`  [plugins."io.containerd.grpc.v1.cri".registry]`,
		"    config_path = " + q(n.path("certs.d")),
		"",
	}, "\n")
}

// registryHosts lets localhost:5000/... references (tags and digests) pull
// over plain HTTP from the loopback registry.
func registryHosts() string {
	return strings.Join([]string{
		`server = "http://` + LocalRegistry + `"`,
		"",
		`[host."http://` + LocalRegistry + `"]`,
		`  capabilities = ["pull", "resolve"]`,
		"  skip_verify = true",
		"",
	}, "\n")
}

// cniConfig is a bridge network with host-local addresses. Pods get routes
// to the pod and Service ranges only, no default route: nothing a pod sends
// can leave the machine. No masquerading is needed for the same reason.
func cniConfig(n nodePaths) string {
	return fmt.Sprintf(`{
  "cniVersion": "1.0.0",
  "name": %q,
  "plugins": [
    {
      "type": "bridge",
      "bridge": %q,
      "isGateway": true,
      "ipMasq": false,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "dataDir": %q,
        "ranges": [[{"subnet": %q, "gateway": %q}]],
        "routes": [{"dst": %q}, {"dst": %q}]
      }
    },
    {"type": "portmap", "capabilities": {"portMappings": true}}
  ]
}
`, cniNetwork, nodeBridge, n.path("cni", "ipam"), nodePodSubnet, NodeIP, podCIDR, serviceCIDR)
}

// overlayWorks tries an overlay mount in dir, as containerd's overlayfs
// snapshotter would do for every container.
func overlayWorks(dir string) bool {
	defer os.RemoveAll(dir)
	for _, d := range []string{"lower", "upper", "work", "merged"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return false
		}
	}
	opts := fmt.Sprintf("lowerdir=%s,upperdir=%s,workdir=%s", filepath.Join(dir, "lower"), filepath.Join(dir, "upper"), filepath.Join(dir, "work"))
	if err := syscall.Mount("overlay", filepath.Join(dir, "merged"), "overlay", 0, opts); err != nil {
		return false
	}
	return syscall.Unmount(filepath.Join(dir, "merged"), 0) == nil
}

func waitSocket(ctx context.Context, path string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for {
		if conn, err := net.Dial("unix", path); err == nil {
			conn.Close()
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s did not accept connections within %s", path, timeout)
		case <-time.After(100 * time.Millisecond):
		}
	}
}
