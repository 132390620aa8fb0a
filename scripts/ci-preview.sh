#!/usr/bin/env bash
# CI's preview of one stack for a pull request: make preview STACK=..., its result posted as the
# stack's one comment on the pull request (scripts/pr-comment.sh), and the preview's own status.
#
# usage: scripts/ci-preview.sh STACK PR
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
stack=${1:?usage: scripts/ci-preview.sh STACK PR}
pr=${2:?usage: scripts/ci-preview.sh STACK PR}
out=$(mktemp)
trap 'rm -f "$out" "$out.md"' EXIT
status=0
make --no-print-directory preview STACK="$stack" >"$out" 2>&1 || status=$?
result="succeeded"
[ "$status" -eq 0 ] || result="FAILED (exit $status): merging this would break stack $stack's deploy"
{
	printf '### pulumi preview of stack %s: %s\n\n<details open><summary>diff</summary>\n\n```\n' "$stack" "$result"
	# Colour codes make the comment unreadable.
	sed 's/\x1b\[[0-9;]*m//g' "$out"
	printf '```\n</details>\n'
} >"$out.md"
cat "$out"
scripts/pr-comment.sh "preview:$stack" "$pr" "$out.md"
exit "$status"
