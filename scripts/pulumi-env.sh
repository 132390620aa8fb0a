#!/usr/bin/env bash
# The one place the no-account defaults of state and cluster live, each only where the caller has
# set nothing. Sourced by scripts/pulumi.sh; run with a command (`scripts/pulumi-env.sh go run
# ./tools/release promote`) it runs that command with them, so `make promote` reads the state
# `make up` wrote.
#   KUBECONFIG unset     the local cluster of localcluster (started by scripts/pulumi.sh when needed);
#                        its state lives in localcluster/.run/pulumi-state and goes with the cluster
#                        at `make down`, so a new local cluster never meets state of an old one
#   KUBECONFIG set       a cluster of yours; state in .pulumi-state/ (git-ignored)
#   passphrase           empty: set PULUMI_CONFIG_PASSPHRASE (or use a cloud backend) for anything shared
_jobs_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
if [ -z "${KUBECONFIG:-}" ]; then
	export KUBECONFIG="$_jobs_root/localcluster/.run/kubeconfig"
	export JOBS_LOCAL_CLUSTER=1
	_jobs_state="$_jobs_root/localcluster/.run/pulumi-state"
else
	_jobs_state="$_jobs_root/.pulumi-state"
fi
if [ -z "${PULUMI_BACKEND_URL:-}" ]; then
	mkdir -p "$_jobs_state"
	export PULUMI_BACKEND_URL="file://$_jobs_state"
fi
export PULUMI_CONFIG_PASSPHRASE="${PULUMI_CONFIG_PASSPHRASE-}"
export PULUMI_SKIP_UPDATE_CHECK="${PULUMI_SKIP_UPDATE_CHECK-true}"
unset _jobs_root _jobs_state

if [ "${BASH_SOURCE[0]}" = "$0" ] && [ $# -gt 0 ]; then
	exec "$@"
fi
