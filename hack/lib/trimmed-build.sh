# Sourced by hack/build-rclone.sh and hack/build-cluster-bins.sh.
#
# build_trimmed OUT MODULE VERSION MAIN_GO: builds MAIN_GO, the source of a
# main package that imports only the parts of MODULE the tests and the
# cluster use, in a throwaway module requiring MODULE at VERSION, into OUT.
# A command's own main imports every part (rclone's 70 backends and 20
# commands, CoreDNS's 50 plugins with their cloud SDKs). From empty caches
# on 2 cores rclone's full build took 312 s and this one 143 s; CoreDNS's
# 310 s and this one 227 s (its kubernetes plugin is most of it). The
# module graph is MODULE's own (its go.mod's versions: nothing else is
# required), so the parts built are those of the release.
build_trimmed() {
  local out="$1" module="$2" version="$3" main="$4" work
  work="$(mktemp -d)"
  printf 'module supportstack.local/trimmed\n\ngo 1.25\n' >"${work}/go.mod"
  printf '%s\n' "${main}" >"${work}/main.go"
  # go get lists every module it adds: shown only if it fails.
  if ! (cd "${work}" && GOFLAGS=-mod=mod go get "${module}@${version}" >"${work}/get.log" 2>&1); then
    cat "${work}/get.log" >&2
    return 1
  fi
  (cd "${work}" && GOFLAGS=-mod=mod CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "${out}.tmp" .)
  mv "${out}.tmp" "${out}"
  rm -rf "${work}"
}
