# SupportStack operator. `make help` lists the targets.

# The version of this build: the tag of both images, and the manager's
# main.version, from which its default agent image is derived. One variable,
# so that the manager and the agent it runs are always the same build (they
# share a wire contract, internal/agentapi.ContractVersion). "dev" by
# default: the tag of the local cluster's images (hack/images.sh) and of a
# manager built with no version; releases set it (make docker-build
# docker-build-agent deploy VERSION=v0.2.0). Not `git describe`: its
# "-dirty" comes and goes between two make runs of one checkout, and the
# images built by one would not be those the other deploys.
VERSION ?= dev

# Image of the operator, for `make docker-build deploy`.
IMG ?= supportstack/operator:$(VERSION)

# The manager's -X main.version: a dev build keeps its VCS stamp (what drill
# evidence records) and defaults to supportstack/agent:dev all the same.
GO_LDFLAGS = $(if $(filter-out dev,$(VERSION)),-X main.version=$(VERSION))

# Kubernetes version of the local control plane built by hack/setup-k8s.sh.
K8S_VERSION ?= v1.37.2
export K8S_VERSION

# Get the currently used golang install path (in GOPATH/bin, unless GOBIN is set)
ifeq (,$(shell go env GOBIN))
GOBIN=$(shell go env GOPATH)/bin
else
GOBIN=$(shell go env GOBIN)
endif

SHELL = /usr/bin/env bash -o pipefail
.SHELLFLAGS = -ec

.PHONY: all
all: build

##@ General

.PHONY: help
help: ## Display this help.
	@awk 'BEGIN {FS = ":.*##"; printf "\nUsage:\n  make \033[36m<target>\033[0m\n"} /^[a-zA-Z_0-9-]+:.*?##/ { printf "  \033[36m%-15s\033[0m %s\n", $$1, $$2 } /^##@/ { printf "\n\033[1m%s\033[0m\n", substr($$0, 5) } ' $(MAKEFILE_LIST)

##@ Development

.PHONY: manifests
manifests: controller-gen ## Generate CRDs and the manager ClusterRole from the markers, and the chart's copies of them (make chart).
	$(CONTROLLER_GEN) rbac:roleName=manager-role crd paths="./..." output:crd:artifacts:config=config/crd/bases
	hack/gen-chart.sh

# The chart's copies of config/ (CRDs, RBAC, admission policies, alerts,
# dashboard) and its README's values table; with VERSION other than dev, the
# chart's version and appVersion too (make chart VERSION=v0.2.0).
.PHONY: chart
chart: ## Refresh charts/supportstack-operator from config/ and its values table from values.yaml.
	hack/gen-chart.sh "$(VERSION)"

.PHONY: generate
generate: controller-gen ## Generate DeepCopy methods.
	$(CONTROLLER_GEN) object:headerFile="hack/boilerplate.go.txt" paths="./..."

.PHONY: fmt
fmt: ## Run go fmt against code.
	go fmt ./...

.PHONY: vet
vet: ## Run go vet against code.
	go vet ./...

# The environment every test package may need: the Kubernetes binaries
# (envtest and kwok), controller-gen (generated-files check), the manager (e2e),
# helm (the chart's lint, template and drift tests).
TEST_ENV = KUBEBUILDER_ASSETS="$(K8S_ASSETS)" K8S_ASSETS="$(K8S_ASSETS)" \
	CONTROLLER_GEN="$(CONTROLLER_GEN)" MANAGER_BIN="$(LOCALBIN)/manager" RCLONE_BIN="$(RCLONE)" \
	HELM="$(HELM)"

.PHONY: test
# No manifests/generate here: the suite itself fails when the checked-in
# generated files are stale, and regenerating first would hide that.
test: deps images-prefetch cluster-bins setup-k8s controller-gen helm rclone vet test-alerts ## Run the whole suite: unit, envtest (real kube-apiserver + etcd), generated files, e2e on a real single-node cluster (root).
	go build -o bin/manager ./cmd
	go build -o bin/supportstack ./cmd/supportstack
	go build -o bin/agent ./cmd/agent
	$(TEST_ENV) hack/test.sh

.PHONY: test-alerts
test-alerts: promtool ## Check the alert rules (config/prometheus/alerts.yaml) and run their unit tests with promtool.
	PROMTOOL="$(PROMTOOL)" go test ./test/generated -run '^TestAlertRules$$' -count=1

.PHONY: test-dashboard
test-dashboard: promtool ## Check the Grafana dashboard (config/grafana): its PromQL parses (promtool), reads only exported metrics, and config/grafana renders (with K8S_ASSETS's kubectl: make setup-k8s).
	PROMTOOL="$(PROMTOOL)" K8S_ASSETS="$(K8S_ASSETS)" go test ./test/generated -run '^(TestDashboard|TestMetricNames|TestMonitoringKustomization)' -count=1

.PHONY: test-e2e
test-e2e: deps images-prefetch cluster-bins setup-k8s helm rclone vet ## Run only the end-to-end tests: the demo on a real single-node cluster (root).
	go build -o bin/manager ./cmd
	go build -o bin/supportstack ./cmd/supportstack
	$(TEST_ENV) go test ./test/e2e/... -v -count=1 -timeout 30m

.PHONY: bench
bench: deps ## Run the benchmarks and print their figures (includes a ~1 GB PostgreSQL backup and drill: several minutes).
	go test ./... -run '^$$' -bench . -skip 'BenchmarkBackupLarge|BenchmarkDrillLarge' -benchmem
	go test ./internal/agent -run '^$$' -bench BackupLarge -benchtime 1x -timeout 60m
	go test ./internal/agent -run '^$$' -bench DrillLarge -benchtime 3x -timeout 60m
	hack/install-cbc.sh && ROSTER_ORACLE=1 go test ./internal/roster -run '^$$' -bench 'RosterVsMILP|RosterRuns' -benchtime 1x -timeout 120m

.PHONY: bench-scale
bench-scale: setup-k8s kwok ## Measure the operator on a kwok control plane: 1,000 each of SupportTeam, BackupPolicy, DRDrill, figures against a plain-client baseline (~25 min; SCALE_N=100 SCALE_WINDOW=1m for a quick run).
	go build -o $(LOCALBIN)/scale-manager ./cmd
	K8S_ASSETS="$(K8S_ASSETS)" SCALE_MANAGER="$(LOCALBIN)/scale-manager" go run ./test/scale

.PHONY: lint
lint: golangci-lint ## Run golangci-lint.
	$(GOLANGCI_LINT) run

.PHONY: lint-fix
lint-fix: golangci-lint ## Run golangci-lint and apply its fixes.
	$(GOLANGCI_LINT) run --fix

##@ Build

.PHONY: build
build: manifests generate fmt vet ## Build the manager (bin/manager, version VERSION) and the CLI (bin/supportstack).
	go build -ldflags "$(GO_LDFLAGS)" -o bin/manager ./cmd
	go build -o bin/supportstack ./cmd/supportstack

# Where install-plugin puts the CLI: PREFIX/bin, and its completion under
# PREFIX/share (DESTDIR for packaging).
PREFIX ?= /usr/local

.PHONY: plugin
plugin: ## Build the CLI as the kubectl plugin bin/kubectl-supportstack (kubectl supportstack coverage ..., once on PATH).
	go build -o bin/kubectl-supportstack ./cmd/supportstack

.PHONY: install-plugin
install-plugin: plugin ## Install kubectl-supportstack into PREFIX/bin (default /usr/local) with its completion: bash's, and kubectl's (kubectl_complete-supportstack, so kubectl's own bash/zsh completion completes the plugin).
	install -d "$(DESTDIR)$(PREFIX)/bin" "$(DESTDIR)$(PREFIX)/share/bash-completion/completions"
	install -m 0755 bin/kubectl-supportstack "$(DESTDIR)$(PREFIX)/bin/kubectl-supportstack"
	install -m 0755 hack/completion/kubectl_complete-supportstack "$(DESTDIR)$(PREFIX)/bin/kubectl_complete-supportstack"
	bin/kubectl-supportstack completion bash > "$(DESTDIR)$(PREFIX)/share/bash-completion/completions/kubectl-supportstack"

.PHONY: run
run: manifests generate fmt vet ## Run the manager from your host against the cluster in ~/.kube/config.
	go run -ldflags "$(GO_LDFLAGS)" ./cmd

# Images cannot be built on machines without a container engine (ours have
# none); build them where one runs.
.PHONY: docker-build
docker-build: ## Build the operator image IMG of version VERSION (needs a container engine).
	$(CONTAINER_TOOL) build --build-arg VERSION=$(VERSION) -t $(IMG) .

.PHONY: docker-push
docker-push: ## Push the operator image.
	$(CONTAINER_TOOL) push $(IMG)

# Image of the backup agent, named to the operator by --agent-image: of the
# operator's VERSION (the agent refuses a configuration of another contract
# version). Derived from IMG when IMG names an operator image, so that
# `make deploy IMG=registry.example.com/supportstack/operator:v0.2.0` also
# pins registry.example.com/supportstack/agent:v0.2.0. Any other IMG
# derives none: the targets that need AGENT_IMG stop (check-agent-img)
# rather than pick Docker Hub's supportstack/agent behind the user's back.
AGENT_IMG ?= $(if $(findstring /operator:,/$(IMG)),$(subst operator:,agent:,$(IMG)))

# check-agent-img stops make, before anything runs (make -n too: $(error)
# is expanded when the recipe is), when AGENT_IMG is empty.
.PHONY: check-agent-img
check-agent-img:
	$(if $(AGENT_IMG),,$(error AGENT_IMG is not set and cannot be derived from IMG=$(IMG), which is not .../operator:TAG: set it to the agent image of the same version, e.g. make $(MAKECMDGOALS) IMG=$(IMG) AGENT_IMG=<registry>/<path>/agent:<tag>))

.PHONY: docker-build-agent
docker-build-agent: check-agent-img ## Build the agent image (agent + pg_dump + restic; needs a container engine).
	$(CONTAINER_TOOL) build -f Dockerfile.agent -t $(AGENT_IMG) .

CONTAINER_TOOL ?= docker

.PHONY: build-installer
build-installer: check-agent-img manifests generate kustomize ## Write dist/install.yaml: CRDs and deployment (images IMG and AGENT_IMG, both of VERSION) in one file.
	mkdir -p dist
	KUSTOMIZE="$(KUSTOMIZE)" hack/render-install.sh "$(IMG)" "$(AGENT_IMG)" > dist/install.yaml

##@ Deployment

ifndef ignore-not-found
  ignore-not-found = false
endif

.PHONY: install
install: manifests kustomize ## Install CRDs into the cluster in ~/.kube/config.
	$(KUSTOMIZE) build config/crd | $(KUBECTL) apply --server-side -f -

.PHONY: uninstall
uninstall: manifests kustomize ## Uninstall CRDs. ignore-not-found=true ignores missing resources.
	$(KUSTOMIZE) build config/crd | $(KUBECTL) delete --ignore-not-found=$(ignore-not-found) -f -

.PHONY: deploy
deploy: check-agent-img manifests kustomize ## Deploy the operator (image IMG, agent image AGENT_IMG, both of VERSION) to the cluster in ~/.kube/config.
	KUSTOMIZE="$(KUSTOMIZE)" hack/render-install.sh "$(IMG)" "$(AGENT_IMG)" | $(KUBECTL) apply --server-side -f -

.PHONY: undeploy
undeploy: kustomize ## Remove the operator from the cluster.
	$(KUSTOMIZE) build config/default | $(KUBECTL) delete --ignore-not-found=$(ignore-not-found) -f -

##@ Demo

.PHONY: demo
demo: deps cluster-bins setup-k8s rclone build ## A real single-node cluster (root), images, the operator deployed, a backup, a passing and a failing drill.
	K8S_ASSETS="$(K8S_ASSETS)" hack/demo.sh up

.PHONY: demo-down
demo-down: ## Remove everything `make demo` started, on the machine too.
	K8S_ASSETS="$(K8S_ASSETS)" hack/demo.sh down

.PHONY: cluster-up
cluster-up: deps cluster-bins setup-k8s ## Start the single-node cluster with real containers alone (hack/cluster.sh; root).
	K8S_ASSETS="$(K8S_ASSETS)" hack/cluster.sh up

.PHONY: cluster-down
cluster-down: ## Stop it and remove what it made on the machine.
	K8S_ASSETS="$(K8S_ASSETS)" hack/cluster.sh down

.PHONY: images
images: rclone ## Build the images (operator, agent, postgres, s3, pause, busybox) from Debian packages; import them into a running cluster.
	hack/images.sh

##@ Dependencies

LOCALBIN ?= $(shell pwd)/bin
$(LOCALBIN):
	mkdir -p $(LOCALBIN)

KUBECTL ?= $(K8S_ASSETS)/kubectl
K8S_ASSETS ?= $(LOCALBIN)/k8s/$(K8S_VERSION)
# What hack/setup-k8s.sh and hack/build-cluster-bins.sh build.
K8S_BINS = $(addprefix $(K8S_ASSETS)/,kube-apiserver kube-controller-manager kube-scheduler kubectl etcd)
CLUSTER_BINS = $(addprefix $(LOCALBIN)/cluster/,kubelet kube-proxy containerd containerd-shim-runc-v2 ctr coredns kube-router local-path-provisioner)

# Tools built once per machine and recipe are kept here and copied into a
# clone's bin/ (hack/tool-cache.sh), and so are the images' Debian root
# file systems (hack/images.sh); TOOL_CACHE=off builds everything afresh.
TOOL_CACHE ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/supportstack/tools
export TOOL_CACHE
ifneq ($(TOOL_CACHE),off)
IMAGES_CACHE ?= $(TOOL_CACHE)/images-rootfs
export IMAGES_CACHE
endif

CONTROLLER_GEN ?= $(LOCALBIN)/controller-gen-$(CONTROLLER_TOOLS_VERSION)
KUSTOMIZE ?= $(LOCALBIN)/kustomize-$(KUSTOMIZE_VERSION)
GOLANGCI_LINT ?= $(LOCALBIN)/golangci-lint-$(GOLANGCI_LINT_VERSION)
RCLONE ?= $(LOCALBIN)/rclone-$(RCLONE_VERSION)
PROMTOOL ?= $(LOCALBIN)/promtool-$(PROMTOOL_VERSION)
HELM ?= $(LOCALBIN)/helm-$(HELM_VERSION)
# test/generated's alert tests run it (make test-alerts, and go test ./... in make test).
export PROMTOOL

## Tool versions
CONTROLLER_TOOLS_VERSION ?= v0.23.0
KUSTOMIZE_VERSION ?= v5.8.0
GOLANGCI_LINT_VERSION ?= v2.15.0
# rclone serves the S3-compatible endpoint of the data-path tests.
RCLONE_VERSION ?= v1.71.0
# promtool checks and unit-tests the alert rules; Prometheus v3.16.0 is
# v0.316.0 in Go module terms. Built with remove_all_sd (Prometheus 3.10+):
# without the cloud service discoveries, which promtool's checks of rules
# never use, it builds in 2.3 minutes from empty caches instead of 7.
PROMTOOL_VERSION ?= v0.316.0
# helm lints and renders charts/supportstack-operator in the tests.
HELM_VERSION ?= v3.22.0

.PHONY: deps
deps: ## Install the Debian packages the tests and demo use (Request Tracker 5, curl), if missing.
	hack/install-deps.sh

# The images of the end-to-end tests whose build is mostly Debian downloads
# and dpkg (an mmdebstrap each, about 12 minutes cold, 9 of them Request
# Tracker's), started in the background by make test and test-e2e before the
# Go tool builds, which keep both cores busy for half an hour on a cold
# machine. hack/images.sh holds a lock on bin/images: the tests' own call
# waits for this one and finds the archives built (or builds what it failed
# to, and says why).
PREFETCH_IMAGES ?= busybox postgres agent rt
.PHONY: images-prefetch
images-prefetch: deps ## Build the Debian-based test images in the background (log: bin/images/prefetch.log).
	@mkdir -p $(LOCALBIN)/images
	@if ! flock -n $(LOCALBIN)/images/.lock true; then \
		echo "images: a build is running already (bin/images/prefetch.log)"; \
	else \
		echo "images: building $(PREFETCH_IMAGES) in the background (bin/images/prefetch.log)"; \
		nohup hack/images.sh --no-import $(PREFETCH_IMAGES) >$(LOCALBIN)/images/prefetch.log 2>&1 & \
	fi

.PHONY: cluster-bins
cluster-bins: ## Build kubelet, kube-proxy, containerd, CoreDNS, kube-router, local-path-provisioner into bin/cluster (cached).
	APT_ONLY=1 hack/build-cluster-bins.sh >/dev/null
	hack/tool-cache.sh cluster-$(K8S_VERSION) -r hack/build-cluster-bins.sh -r hack/lib/k8s-build.sh -r hack/lib/trimmed-build.sh \
		$(CLUSTER_BINS) $(K8S_BINS) -- env SKIP_APT=1 hack/build-cluster-bins.sh >/dev/null

.PHONY: setup-k8s
setup-k8s: ## Build kube-apiserver, controller-manager, scheduler, kubectl, etcd into bin/k8s/$(K8S_VERSION) (cached).
	hack/tool-cache.sh k8s-$(K8S_VERSION) -r hack/setup-k8s.sh -r hack/lib/k8s-build.sh $(K8S_BINS) -- hack/setup-k8s.sh >/dev/null

.PHONY: kwok
kwok: ## Build kwok and kwokctl (make bench-scale's control plane) into bin/k8s/$(K8S_VERSION) (cached).
	KWOK=1 hack/setup-k8s.sh >/dev/null

.PHONY: controller-gen
controller-gen: $(CONTROLLER_GEN) ## Install controller-gen into bin/.
$(CONTROLLER_GEN): | $(LOCALBIN)
	$(call go-install-tool,$(CONTROLLER_GEN),sigs.k8s.io/controller-tools/cmd/controller-gen,$(CONTROLLER_TOOLS_VERSION))

.PHONY: kustomize
kustomize: $(KUSTOMIZE) ## Install kustomize into bin/.
$(KUSTOMIZE): | $(LOCALBIN)
	$(call go-install-tool,$(KUSTOMIZE),sigs.k8s.io/kustomize/kustomize/v5,$(KUSTOMIZE_VERSION))

.PHONY: golangci-lint
golangci-lint: $(GOLANGCI_LINT) ## Install golangci-lint into bin/.
$(GOLANGCI_LINT): | $(LOCALBIN)
	$(call go-install-tool,$(GOLANGCI_LINT),github.com/golangci/golangci-lint/v2/cmd/golangci-lint,$(GOLANGCI_LINT_VERSION))

.PHONY: promtool
promtool: $(PROMTOOL) ## Build promtool (alert rule tests) into bin/.
$(PROMTOOL): | $(LOCALBIN)
	$(call go-install-tool,$(PROMTOOL),github.com/prometheus/prometheus/cmd/promtool,$(PROMTOOL_VERSION),-tags remove_all_sd)

.PHONY: helm
helm: $(HELM) ## Build helm (the chart's lint, template and drift tests) into bin/.
$(HELM): | $(LOCALBIN)
	$(call go-install-tool,$(HELM),helm.sh/helm/v3/cmd/helm,$(HELM_VERSION))

.PHONY: rclone
rclone: $(RCLONE) ## Build rclone (the tests' S3 endpoint: serve s3, mkdir and the local backend only) into bin/.
$(RCLONE): | $(LOCALBIN)
	hack/tool-cache.sh rclone-$(RCLONE_VERSION) -r hack/build-rclone.sh -r hack/lib/trimmed-build.sh $(RCLONE) -- hack/build-rclone.sh $(RCLONE) $(RCLONE_VERSION)

# go-install-tool builds a Go command at a version into bin/ under a
# versioned name (hack/go-install-tool.sh), or copies it from the machine's
# tool cache (hack/tool-cache.sh), if it is not there yet.
# $1 - target path with name of binary (ideally with version)
# $2 - package url which can be installed
# $3 - specific version of package
# $4 - go install flags (optional)
define go-install-tool
@[ -f "$(1)" ] || hack/tool-cache.sh "$(notdir $(1))$(subst $() ,,$(4))" -r hack/go-install-tool.sh "$(1)" -- hack/go-install-tool.sh "$(1)" "$(2)" "$(3)" $(4)
endef
