# Sourced by hack/setup-k8s.sh and hack/build-cluster-bins.sh.
#
# build_control_plane VERSION OUT: kube-apiserver, kube-controller-manager,
# kube-scheduler and kubectl (k8s.io/kubernetes at VERSION) and etcd into OUT,
# skipping what is there. Both scripts call it, so that a cold make test
# builds the control plane and the kubelet in one process with one Go cache:
# they share most of k8s.io/kubernetes' packages, which are compiled once.
#
# build_k8s_commands VERSION OUT COMMAND...: builds k8s.io/kubernetes/cmd/<COMMAND>
# at VERSION into OUT through a throwaway module that replaces every
# k8s.io/<staging> module with its published v0.<minor>.<patch> tag
# (k8s.io/kubernetes' own go.mod points them at ./staging, which a module
# download does not have). Needs a log function.
# throwaway_gocache DIR: builds of this script use their own Go build and
# module caches in DIR, removed when the script exits. The binaries are kept
# under bin/, so their compiled packages and sources (several GB for
# k8s.io/kubernetes, containerd and coredns) would only fill the disk of the
# machine running make test.
throwaway_gocache() {
  export GOCACHE="$1/build" GOMODCACHE="$1/mod"
  # The module cache is read-only (go's default): made writable to be removed.
  # shellcheck disable=SC2064 # DIR is fixed when the trap is set
  # Under set -e a failing command in the trap would become the script's
  # exit status: the directory does not exist when nothing was built.
  trap "if [[ -d '$1' ]]; then chmod -R u+w '$1'; rm -rf '$1'; fi" EXIT
}

build_k8s_commands() {
  local version="$1" out="$2"
  shift 2
  local work="${out}/.build-k8s" staging_minor="v0.${version#v1.}" modfile b
  rm -rf "${work}" && mkdir -p "${work}"
  modfile="$(cd "${work}" && GOFLAGS=-mod=mod go mod download -json "k8s.io/kubernetes@${version}" | sed -n 's/.*"GoMod": "\(.*\)",*/\1/p')"
  {
    echo "module supportstack.local/k8sbuild"
    echo
    echo "go 1.25"
    echo
    echo "require k8s.io/kubernetes ${version}"
    echo
    grep -Eo '^\s*k8s\.io/[a-z0-9-]+ => \./staging/src/k8s\.io/[a-z0-9-]+' "${modfile}" |
      awk -v v="${staging_minor}" '{print "replace " $1 " => " $1 " " v}'
  } >"${work}/go.mod"
  {
    printf '//go:build tools\n\npackage k8sbuild\n\nimport (\n'
    for b in "$@"; do printf '\t_ "k8s.io/kubernetes/cmd/%s"\n' "${b}"; done
    printf ')\n'
  } >"${work}/tools.go"
  (cd "${work}" && GOFLAGS=-mod=mod go mod tidy -e >/dev/null 2>&1 || true)
  for b in "$@"; do
    log "go build ${b}"
    (cd "${work}" && GOFLAGS=-mod=mod CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X k8s.io/component-base/version.gitVersion=${version} -X k8s.io/client-go/pkg/version.gitVersion=${version}" -o "${out}/${b}.tmp" "k8s.io/kubernetes/cmd/${b}")
    mv "${out}/${b}.tmp" "${out}/${b}"
  done
  rm -rf "${work}"
}

ETCD_VERSION="${ETCD_VERSION:-v3.6.16}"

build_control_plane() {
  local version="$1" out="$2" need=() b work
  mkdir -p "${out}"
  for b in kube-apiserver kube-controller-manager kube-scheduler kubectl; do
    [[ -x "${out}/${b}" ]] || need+=("${b}")
  done
  if ((${#need[@]})); then
    log "building ${need[*]} from k8s.io/kubernetes@${version} (first build takes several minutes)"
    build_k8s_commands "${version}" "${out}" "${need[@]}"
  fi
  if [[ ! -x "${out}/etcd" ]]; then
    log "building etcd ${ETCD_VERSION}"
    work="${out}/.build-etcd"
    rm -rf "${work}" && mkdir -p "${work}"
    printf 'module supportstack.local/etcdbuild\n\ngo 1.25\n' >"${work}/go.mod"
    (cd "${work}" && GOFLAGS=-mod=mod go get "go.etcd.io/etcd/server/v3@${ETCD_VERSION}" >/dev/null 2>&1 &&
      GOFLAGS=-mod=mod CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "${out}/etcd.tmp" go.etcd.io/etcd/server/v3)
    mv "${out}/etcd.tmp" "${out}/etcd"
    rm -rf "${work}"
  fi
}
