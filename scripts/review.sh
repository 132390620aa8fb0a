#!/usr/bin/env bash
# make review / make review-down: a pull request's short-lived review stack (docs/review.md).
#
#   scripts/review.sh up PR     write Pulumi.pr-<PR>.yaml (test's settings, review.yaml's, its own
#                               version; tools/release review) and deploy it with scripts/pulumi.sh
#   scripts/review.sh down PR   destroy it, remove the stack and its state, and its stack file
#   scripts/review.sh prepare PR   only write (or restore and rewrite) the stack file: CI sets the
#                               registry login on it (scripts/ci-setup.sh login) before up
#
# Like every target, it runs in a plain shell: scripts/pulumi.sh and scripts/pulumi-env.sh find
# the cluster, the state, the Docker engine and the registry.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
say() { echo "review: $*" >&2; }

verb=${1:-}
pr=${2:-}
case "$verb" in
up | down | prepare) ;;
*)
	echo "usage: scripts/review.sh up|down|prepare PR (make review PR=7, make review-down PR=7)" >&2
	exit 2
	;;
esac
# Refuses a bad number (naming it and the rule) before anything runs.
stack=$(go run ./tools/release review -pr "$pr" -name-only)
file=Pulumi.$stack.yaml

# has_stack: the state backend holds the stack.
has_stack() { scripts/pulumi-env.sh pulumi stack select "$stack" --non-interactive >/dev/null 2>&1; }

# A fresh checkout (CI, another machine) has no stack file of a stack deployed before: pulumi
# config refresh writes back the config of its last update, with the Redis password it generated,
# so a later push neither rotates the password nor loses settings made with pulumi config set.
restore_file() {
	if [ ! -f "$file" ] && has_stack; then
		say "restoring $file from the last update of stack $stack"
		scripts/pulumi-env.sh pulumi config refresh -s "$stack" --force >/dev/null
	fi
}

if [ "$verb" = prepare ]; then
	restore_file
	go run ./tools/release review -pr "$pr"
	exit 0
fi
if [ "$verb" = up ]; then
	restore_file
	go run ./tools/release review -pr "$pr" >/dev/null
	scripts/pulumi.sh up "$stack" --yes --suppress-progress
	url=$(scripts/pulumi.sh output "$stack" url)
	version=$(scripts/pulumi.sh output "$stack" version)
	say "stack $stack runs version $version at $url (make review-down PR=$pr removes it)"
	echo "$url"
	exit 0
fi

# The local cluster's state goes with it at make down, so with no local cluster there is no stack.
if has_stack; then
	restore_file
	scripts/pulumi.sh destroy "$stack" --yes --suppress-progress
	# Removes the stack and its state from the backend; it refuses while the state still holds
	# resources, so a failed destroy never orphans them.
	scripts/pulumi-env.sh pulumi stack rm "$stack" --yes >/dev/null
	# A file backend (the local cluster's) still keeps the removed stack's history, backups, lock
	# folder and a .bak of its state; a review leaves nothing, so they go too. Pulumi Cloud and
	# bucket backends keep history by their own retention (docs/review.md).
	# shellcheck disable=SC2016 # expanded by the inner bash, after pulumi-env.sh has set it
	backend=$(scripts/pulumi-env.sh bash -c 'printf %s "$PULUMI_BACKEND_URL"')
	if [[ $backend == file://* ]]; then
		state=${backend#file://}/.pulumi
		project=$(sed -n 's/^name: *//p' Pulumi.yaml)
		rm -rf "$state/backups/$project/$stack" "$state/history/$project/$stack" \
			"$state"/locks/*/"$project/$stack" "$state/stacks/$project/$stack.json".*
	fi
	say "stack $stack destroyed and removed from the state backend"
else
	say "the state backend has no stack $stack: nothing to destroy"
fi
rm -f "$file"
