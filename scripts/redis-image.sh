#!/usr/bin/env bash
# Make the local Redis image REF (for example localhost:5000/jobs/redis:7.0.15) in the loopback
# registry, unless it is already there: Debian bookworm's redis-server (localimages/redis), built
# in the engine at $DOCKER_HOST and pushed. The tag must be the version redis-server reports, so
# the version label on the Redis objects is true; a different Debian version fails here, naming it.
#
#   scripts/redis-image.sh localhost:5000/jobs/redis:7.0.15
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ref=${1:-}
die() { echo "redis-image.sh: $*" >&2; exit 1; }

[[ $ref =~ ^(localhost|127\.0\.0\.1):5000/([a-z0-9._/-]+):([A-Za-z0-9._-]+)$ ]] ||
	die "usage: $0 localhost:5000/<repository>:<redis version> (got '$ref')"
path=${BASH_REMATCH[2]} tag=${BASH_REMATCH[3]}

# Present already? The registry answers a manifest HEAD with 200.
if curl -fsS -o /dev/null -I \
	-H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
	-H 'Accept: application/vnd.oci.image.manifest.v1+json' \
	"http://127.0.0.1:5000/v2/$path/manifests/$tag" 2>/dev/null; then
	exit 0
fi
[[ -n ${DOCKER_HOST:-} ]] || die "DOCKER_HOST is not set: run 'export \"\$(scripts/dockerd.sh start)\"' first"
"$repo/scripts/base-image.sh"

echo "redis-image.sh: building $ref from Debian's redis-server" >&2
out=$(DOCKER_BUILDKIT=0 docker build --network=host --quiet --tag "$ref" "$repo/localimages/redis" 2>&1) ||
	die "building $ref failed (it installs Debian's redis-server from the Debian mirror):"$'\n'"$out"
# "Redis server v=7.0.15 sha=00000000:0 malloc=jemalloc-5.3.0 bits=64 build=..."
have=$(docker run --rm --network=host "$ref" redis-server --version | sed -n 's/.*v=\([0-9][0-9.]*\).*/\1/p')
if [[ $have != "$tag" ]]; then
	docker rmi "$ref" >/dev/null 2>&1 || true
	die "Debian's redis-server is $have, not $tag: set jobs:redisImage to ${ref%:*}:$have in the stack files"
fi
out=$(docker push --quiet "$ref" 2>&1) || die "pushing $ref failed:"$'\n'"$out"
echo "redis-image.sh: pushed $ref (Redis $have from Debian bookworm)" >&2
