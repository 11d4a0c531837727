#!/usr/bin/env bash
# Runs a build of tools into bin/, unless a build of the same recipe is kept
# in the machine's tool cache: then it copies that instead.
#
#   hack/tool-cache.sh NAME [-r RECIPE_FILE]... OUT... -- COMMAND...
#
# COMMAND builds the files OUT (tools under bin/); when they all exist,
# nothing is done. The recipe is NAME (which names the versions built), the
# Go version, the machine and the lines of every RECIPE_FILE (the scripts
# COMMAND runs), comments left out: a changed script or version is a new
# recipe, built afresh. A clone's bin/ goes with the clone, and CI runs
# every time on a fresh one; on a machine that has built the tools once,
# copying them takes seconds where building them from empty Go caches takes
# about 40 minutes on 2 cores (the Kubernetes binaries, containerd, helm,
# promtool, golangci-lint). kubebuilder's setup-envtest keeps its binaries
# per user the same way (~/.local/share/kubebuilder-envtest).
#
# A version a script reads from the environment (CONTAINERD_VERSION, say)
# is in the key only if NAME names it, as the Makefile's names do for the
# Kubernetes and tool versions it sets: override another and set
# TOOL_CACHE=off, or the cached build of the script's default is copied.
#
# The cache is TOOL_CACHE (default ~/.cache/supportstack/tools); with
# TOOL_CACHE=off COMMAND always runs and nothing is kept (a cold build, as
# the README's cold figures are measured). Only the newest recipe of a NAME
# is kept.
set -euo pipefail

usage() { sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 2; }
(($# >= 3)) || usage
name="$1"
shift
recipe=() outs=()
while (($#)) && [[ "$1" != -- ]]; do
  if [[ "$1" == -r ]]; then
    recipe+=("$2")
    shift 2
  else
    outs+=("$1")
    shift
  fi
done
[[ "${1:-}" == -- ]] && (($# >= 2)) && ((${#outs[@]})) || usage
shift

# Built already (the build scripts skip what is there, as they always did).
all=1
for out in "${outs[@]}"; do [[ -f "${out}" ]] || all=0; done
((all == 0)) || exit 0

root="${TOOL_CACHE:-${XDG_CACHE_HOME:-${HOME}/.cache}/supportstack/tools}"
if [[ "${root}" == off ]]; then
  exec "$@"
fi
log() { echo "tool-cache: $*" >&2; }

key="$({
  echo "${name}"
  go env GOVERSION GOOS GOARCH
  # Comments build nothing: a script's comments may change and its builds stay.
  if ((${#recipe[@]})); then grep -hv '^[[:space:]]*#' "${recipe[@]}"; fi
} | sha256sum | cut -c1-16)"
dir="${root}/${name}-${key}"

if [[ -f "${dir}/.complete" ]]; then
  for i in "${!outs[@]}"; do
    mkdir -p "$(dirname "${outs[i]}")"
    cp -p "${dir}/${i}" "${outs[i]}.tmp"
    mv "${outs[i]}.tmp" "${outs[i]}"
  done
  log "${name}: copied ${#outs[@]} file(s) from ${dir}"
  exit 0
fi

"$@"

for out in "${outs[@]}"; do
  [[ -f "${out}" ]] || { log "${name}: ${out} was not built; nothing kept"; exit 1; }
done
mkdir -p "${root}"
tmp="$(mktemp -d "${root}/.tmp.XXXXXX")"
trap 'rm -rf "${tmp}"' EXIT
for i in "${!outs[@]}"; do
  cp -p "${outs[i]}" "${tmp}/${i}"
done
touch "${tmp}/.complete"
# Older recipes of this name go; a build kept meanwhile by another run of
# the same recipe stays.
for old in "${root}/${name}-"*; do
  [[ "${old}" == "${dir}" ]] || rm -rf "${old}"
done
mv -T "${tmp}" "${dir}" 2>/dev/null || true
log "${name}: kept in ${dir}"
