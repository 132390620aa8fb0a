package controlplane

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// mountsUnder lists the mount points at or below dir, deepest first.
func mountsUnder(dir string) ([]string, error) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var mps []string
	s := bufio.NewScanner(f)
	for s.Scan() {
		fields := strings.Fields(s.Text())
		if len(fields) < 5 {
			continue
		}
		mp := unescapeMountinfo(fields[4])
		if mp == dir || strings.HasPrefix(mp, dir+"/") {
			mps = append(mps, mp)
		}
	}
	slices.SortFunc(mps, func(a, b string) int { return len(b) - len(a) })
	return mps, s.Err()
}

// unescapeMountinfo undoes the octal escapes (\040 for a space) the kernel
// writes into mountinfo paths.
func unescapeMountinfo(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// unmountUnder detaches every mount below dir (container root filesystems,
// network namespaces, secret volumes), repeating while mounts remain because
// a detach can uncover a mount stacked beneath it.
func unmountUnder(dir string) error {
	for range 10 {
		mps, err := mountsUnder(dir)
		if err != nil || len(mps) == 0 {
			return err
		}
		for _, mp := range mps {
			if err := syscall.Unmount(mp, syscall.MNT_DETACH); err != nil && !errors.Is(err, syscall.EINVAL) && !errors.Is(err, syscall.ENOENT) {
				return fmt.Errorf("unmount %s: %w", mp, err)
			}
		}
	}
	mps, _ := mountsUnder(dir)
	return fmt.Errorf("mounts remain under %s: %v", dir, mps)
}

func linkExists(name string) bool {
	_, err := os.Stat(filepath.Join("/sys/class/net", name))
	return err == nil
}

// bridgePorts are the interfaces enslaved to the bridge: the host ends of
// pod veth pairs.
func bridgePorts(bridge string) []string {
	entries, _ := os.ReadDir(filepath.Join("/sys/class/net", bridge, "brif"))
	var ports []string
	for _, e := range entries {
		ports = append(ports, e.Name())
	}
	return ports
}

// deleteBridge removes the veths still attached to the bridge and then the
// bridge itself, which takes its address and routes along.
func deleteBridge(bridge string) error {
	if !linkExists(bridge) {
		return nil
	}
	var errs []error
	for _, port := range bridgePorts(bridge) {
		errs = append(errs, deleteLink(port))
	}
	errs = append(errs, deleteLink(bridge))
	return errors.Join(errs...)
}

// deleteLink deletes an interface. One that is gone by the time ip runs is what was wanted: a
// pod's veth vanishes on its own when the kernel tears down the pod's network namespace, which
// may happen between listing the bridge's ports and deleting them.
func deleteLink(name string) error {
	err := ipCmd("link", "del", name)
	if err != nil && !linkExists(name) {
		return nil
	}
	return err
}

func ipCmd(args ...string) error {
	out, err := exec.Command("ip", args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("ip %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

// cgroupMounts lists the mount points of every cgroup hierarchy, v1 and v2:
// the kubelet and runc create the node's cgroups in each.
func cgroupMounts() ([]string, error) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var mps []string
	s := bufio.NewScanner(f)
	for s.Scan() {
		line := s.Text()
		sep := strings.Index(line, " - ")
		if sep < 0 {
			continue
		}
		fstype := strings.Fields(line[sep+3:])[0]
		if fstype == "cgroup" || fstype == "cgroup2" {
			mps = append(mps, unescapeMountinfo(strings.Fields(line)[4]))
		}
	}
	return mps, s.Err()
}

// cgroupDirs returns the node's cgroup directory in each hierarchy that has one.
func cgroupDirs(name string) []string {
	mps, _ := cgroupMounts()
	var dirs []string
	for _, mp := range mps {
		d := filepath.Join(mp, name)
		if _, err := os.Stat(d); err == nil {
			dirs = append(dirs, d)
		}
	}
	return dirs
}

// cgroupPids lists the processes in the node's cgroup subtree: containers,
// their shims and containerd, which was placed there at start. Membership is
// how processes the node started but did not record are found exactly.
func cgroupPids(name string) []int {
	seen := map[int]bool{}
	for _, d := range cgroupDirs(name) {
		_ = filepath.WalkDir(d, func(p string, e os.DirEntry, err error) error {
			if err != nil || e.IsDir() || e.Name() != "cgroup.procs" {
				return nil
			}
			b, _ := os.ReadFile(p)
			for _, f := range strings.Fields(string(b)) {
				if pid, err := strconv.Atoi(f); err == nil && pid > 1 {
					seen[pid] = true
				}
			}
			return nil
		})
	}
	var pids []int
	for p := range seen {
		pids = append(pids, p)
	}
	slices.Sort(pids)
	return pids
}

// killCgroup SIGKILLs what is left in the node's cgroups after the orderly
// stop (a container whose shim outlived containerd) and waits for it to go.
func killCgroup(name string) error {
	deadline := time.Now().Add(10 * time.Second)
	for {
		pids := cgroupPids(name)
		if len(pids) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("processes %v survive in cgroup %s", pids, name)
		}
		for _, p := range pids {
			_ = syscall.Kill(p, syscall.SIGKILL)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// removeCgroups removes the node's cgroup tree in every hierarchy, children
// before parents (a cgroup directory can only be removed when empty).
func removeCgroups(name string) error {
	var errs []error
	for _, d := range cgroupDirs(name) {
		var dirs []string
		_ = filepath.WalkDir(d, func(p string, e os.DirEntry, err error) error {
			if err == nil && e.IsDir() {
				dirs = append(dirs, p)
			}
			return nil
		})
		slices.SortFunc(dirs, func(a, b string) int { return len(b) - len(a) })
		for _, p := range dirs {
			if err := syscall.Rmdir(p); err != nil && !errors.Is(err, syscall.ENOENT) {
				errs = append(errs, fmt.Errorf("remove cgroup %s: %w", p, err))
			}
		}
	}
	return errors.Join(errs...)
}

// makeCgroup creates the node's cgroup in every hierarchy. cpuset needs its
// cpus and mems copied from the parent before a task may join (cgroup v1).
func makeCgroup(name string) error {
	mps, err := cgroupMounts()
	if err != nil {
		return err
	}
	for _, mp := range mps {
		d := filepath.Join(mp, name)
		if err := os.Mkdir(d, 0o755); err != nil && !os.IsExist(err) {
			return fmt.Errorf("create cgroup %s: %w", d, err)
		}
		for _, f := range []string{"cpuset.cpus", "cpuset.mems"} {
			if b, err := os.ReadFile(filepath.Join(mp, f)); err == nil {
				if cur, _ := os.ReadFile(filepath.Join(d, f)); strings.TrimSpace(string(cur)) == "" {
					if err := os.WriteFile(filepath.Join(d, f), b, 0o644); err != nil {
						return fmt.Errorf("init %s/%s: %w", d, f, err)
					}
				}
			}
		}
	}
	return nil
}

// joinCgroup moves pid into the node's cgroup in every hierarchy. In cgroup
// v2 a process may only sit in a leaf, hence the "runtime" child there.
func joinCgroup(name string, pid int) error {
	mps, err := cgroupMounts()
	if err != nil {
		return err
	}
	for _, mp := range mps {
		d := filepath.Join(mp, name, "runtime")
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
		for _, f := range []string{"cpuset.cpus", "cpuset.mems"} {
			if b, err := os.ReadFile(filepath.Join(mp, name, f)); err == nil {
				_ = os.WriteFile(filepath.Join(d, f), b, 0o644)
			}
		}
		if err := os.WriteFile(filepath.Join(d, "cgroup.procs"), []byte(strconv.Itoa(pid)), 0o644); err != nil {
			return fmt.Errorf("move pid %d into %s: %w", pid, d, err)
		}
	}
	return nil
}

// hostPaths are directories outside the run directory that the kubelet,
// containerd or the CNI plugins create whatever they are told: symlinks to
// container logs, the CNI result cache, containerd's shim sockets.
var hostPaths = []string{
	"/var/log/containers",
	"/var/log/pods",
	"/var/lib/cni/results",
	"/var/lib/cni",
	// The kubelet's device manager socket has a fixed path.
	"/var/lib/kubelet/device-plugins",
	"/var/lib/kubelet",
	"/run/containerd/s",
	"/run/containerd",
	"/run/netns",
	"/etc/cni/net.d",
	"/etc/cni",
	"/opt/cni/bin",
	"/opt/cni",
}

// existingHostPaths records which of hostPaths existed before the run.
func existingHostPaths() map[string]bool {
	m := map[string]bool{}
	for _, p := range hostPaths {
		if _, err := os.Lstat(p); err == nil {
			m[p] = true
		}
	}
	return m
}

// removeHostFiles removes what the run left in hostPaths: log symlinks into
// the run directory, CNI results of the node's network, and those of the
// directories that did not exist before and are empty now. A directory that
// still holds anything belongs to someone else as well and stays.
func removeHostFiles(runDir, network string, before map[string]bool) error {
	var errs []error
	if entries, err := os.ReadDir("/var/log/containers"); err == nil {
		for _, e := range entries {
			p := filepath.Join("/var/log/containers", e.Name())
			if target, err := os.Readlink(p); err == nil && strings.HasPrefix(target, runDir+"/") {
				errs = append(errs, os.Remove(p))
			}
		}
	}
	if entries, err := os.ReadDir("/var/lib/cni/results"); err == nil {
		for _, e := range entries {
			if strings.HasPrefix(e.Name(), network+"-") {
				errs = append(errs, os.Remove(filepath.Join("/var/lib/cni/results", e.Name())))
			}
		}
	}
	if !before["/var/lib/kubelet/device-plugins"] {
		if err := os.Remove("/var/lib/kubelet/device-plugins/kubelet.sock"); err != nil && !os.IsNotExist(err) {
			errs = append(errs, err)
		}
	}
	for _, p := range hostPaths { // children are listed before parents
		if !before[p] {
			if err := syscall.Rmdir(p); err != nil && !errors.Is(err, syscall.ENOENT) && !errors.Is(err, syscall.ENOTEMPTY) && !errors.Is(err, syscall.EEXIST) {
				errs = append(errs, fmt.Errorf("remove %s: %w", p, err))
			}
		}
	}
	return errors.Join(errs...)
}

// runtimeIDs are the ids of the pod sandboxes and containers containerd
// knew, read from its root and state below the run directory (so they are
// found even when containerd was killed).
func runtimeIDs(n nodePaths) []string {
	var ids []string
	for _, d := range []string{
		n.path("containerd", "state", "io.containerd.runtime.v2.task", "k8s.io"),
		n.path("containerd", "root", "io.containerd.grpc.v1.cri", "sandboxes"),
		n.path("containerd", "root", "io.containerd.grpc.v1.cri", "containers"),
	} {
		entries, _ := os.ReadDir(d)
		for _, e := range entries {
			if !slices.Contains(ids, e.Name()) {
				ids = append(ids, e.Name())
			}
		}
	}
	return ids
}

// removeRuntimeFiles removes the files that a shim or CNI plugin which did
// not exit cleanly (containerd killed mid-run) leaves outside the run
// directory: containerd 1.6 puts every shim's socket in /run/containerd/s,
// named by the hash of containerd's address, namespace and id, and libcni
// caches results in /var/lib/cni/results under the network name and id.
// Only names derived from this node's ids are touched.
func removeRuntimeFiles(n nodePaths) error {
	var errs []error
	results, _ := os.ReadDir("/var/lib/cni/results")
	for _, id := range runtimeIDs(n) {
		sum := sha256.Sum256([]byte(filepath.Join(n.containerdSocket(), "k8s.io", id)))
		sock := filepath.Join("/run/containerd/s", hex.EncodeToString(sum[:]))
		if err := os.Remove(sock); err != nil && !os.IsNotExist(err) {
			errs = append(errs, err)
		}
		for _, r := range results {
			if strings.Contains(r.Name(), "-"+id+"-") {
				if err := os.Remove(filepath.Join("/var/lib/cni/results", r.Name())); err != nil && !os.IsNotExist(err) {
					errs = append(errs, err)
				}
			}
		}
	}
	return errors.Join(errs...)
}
