#!/usr/bin/env bash
# Posts FILE as the comment of KEY on pull request PR, editing that comment in place when an
# earlier run posted it, so a pull request has one comment per stack however often it is pushed.
# The comment starts with a hidden marker <!-- jobs:KEY --> by which it is found again.
#
# usage: scripts/pr-comment.sh KEY PR FILE     (gh with GH_TOKEN, GITHUB_REPOSITORY=owner/name)
set -euo pipefail
key=${1:-}
pr=${2:-}
file=${3:-}
if ! [[ $key =~ ^[a-z0-9][a-z0-9:-]*$ ]] || ! [[ $pr =~ ^[1-9][0-9]*$ ]] || [ ! -f "$file" ]; then
	echo "usage: scripts/pr-comment.sh KEY PR FILE (KEY like preview:test, PR a pull request number, FILE the body)" >&2
	exit 2
fi
repo=${GITHUB_REPOSITORY:?GITHUB_REPOSITORY=owner/name is unset}
marker="<!-- jobs:$key -->"
# GitHub refuses a comment over 65536 characters: keep the end, where a failure is reported.
body="$marker"$'\n'"$(tail -c 60000 "$file")"
id=$(gh api "repos/$repo/issues/$pr/comments" --paginate \
	--jq ".[] | select(.body | startswith(\"$marker\")) | .id" | head -n 1)
if [ -n "$id" ]; then
	gh api -X PATCH "repos/$repo/issues/comments/$id" -f body="$body" >/dev/null
	echo "pr-comment.sh: edited comment $id ($key) on pull request $pr"
else
	gh api -X POST "repos/$repo/issues/$pr/comments" -f body="$body" >/dev/null
	echo "pr-comment.sh: posted the $key comment on pull request $pr"
fi
