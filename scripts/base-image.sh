#!/usr/bin/env bash
# Make the base images in the engine at $DOCKER_HOST, without pulling:
#   golang:1.26-bookworm   the build stage of app/Dockerfile
#   debian:bookworm        the local Redis image (localimages/redis)
#
#   export "$(scripts/dockerd.sh start)"; scripts/base-image.sh
#
# No registry is reachable here, so both are assembled from one Debian bookworm minbase rootfs
# (debootstrap, from the mirror and proxy this machine's apt uses, or DEBIAN_MIRROR); the golang
# image adds this machine's Go toolchain and CA bundle. The rootfs tarball is cached under the
# git-ignored /.cache/ and each image carries a label with its recipe (and Go version), so reruns
# are no-ops until those change.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cache=${JOBS_BASE_CACHE:-$repo/.cache/base}
image=golang:1.26-bookworm
goroot=${GOROOT_FOR_IMAGE:-/usr/local/go}
certs=/etc/ssl/certs/ca-certificates.crt

die() { echo "base-image.sh: $*" >&2; exit 1; }

# unmount_under DIR: unmount everything mounted at or below DIR, the deepest first (mountinfo
# lists a mount after the one it sits on). debootstrap mounts the host's /proc and /sys inside the
# rootfs it builds and unmounts them when it ends, but ignores a failed unmount: a process that is
# in the folder at that moment (a `grep -r` over the repository did it here) keeps /proc mounted
# under .cache/, tar then archives the host's /proc and fails, and the cleanup's rm -rf walks into
# it. Only paths under our own mktemp folder are touched.
unmount_under() {
	local mp mounts=() i
	while read -r _ _ _ _ mp _; do
		mp=$(printf '%b' "$mp") # mountinfo escapes a space as \040
		[[ $mp == "$1" || $mp == "$1"/* ]] && mounts+=("$mp")
	done </proc/self/mountinfo
	for ((i = ${#mounts[@]} - 1; i >= 0; i--)); do
		echo "base-image.sh: unmounting ${mounts[i]}, left mounted by debootstrap" >&2
		umount "${mounts[i]}" 2>/dev/null || umount --lazy "${mounts[i]}" ||
			die "could not unmount ${mounts[i]}: unmount it as root, then remove $1"
	done
}

# remove_rootfs DIR: the temporary rootfs folder goes, but never across a mount left inside it.
remove_rootfs() {
	unmount_under "$1"
	rm -rf --one-file-system "$1"
}

[[ -n ${DOCKER_HOST:-} ]] || die "DOCKER_HOST is not set: run 'export \"\$(scripts/dockerd.sh start)\"' first"
command -v docker >/dev/null || die "docker client missing: apt-get install -y docker.io"
[[ -x $goroot/bin/go ]] || die "no Go toolchain at $goroot (set GOROOT_FOR_IMAGE to one)"
goversion=$("$goroot/bin/go" env GOVERSION)
[[ $goversion == go1.26 || $goversion == go1.26.* ]] ||
	die "$goroot holds $goversion but the image is $image: install Go 1.26 or set GOROOT_FOR_IMAGE"
[[ -s $certs ]] || die "no CA bundle at $certs (module downloads need it): apt-get install -y ca-certificates"

# Bump recipe when what goes into an image changes, so existing engines rebuild it.
recipe=2
want="$goversion recipe $recipe"
debian=debian:bookworm
debian_want="bookworm minbase recipe 1"
label() { docker image inspect --format '{{index .Config.Labels "jobs.base"}}' "$1" 2>/dev/null || true; }
if [[ $(label "$image") == "$want" && $(label "$debian") == "$debian_want" ]]; then
	echo "base-image.sh: $image ($goversion) and $debian already present" >&2
	exit 0
fi

rootfs_tar=$cache/bookworm-minbase.tar
if [[ ! -s $rootfs_tar ]]; then
	command -v debootstrap >/dev/null || die "debootstrap missing: apt-get install -y debootstrap"
	# The mirror apt fetches bookworm's packages from (a local mirror or cache here is what the
	# machine can reach), and apt's proxy, unless the caller set either; Debian's own host last.
	mirror=${DEBIAN_MIRROR:-$(apt-get indextargets --no-release-info --format '$(REPO_URI)' \
		'Identifier: Packages' 'Release: bookworm' 2>/dev/null | head -n 1 || true)}
	mirror=${mirror%/}
	mirror=${mirror:-http://deb.debian.org/debian}
	if [[ -z ${http_proxy:-} ]]; then
		eval "$(apt-config shell http_proxy Acquire::http::Proxy 2>/dev/null || true)"
		[[ -n ${http_proxy:-} ]] && export http_proxy
	fi
	[[ $(id -u) == 0 ]] || die "debootstrap must run as root (run this script with sudo or as root)"
	mkdir -p "$cache"
	tmp=$(mktemp -d "$cache/rootfs.XXXXXX")
	trap 'remove_rootfs "$tmp"; rm -f "$rootfs_tar.part"' EXIT
	echo "base-image.sh: debootstrap bookworm minbase from $mirror (about 30s)" >&2
	if ! debootstrap --variant=minbase bookworm "$tmp/rootfs" "$mirror" >"$cache/debootstrap.log" 2>&1; then
		tail -n 20 "$cache/debootstrap.log" >&2
		die "debootstrap failed (full log: $cache/debootstrap.log); set DEBIAN_MIRROR if $mirror is unreachable"
	fi
	unmount_under "$tmp/rootfs"
	# The apt lists and caches only bloat the image; the build stage never runs apt.
	rm -rf "$tmp/rootfs/var/cache/apt/archives/"*.deb "$tmp/rootfs/var/lib/apt/lists/"*
	tar -C "$tmp/rootfs" -cf "$rootfs_tar.part" .
	mv "$rootfs_tar.part" "$rootfs_tar"
	remove_rootfs "$tmp"
	trap - EXIT
fi

if [[ $(label "$debian") != "$debian_want" ]]; then
	echo "base-image.sh: importing $debian (minbase)" >&2
	docker import \
		--change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
		--change "LABEL jobs.base=\"$debian_want\"" \
		--change 'CMD ["bash"]' \
		"$rootfs_tar" "$debian" >/dev/null
fi
if [[ $(label "$image") == "$want" ]]; then
	exit 0
fi

# docker import takes one tarball; stream the cached rootfs with the toolchain and CA bundle
# appended, instead of unpacking everything to disk again.
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
cp "$rootfs_tar" "$stage/image.tar"
# The toolchain's own tests and docs are a tenth of it and no build reads them; with vfs every
# build step copies the image, so they are left out.
name=$(basename "$goroot")
tar -C "$(dirname "$goroot")" --transform "s,^$name,./usr/local/go," \
	--exclude="$name/test" --exclude="$name/api" --exclude="$name/doc" --exclude="$name/misc" \
	-rf "$stage/image.tar" "$name"
mkdir -p "$stage/extra/etc/ssl/certs" "$stage/extra/go/bin"
cp "$certs" "$stage/extra/etc/ssl/certs/ca-certificates.crt"
tar -C "$stage/extra" -rf "$stage/image.tar" ./etc/ssl/certs/ca-certificates.crt ./go

echo "base-image.sh: importing $image ($goversion)" >&2
docker import \
	--change 'ENV PATH=/go/bin:/usr/local/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
	--change 'ENV GOPATH=/go' \
	--change 'ENV GOTOOLCHAIN=local' \
	--change 'ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt' \
	--change 'WORKDIR /go' \
	--change "LABEL jobs.base=\"$want\"" \
	--change 'CMD ["bash"]' \
	"$stage/image.tar" "$image" >/dev/null
echo "base-image.sh: $image ready" >&2
