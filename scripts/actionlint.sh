#!/usr/bin/env bash
# Lints every GitHub Actions workflow with a pinned actionlint and checks that every third-party
# action is pinned to a full commit SHA with a version comment. Exits non-zero on any finding.
#
# actionlint is built once from the Go module proxy into .cache/ (git-ignored), so the check
# needs no download beyond Go modules and gives the same answer on every machine. If shellcheck
# is on PATH (apt-get install shellcheck), actionlint also checks the shell of every run: step;
# without it those checks are skipped, and the script says so.
#
# usage: scripts/actionlint.sh [workflow files...]   (default: .github/workflows/*.yml *.yaml)
set -euo pipefail

# Bump deliberately: a new actionlint can add rules and fail a previously clean tree.
version=v1.7.12

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

bin_dir="$root/.cache/actionlint/$version"
actionlint="$bin_dir/actionlint"
if [ ! -x "$actionlint" ]; then
	if ! command -v go >/dev/null 2>&1; then
		echo "actionlint.sh: go is not on PATH: install Go (see go.mod for the version) to build actionlint" >&2
		exit 2
	fi
	echo "actionlint.sh: building actionlint $version into ${bin_dir#"$root"/}" >&2
	mkdir -p "$bin_dir"
	GOBIN="$bin_dir" go install "github.com/rhysd/actionlint/cmd/actionlint@$version"
fi

if [ $# -gt 0 ]; then
	files=("$@")
else
	shopt -s nullglob
	files=(.github/workflows/*.yml .github/workflows/*.yaml)
	shopt -u nullglob
fi
if [ ${#files[@]} -eq 0 ]; then
	echo "actionlint.sh: no workflow files under .github/workflows: nothing to check is a mistake here, the workflows must exist" >&2
	exit 1
fi

shellcheck_flag=()
if command -v shellcheck >/dev/null 2>&1; then
	echo "actionlint.sh: checking run: steps with $(shellcheck --version | sed -n 's/^version: /shellcheck /p')" >&2
else
	# An empty -shellcheck disables the integration explicitly instead of silently.
	shellcheck_flag=(-shellcheck=)
	echo "actionlint.sh: shellcheck is not installed, so run: steps are not checked (apt-get install shellcheck)" >&2
fi

status=0
"$actionlint" "${shellcheck_flag[@]}" "${files[@]}" || status=1

# Tags can be moved to other code after review; a full SHA cannot. The trailing comment keeps the
# human-readable version visible in review. Local actions (./...) and docker:// images are exempt.
pin='^[[:space:]]*(-[[:space:]]+)?uses:[[:space:]]*[^./][^@[:space:]]*@[0-9a-f]{40}[[:space:]]+#[[:space:]]*v[0-9]'
while IFS= read -r hit; do
	file=${hit%%:*}
	rest=${hit#*:}
	lineno=${rest%%:*}
	text=${rest#*:}
	if grep -Eq 'uses:[[:space:]]*["'\'']?(\./|docker://)' <<<"$text"; then
		continue
	fi
	if ! grep -Eq "$pin" <<<"$text"; then
		echo "$file:$lineno: action not pinned to a full commit SHA with a version comment (want: uses: owner/repo@<40-hex sha> # vX.Y.Z):$text" >&2
		status=1
	fi
done < <(grep -EnH '^[[:space:]]*(-[[:space:]]+)?uses:' "${files[@]}" || true)

if [ "$status" -eq 0 ]; then
	echo "actionlint.sh: ${#files[@]} workflow file(s) clean" >&2
fi
exit "$status"
