#!/usr/bin/env bash
# Installs the Debian package of each missing command, and only those, so the make targets work on a
# fresh machine and cost nothing on a prepared one. Go modules are fetched by go itself.
#
# usage: scripts/install-deps.sh [COMMAND...]   (no COMMAND: everything `make test` needs)
#   redis-server        the service's tests, `make run`, `make bench`, the e2e contract check
#   dockerd             the real-image test (engine started by scripts/dockerd.sh)
#   debootstrap         the locally made golang:1.26-bookworm base image
#   (shellcheck)        actionlint checks the workflows' run: steps with it
#   docker-registry     the loopback registry of scripts/local-registry.sh, tested in tools/scripts
#   git                 the release tool and its tests
#   containerd runc iptables /usr/lib/cni/bridge
#                       the local cluster's real node (test/cluster): its container runtime, kube-proxy's
#                       rules, and the CNI plugins (a path: the plugins are not commands on PATH)
set -euo pipefail

declare -A package=([redis-server]=redis-server [dockerd]=docker.io [debootstrap]=debootstrap
	[shellcheck]=shellcheck [docker-registry]=docker-registry [git]=git
	[containerd]=containerd [runc]=runc [iptables]=iptables [/usr/lib/cni/bridge]=containernetworking-plugins)
wanted=("$@")
[ ${#wanted[@]} -eq 0 ] && wanted=("${!package[@]}")

missing=()
for cmd in "${wanted[@]}"; do
	[ -n "${package[$cmd]:-}" ] || {
		echo "install-deps.sh: no Debian package known for '$cmd'; add it to the table in $0" >&2
		exit 2
	}
	command -v "$cmd" >/dev/null 2>&1 || [ -x "/usr/sbin/$cmd" ] || missing+=("${package[$cmd]}")
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
