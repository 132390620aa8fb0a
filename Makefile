# One command per step of the release workflow; `make help` lists them.
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

VERSION ?=
FUZZTIME ?= 10s

.PHONY: help
help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^##@ / {printf "\n%s:\n", substr($$0, 5)} /^[a-z][a-z-]*:.*## / {printf "  %-14s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

##@ develop
.PHONY: run
# bin/runlocal stays a line of its own: bash execs a lone command, so runlocal is make's child.
run: ## run Redis, the API and a worker on 127.0.0.1, no cluster, and print curl lines to try them
	go build -o bin/runlocal ./tools/runlocal
	bin/runlocal

.PHONY: test
test: deps test-program test-release test-app fuzz test-images test-cluster acceptance lint ## run every test (what CI runs)

.PHONY: deps
deps: ## install what the tests need (Debian packages, the Pulumi engine; only the missing ones)
	scripts/install-deps.sh

.PHONY: test-program
test-program: ## the Pulumi program under mocks, with the real stack files
	go vet ./...
	go test -count=1 $$(go list ./... | grep -v /tools/)

.PHONY: test-release
test-release: ## bump, release and promote logic and the README check
	go test -count=1 ./tools/...

.PHONY: test-app
test-app: ## the jobs service: unit tests and tests against a real redis-server
	cd app && go vet -tags imagetest ./... && go test -count=1 $$(go list ./... | grep -v /imagetest)

.PHONY: fuzz
fuzz: ## run each fuzz target briefly (FUZZTIME=10s)
	cd app && for target in FuzzDecodeSubmission FuzzValidateInput; do \
		go test -run '^$$' -fuzz "^$$target$$" -fuzztime $(FUZZTIME) ./internal/jobs/; \
	done

.PHONY: test-images
test-images: ## build the real images in a local Docker engine and run a job through them
	cd app && go test -tags imagetest -count=1 -timeout 30m -v ./imagetest/

# The local cluster's commands and tests build with CGO_ENABLED=0, as its programs do
# (localcluster/binaries), so on a cold machine the packages they share (client-go, the API types)
# compile once instead of once per cgo setting (the cluster tool alone: about 110 CPU-s).
localcluster_go = cd localcluster && CGO_ENABLED=0 go

.PHONY: test-cluster
test-cluster: ## the local cluster: its helpers, and a real node running pods from the loopback registry
	$(localcluster_go) vet ./... && CGO_ENABLED=0 go test -count=1 ./binaries ./controlplane ./ociimage ./teardown
	$(localcluster_go) test -count=1 -timeout 40m -v ./realnode/

.PHONY: acceptance
acceptance: ## the release workflow with the real Pulumi engine, on the local cluster's real node
	$(localcluster_go) test -count=1 -timeout 60m -v ./acceptance/

.PHONY: cluster-up
cluster-up: ## start the local cluster (kubeconfig and kubectl in localcluster/.run/)
	$(localcluster_go) run ./cmd/cluster up

.PHONY: cluster-down
cluster-down: ## stop exactly what cluster-up started (and the local state kept with it)
	$(localcluster_go) run ./cmd/cluster down

.PHONY: lint
lint: ## gofmt, and actionlint with shellcheck on the workflows
	scripts/install-deps.sh shellcheck
	@unformatted=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$unformatted" ]; then echo "gofmt would change: $$unformatted"; exit 1; fi
	scripts/actionlint.sh

.PHONY: bench
bench: ## load the API and worker against a real Redis and print the figures
	cd app && go run ./cmd/bench

.PHONY: bench-deploy
bench-deploy: ## time make up by phase, a no-change preview and a tag bump: make bench-deploy [COLD=1] [RUNS=3]
	go run ./tools/benchdeploy $(if $(filter 1 true yes,$(COLD)),-cold) -runs $(or $(RUNS),3)

STRESS_N ?= 30
.PHONY: stress-stop
stress-stop: ## stop a real make run every way, STRESS_N (30) times each, with both cores busy
	go build -o bin/stressstop ./tools/stressstop
	bin/stressstop -n $(STRESS_N)

##@ deploy
# STACK names one stack; without it up and preview take every stack, each after its source.
stacks = $(if $(STACK),$(STACK),$$(go run ./tools/release stacks))
# What deploying with the no-account defaults needs (only missing ones are installed): the Pulumi
# engine, the private Docker engine and its base images, the loopback registry, the local node.
deploy_deps = pulumi curl dockerd debootstrap docker-registry containerd runc iptables ipset /usr/lib/cni/bridge

.PHONY: preview
preview: ## show what `up` would change: make preview [STACK=test]
	scripts/install-deps.sh $(deploy_deps)
	for s in $(stacks); do scripts/pulumi.sh preview "$$s" --diff; done

# --refresh reads the live objects first: without it the engine compares the program with its
# state only, and a hand edit (make drift's findings) would stay (docs/review.md).
.PHONY: up
up: ## deploy every stack and run a job through each NodePort, or one: make up [STACK=test]
	scripts/install-deps.sh $(deploy_deps)
	$(if $(STACK),scripts/pulumi.sh up "$(STACK)" --yes --refresh,scripts/up-all.sh)

.PHONY: destroy
destroy: ## delete one stack's resources: make destroy STACK=test
	@[ -n "$(STACK)" ] || { echo "make destroy needs STACK=<stack>: it deletes that environment" >&2; exit 2; }
	scripts/pulumi.sh destroy "$(STACK)" --yes

.PHONY: review
review: ## bring up pull request PR's review stack beside test and prod: make review PR=7
	@[ -n "$(PR)" ] || { echo "make review needs PR=<pull request number>" >&2; exit 2; }
	scripts/install-deps.sh $(deploy_deps)
	scripts/review.sh up "$(PR)"

.PHONY: review-down
review-down: ## destroy a review stack and remove its stack, state and file: make review-down PR=7
	@[ -n "$(PR)" ] || { echo "make review-down needs PR=<pull request number>" >&2; exit 2; }
	scripts/review.sh down "$(PR)"

# The drift check's own exit code (0 in sync, 3 drift, 4 could not check) shows as make's
# "Error 3"/"Error 4"; scripts/drift.sh returns it as its own.
.PHONY: drift
drift: ## compare what runs with what each deployed stack declares: make drift [STACK=test]
	scripts/drift.sh $(if $(STACK),-stack "$(STACK)")

.PHONY: down
down: ## stop everything make up started here: the local cluster (with its state), registry, Docker engine
	$(localcluster_go) run ./cmd/cluster down
	scripts/local-registry.sh stop
	scripts/dockerd.sh stop

##@ release
.PHONY: verify
verify: ## check a deployed stack from outside and inside the cluster, and record a pass: make verify STACK=test
	@[ -n "$(STACK)" ] || { echo "make verify needs STACK=<stack>: the stack to check (test)" >&2; exit 2; }
	scripts/pulumi-env.sh go run ./tools/verify -stack "$(STACK)"

# FORCE=1 (or true/yes) lets bump and promote move a stack to an older version.
release_force = $(if $(filter 1 true yes,$(FORCE)),-force)

.PHONY: bump
bump: ## set a stack's version: make bump STACK=test VERSION=0.2.0 [FORCE=1]
	go run ./tools/release bump -stack "$(STACK)" -version "$(VERSION)" $(release_force)

.PHONY: release
release: ## commit test's config at VERSION and tag that commit: make release VERSION=0.2.0
	go run ./tools/release release -version "$(VERSION)"

# Without STACK, promote takes the one stack that promotes from another (prod).
.PHONY: promote
promote: ## set prod to the version its source (test) runs: make promote [STACK=prod] [FORCE=1] [SOURCE_VERSION_FROM=file]
	scripts/pulumi-env.sh go run ./tools/release promote $(release_force) \
		$(if $(STACK),-stack "$(STACK)") \
		$(if $(SOURCE_VERSION_FROM),-source-version-from "$(SOURCE_VERSION_FROM)")
