// Command coredns is CoreDNS with only the plugins the local cluster's DNS
// needs: cluster.local answers from the API server, health and readiness
// endpoints, and a cache. Every other plugin (cloud DNS providers, forward to
// upstream resolvers the sandbox cannot reach, DNSSEC, ...) is left out, which
// keeps the build small and makes out-of-cluster names fail at once instead of
// timing out on an unreachable resolver.
package main

import (
	"github.com/coredns/coredns/core/dnsserver"
	"github.com/coredns/coredns/coremain"

	_ "github.com/coredns/coredns/plugin/bind"
	_ "github.com/coredns/coredns/plugin/cache"
	_ "github.com/coredns/coredns/plugin/errors"
	_ "github.com/coredns/coredns/plugin/health"
	_ "github.com/coredns/coredns/plugin/kubernetes"
	_ "github.com/coredns/coredns/plugin/ready"
)

func init() {
	// The Corefile may name only these, in this order of execution; CoreDNS's
	// own main takes the full list from plugin.cfg instead.
	dnsserver.Directives = []string{"bind", "ready", "health", "errors", "cache", "kubernetes"}
}

func main() { coremain.Run() }
