#!/usr/bin/env bash
# Run the jobs service on this machine: a Redis, the API and one worker, built from app/, all
# listening on 127.0.0.1 only.
#
#   scripts/run-local.sh               run until stopped; prints curl lines to try it
#   RUN_SMOKE=1 scripts/run-local.sh   start, submit one primes job, wait for it, print it, stop
#
# Ports: API_PORT (default 8080), WORKER_PORT (8081), REDIS_PORT (6379). A default that is taken
# is replaced by the next free port; a port you set yourself must be free. VERSION (default
# 0.0.0-local) is stamped into the binaries as the image build does. The binaries and the logs
# live in a temporary folder that goes when the run ends; RUN_LOG_DIR=DIR writes the three logs
# to DIR instead and leaves them there.
#
# Stopping. Ctrl-C, SIGTERM or SIGHUP, sent to this script or to its whole process group (.ci/run
# does `kill -TERM -- -$pid` on a `setsid make run`), stop the worker and the API first, then
# Redis, remove the temporary folder, say so and exit 0. A server that exits on its own is a
# crash: the script names it, gives its exit status and the end of its log, stops the others in
# the same order and exits 1.
#
# The servers run in sessions of their own (setsid), so a signal to this process group, Ctrl-C
# included, reaches only this script, which then stops them in order. Sharing the group, they
# would all get it at once: Redis would go away under the worker, and the servers' own clean exits
# would look like crashes to the `wait` below.
#
# make: `make run` leaves make in this process group, so a group signal reaches it too. GNU make
# (4.3) then waits for this script and, if the script exited 0, prints nothing and re-raises the
# signal on itself (so `make run` ends with status 130 or 143, as any program stopped by a signal
# does, and a calling script's Ctrl-C handling keeps working). Any other exit status would make it
# print "make: *** [Makefile:NN: run] Error N" under a stop that went fine. So a requested stop
# exits 0, and the Makefile's run target stays a plain call of this script. On SIGTERM make also
# sends the script a SIGTERM of its own; a stop already under way ignores it, as it ignores a
# second Ctrl-C: the stop is bounded anyway (the worker lets running jobs finish for up to 40 s).
# shellcheck disable=SC2317 # the stop runs from the traps, which shellcheck does not follow
set -euo pipefail

say() { echo "run-local: $*" >&2 || true; }
die() {
	say "$*"
	exit 1
}

# wait -p (which child exited) is bash 5.1; Debian bookworm has 5.2.
((BASH_VERSINFO[0] * 100 + BASH_VERSINFO[1] >= 501)) || die "bash 5.1 or newer is needed (this is $BASH_VERSION)"

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
version=${VERSION:-0.0.0-local}
smoke=${RUN_SMOKE:-0}

# The servers in start order: index 0 is Redis, then the API, then the worker.
names=()
pids=()
logs=()
declare -A status=() # index -> exit status, once reaped
tmp=
stop_reason= # what the user sent: Ctrl-C, SIGTERM or SIGHUP
crashed=     # index of the server that exited on its own
stopping=0

# exited PID: the process is gone or a zombie (exited, not yet collected by wait).
exited() {
	local stat
	read -r stat 2>/dev/null <"/proc/$1/stat" || return 0
	stat=${stat##*) }
	[[ ${stat%% *} == [ZX] ]]
}

# describe STATUS: an exit status in words.
describe() {
	if ! [[ $1 =~ ^[0-9]+$ ]]; then
		echo "$1"
	elif (($1 > 128)); then
		echo "exit status $1, killed by SIG$(kill -l $(($1 - 128)) 2>/dev/null || echo "?")"
	else
		echo "exit status $1"
	fi
}

# collect I: the exit status of the server at index I, which has exited, into status[I]. A
# trapped signal (make's extra SIGTERM) interrupts `wait` with 128+signal; asked again, wait gives
# the real status, or 127 if the first answer was the real one.
collect() {
	local code again
	wait "${pids[$1]}" 2>/dev/null && code=0 || code=$?
	if ((code > 128)); then
		wait "${pids[$1]}" 2>/dev/null && again=0 || again=$?
		((again == 127)) || code=$again
	fi
	status[$1]=$code
}

# stop_servers LIMIT I...: SIGTERM to the servers at indexes I, then wait until every one has
# exited; SIGKILL for any still there after LIMIT seconds. Each exit status lands in status[I].
stop_servers() {
	local limit=$1 i left waited start=$SECONDS killed=0 noticed=0 stuck=()
	shift
	for i in "$@"; do
		[[ -n ${status[$i]:-} ]] || kill -TERM "${pids[i]}" 2>/dev/null || true
	done
	while :; do
		left=()
		for i in "$@"; do
			[[ -z ${status[$i]:-} ]] || continue
			if exited "${pids[i]}"; then
				collect "$i"
			else
				left+=("$i")
			fi
		done
		((${#left[@]} > 0)) || return 0
		waited=$((SECONDS - start))
		if ((!killed && waited >= limit)); then
			killed=1
			for i in "${left[@]}"; do
				say "${names[i]} (pid ${pids[i]}) did not stop within ${limit}s of SIGTERM; killing it"
				kill -KILL "${pids[i]}" 2>/dev/null || true
			done
		elif ((killed && waited >= limit + 10)); then
			for i in "${left[@]}"; do
				status[$i]="still there 10s after SIGKILL, pid ${pids[i]}"
			done
			return 0
		elif ((!noticed && waited >= 3)); then
			noticed=1
			stuck=()
			for i in "${left[@]}"; do stuck+=("${names[i]}"); done
			say "waiting for $(words "${stuck[@]}") to stop (the worker lets running jobs finish, for up to 40 s)"
		fi
		sleep 0.1
	done
}

# words A B C: "A, B and C".
words() {
	local out=
	while (($# > 0)); do
		out+=$1
		shift
		if (($# == 1)); then out+=" and "; elif (($# > 1)); then out+=", "; fi
	done
	echo "$out"
}

# finish runs on every exit: it stops whatever was started, worker and API first and Redis
# last, removes the temporary folder and says what happened.
finish() {
	local code=$? i stopped=() unclean=() removed="temporary folder removed"
	stopping=1
	set +e
	# Worker and API together (indexes 1 and 2), then Redis: both use it until they are gone.
	if ((${#pids[@]} > 1)); then
		stop_servers 50 $(seq $((${#pids[@]} - 1)) -1 1)
	fi
	if ((${#pids[@]} > 0)); then
		stop_servers 10 0
	fi
	if [[ -n $tmp ]]; then
		rm -rf "$tmp"
		[[ ! -e $tmp ]] || removed="temporary folder $tmp could NOT be removed"
	fi
	for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
		[[ $i == "$crashed" ]] && continue
		stopped+=("${names[i]}")
		[[ ${status[$i]} == 0 ]] || unclean+=("${names[i]} ($(describe "${status[$i]}"))")
	done
	if [[ -n $crashed ]]; then
		say "${names[crashed]} crashed ($(describe "${status[$crashed]}")); $(words "${stopped[@]}") stopped, $removed"
		((${#unclean[@]} == 0)) || say "and did not stop cleanly: $(words "${unclean[@]}")"
		exit 1
	fi
	if ((${#unclean[@]} > 0)); then
		say "did not stop cleanly: $(words "${unclean[@]}"); $removed"
		exit 1
	fi
	if [[ -n $stop_reason ]]; then
		if ((${#stopped[@]} > 0)); then
			say "stopped by $stop_reason: $(words "${stopped[@]}") stopped, $removed"
		else
			say "stopped by $stop_reason before anything was started, $removed"
		fi
		exit 0
	fi
	exit "$code"
}

# on_signal runs the stop (finish) once; a signal during the stop is ignored (see the header).
on_signal() {
	((stopping)) && return 0
	stop_reason=$1
	exit 0
}
trap finish EXIT
trap 'on_signal Ctrl-C' INT
trap 'on_signal SIGTERM' TERM
trap 'on_signal SIGHUP' HUP

# --- tools -----------------------------------------------------------------------------------
if ! command -v go >/dev/null; then
	[[ -x /usr/local/go/bin/go ]] || die "go not found: install Go 1.26 (https://go.dev/dl) and put it on PATH"
	PATH=/usr/local/go/bin:$PATH
fi
command -v curl >/dev/null || die "curl not found: apt-get install -y curl"
command -v setsid >/dev/null || die "setsid not found: apt-get install -y util-linux"
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
logdir=$tmp
if [[ -n ${RUN_LOG_DIR:-} ]]; then
	if ! mkdir -p "$RUN_LOG_DIR" 2>/dev/null || [[ ! -w $RUN_LOG_DIR ]]; then
		die "RUN_LOG_DIR=$RUN_LOG_DIR is not a folder this user can write to: create it or choose another"
	fi
	logdir=$(cd "$RUN_LOG_DIR" && pwd)
fi
say "building api and worker ($version)"
for cmd in api worker; do
	(cd "$repo/app" && go build -trimpath \
		-ldflags "-X github.com/example/jobs/app/internal/buildinfo.Version=$version" \
		-o "$tmp/$cmd" "./cmd/$cmd") || die "go build ./cmd/$cmd failed"
done

# --- start -----------------------------------------------------------------------------------
# serve NAME LOG COMMAND...: start a server in a session of its own (see the header).
serve() {
	local name=$1 log=$2
	shift 2
	setsid "$@" </dev/null >"$log" 2>&1 &
	names+=("$name")
	pids+=("$!")
	logs+=("$log")
}

# alive_or_die I: fail with the server's log if it already exited.
alive_or_die() {
	exited "${pids[$1]}" || return 0
	tail -n 30 "${logs[$1]}" >&2 || true
	die "${names[$1]} exited during start-up (the end of its log is above)"
}

serve Redis "$logdir/redis.log" redis-server --port "$redis_port" --bind 127.0.0.1 --save '' \
	--appendonly no --dir "$tmp" --daemonize no
for ((i = 0; ; i++)); do
	alive_or_die 0
	[[ $(redis-cli -p "$redis_port" ping 2>/dev/null) == PONG ]] && break
	((i < 100)) || die "redis-server did not answer PING on port $redis_port within 10s"
	sleep 0.1
done

# HOST keeps both servers on loopback: the service's default, every interface, is for containers.
serve API "$logdir/api.log" env HOST=127.0.0.1 PORT="$api_port" \
	REDIS_ADDR="127.0.0.1:$redis_port" "$tmp/api"
serve worker "$logdir/worker.log" env HOST=127.0.0.1 PORT="$worker_port" \
	REDIS_ADDR="127.0.0.1:$redis_port" CONCURRENCY="${CONCURRENCY:-4}" "$tmp/worker"

wait_ready() { # I PORT
	local i
	for ((i = 0; ; i++)); do
		alive_or_die "$1"
		curl -fsS -o /dev/null "http://127.0.0.1:$2/readyz" 2>/dev/null && return 0
		((i < 150)) || die "${names[$1]} not ready on port $2 within 30s (log ${logs[$1]})"
		sleep 0.2
	done
}
wait_ready 1 "$api_port"
wait_ready 2 "$worker_port"

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
			tail -n 20 "${logs[2]}" >&2
			die "job $id failed: $record"
			;;
		esac
		((i < 300)) || {
			tail -n 20 "${logs[2]}" >&2
			die "job $id not done within 60s: $record"
		}
		sleep 0.2
	done
fi

# .ci/run evaluates the line after "Submit a job" and after "Fetch it": keep each command on the
# one line that follows its heading.
cat <<EOF
jobs service $version is running, on 127.0.0.1 only (temporary folder $tmp):
  API     $api   (pid ${pids[1]}, log ${logs[1]})
  worker  http://127.0.0.1:$worker_port   (pid ${pids[2]}, log ${logs[2]})
  Redis   127.0.0.1:$redis_port   (pid ${pids[0]}, log ${logs[0]})

Submit a job (keeps its id in ID):
  ID=\$(curl -sS -X POST $api/jobs -H 'Content-Type: application/json' -d '$job' | sed -n 's/.*"id":"\\([^"]*\\)".*/\\1/p'); echo \$ID
Fetch it:
  curl -sS $api/jobs/\$ID
  (the worker starts a job within about a second, so a first look may say "status":"queued":
  run the line again until it says "status":"succeeded"; docs/api.md has the whole API)

Press Ctrl-C to stop everything.
EOF

# Serve until a signal (on_signal, then finish) or until a server exits on its own: a crash.
set +e
wait -n -p done_pid "${pids[@]}" 2>/dev/null # our report replaces bash's "Killed" job notice
code=$?
stopping=1
for i in "${!pids[@]}"; do
	[[ ${pids[i]} == "${done_pid:-}" ]] && crashed=$i
done
[[ -n $crashed ]] || die "wait returned $code without naming a server; stopping everything"
status[$crashed]=$code
say "${names[crashed]} (pid ${pids[crashed]}) exited on its own, $(describe "$code"); the end of its log:"
tail -n 20 "${logs[crashed]}" >&2
exit 1
