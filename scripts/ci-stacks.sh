#!/usr/bin/env bash
# The stacks a CI job fans out over, as a JSON list in the step output `stacks` (for a matrix):
# the long-lived stacks of the stack files (review stacks are never listed), each after its source.
#
#   scripts/ci-stacks.sh                 every long-lived stack (deploys, drift)
#   scripts/ci-stacks.sh BASE HEAD       those the commits BASE...HEAD affect (pull request previews;
#                                        release.Affected says which)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
out=${GITHUB_OUTPUT:-/dev/stdout}
if [ $# -eq 2 ]; then
	stacks=$(git diff --name-only "$1...$2" | go run ./tools/release stacks -json -long-lived -affected)
elif [ $# -eq 0 ]; then
	stacks=$(go run ./tools/release stacks -json -long-lived)
else
	echo "usage: scripts/ci-stacks.sh [BASE HEAD]" >&2
	exit 2
fi
echo "stacks=$stacks" >>"$out"
echo "ci-stacks.sh: $stacks" >&2
