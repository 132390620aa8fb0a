#!/usr/bin/env bash
# Lints every GitHub Actions workflow with a pinned actionlint and checks that every third-party
# action is pinned to a full commit SHA with a version comment. Exits non-zero on any finding.
#
# actionlint is built once from the Go module proxy into .cache/ (git-ignored), so the check
# needs no download beyond Go modules and gives the same answer on every machine. actionlint
# checks the shell of every run: step with shellcheck, which must be on PATH
# (scripts/install-deps.sh shellcheck; make lint installs it).
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

# Every run: step is shell that decides something (it calls the project's scripts), so it is
# checked like the scripts: without shellcheck this fails instead of passing half a check.
if ! command -v shellcheck >/dev/null 2>&1; then
	echo "actionlint.sh: shellcheck is not installed, and actionlint checks every run: step with it: scripts/install-deps.sh shellcheck (make lint does)" >&2
	exit 2
fi
echo "actionlint.sh: checking run: steps with $(shellcheck --version | sed -n 's/^version: /shellcheck /p')" >&2

# actionlint knows the inputs of popular actions by their major tag (actions/checkout@v5), so a
# SHA-pinned step had its inputs checked against nothing: a misspelled input passed, and GitHub
# only warns about it at run time. Each file is checked as a copy whose pins read as the major
# tag of their version comment (@<sha> # v5.0.0 -> @v5), on the same lines; local reusable
# workflows resolve against copies of .github/workflows made the same way.
unpin='s/@[0-9a-f]{40}([[:space:]]+#[[:space:]]*)(v[0-9]+)([.][0-9A-Za-z.-]*)?/@\2\1\2\3/'
copy=$(mktemp -d)
trap 'rm -rf "$copy"' EXIT
mkdir -p "$copy/.github/workflows"
for f in .github/workflows/*.yml .github/workflows/*.yaml; do
	[ -f "$f" ] && sed -E "$unpin" "$f" >"$copy/$f"
done
rel=()
for f in "${files[@]}"; do
	r=${f#"$root"/}
	r=${r#/}
	mkdir -p "$copy/$(dirname "$r")"
	sed -E "$unpin" "$f" >"$copy/$r"
	rel+=("$r")
done
status=0
(cd "$copy" && "$actionlint" "${rel[@]}") || status=1

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
