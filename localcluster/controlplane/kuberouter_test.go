package controlplane

import (
	"strings"
	"testing"
)

func TestKubeRouterHookedNeedsEveryJumpAndTheDefaultChain(t *testing.T) {
	full := `*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:KUBE-NWPLCY-DEFAULT - [0:0]
:KUBE-ROUTER-FORWARD - [0:0]
:KUBE-ROUTER-INPUT - [0:0]
:KUBE-ROUTER-OUTPUT - [0:0]
-A INPUT -m comment --comment "kube-router netpol - 4IA2OSFRMVNDXBVV" -j KUBE-ROUTER-INPUT
-A FORWARD -m comment --comment "kube-router netpol - TEMCG2JMHZYE7H7T" -j KUBE-ROUTER-FORWARD
-A OUTPUT -m comment --comment "kube-router netpol - VEAAIY32XVBHCSCY" -j KUBE-ROUTER-OUTPUT
COMMIT
`
	if !kubeRouterHooked(full) {
		t.Error("a dump with every jump and the default chain is not taken for hooked")
	}
	without := func(line string) string {
		out := ""
		for _, l := range strings.Split(full, "\n") {
			if l != line {
				out += l + "\n"
			}
		}
		return out
	}
	for _, line := range []string{
		`:KUBE-NWPLCY-DEFAULT - [0:0]`,
		`-A INPUT -m comment --comment "kube-router netpol - 4IA2OSFRMVNDXBVV" -j KUBE-ROUTER-INPUT`,
		`-A FORWARD -m comment --comment "kube-router netpol - TEMCG2JMHZYE7H7T" -j KUBE-ROUTER-FORWARD`,
		`-A OUTPUT -m comment --comment "kube-router netpol - VEAAIY32XVBHCSCY" -j KUBE-ROUTER-OUTPUT`,
	} {
		if kubeRouterHooked(without(line)) {
			t.Errorf("hooked without %q", line)
		}
	}
}
