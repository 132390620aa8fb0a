#!/usr/bin/env bash
# Installs the Debian packages the tests need, only those missing, so `make test` works on a fresh
# machine and costs nothing on a prepared one. Go modules are fetched by go itself.
#   redis-server        the service's tests, `make run`, `make bench`, the e2e contract check
#   docker.io           the real-image test (engine started by scripts/dockerd.sh)
#   debootstrap         the locally made golang:1.26-bookworm base image
#   shellcheck          actionlint checks the workflows' run: steps with it
#   docker-registry     the loopback registry of scripts/local-registry.sh, tested in tools/scripts
set -euo pipefail

declare -A need=([redis-server]=redis-server [dockerd]=docker.io [debootstrap]=debootstrap [shellcheck]=shellcheck [docker-registry]=docker-registry [git]=git)
missing=()
for cmd in "${!need[@]}"; do
	command -v "$cmd" >/dev/null 2>&1 || [ -x "/usr/sbin/$cmd" ] || missing+=("${need[$cmd]}")
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=""
if [ "$(id -u)" -ne 0 ]; then
	command -v sudo >/dev/null 2>&1 || {
		echo "missing Debian packages: ${missing[*]}; install them as root: apt-get install ${missing[*]}" >&2
		exit 1
	}
	sudo=sudo
fi
echo "installing Debian packages: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
