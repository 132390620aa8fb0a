#!/usr/bin/env bash
# Installs what each missing command needs, and only that, so the make targets work on a fresh
# machine and cost nothing on a prepared one: Debian packages, and the Pulumi engine. Go modules are
# fetched by go itself.
#
# usage: scripts/install-deps.sh [COMMAND...]   (no COMMAND: everything `make test` needs)
#   pulumi              the real Pulumi engine (CLI, Go language host, kubernetes and docker plugins)
#                       at the versions go.mod pins: from a shared/pulumi-toolchain folder beside the
#                       checkout (or $PULUMI_TOOLCHAIN_DIR) where there is one, else Pulumi's installer
#   curl                make up's jobs through the NodePorts, make run, the local Redis image
#   redis-server        the service's tests, `make run`, `make bench`, the e2e contract check
#   dockerd             the real-image test (engine started by scripts/dockerd.sh)
#   debootstrap         the locally made golang:1.26-bookworm base image
#   (shellcheck)        actionlint checks the workflows' run: steps with it
#   docker-registry     the loopback registry of scripts/local-registry.sh, tested in tools/scripts
#   git                 the release tool and its tests
#   containerd runc iptables ipset /usr/lib/cni/bridge
#                       the local cluster's real node (localcluster): its container runtime, kube-proxy's
#                       and kube-router's rules, kube-router's address sets, and the CNI plugins (a path:
#                       the plugins are not commands on PATH)
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
declare -A package=([redis-server]=redis-server [dockerd]=docker.io [debootstrap]=debootstrap
	[shellcheck]=shellcheck [docker-registry]=docker-registry [git]=git [curl]=curl
	[containerd]=containerd [runc]=runc [iptables]=iptables [ipset]=ipset [/usr/lib/cni/bridge]=containernetworking-plugins)
wanted=("$@")
[ ${#wanted[@]} -eq 0 ] && wanted=("${!package[@]}" pulumi)

# The CLI version of the engine the toolchain holds; its plugins equal the SDKs in go.mod.
pulumi_version=3.259.0
# The toolchain folder: $PULUMI_TOOLCHAIN_DIR, else shared/pulumi-toolchain beside the checkout or
# one level further up (a clone inside a work folder).
toolchain_dir() {
	local d
	for d in "${PULUMI_TOOLCHAIN_DIR:-}" "$root/../shared/pulumi-toolchain" "$root/../../shared/pulumi-toolchain"; do
		if [ -n "$d" ] && [ -x "$d/install.sh" ]; then
			echo "$d"
			return
		fi
	done
}
install_pulumi() {
	local toolchain
	toolchain=$(toolchain_dir)
	if [ -n "$toolchain" ]; then
		"$toolchain/install.sh" --check || "$toolchain/install.sh" >&2
		return
	fi
	command -v pulumi >/dev/null 2>&1 && return
	echo "installing the pulumi CLI $pulumi_version with Pulumi's installer (it fetches its plugins on first use)" >&2
	curl -fsSL https://get.pulumi.com | sh -s -- --version "$pulumi_version" --install-root /usr/local >&2
}

missing=() want_pulumi=""
for cmd in "${wanted[@]}"; do
	if [ "$cmd" = pulumi ]; then
		want_pulumi=1
		# Pulumi's installer needs curl.
		[ -n "$(toolchain_dir)" ] || command -v curl >/dev/null 2>&1 || missing+=(curl)
		continue
	fi
	[ -n "${package[$cmd]:-}" ] || {
		echo "install-deps.sh: no Debian package known for '$cmd'; add it to the table in $0" >&2
		exit 2
	}
	command -v "$cmd" >/dev/null 2>&1 || [ -x "/usr/sbin/$cmd" ] || missing+=("${package[$cmd]}")
done
if [ ${#missing[@]} -eq 0 ]; then
	[ -z "$want_pulumi" ] || install_pulumi
	exit 0
fi

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
[ -z "$want_pulumi" ] || install_pulumi
