#!/usr/bin/env bash
# A CI job's setup before it reaches a stack (GitHub Actions, or any CI that provides the same
# variables): what the wrapper's no-account defaults would get wrong on a runner, from the job's
# secrets and variables, written to $GITHUB_ENV for the job's later steps.
#
#   scripts/ci-setup.sh              state backend, cluster, Docker engine
#   scripts/ci-setup.sh login STACK  the registry login on the runner's copy of STACK's config
#
#   state     PULUMI_BACKEND_URL, or Pulumi Cloud when only PULUMI_ACCESS_TOKEN is set; never a
#             folder on the runner, whose state would be lost when the job ends
#   cluster   KUBECONFIG_CONTENT (the KUBECONFIG secret) in $RUNNER_TEMP/kubeconfig, mode 600
#   engine    the runner's own Docker engine when it has one (JOBS_RUNNER_DOCKER_SOCK)
#   registry  REGISTRY_USERNAME and REGISTRY_PASSWORD (secrets), or neither for no login
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
die() {
	echo "::error::ci-setup.sh: $*" >&2
	exit 1
}
env_file=${GITHUB_ENV:-}
[ -n "$env_file" ] || die "GITHUB_ENV is unset: this runs in a CI job, where it names the file later steps read their environment from"

if [ "${1:-}" = login ]; then
	stack=${2:-}
	[ -n "$stack" ] || die "usage: scripts/ci-setup.sh login STACK"
	if [ -z "${REGISTRY_USERNAME:-}" ]; then
		echo "ci-setup.sh: no REGISTRY_USERNAME secret: stack $stack uses its registry without a login"
		exit 0
	fi
	[ -n "${REGISTRY_PASSWORD:-}" ] || die "secret REGISTRY_USERNAME is set but REGISTRY_PASSWORD is empty: set both, or neither for a registry without a login"
	scripts/pulumi-env.sh pulumi stack select --create "$stack" --non-interactive >/dev/null
	scripts/pulumi-env.sh pulumi config set registryUsername "$REGISTRY_USERNAME" -s "$stack"
	printf '%s' "$REGISTRY_PASSWORD" | scripts/pulumi-env.sh pulumi config set --secret registryPassword -s "$stack"
	echo "ci-setup.sh: stack $stack logs in to its registry as $REGISTRY_USERNAME"
	exit 0
fi
[ $# -eq 0 ] || die "usage: scripts/ci-setup.sh [login STACK]"

backend=${PULUMI_BACKEND_URL:-}
if [ -z "$backend" ] && [ -n "${PULUMI_ACCESS_TOKEN:-}" ]; then
	backend=https://api.pulumi.com
fi
case "$backend" in
"") die "no state backend: set the repository variable PULUMI_BACKEND_URL (s3://..., gs://..., azblob://...) or the secret PULUMI_ACCESS_TOKEN for Pulumi Cloud; state on the runner would be lost when the job ends" ;;
file://*) die "PULUMI_BACKEND_URL=$backend is a folder on the runner, lost when the job ends: use a shared backend (s3://..., Pulumi Cloud)" ;;
esac
echo "PULUMI_BACKEND_URL=$backend" >>"$env_file"

[ -n "${KUBECONFIG_CONTENT:-}" ] || die "secret KUBECONFIG is empty: add the cluster's kubeconfig as a secret of the stack's GitHub environment or of the repository"
dir=${RUNNER_TEMP:-}
[ -n "$dir" ] || die "RUNNER_TEMP is unset: it names the job's own temporary folder"
(
	umask 077
	printf '%s\n' "$KUBECONFIG_CONTENT" >"$dir/kubeconfig"
)
echo "KUBECONFIG=$dir/kubeconfig" >>"$env_file"

sock=${JOBS_RUNNER_DOCKER_SOCK:-/var/run/docker.sock}
if [ -z "${DOCKER_HOST:-}" ] && [ -S "$sock" ]; then
	echo "DOCKER_HOST=unix://$sock" >>"$env_file"
fi
echo "ci-setup.sh: state in $backend, cluster from the KUBECONFIG secret"
