#!/usr/bin/env bash
# make drift: tools/drift built once and run directly, since `go run` turns every non-zero exit
# into 1 and a scheduler needs the drift check's own codes (0 in sync, 3 drift, 4 could not
# check; tools/drift/main.go). make itself exits 2 on any of them and prints the code
# ("Error 3"); call this script where the code matters (.github/workflows/drift.yml does).
#
# usage: scripts/drift.sh [-stack STACK]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
mkdir -p .cache/bin
go build -o .cache/bin/drift ./tools/drift
exec .cache/bin/drift -dir "$root" "$@"
