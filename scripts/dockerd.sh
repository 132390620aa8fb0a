#!/usr/bin/env bash
# Start, stop or query a private Docker engine used to build and test the jobs images.
#
#   scripts/dockerd.sh start    start it (no-op if already up); prints DOCKER_HOST=... on stdout
#   scripts/dockerd.sh status   exit 0 and print DOCKER_HOST=... if it is up, exit 1 if not
#   scripts/dockerd.sh stop     stop the engine this script started (by its pidfile), nothing else
#
# Typical use:  export "$(scripts/dockerd.sh start)"; ...; scripts/dockerd.sh stop
#
# The engine is private so it never collides with a system Docker or another helper's: its own
# socket, pidfile, exec-root and data-root. The data-root lives under the git-ignored /.cache/ so
# the base image and build cache survive between runs (that is what makes warm runs fast).
# vfs + no iptables + no bridge is what works without kernel overlay/netfilter support in a
# sandbox; containers and builds must therefore use --network=host.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
state=${JOBS_DOCKER_STATE:-$repo/.cache/docker}
# containerd puts unix sockets under the exec-root and socket paths are limited to ~108 bytes,
# so runtime files live in a short /tmp path derived from the state dir instead of the repo.
key=$(printf '%s' "$state" | sha256sum | cut -c1-12)
run=/tmp/jobs-dockerd-$key
sock=$run/docker.sock
pidfile=$run/dockerd.pid
log=$state/dockerd.log
host=unix://$sock

# vfs works everywhere but copies the whole image for every container and build step (15 s per
# step for the 330 MB toolchain image on this 2-core machine). overlay2 shares layers instead,
# so it is used wherever the kernel lets us mount an overlay here; JOBS_DOCKER_STORAGE forces one.
probe_overlay() {
	local d ok=1
	d=$(mktemp -d "$state/overlay-probe.XXXXXX") || return 1
	mkdir -p "$d/lower" "$d/upper" "$d/work" "$d/merged"
	if mount -t overlay overlay -o "lowerdir=$d/lower,upperdir=$d/upper,workdir=$d/work" "$d/merged" 2>/dev/null; then
		umount "$d/merged" && ok=0
	fi
	rm -rf "$d"
	return $ok
}

die() { echo "dockerd.sh: $*" >&2; exit 1; }

running_pid() {
	[[ -s $pidfile ]] || return 1
	local pid
	pid=$(<"$pidfile")
	[[ $pid =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null || return 1
	echo "$pid"
}

answers() { DOCKER_HOST=$host docker version --format '{{.Server.Version}}' >/dev/null 2>&1; }

start() {
	if running_pid >/dev/null && answers; then
		echo "DOCKER_HOST=$host"
		return 0
	fi
	local missing=()
	command -v dockerd >/dev/null || missing+=(dockerd)
	command -v docker >/dev/null || missing+=(docker)
	((${#missing[@]} == 0)) || die "missing ${missing[*]}: install Debian's engine with 'apt-get install -y docker.io'"
	[[ $(id -u) == 0 ]] || die "the Docker engine must be started as root (run this script with sudo or as root)"

	mkdir -p "$state" "$run/exec"
	local driver=${JOBS_DOCKER_STORAGE:-}
	if [[ -z $driver ]]; then
		driver=vfs
		probe_overlay && driver=overlay2
	fi
	[[ $driver == vfs || $driver == overlay2 ]] || die "JOBS_DOCKER_STORAGE=$driver: use vfs or overlay2"
	# One data-root per driver: dockerd cannot read images stored by the other one.
	mkdir -p "$state/data-$driver"
	echo "dockerd.sh: starting engine (storage $driver), log $log" >&2
	# setsid: the engine must not get the caller's Ctrl-C; it is stopped explicitly by 'stop'.
	# dockerd joins a system containerd if one runs at /run/containerd; own namespaces keep our
	# containers apart from any other engine's there.
	setsid dockerd \
		--host "$host" \
		--pidfile "$pidfile" \
		--exec-root "$run/exec" \
		--data-root "$state/data-$driver" \
		--storage-driver="$driver" \
		--iptables=false \
		--ip-masq=false \
		--bridge=none \
		--containerd-namespace=jobs-dockerd \
		--containerd-plugins-namespace=jobs-dockerd-plugins \
		</dev/null >"$log" 2>&1 &
	local launcher=$!

	local i
	for ((i = 0; i < 120; i++)); do
		if answers; then
			echo "DOCKER_HOST=$host"
			return 0
		fi
		if ! kill -0 "$launcher" 2>/dev/null; then
			tail -n 20 "$log" >&2 || true
			die "dockerd exited during start-up (full log: $log); if it complains about the $driver storage driver, retry with JOBS_DOCKER_STORAGE=vfs"
		fi
		sleep 0.5
	done
	tail -n 20 "$log" >&2 || true
	die "dockerd did not answer on $sock within 60s (full log: $log); stop it with '$0 stop'"
}

status() {
	if running_pid >/dev/null && answers; then
		echo "DOCKER_HOST=$host"
		return 0
	fi
	return 1
}

stop() {
	local pid
	if ! pid=$(running_pid); then
		echo "dockerd.sh: no engine running for $state" >&2
		return 0
	fi
	kill -TERM "$pid"
	local i
	# dockerd stops its containers and its managed containerd before it exits; give it time.
	for ((i = 0; i < 60; i++)); do
		kill -0 "$pid" 2>/dev/null || { rm -f "$pidfile"; return 0; }
		sleep 0.5
	done
	echo "dockerd.sh: dockerd $pid ignored SIGTERM for 30s, killing it" >&2
	kill -KILL "$pid" 2>/dev/null || true
	rm -f "$pidfile"
}

case ${1:-} in
start) start ;;
status) status ;;
stop) stop ;;
*) die "usage: $0 start|status|stop" ;;
esac
