package release

import (
	"strconv"
	"strings"
)

// The stack settings that say where a stack's API is reached: a NodePort of the cluster whose
// NodePorts answer at the node host.
const (
	nodePortKey = "jobs:nodePort"
	nodeHostKey = "jobs:nodeHost"
)

// NodePortHolders are the other stacks of the project whose stack files fix the same NodePort
// at the same node host, sorted. A cluster has each NodePort once, so two such stacks cannot
// both run. Stacks whose NodePorts answer at different node hosts are taken to run on different
// clusters, which may each have the port. A stack file without a fixed port (one the cluster
// assigns, or an invalid one its own preview reports) holds none.
func (t Topology) NodePortHolders(stack, host string, port int) []string {
	var out []string
	for _, other := range t.Stacks {
		f, ok := t.files[other]
		if other == stack || !ok {
			continue
		}
		p, err := f.Setting(nodePortKey)
		if err != nil {
			continue
		}
		n, err := strconv.Atoi(strings.TrimSpace(p))
		if err != nil || n != port {
			continue
		}
		if h, err := f.Setting(nodeHostKey); err == nil && strings.EqualFold(strings.TrimSpace(h), host) {
			out = append(out, other)
		}
	}
	return out
}

// File is a stack's stack file as read with the topology.
func (t Topology) File(stack string) (StackFile, bool) {
	f, ok := t.files[stack]
	return f, ok
}
