package controlplane

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// sysctlFiles are the host settings the node's components change, relative
// to /proc/sys: the kubelet's kernel tunables (it insists on
// kernel.panic_on_oops=1 and kernel.panic=10, which would turn any kernel oops
// into a reboot of the whole machine, so they must not outlive the run),
// forwarding that the bridge plugin enables, and what kube-proxy sets.
var sysctlFiles = []string{
	"kernel/panic",
	"kernel/panic_on_oops",
	"kernel/keys/root_maxkeys",
	"kernel/keys/root_maxbytes",
	"vm/overcommit_memory",
	"vm/panic_on_oom",
	"net/ipv4/ip_forward",
	"net/ipv6/conf/all/forwarding",
	"net/ipv6/conf/default/forwarding",
	"net/nf_conntrack_max",
}

// sysctlDirs are read whole: kube-proxy sets route_localnet under conf/all,
// conntrack limits and timeouts live under netfilter, and bridge-nf-call-*
// under bridge. Unreadable or write-only entries are skipped.
var sysctlDirs = []string{
	"net/ipv4/conf/all",
	"net/ipv4/conf/default",
	"net/netfilter",
	"net/bridge",
}

// snapshotSysctls reads every setting above that exists under root
// (normally /proc/sys).
func snapshotSysctls(root string) (map[string]string, error) {
	got := map[string]string{}
	read := func(rel string) {
		info, err := os.Stat(filepath.Join(root, rel))
		if err != nil || info.IsDir() || info.Mode().Perm()&0o200 == 0 {
			return
		}
		b, err := os.ReadFile(filepath.Join(root, rel))
		if err != nil {
			return
		}
		got[rel] = strings.TrimSpace(string(b))
	}
	for _, f := range sysctlFiles {
		read(f)
	}
	for _, d := range sysctlDirs {
		entries, err := os.ReadDir(filepath.Join(root, d))
		if err != nil {
			continue
		}
		for _, e := range entries {
			read(filepath.Join(d, e.Name()))
		}
	}
	if len(got) == 0 {
		return nil, fmt.Errorf("read no sysctl under %s", root)
	}
	return got, nil
}

// restoreSysctls writes back every setting whose value differs from before.
// When started (the values once the node was up) is known, a setting is put
// back only if it still has its started value: one that changed since was
// changed by someone else (another engine starting meanwhile) and is theirs.
// ip_forward goes first: writing it resets the per-interface forwarding
// flags, which are then compared afresh.
func restoreSysctls(root string, before, started map[string]string) error {
	var errs []error
	keys := slices.Sorted(func(yield func(string) bool) {
		for k := range before {
			if !yield(k) {
				return
			}
		}
	})
	slices.SortStableFunc(keys, func(a, b string) int {
		switch {
		case a == "net/ipv4/ip_forward":
			return -1
		case b == "net/ipv4/ip_forward":
			return 1
		}
		return 0
	})
	for _, k := range keys {
		p := filepath.Join(root, k)
		b, err := os.ReadFile(p)
		if errors.Is(err, os.ErrNotExist) {
			continue // its module or interface is gone, and its value with it
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		cur := strings.TrimSpace(string(b))
		if cur == before[k] {
			continue
		}
		if v, ok := started[k]; started != nil && (!ok || v != cur) {
			continue
		}
		if err := os.WriteFile(p, []byte(before[k]), 0o644); err != nil {
			errs = append(errs, fmt.Errorf("restore sysctl %s=%s: %w", k, before[k], err))
		}
	}
	return errors.Join(errs...)
}

// changedSysctls lists the settings whose value now differs from before.
func changedSysctls(root string, before map[string]string) []string {
	now, _ := snapshotSysctls(root)
	var diff []string
	for k, v := range before {
		if cur, ok := now[k]; ok && cur != v {
			diff = append(diff, fmt.Sprintf("%s: %s -> %s", k, v, cur))
		}
	}
	slices.Sort(diff)
	return diff
}

func saveJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o600)
}

func loadJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}
