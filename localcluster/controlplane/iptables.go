package controlplane

import (
	"bytes"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"slices"
	"strings"
)

// ipFamilies are the iptables front ends of both address families:
// kube-proxy programs IPv6 too whenever the kernel supports it.
var ipFamilies = []struct{ name, save, restore string }{
	{"v4", "iptables-save", "iptables-restore"},
	{"v6", "ip6tables-save", "ip6tables-restore"},
}

func iptablesSave(bin string) (string, error) {
	out, err := exec.Command(bin).Output()
	if err != nil {
		var stderr string
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		return "", fmt.Errorf("%s: %w %s (Debian: apt-get install -y iptables)", bin, err, stderr)
	}
	return string(out), nil
}

// ruleset is one iptables-save dump: per table, its chains and rules.
type ruleset map[string]*table

type table struct {
	chains []string
	// builtin are the chains with a policy (PREROUTING, FORWARD, ...):
	// they exist as long as the table does and are never deleted.
	builtin map[string]bool
	rules   []string // "-A CHAIN ..." lines, in order
}

func parseRules(dump string) ruleset {
	rs := ruleset{}
	var cur *table
	for _, line := range strings.Split(dump, "\n") {
		line = strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(line, "*"):
			cur = &table{builtin: map[string]bool{}}
			rs[line[1:]] = cur
		case cur == nil || line == "" || strings.HasPrefix(line, "#") || line == "COMMIT":
		case strings.HasPrefix(line, ":"):
			f := strings.Fields(line[1:])
			cur.chains = append(cur.chains, f[0])
			if len(f) > 1 && f[1] != "-" {
				cur.builtin[f[0]] = true
			}
		case strings.HasPrefix(line, "-A "):
			cur.rules = append(cur.rules, line)
		}
	}
	return rs
}

// undoScript is the iptables-restore --noflush input that takes after back
// to before: rules added to chains that existed before are deleted one by
// one, chains that did not exist are flushed and then deleted. Rules and
// chains that were there before the run are never touched.
func undoScript(before, after string) string {
	b, a := parseRules(before), parseRules(after)
	var out strings.Builder
	for _, name := range sortedKeys(a) {
		at := a[name]
		old := map[string]bool{}
		oldRules := map[string]int{}
		if bt, ok := b[name]; ok {
			for _, c := range bt.chains {
				old[c] = true
			}
			for _, r := range bt.rules {
				oldRules[r]++
			}
		}
		var newChains []string
		for _, c := range at.chains {
			if at.builtin[c] {
				old[c] = true
			} else if !old[c] {
				newChains = append(newChains, c)
			}
		}
		var lines []string
		for _, r := range at.rules {
			if oldRules[r] > 0 {
				oldRules[r]--
				continue
			}
			chain := strings.Fields(r)[1]
			if old[chain] {
				lines = append(lines, "-D"+strings.TrimPrefix(r, "-A"))
			}
		}
		for _, c := range newChains {
			lines = append(lines, "-F "+c)
		}
		for _, c := range newChains {
			lines = append(lines, "-X "+c)
		}
		if len(lines) == 0 {
			continue
		}
		fmt.Fprintf(&out, "*%s\n%s\nCOMMIT\n", name, strings.Join(lines, "\n"))
	}
	return out.String()
}

func sortedKeys(rs ruleset) []string { return slices.Sorted(maps.Keys(rs)) }

// snapshotIPTables records both families' rules in the node directory.
func snapshotIPTables(nodeDir string) error {
	for _, f := range ipFamilies {
		dump, err := iptablesSave(f.save)
		if err != nil {
			return err
		}
		if err := os.WriteFile(nodeDir+"/iptables-"+f.name+".before", []byte(dump), 0o600); err != nil {
			return err
		}
	}
	return nil
}

// restoreIPTables removes what the run added to either family since the
// snapshot. Without a snapshot (the run never got that far) it does nothing.
func restoreIPTables(nodeDir string) error {
	for _, f := range ipFamilies {
		before, err := os.ReadFile(nodeDir + "/iptables-" + f.name + ".before")
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			return err
		}
		after, err := iptablesSave(f.save)
		if err != nil {
			return err
		}
		script := undoScript(string(before), after)
		if script == "" {
			continue
		}
		cmd := exec.Command(f.restore, "--noflush")
		cmd.Stdin = strings.NewReader(script)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("%s --noflush: %w: %s\ninput:\n%s", f.restore, err, stderr.String(), script)
		}
	}
	return nil
}

// iptablesLeftovers describes what either family still has beyond the
// snapshot; empty means the host is as it was.
func iptablesLeftovers(nodeDir string) ([]string, error) {
	var left []string
	for _, f := range ipFamilies {
		before, err := os.ReadFile(nodeDir + "/iptables-" + f.name + ".before")
		if err != nil {
			return nil, err
		}
		after, err := iptablesSave(f.save)
		if err != nil {
			return nil, err
		}
		if s := undoScript(string(before), after); s != "" {
			left = append(left, f.name+":\n"+s)
		}
	}
	return left, nil
}
