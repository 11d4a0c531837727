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

need=()
for b in kube-apiserver kube-controller-manager kube-scheduler kubectl; do
  [[ -x "${OUT}/${b}" ]] || need+=("${b}")
done

if ((${#need[@]})); then
  log "building ${need[*]} from k8s.io/kubernetes@${K8S_VERSION} (first build takes several minutes)"
  work="${OUT}/.build"
  rm -rf "${work}" && mkdir -p "${work}"
  staging_minor="v0.${K8S_VERSION#v1.}"
  # k8s.io/kubernetes' own go.mod lists its staging modules as local replaces;
  # point each of them at the published tag instead.
  modfile="$(cd "${work}" && GOFLAGS=-mod=mod go mod download -json "k8s.io/kubernetes@${K8S_VERSION}" | sed -n 's/.*"GoMod": "\(.*\)",*/\1/p')"
  {
    echo "module supportstack.local/k8sbuild"
    echo
    echo "go 1.25"
    echo
    echo "require k8s.io/kubernetes ${K8S_VERSION}"
    echo
    grep -Eo '^\s*k8s\.io/[a-z0-9-]+ => \./staging/src/k8s\.io/[a-z0-9-]+' "${modfile}" |
      awk -v v="${staging_minor}" '{print "replace " $1 " => " $1 " " v}'
  } >"${work}/go.mod"
  cat >"${work}/tools.go" <<'GO'
//go:build tools

package k8sbuild

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
	_ "k8s.io/kubernetes/cmd/kubectl"
)
GO
  (cd "${work}" && GOFLAGS=-mod=mod go mod tidy -e >/dev/null 2>&1 || true)
  for b in "${need[@]}"; do
    log "go build ${b}"
    (cd "${work}" && GOFLAGS=-mod=mod CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X k8s.io/component-base/version.gitVersion=${K8S_VERSION} -X k8s.io/client-go/pkg/version.gitVersion=${K8S_VERSION}" -o "${OUT}/${b}.tmp" "k8s.io/kubernetes/cmd/${b}")
    mv "${OUT}/${b}.tmp" "${OUT}/${b}"
  done
  rm -rf "${work}"
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
