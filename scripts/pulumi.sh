#!/usr/bin/env bash
# Runs one pulumi command against a stack with the project's embedded defaults, so the whole
# workflow runs on one machine with no account: a file state backend inside the project, the local
# control plane when KUBECONFIG is unset, a loopback registry when the stack points at localhost:5000,
# and a generated Redis password the first time. Anything already set in the environment wins.
#
# usage: scripts/pulumi.sh preview|up|destroy|output STACK [pulumi flags...]
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
verb=${1:-}
stack=${2:-}
[ $# -ge 2 ] && shift 2

case "$verb" in
preview | up | destroy | output) ;;
*)
	echo "usage: scripts/pulumi.sh preview|up|destroy|output STACK" >&2
	exit 2
	;;
esac
# A stack is any environment with a stack file: adding Pulumi.staging.yaml adds a staging stack.
if ! [[ $stack =~ ^[a-z0-9][a-z0-9-]*$ ]] || [ ! -f "$root/Pulumi.$stack.yaml" ]; then
	known=""
	for f in "$root"/Pulumi.*.yaml; do
		f=${f##*/Pulumi.}
		known+=" ${f%.yaml}"
	done
	echo "STACK='$stack' is not a stack of this project (no Pulumi.$stack.yaml): use one of:$known" >&2
	exit 2
fi

if ! command -v pulumi >/dev/null 2>&1; then
	cat >&2 <<'MSG'
The pulumi CLI is not installed. Install it, then run this again:
  curl -fsSL https://get.pulumi.com | sh      # or see https://www.pulumi.com/docs/iac/download-install/
The Go language host and the kubernetes and docker provider plugins are fetched by pulumi itself.
MSG
	exit 127
fi

# shellcheck source=scripts/pulumi-env.sh
source "$root/scripts/pulumi-env.sh"

# Reading outputs needs neither a cluster nor a new stack.
if [ "$verb" = output ]; then
	cd "$root"
	exec pulumi stack output -s "$stack" "$@"
fi

if [ -z "${KUBECONFIG:-}" ]; then
	local_kubeconfig="$root/test/cluster/.run/kubeconfig"
	if [ ! -f "$local_kubeconfig" ]; then
		echo "KUBECONFIG is unset and the local control plane is not running: run 'make cluster-up' first, or export KUBECONFIG for a real cluster" >&2
		exit 2
	fi
	export KUBECONFIG="$local_kubeconfig"
fi

cd "$root"
pulumi stack select --create "$stack" --non-interactive >/dev/null

if [ "$verb" != destroy ]; then
	if ! pulumi config get redisPassword -s "$stack" >/dev/null 2>&1; then
		echo "jobs:redisPassword is not set for $stack: generating one (stored encrypted in Pulumi.$stack.yaml; commit it)" >&2
		head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' | pulumi config set --secret redisPassword -s "$stack"
	fi
	registry=$(pulumi config get registry -s "$stack" 2>/dev/null || true)
	case "$registry" in
	localhost:5000* | 127.0.0.1:5000*) "$root/scripts/local-registry.sh" start ;;
	esac
fi

exec pulumi "$verb" -s "$stack" "$@"
