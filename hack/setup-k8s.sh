#!/usr/bin/env bash
# Builds the Kubernetes binaries the tests and the demo need from the Go module
# proxy (no release download is reachable from our machines) into
# bin/k8s/<version>/, skipping anything that is already there.
#
#   kube-apiserver, kube-controller-manager, kube-scheduler, kubectl
#       from k8s.io/kubernetes through a throwaway module that replaces every
#       k8s.io/<staging> module with its published v0.<minor>.<patch> tag
#   etcd            from go.etcd.io/etcd/server/v3
#   kwok, kwokctl   from sigs.k8s.io/kwok, only with KWOK=1 (make bench-scale:
#                   the test suite does not use them)
#
# Prints the directory holding the binaries on stdout (use it as
# KUBEBUILDER_ASSETS); progress goes to stderr.
set -euo pipefail

K8S_VERSION="${K8S_VERSION:-v1.37.2}"
KWOK_VERSION="${KWOK_VERSION:-v0.8.0}"

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="${ROOT}/bin/k8s/${K8S_VERSION}"
mkdir -p "${OUT}"
log() { echo "setup-k8s: $*" >&2; }
# shellcheck source=hack/lib/k8s-build.sh
source "${ROOT}/hack/lib/k8s-build.sh"
throwaway_gocache "${OUT}/.gocache"

build_control_plane "${K8S_VERSION}" "${OUT}"

if [[ "${KWOK:-}" == 1 ]]; then
  for b in kwok kwokctl; do
    if [[ ! -x "${OUT}/${b}" ]]; then
      log "installing ${b} ${KWOK_VERSION}"
      GOBIN="${OUT}" CGO_ENABLED=0 go install "sigs.k8s.io/kwok/cmd/${b}@${KWOK_VERSION}"
    fi
  done
fi

echo "${OUT}"
