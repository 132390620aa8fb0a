package controlplane

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

// TestReclaimStaleBridge builds what a killed node leaves (a bridge with a
// pod's veth attached) under names of its own, so a real node on the machine
// is never touched, and checks that a bridge is kept while a process still
// runs in the node's cgroup and removed, ports and all, once none does.
func TestReclaimStaleBridge(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Fatal("needs root: it creates a bridge, a veth pair and a cgroup")
	}
	const bridge, veth, peer, cgroup = "jobs-tst-br0", "jobs-tst-v0", "jobs-tst-v1", "jobs-tst-cg"
	for _, name := range []string{bridge, veth} {
		if linkExists(name) {
			t.Fatalf("interface %s exists before the test; remove it with `ip link del %s`", name, name)
		}
	}
	if dirs := cgroupDirs(cgroup); len(dirs) > 0 {
		t.Fatalf("cgroup %s exists before the test: %v", cgroup, dirs)
	}
	t.Cleanup(func() {
		for _, name := range []string{veth, bridge} {
			if linkExists(name) {
				_ = deleteLink(name)
			}
		}
	})
	for _, args := range [][]string{
		{"link", "add", "name", bridge, "type", "bridge"},
		{"link", "add", veth, "type", "veth", "peer", "name", peer},
		{"link", "set", veth, "master", bridge},
	} {
		if err := ipCmd(args...); err != nil {
			t.Fatal(err)
		}
	}

	sleeper := exec.Command("sleep", "600")
	if err := sleeper.Start(); err != nil {
		t.Fatal(err)
	}
	stopped := false
	stop := func() {
		if !stopped {
			_ = sleeper.Process.Kill()
			_ = sleeper.Wait()
			stopped = true
		}
	}
	t.Cleanup(func() {
		stop()
		if err := removeCgroups(cgroup); err != nil {
			t.Error(err)
		}
	})
	if err := makeCgroup(cgroup); err != nil {
		t.Fatal(err)
	}
	if err := joinCgroup(cgroup, sleeper.Process.Pid); err != nil {
		t.Fatal(err)
	}

	var logged []string
	logf := func(format string, args ...any) { logged = append(logged, fmt.Sprintf(format, args...)) }
	err := reclaimStaleBridge(bridge, cgroup, logf)
	if err == nil || !strings.Contains(err.Error(), strconv.Itoa(sleeper.Process.Pid)) {
		t.Fatalf("with pid %d in cgroup %s: got %v, want an error naming that pid", sleeper.Process.Pid, cgroup, err)
	}
	if !linkExists(bridge) || !linkExists(veth) {
		t.Fatalf("a bridge in use was touched: %s exists %v, %s exists %v", bridge, linkExists(bridge), veth, linkExists(veth))
	}

	stop()
	if err := reclaimStaleBridge(bridge, cgroup, logf); err != nil {
		t.Fatalf("with nothing left in cgroup %s: %v", cgroup, err)
	}
	for _, name := range []string{bridge, veth, peer} {
		if linkExists(name) {
			t.Errorf("interface %s is still there after the stale bridge was reclaimed", name)
		}
	}
	if len(logged) != 1 || !strings.Contains(logged[0], bridge) || !strings.Contains(logged[0], veth) {
		t.Errorf("log %q: want one line naming %s and its port %s", logged, bridge, veth)
	}
}
