#!/usr/bin/env bash
# Starts (or stops) Debian's docker-registry on loopback, so images are pushed somewhere real
# without any account:
#   scripts/local-registry.sh start|stop                127.0.0.1:5000 without a login, for stacks
#                                                       whose registry is localhost:5000/...
#   scripts/local-registry.sh start PORT HTPASSWD       127.0.0.1:PORT asking for a login from a
#   scripts/local-registry.sh stop PORT                 bcrypt htpasswd file (htpasswd -Bbn USER PASSWORD,
#                                                       apache2-utils), to try jobs:registryUsername
#                                                       and jobs:registryPassword for real
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
verb=${1:-}
port=${2:-5000}
htpasswd=${3:-}

usage() {
	echo "usage: scripts/local-registry.sh start|stop [PORT [HTPASSWD]]" >&2
	exit 2
}
if ! [[ $port =~ ^[0-9]+$ ]] || ((port < 1024 || port > 65535)); then usage; fi
dir="$root/.cache/registry"
[ "$port" = 5000 ] || dir="$root/.cache/registry-$port"
pidfile="$dir/registry.pid"
serves() { (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; }

case "$verb" in
start)
	if [ -n "$htpasswd" ]; then
		# bcrypt lines read USER:$2y$..., the only kind docker-registry accepts.
		# shellcheck disable=SC2016
		if ! grep -qs '^[^:]*:\$2[aby]\$' "$htpasswd"; then
			echo "$htpasswd is not a bcrypt htpasswd file (make one with: htpasswd -Bbn USER PASSWORD >FILE)" >&2
			exit 2
		fi
		if serves; then
			echo "127.0.0.1:$port is already in use: a registry asking for a login needs a port of its own" >&2
			exit 1
		fi
	elif serves; then
		exit 0 # something already serves the port; assume it is the registry
	fi
	"$root/scripts/install-deps.sh" docker-registry
	mkdir -p "$dir/data"
	auth=""
	if [ -n "$htpasswd" ]; then
		auth="auth:
  htpasswd:
    realm: jobs-local-registry
    path: $(cd "$(dirname "$htpasswd")" && pwd)/$(basename "$htpasswd")"
	fi
	cat >"$dir/config.yml" <<CFG
version: 0.1
storage:
  filesystem:
    rootdirectory: $dir/data
http:
  addr: 127.0.0.1:$port
$auth
CFG
	docker-registry serve "$dir/config.yml" >"$dir/registry.log" 2>&1 &
	echo $! >"$pidfile"
	for _ in $(seq 50); do
		serves && exit 0
		sleep 0.2
	done
	echo "the loopback registry did not start; see $dir/registry.log" >&2
	exit 1
	;;
stop)
	# Wait until it is gone: the next start (or a test checking whether the port is free) must
	# not meet a registry that is still shutting down.
	if [ -f "$pidfile" ]; then
		pid=$(cat "$pidfile")
		if kill "$pid" 2>/dev/null; then
			for _ in $(seq 100); do
				kill -0 "$pid" 2>/dev/null || break
				sleep 0.1
			done
			if kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null || true; fi
		fi
	fi
	rm -f "$pidfile"
	;;
*)
	usage
	;;
esac
