#!/usr/bin/env bash
# The one place the no-account state defaults live: a file backend inside the project and an empty
# secrets passphrase, each only where the caller has set nothing. Sourced by scripts/pulumi.sh;
# run with a command (`scripts/pulumi-env.sh go run ./tools/release promote`) it runs that command
# with the defaults, so `make promote` reads the state `make up` wrote.
_jobs_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
if [ -z "${PULUMI_BACKEND_URL:-}" ]; then
	mkdir -p "$_jobs_root/.pulumi-state"
	export PULUMI_BACKEND_URL="file://$_jobs_root/.pulumi-state"
fi
# The local file backend encrypts secrets with a passphrase; an empty one is the no-account default.
# Set PULUMI_CONFIG_PASSPHRASE (or use a cloud backend) for anything shared.
export PULUMI_CONFIG_PASSPHRASE="${PULUMI_CONFIG_PASSPHRASE-}"
unset _jobs_root

if [ "${BASH_SOURCE[0]}" = "$0" ] && [ $# -gt 0 ]; then
	exec "$@"
fi
