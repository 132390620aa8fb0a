#!/usr/bin/env bash
# Start, stop or query a private Docker engine used to build and test the jobs images.
#
#   scripts/dockerd.sh start    start it (no-op if already up); prints DOCKER_HOST=... on stdout
#   scripts/dockerd.sh status   exit 0 and print DOCKER_HOST=... if it is up, exit 1 if not
#   scripts/dockerd.sh stop     stop the engine this script started (by its pidfile), unmount what it
#                               left under its own folders and remove its runtime folder; nothing else
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

# started_at PID: when the process PID started (clock ticks after boot), nothing if it has exited
# (gone, or a zombie its parent has not collected yet). A pid and its start time name one process:
# one that later gets the same pid starts later. kill -0 cannot tell either case from a running
# engine, and a stop that takes a reused pid for the engine would signal a stranger.
started_at() {
	local stat fields
	read -r stat 2>/dev/null <"/proc/$1/stat" || return 0
	read -ra fields <<<"${stat##*) }" # from the 3rd field on: state first, start time 20th
	[[ ${fields[0]} == [ZX] ]] || echo "${fields[19]}"
}

# running_pid: the pid of this engine, from its pidfile, if that pid runs this engine. A pidfile
# left by an engine that crashed may name a pid the system has since given to another process.
running_pid() {
	[[ -s $pidfile ]] || return 1
	local pid
	pid=$(<"$pidfile")
	[[ $pid =~ ^[0-9]+$ && -n $(started_at "$pid") ]] || return 1
	[[ $(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) == *" --pidfile $pidfile "* ]] || return 1
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

	# A crashed earlier engine may have left mounts behind; they are its, and nothing runs there.
	release_leftovers
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

# gone_within N PID START: wait up to N half-seconds for the process PID that started at START to
# exit. The engine is not our child (start detached it with setsid): whoever collects it, and when,
# is not ours to know, so a zombie counts as gone.
gone_within() {
	local i
	for ((i = 0; i < $1; i++)); do
		[[ $(started_at "$2") == "$3" ]] || return 0
		sleep 0.5
	done
	[[ $(started_at "$2") != "$3" ]]
}

# kill_if SIGNAL PID START: signal the process PID only if it is still the one that started at START.
kill_if() {
	[[ $(started_at "$2") == "$3" ]] || return 0
	kill "-$1" "$2" 2>/dev/null || true
}

# engine_mounts prints the mount points under the folders only this engine uses, deepest last as
# /proc/self/mountinfo lists them (a parent is mounted before what is mounted inside it). $run is
# keyed by the state dir and the data-roots are named by this script, so nothing listed here
# belongs to another engine or to the system.
engine_mounts() {
	local mp
	while read -r _ _ _ _ mp _; do
		mp=$(printf '%b' "$mp") # mountinfo escapes a space as \040
		case $mp in
		"$run" | "$run"/* | "$state/data-vfs" | "$state/data-vfs"/* | "$state/data-overlay2" | "$state/data-overlay2"/*)
			echo "$mp"
			;;
		esac
	done </proc/self/mountinfo
}

# release_leftovers runs only when the engine is not running. dockerd does not unmount the host
# network namespace that libnetwork bind-mounts at exec/netns/default when it exits, and a killed
# engine or containerd also leaves container rootfs and shm mounts; left alone they pin
# /tmp/jobs-dockerd-<key> forever. Unmount children before parents, then remove $run, but never
# across a mount: rm --one-file-system refuses to descend into one that is still there.
release_leftovers() {
	local pid start mounts=() i
	pid=$(cat "$run/exec/containerd/containerd.pid" 2>/dev/null) || pid=
	[[ $pid =~ ^[0-9]+$ ]] && start=$(started_at "$pid") || start=
	if [[ -n $start && $(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) == *"$run/exec/containerd/"* ]]; then
		# dockerd stops its managed containerd on a clean exit; after a SIGKILL it can outlive it.
		echo "dockerd.sh: stopping containerd $pid left by the engine" >&2
		kill_if TERM "$pid" "$start"
		gone_within 20 "$pid" "$start" || kill_if KILL "$pid" "$start"
	fi
	mapfile -t mounts < <(engine_mounts)
	for ((i = ${#mounts[@]} - 1; i >= 0; i--)); do
		umount "${mounts[i]}" 2>/dev/null || umount --lazy "${mounts[i]}" ||
			die "could not unmount ${mounts[i]} (see 'grep ${mounts[i]} /proc/self/mountinfo'); unmount it as root, then rerun '$0 stop'"
	done
	mapfile -t mounts < <(engine_mounts)
	((${#mounts[@]} == 0)) || die "still mounted after unmounting: ${mounts[*]}"
	if [[ -e $run ]]; then
		rm -rf --one-file-system "$run" || die "could not remove $run"
	fi
}

stop() {
	local pid start
	if ! pid=$(running_pid); then
		release_leftovers
		echo "dockerd.sh: no engine running for $state" >&2
		return 0
	fi
	start=$(started_at "$pid")
	kill_if TERM "$pid" "$start"
	# dockerd stops its containers and its managed containerd before it exits; give it time.
	if ! gone_within 60 "$pid" "$start"; then
		echo "dockerd.sh: dockerd $pid ignored SIGTERM for 30s, killing it" >&2
		kill_if KILL "$pid" "$start"
		gone_within 20 "$pid" "$start" || die "dockerd $pid is still there 10s after SIGKILL; its mounts under $run are left in place"
	fi
	rm -f "$pidfile"
	release_leftovers
}

case ${1:-} in
start) start ;;
status) status ;;
stop) stop ;;
*) die "usage: $0 start|status|stop" ;;
esac
