#!/usr/bin/env bash
# The main job of `make up`: deploy every stack with the real Pulumi engine, each after the stack
# it promotes from (test, then prod), verifying each stack another one promotes from before going
# on (make verify: the promotion guard takes only a verified version), then submit a job through
# each stack's NodePort and wait for its result, and print curl lines to try more. With nothing
# configured this all happens on the local cluster (see scripts/pulumi.sh for every default).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
say() { echo "up-all: $*" >&2; }

start=$(date +%s)
# Assigned first: a failure inside <(...) would go unseen and leave no stack to deploy.
list=$(go run ./tools/release stacks)
mapfile -t stacks <<<"$list"
list=$(go run ./tools/release sources)
mapfile -t sources <<<"$list"
for stack in "${stacks[@]}"; do
	say "deploying stack $stack"
	scripts/pulumi.sh up "$stack" --yes --refresh --skip-preview --suppress-progress
	if [[ " ${sources[*]} " == *" $stack "* ]]; then
		say "verifying stack $stack before the stacks that promote from it"
		scripts/pulumi-env.sh go run ./tools/verify -stack "$stack"
	fi
done
say "every stack deployed in $(($(date +%s) - start)) s"

job='{"kind":"primes","input":{"start":1,"end":100}}'
for stack in "${stacks[@]}"; do
	url=$(scripts/pulumi.sh output "$stack" url)
	version=$(scripts/pulumi.sh output "$stack" version)
	answer=$(curl -fsS -X POST "$url/jobs" -H 'Content-Type: application/json' -d "$job") ||
		{ say "POST $url/jobs failed on stack $stack"; exit 1; }
	id=$(sed -n 's/.*"id":"\([^"]*\)".*/\1/p' <<<"$answer")
	[ -n "$id" ] || { say "POST $url/jobs answered without an id: $answer"; exit 1; }
	for ((i = 0; ; i++)); do
		record=$(curl -fsS "$url/jobs/$id")
		case $record in
		*'"status":"succeeded"'*) break ;;
		*'"status":"failed"'*) say "job $id failed on stack $stack: $record"; exit 1 ;;
		esac
		((i < 300)) || { say "job $id on stack $stack not done within 60s: $record"; exit 1; }
		sleep 0.2
	done
	cat <<MSG

Stack $stack runs version $version at $url; a primes job went through its NodePort
$(($(date +%s) - start)) s after make up started:
  $record
Submit a job (keeps its id in ID):
  ID=\$(curl -sS -X POST $url/jobs -H 'Content-Type: application/json' -d '$job' | sed -n 's/.*"id":"\\([^"]*\\)".*/\\1/p'); echo \$ID
Fetch it (queued at first; a worker starts it within about a second):
  curl -sS $url/jobs/\$ID
MSG
done
echo
echo "Everything stays up: make up STACK=<stack> after a change, make down to stop it all."
