#!/usr/bin/env bash
# The one place the no-account defaults of state and cluster live, each only where the caller has
# set nothing. Sourced by scripts/pulumi.sh; run with a command (`scripts/pulumi-env.sh go run
# ./tools/release promote`) it runs that command with them, so `make promote` reads the state
# `make up` wrote.
#   KUBECONFIG unset     the local cluster of localcluster (started by scripts/pulumi.sh when needed);
#                        its state lives in localcluster/.run/pulumi-state and goes with the cluster
#                        at `make down`, so a new local cluster never meets state of an old one
#   KUBECONFIG set       a cluster of yours; state in .pulumi-state/ (git-ignored)
#   passphrase           empty, for the local cluster only: its secrets never leave this machine.
#                        For any other cluster jobs_check_secrets (used by scripts/pulumi.sh) refuses
#                        to create or read a secret until a passphrase, a secrets provider or Pulumi
#                        Cloud is set: the stack files are committed, and an empty passphrase
#                        protects nothing in them.
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
if [ -n "${JOBS_LOCAL_CLUSTER:-}" ]; then
	export PULUMI_CONFIG_PASSPHRASE="${PULUMI_CONFIG_PASSPHRASE-}"
fi
export PULUMI_SKIP_UPDATE_CHECK="${PULUMI_SKIP_UPDATE_CHECK-true}"
unset _jobs_root _jobs_state

# jobs_check_secrets STACK_FILE: succeeds when the stack's secrets would be encrypted with
# something only its team holds, else says how to set one and fails. The local cluster's stacks
# are exempt (their empty passphrase is the point of make up with no account).
jobs_check_secrets() {
	local file=$1 provider=""
	[ -n "${JOBS_LOCAL_CLUSTER:-}" ] && return 0
	[ -n "${PULUMI_CONFIG_PASSPHRASE:-}" ] && return 0
	[ -n "${PULUMI_CONFIG_PASSPHRASE_FILE:-}" ] && [ -s "$PULUMI_CONFIG_PASSPHRASE_FILE" ] && return 0
	case "${PULUMI_BACKEND_URL:-}" in https://* | http://*) return 0 ;; esac # Pulumi Cloud encrypts
	[ -f "$file" ] && provider=$(sed -n 's/^secretsprovider:[[:space:]]*//p' "$file")
	case "$provider" in "" | passphrase | default) ;; *) return 0 ;; esac
	local stack=${file##*/Pulumi.}
	stack=${stack%.yaml}
	cat >&2 <<MSG
refusing to create or read the secrets of stack $stack (jobs:redisPassword, jobs:registryPassword,
jobs:secretEnv) with an empty passphrase: KUBECONFIG names a cluster other than the local one, and
${file##*/} is committed, so anyone with the repository could decrypt them. Set one of:
  a KMS (what a team should use; access is granted, audited and revoked in the cloud's IAM):
    scripts/pulumi-env.sh pulumi stack init $stack --secrets-provider awskms://alias/jobs-$stack
    (or gcpkms://..., azurekeyvault://..., hashivault://...; an existing stack moves with
    pulumi stack change-secrets-provider)
  a passphrase kept out of the repository: export PULUMI_CONFIG_PASSPHRASE=... (or _FILE=path)
  Pulumi Cloud, which encrypts per stack: export PULUMI_BACKEND_URL=https://api.pulumi.com
MSG
	return 1
}

if [ "${BASH_SOURCE[0]}" = "$0" ] && [ $# -gt 0 ]; then
	exec "$@"
fi
