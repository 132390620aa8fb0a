package controlplane

import (
	"fmt"
	"os"
	"slices"
)

// HostSnapshot is the host state a real node changes, captured before a
// cluster starts so a test can check that Stop put all of it back.
type HostSnapshot struct {
	Sysctls   map[string]string
	IPTables  map[string]string // family ("v4", "v6") -> iptables-save output
	Links     []string
	HostPaths map[string]bool
	NetNS     []string
	// CNIResults are the names in /var/lib/cni/results.
	CNIResults []string
	// IPSets are the names of the host's ipsets (kube-router adds its own).
	IPSets []string
}

// CaptureHost records the host state a real node changes.
func CaptureHost() (HostSnapshot, error) {
	s := HostSnapshot{IPTables: map[string]string{}, HostPaths: existingHostPaths(), Links: links(), NetNS: netns()}
	if entries, err := os.ReadDir("/var/lib/cni/results"); err == nil {
		for _, e := range entries {
			s.CNIResults = append(s.CNIResults, e.Name())
		}
	}
	var err error
	if s.IPSets, err = ipsetNames(); err != nil {
		return s, err
	}
	if s.Sysctls, err = snapshotSysctls("/proc/sys"); err != nil {
		return s, err
	}
	for _, f := range ipFamilies {
		if s.IPTables[f.name], err = iptablesSave(f.save); err != nil {
			return s, err
		}
	}
	return s, nil
}

// Leftovers lists what a stopped cluster in runDir left behind compared to
// before: live processes (recorded or in the node's cgroup), mounts under
// runDir, network interfaces and namespaces, iptables rules and chains,
// ipsets, cgroups, host files and changed sysctls. Empty means nothing.
func Leftovers(runDir string, before HostSnapshot) []string {
	var left []string
	if alive, err := Running(runDir); err != nil || len(alive) > 0 {
		left = append(left, fmt.Sprintf("recorded processes still running: %v %v", alive, err))
	}
	if pids := cgroupPids(nodeCgroup); len(pids) > 0 {
		left = append(left, fmt.Sprintf("processes in cgroup %s: %v", nodeCgroup, pids))
	}
	if dirs := cgroupDirs(nodeCgroup); len(dirs) > 0 {
		left = append(left, fmt.Sprintf("cgroups: %v", dirs))
	}
	if mps, err := mountsUnder(runDir); err != nil || len(mps) > 0 {
		left = append(left, fmt.Sprintf("mounts under %s: %v %v", runDir, mps, err))
	}
	if added := newItems(before.Links, links()); len(added) > 0 {
		left = append(left, fmt.Sprintf("network interfaces: %v", added))
	}
	if added := newItems(before.NetNS, netns()); len(added) > 0 {
		left = append(left, fmt.Sprintf("network namespaces in /run/netns: %v", added))
	}
	for _, f := range ipFamilies {
		after, err := iptablesSave(f.save)
		if err != nil {
			left = append(left, err.Error())
			continue
		}
		if s := undoScript(before.IPTables[f.name], after); s != "" {
			left = append(left, fmt.Sprintf("%s rules and chains (%s):\n%s", f.save, "undo script", s))
		}
	}
	if sets, err := ipsetNames(); err != nil {
		left = append(left, err.Error())
	} else if added := newItems(before.IPSets, sets); len(added) > 0 {
		left = append(left, fmt.Sprintf("ipsets: %v", added))
	}
	if diff := changedSysctls("/proc/sys", before.Sysctls); len(diff) > 0 {
		left = append(left, fmt.Sprintf("sysctls: %v", diff))
	}
	if entries, err := os.ReadDir("/var/lib/cni/results"); err == nil {
		for _, e := range entries {
			if !slices.Contains(before.CNIResults, e.Name()) {
				left = append(left, "CNI result cache: "+e.Name())
			}
		}
	}
	for _, p := range hostPaths {
		if _, err := os.Lstat(p); err == nil && !before.HostPaths[p] {
			left = append(left, "host path created: "+p)
		}
	}
	return left
}

func links() []string {
	entries, _ := os.ReadDir("/sys/class/net")
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func netns() []string {
	entries, _ := os.ReadDir("/run/netns")
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func newItems(before, after []string) []string {
	var added []string
	for _, a := range after {
		if !slices.Contains(before, a) {
			added = append(added, a)
		}
	}
	return added
}
