#!/usr/bin/env bash
# Builds the binaries of the local single-node cluster (hack/cluster.sh) that
# hack/setup-k8s.sh does not build, into bin/cluster/, skipping anything that
# is already there, and installs the Debian packages the cluster needs at run
# time if they are missing. It first builds what hack/setup-k8s.sh builds
# (the control plane, into bin/k8s/<version>) if missing, with the same
# throwaway Go cache as the kubelet: compiled once, k8s.io/kubernetes'
# packages serve both (make test, demo and cluster-up run this before
# setup-k8s, which then finds everything built).
#
#   kubelet, kube-proxy          k8s.io/kubernetes through a throwaway module
#                                (the recipe of hack/setup-k8s.sh)
#   containerd, containerd-shim-runc-v2, ctr
#                                github.com/containerd/containerd/v2, static
#   coredns                      github.com/coredns/coredns, with the plugins
#                                the Corefile of hack/cluster.sh names only
#   kube-router                  ../shared/third_party source tarball (the
#                                module proxy refuses kube-router), used for
#                                NetworkPolicy enforcement only
#   local-path-provisioner       github.com/rancher/local-path-provisioner
#
# Debian packages: runc containernetworking-plugins iptables ipset nftables
# mmdebstrap (nftables: `nft`, for hack/cluster.sh down to remove the empty
# tables iptables-nft leaves).
#
# Prints the directory holding the binaries on stdout; progress and timings
# go to stderr. Set SKIP_APT=1 to leave the Debian packages alone, APT_ONLY=1
# to install them and build nothing (make cluster-bins, whose binaries may
# come from the tool cache: hack/tool-cache.sh).
set -euo pipefail

K8S_VERSION="${K8S_VERSION:-v1.37.2}"
CONTAINERD_VERSION="${CONTAINERD_VERSION:-v2.4.2}"
COREDNS_VERSION="${COREDNS_VERSION:-v1.12.4}"
KUBE_ROUTER_VERSION="${KUBE_ROUTER_VERSION:-v2.11.1}"
LOCAL_PATH_VERSION="${LOCAL_PATH_VERSION:-v0.0.30}"

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="${ROOT}/bin/cluster"
KUBE_ROUTER_SRC="${KUBE_ROUTER_SRC:-${ROOT}/../shared/third_party/kube-router-${KUBE_ROUTER_VERSION}-src.tar.gz}"
mkdir -p "${OUT}"
log() { echo "build-cluster-bins: $*" >&2; }
# shellcheck source=hack/lib/k8s-build.sh
source "${ROOT}/hack/lib/k8s-build.sh"
# shellcheck source=hack/lib/trimmed-build.sh
source "${ROOT}/hack/lib/trimmed-build.sh"
throwaway_gocache "${OUT}/.gocache"
# timed NAME CMD...: runs CMD and logs how long it took.
timed() {
  local name="$1" start=${SECONDS}
  shift
  "$@"
  log "${name}: $((SECONDS - start)) s"
}

# --- Debian packages -------------------------------------------------------
apt_packages() {
  local missing=() p
  for p in runc containernetworking-plugins iptables ipset nftables mmdebstrap; do
    dpkg-query -W -f='${Status}' "${p}" 2>/dev/null | grep -q 'ok installed' || missing+=("${p}")
  done
  ((${#missing[@]})) || return 0
  log "installing Debian packages: ${missing[*]}"
  # apt may be busy with another install: wait for its lock.
  apt-get -o DPkg::Lock::Timeout=1800 update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=1800 install -y -qq --no-install-recommends "${missing[@]}" >&2
}
[[ "${SKIP_APT:-}" == 1 ]] || timed "debian packages" apt_packages
[[ "${APT_ONLY:-}" != 1 ]] || exit 0

# --- the control plane (hack/setup-k8s.sh's) ------------------------------------
timed "control plane" build_control_plane "${K8S_VERSION}" "${ROOT}/bin/k8s/${K8S_VERSION}"

# --- kubelet, kube-proxy -----------------------------------------------------
build_k8s() {
  local need=() b
  for b in kubelet kube-proxy; do
    [[ -x "${OUT}/${b}" ]] || need+=("${b}")
  done
  ((${#need[@]})) || return 0
  log "building ${need[*]} from k8s.io/kubernetes@${K8S_VERSION} (kubelet takes ~5 min cold on 2 cores)"
  timed "${need[*]}" build_k8s_commands "${K8S_VERSION}" "${OUT}" "${need[@]}"
}
build_k8s

# --- containerd ----------------------------------------------------------------
if [[ ! -x "${OUT}/containerd" || ! -x "${OUT}/containerd-shim-runc-v2" || ! -x "${OUT}/ctr" ]]; then
  log "installing containerd ${CONTAINERD_VERSION} (containerd, containerd-shim-runc-v2, ctr)"
  GOBIN="${OUT}" CGO_ENABLED=0 timed containerd go install -trimpath \
    -tags "no_btrfs no_devmapper no_zfs no_aufs" \
    -ldflags "-s -w -X github.com/containerd/containerd/v2/version.Version=${CONTAINERD_VERSION}" \
    "github.com/containerd/containerd/v2/cmd/containerd@${CONTAINERD_VERSION}" \
    "github.com/containerd/containerd/v2/cmd/containerd-shim-runc-v2@${CONTAINERD_VERSION}" \
    "github.com/containerd/containerd/v2/cmd/ctr@${CONTAINERD_VERSION}"
fi

# --- CoreDNS -------------------------------------------------------------------
# With only the plugins of hack/cluster.sh's Corefile (hack/lib/trimmed-build.sh).
if [[ ! -x "${OUT}/coredns" ]]; then
  log "building coredns ${COREDNS_VERSION} (bind errors ready kubernetes cache loadbalance)"
  timed coredns build_trimmed "${OUT}/coredns" github.com/coredns/coredns "${COREDNS_VERSION}" 'package main

import (
	"github.com/coredns/coredns/coremain"
	_ "github.com/coredns/coredns/plugin/bind"
	_ "github.com/coredns/coredns/plugin/cache"
	_ "github.com/coredns/coredns/plugin/errors"
	_ "github.com/coredns/coredns/plugin/kubernetes"
	_ "github.com/coredns/coredns/plugin/loadbalance"
	_ "github.com/coredns/coredns/plugin/ready"
)

func main() { coremain.Run() }'
fi

# --- kube-router (NetworkPolicy only) -------------------------------------------
if [[ ! -x "${OUT}/kube-router" ]]; then
  [[ -f "${KUBE_ROUTER_SRC}" ]] || { log "missing ${KUBE_ROUTER_SRC}"; exit 1; }
  log "building kube-router ${KUBE_ROUTER_VERSION} from ${KUBE_ROUTER_SRC}"
  work="${OUT}/.build-kube-router"
  rm -rf "${work}" && mkdir -p "${work}"
  tar -xzf "${KUBE_ROUTER_SRC}" -C "${work}" --strip-components=1
  # The pinned netlink pseudo-version is not served by the module proxy.
  (cd "${work}" && go mod edit -replace github.com/vishvananda/netlink=github.com/vishvananda/netlink@v1.3.1 &&
    GOFLAGS=-mod=mod CGO_ENABLED=0 timed kube-router go build -trimpath \
      -ldflags "-s -w -X github.com/cloudnativelabs/kube-router/v2/pkg/version.Version=${KUBE_ROUTER_VERSION}" \
      -o "${OUT}/kube-router.tmp" ./cmd/kube-router)
  mv "${OUT}/kube-router.tmp" "${OUT}/kube-router"
  rm -rf "${work}"
fi

# --- local-path-provisioner (dynamic PVs) ------------------------------------------
if [[ ! -x "${OUT}/local-path-provisioner" ]]; then
  log "installing local-path-provisioner ${LOCAL_PATH_VERSION}"
  GOBIN="${OUT}" CGO_ENABLED=0 timed local-path-provisioner go install -trimpath -ldflags "-s -w" \
    "github.com/rancher/local-path-provisioner@${LOCAL_PATH_VERSION}"
fi

echo "${OUT}"
