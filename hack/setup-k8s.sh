#!/usr/bin/env bash
# Builds the Kubernetes binaries the tests and the demo need from the Go module
# proxy (no release download is reachable from our machines) into
# bin/k8s/<version>/, skipping anything that is already there.
#
#   kube-apiserver, kube-controller-manager, kube-scheduler, kubectl
#       from k8s.io/kubernetes through a throwaway module that replaces every
#       k8s.io/<staging> module with its published v0.<minor>.<patch> tag
#   etcd            from go.etcd.io/etcd/server/v3
#   kwok, kwokctl   from sigs.k8s.io/kwok
#
# Prints the directory holding the binaries on stdout (use it as
# KUBEBUILDER_ASSETS); progress goes to stderr.
set -euo pipefail

K8S_VERSION="${K8S_VERSION:-v1.37.2}"
ETCD_VERSION="${ETCD_VERSION:-v3.6.16}"
KWOK_VERSION="${KWOK_VERSION:-v0.8.0}"

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="${ROOT}/bin/k8s/${K8S_VERSION}"
mkdir -p "${OUT}"
log() { echo "setup-k8s: $*" >&2; }
# shellcheck source=hack/lib/k8s-build.sh
source "${ROOT}/hack/lib/k8s-build.sh"
throwaway_gocache "${OUT}/.gocache"

need=()
for b in kube-apiserver kube-controller-manager kube-scheduler kubectl; do
  [[ -x "${OUT}/${b}" ]] || need+=("${b}")
done

if ((${#need[@]})); then
  log "building ${need[*]} from k8s.io/kubernetes@${K8S_VERSION} (first build takes several minutes)"
  build_k8s_commands "${K8S_VERSION}" "${OUT}" "${need[@]}"
fi

if [[ ! -x "${OUT}/etcd" ]]; then
  log "building etcd ${ETCD_VERSION}"
  work="${OUT}/.build-etcd"
  rm -rf "${work}" && mkdir -p "${work}"
  printf 'module supportstack.local/etcdbuild\n\ngo 1.25\n' >"${work}/go.mod"
  (cd "${work}" && GOFLAGS=-mod=mod go get "go.etcd.io/etcd/server/v3@${ETCD_VERSION}" >/dev/null 2>&1 &&
    GOFLAGS=-mod=mod CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "${OUT}/etcd.tmp" go.etcd.io/etcd/server/v3)
  mv "${OUT}/etcd.tmp" "${OUT}/etcd"
  rm -rf "${work}"
fi

for b in kwok kwokctl; do
  if [[ ! -x "${OUT}/${b}" ]]; then
    log "installing ${b} ${KWOK_VERSION}"
    GOBIN="${OUT}" CGO_ENABLED=0 go install "sigs.k8s.io/kwok/cmd/${b}@${KWOK_VERSION}"
  fi
done

echo "${OUT}"
