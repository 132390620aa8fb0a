#!/usr/bin/env bash
# Run the jobs service on this machine: a Redis, the API and one worker, built from app/.
#
#   scripts/run-local.sh               run until Ctrl-C; prints curl lines to try it
#   RUN_SMOKE=1 scripts/run-local.sh   start, submit one primes job, wait for it, print it, stop
#
# Ports: API_PORT (default 8080), WORKER_PORT (8081), REDIS_PORT (6379). A default that is taken
# is replaced by the next free port; a port you set yourself must be free. VERSION (default
# 0.0.0-local) is stamped into the binaries as the image build does.
# Stops exactly the processes it started, on Ctrl-C, SIGTERM or any failure.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
version=${VERSION:-0.0.0-local}
smoke=${RUN_SMOKE:-0}

say() { echo "run-local: $*" >&2; }
die() { say "$*"; exit 1; }

pids=()
tmp=
# shellcheck disable=SC2317 # invoked by the EXIT trap
cleanup() {
	local pid i
	# Reverse start order: worker and API let go of Redis before it goes away.
	for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
		pid=${pids[i]}
		kill -TERM "$pid" 2>/dev/null || true
	done
	for pid in "${pids[@]}"; do
		wait "$pid" 2>/dev/null || true
	done
	if [[ -n $tmp ]]; then rm -rf "$tmp"; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- tools -----------------------------------------------------------------------------------
if ! command -v go >/dev/null; then
	[[ -x /usr/local/go/bin/go ]] || die "go not found: install Go 1.26 (https://go.dev/dl) and put it on PATH"
	PATH=/usr/local/go/bin:$PATH
fi
command -v curl >/dev/null || die "curl not found: apt-get install -y curl"
"$repo/scripts/install-deps.sh" redis-server || die "redis-server is missing and could not be installed; install it with 'apt-get install -y redis-server'"

# --- ports -----------------------------------------------------------------------------------
port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# pick_port VAR DEFAULT: an explicitly set VAR must be free; the default may move up.
pick_port() {
	local var=$1 def=$2 p
	if [[ -n ${!var:-} ]]; then
		p=${!var}
		if ! [[ $p =~ ^[0-9]+$ ]] || ((p < 1 || p > 65535)); then
			die "$var=$p is not a port number (1-65535)"
		fi
		port_busy "$p" && die "$var=$p is already in use on 127.0.0.1: choose another, e.g. $var=$((p + 100))"
		echo "$p"
		return
	fi
	for ((p = def; p < def + 100; p++)); do
		if ! port_busy "$p" && [[ " ${taken[*]} " != *" $p "* ]]; then
			[[ $p != "$def" ]] && say "port $def is taken, using $p for $var"
			echo "$p"
			return
		fi
	done
	die "no free port in $def-$((def + 99)) for $var: set $var to a free port"
}
taken=()
redis_port=$(pick_port REDIS_PORT 6379)
taken+=("$redis_port")
api_port=$(pick_port API_PORT 8080)
taken+=("$api_port")
worker_port=$(pick_port WORKER_PORT 8081)
[[ $api_port != "$worker_port" && $api_port != "$redis_port" && $worker_port != "$redis_port" ]] ||
	die "API_PORT, WORKER_PORT and REDIS_PORT must differ (got $api_port, $worker_port, $redis_port)"

# --- build -----------------------------------------------------------------------------------
tmp=$(mktemp -d "${TMPDIR:-/tmp}/jobs-run-local.XXXXXX")
say "building api and worker ($version)"
for cmd in api worker; do
	(cd "$repo/app" && go build -trimpath \
		-ldflags "-X github.com/example/jobs/app/internal/buildinfo.Version=$version" \
		-o "$tmp/$cmd" "./cmd/$cmd") || die "go build ./cmd/$cmd failed"
done

# --- start -----------------------------------------------------------------------------------
# started NAME PID LOG: fail with the process's log if it already exited.
alive_or_die() {
	kill -0 "$2" 2>/dev/null && return 0
	tail -n 30 "$3" >&2 || true
	die "$1 exited during start-up (log above, full log $3)"
}

redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no \
	--dir "$tmp" --daemonize no >"$tmp/redis.log" 2>&1 &
pids+=($!)
for ((i = 0; ; i++)); do
	alive_or_die redis-server "${pids[0]}" "$tmp/redis.log"
	[[ $(redis-cli -p "$redis_port" ping 2>/dev/null) == PONG ]] && break
	((i < 100)) || die "redis-server did not answer PING on port $redis_port within 10s"
	sleep 0.1
done

export REDIS_ADDR=127.0.0.1:$redis_port
PORT=$api_port "$tmp/api" >"$tmp/api.log" 2>&1 &
pids+=($!)
api_pid=$!
PORT=$worker_port CONCURRENCY=${CONCURRENCY:-4} "$tmp/worker" >"$tmp/worker.log" 2>&1 &
pids+=($!)
worker_pid=$!

wait_ready() { # NAME PID PORT LOG
	local i
	for ((i = 0; ; i++)); do
		alive_or_die "$1" "$2" "$4"
		curl -fsS -o /dev/null "http://127.0.0.1:$3/readyz" 2>/dev/null && return 0
		((i < 150)) || die "$1 not ready on port $3 within 30s (log $4)"
		sleep 0.2
	done
}
wait_ready api "$api_pid" "$api_port" "$tmp/api.log"
wait_ready worker "$worker_pid" "$worker_port" "$tmp/worker.log"

api=http://127.0.0.1:$api_port
job='{"kind":"primes","input":{"start":1,"end":100}}'

if [[ $smoke == 1 ]]; then
	answer=$(curl -fsS -X POST "$api/jobs" -H 'Content-Type: application/json' -d "$job") ||
		die "POST $api/jobs failed"
	id=$(sed -n 's/.*"id":"\([^"]*\)".*/\1/p' <<<"$answer")
	[[ -n $id ]] || die "POST /jobs answered without an id: $answer"
	for ((i = 0; ; i++)); do
		record=$(curl -fsS "$api/jobs/$id") || die "GET $api/jobs/$id failed"
		case $record in
		*'"status":"succeeded"'*)
			echo "$record"
			say "smoke test passed: job $id succeeded"
			exit 0
			;;
		*'"status":"failed"'*)
			tail -n 20 "$tmp/worker.log" >&2
			die "job $id failed: $record"
			;;
		esac
		((i < 300)) || { tail -n 20 "$tmp/worker.log" >&2; die "job $id not done within 60s: $record"; }
		sleep 0.2
	done
fi

cat <<EOF
jobs service $version is running:
  API     $api             (log $tmp/api.log)
  worker  http://127.0.0.1:$worker_port   (log $tmp/worker.log)
  Redis   127.0.0.1:$redis_port

Submit a job (keeps its id in ID):
  ID=\$(curl -sS -X POST $api/jobs -H 'Content-Type: application/json' -d '$job' | sed -n 's/.*"id":"\\([^"]*\\)".*/\\1/p'); echo \$ID
Fetch it:
  curl -sS $api/jobs/\$ID

Press Ctrl-C to stop everything.
EOF

# Stay up until Ctrl-C/SIGTERM (the traps clean up) or until one of the processes dies.
set +e
wait -n "${pids[@]}"
status=$?
say "a process exited (status $status); stopping the rest. Logs: $tmp/*.log are removed, last lines:"
tail -n 5 "$tmp"/*.log >&2
exit 1
