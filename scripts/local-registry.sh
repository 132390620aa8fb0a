#!/usr/bin/env bash
# Starts (or stops) a registry on 127.0.0.1:5000 with Debian's docker-registry, for stacks whose
# `registry` is localhost:5000/...: images are pushed somewhere real without any account.
# usage: scripts/local-registry.sh start|stop
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dir="$root/.cache/registry"
pidfile="$dir/registry.pid"

case "${1:-}" in
start)
	if (exec 3<>/dev/tcp/127.0.0.1/5000) 2>/dev/null; then
		exit 0 # something already serves 5000; assume it is a registry
	fi
	"$root/scripts/install-deps.sh" docker-registry
	mkdir -p "$dir/data"
	cat >"$dir/config.yml" <<CFG
version: 0.1
storage:
  filesystem:
    rootdirectory: $dir/data
http:
  addr: 127.0.0.1:5000
CFG
	docker-registry serve "$dir/config.yml" >"$dir/registry.log" 2>&1 &
	echo $! >"$pidfile"
	for _ in $(seq 50); do
		(exec 3<>/dev/tcp/127.0.0.1/5000) 2>/dev/null && exit 0
		sleep 0.2
	done
	echo "the loopback registry did not start; see $dir/registry.log" >&2
	exit 1
	;;
stop)
	# Wait until it is gone: the next start (or a test checking whether 5000 is free) must not
	# meet a registry that is still shutting down.
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
	echo "usage: scripts/local-registry.sh start|stop" >&2
	exit 2
	;;
esac
