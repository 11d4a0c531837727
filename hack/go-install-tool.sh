#!/usr/bin/env bash
# Installs a Go command at a version into bin/ under a versioned name, with
# throwaway Go caches: a tool is built once, and its sources and compiled
# packages (GBs for promtool and golangci-lint) would only fill the disk.
#
#   hack/go-install-tool.sh TARGET PACKAGE VERSION [GO INSTALL FLAG]...
#
# TARGET is the binary's path (bin/helm-v3.22.0, say); PACKAGE@VERSION is
# what go install builds.
set -euo pipefail
target="$1" package="$2" version="$3"
shift 3
echo "Downloading ${package}@${version}"
rm -f "${target}"
tmp="$(mktemp -d)"
trap 'chmod -R u+w "${tmp}"; rm -rf "${tmp}"' EXIT
GOBIN="${tmp}/bin" GOCACHE="${tmp}/build" GOMODCACHE="${tmp}/mod" go install "$@" "${package}@${version}"
mkdir -p "$(dirname "${target}")"
# The one command go install built.
mv "${tmp}"/bin/* "${target}"
