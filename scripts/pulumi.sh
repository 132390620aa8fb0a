#!/usr/bin/env bash
# Runs one pulumi command against a stack with the project's embedded defaults, so the whole
# workflow runs on one machine with no account. Anything already set in the environment wins.
#   state, cluster   scripts/pulumi-env.sh: KUBECONFIG unset means the local cluster, started
#                    here for preview, up and refresh (localcluster; minutes the first time)
#   engine           DOCKER_HOST unset: the project's private Docker engine (scripts/dockerd.sh)
#                    with its locally made base images (scripts/base-image.sh)
#   registry         jobs:registry on localhost:5000: Debian's docker-registry on loopback
#   Redis            jobs:redisImage on localhost:5000: Debian's redis-server (scripts/redis-image.sh)
#   password         jobs:redisPassword generated on the stack's first preview or up
#   secrets          the empty passphrase on the local cluster only (scripts/pulumi-env.sh)
#
# drift is the refresh-preview tools/drift reads (make drift): `pulumi preview --refresh --json` of
# a deployed stack, which changes nothing: no cluster started, no stack created, no password made.
#
# usage: scripts/pulumi.sh preview|up|refresh|destroy|output|drift STACK [pulumi flags...]
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
verb=${1:-}
stack=${2:-}
[ $# -ge 2 ] && shift 2

case "$verb" in
preview | up | refresh | destroy | output | drift) ;;
*)
	echo "usage: scripts/pulumi.sh preview|up|refresh|destroy|output|drift STACK" >&2
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
  scripts/install-deps.sh pulumi           # the engine this project pins, with its plugins
  curl -fsSL https://get.pulumi.com | sh   # or Pulumi's installer (https://www.pulumi.com/docs/iac/download-install/)
MSG
	exit 127
fi

# shellcheck source=scripts/pulumi-env.sh
source "$root/scripts/pulumi-env.sh"
cd "$root"
jobs_check_secrets "$root/Pulumi.$stack.yaml" || exit 2

# Reading outputs needs neither a cluster nor a new stack.
if [ "$verb" = output ]; then
	exec pulumi stack output -s "$stack" "$@"
fi

start_cluster=""
if [ -n "${JOBS_LOCAL_CLUSTER:-}" ] && [ ! -f "$KUBECONFIG" ]; then
	if [ "$verb" = destroy ] || [ "$verb" = drift ]; then
		echo "no local cluster runs, so stack $stack has nothing deployed on it (make down removed its state with it)" >&2
		exit 2
	fi
	start_cluster=1
fi

# The file backend keeps a stack at .pulumi/stacks/<project>/<stack>.json: when it is there, the
# second or so of `pulumi stack select` is skipped (every command below names its stack).
case "${PULUMI_BACKEND_URL:-}" in
file://*) state_file=${PULUMI_BACKEND_URL#file://}/.pulumi/stacks/jobs/$stack.json ;;
*) state_file="" ;;
esac
if [ -z "$state_file" ] || [ ! -f "$state_file" ]; then
	if [ "$verb" = drift ]; then
		# Drift compares what is deployed: a stack without state has nothing, and none is created.
		if ! pulumi stack select "$stack" --non-interactive >/dev/null; then
			echo "stack $stack has no state in $PULUMI_BACKEND_URL: nothing is deployed to compare (make up STACK=$stack)" >&2
			exit 2
		fi
	else
		pulumi stack select --create "$stack" --non-interactive >/dev/null
	fi
fi

# A password is in the stack file once generated (encrypted); only a stack without one asks pulumi.
if [ "$verb" != destroy ] && [ "$verb" != drift ] && ! grep -q '^[[:space:]]*jobs:redisPassword:' "Pulumi.$stack.yaml"; then
	if ! pulumi config get redisPassword -s "$stack" >/dev/null 2>&1; then
		echo "jobs:redisPassword is not set for $stack: generating one (stored encrypted in Pulumi.$stack.yaml; commit it)" >&2
		head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' | pulumi config set --secret redisPassword -s "$stack"
	fi
fi

# prepare_engine: what every verb but output needs besides the cluster, each only where the stack
# uses the local default: the private Docker engine (refresh and destroy too: they configure the
# docker provider of the stack's images, whose Configure fails without one) with, for a build,
# its base images; the loopback registry; and for up the local Redis image. Every step is a
# quick check once done.
prepare_engine() {
	if [ -z "${DOCKER_HOST:-}" ]; then
		# An assignment of its own, so a failed start stops here instead of exporting nothing.
		local docker_host
		docker_host=$("$root/scripts/dockerd.sh" start)
		export DOCKER_HOST="${docker_host#DOCKER_HOST=}"
		if [ "$verb" = preview ] || [ "$verb" = up ]; then
			"$root/scripts/base-image.sh"
		fi
	fi
	local registry redis_image
	registry=$(pulumi config get registry -s "$stack" 2>/dev/null || true)
	case "$registry" in
	localhost:5000* | 127.0.0.1:5000*) "$root/scripts/local-registry.sh" start ;;
	esac
	redis_image=$(pulumi config get redisImage -s "$stack" 2>/dev/null || true)
	case "$redis_image" in
	localhost:5000/* | 127.0.0.1:5000/*)
		"$root/scripts/local-registry.sh" start
		if [ "$verb" = up ]; then
			"$root/scripts/redis-image.sh" "$redis_image"
		fi
		;;
	esac
}

# prebuild_program: the engine's first run compiles the program (minutes cold). Built beforehand
# where Pulumi.yaml's runtime.options.buildTarget points, with the flags the Go language host uses,
# its own `go build` then finds the binary current. Any other outcome only means it builds again.
prebuild_program() {
	local target
	target=$(sed -n 's/^[[:space:]]*buildTarget:[[:space:]]*//p' "$root/Pulumi.yaml")
	[ -n "$target" ] || return 0
	echo "pulumi.sh: compiling the program into $target beside the cluster's start" >&2
	go build -buildvcs=false -o "$target" -trimpath -ldflags "-w -s" || true
}

# prebuild_kubectl: make up's verification (tools/verify) runs kubectl; with none installed it uses
# the local cluster's, built on first use, which would otherwise wait until the first stack is up.
prebuild_kubectl() {
	[ -z "${KUBECTL:-}" ] && ! command -v kubectl >/dev/null 2>&1 || return 0
	(cd "$root/localcluster" && CGO_ENABLED=0 go run ./cmd/cluster kubectl >/dev/null) || true
}

start_local_cluster() {
	echo "KUBECONFIG is unset: starting the local cluster (localcluster; export KUBECONFIG for a cluster of yours)" >&2
	# CGO_ENABLED=0 as the cluster's programs are built, so what they share compiles once (Makefile).
	(cd "$root/localcluster" && CGO_ENABLED=0 go run ./cmd/cluster up >/dev/null)
}

if [ "$verb" = preview ] || [ "$verb" = up ]; then
	if [ -n "$start_cluster" ]; then
		# The cluster's first start compiles for minutes; the engine's preparation waits mostly on
		# the network (debootstrap) and on single-threaded steps, so it runs beside it.
		prepare_engine &
		prepare=$!
		prebuild_program &
		prebuild=$!
		# A failed start still waits for the others, so nothing outlives the command.
		start_local_cluster || { status=$?; wait "$prepare" "$prebuild" || true; exit "$status"; }
		wait "$prebuild"
		# Started once the cluster's binaries are built (so it builds kubectl alone) and left to run
		# beside this stack's deploy: the launcher's own build waits for it through the build lock.
		prebuild_kubectl &
		wait "$prepare" || { echo "preparing the Docker engine, base images or registry failed (see above)" >&2; exit 1; }
	fi
	prepare_engine
else
	if [ -n "$start_cluster" ]; then
		start_local_cluster
	fi
	prepare_engine
fi

if [ "$verb" = drift ]; then
	exec pulumi preview -s "$stack" --refresh --json "$@"
fi
exec pulumi "$verb" -s "$stack" "$@"
