#!/usr/bin/env bash
# Installs COIN-OR CBC (Debian's coinor-cbc), the MILP solver the roster
# benchmark and tests use as an independent oracle for internal/roster.
# Idempotent: does nothing when `cbc` is already on PATH.
set -euo pipefail

command -v cbc >/dev/null && exit 0

echo "install-cbc: installing coinor-cbc" >&2
sudo=()
if [[ "$(id -u)" != 0 ]]; then
  command -v sudo >/dev/null || { echo "install-cbc: run as root or install coinor-cbc" >&2; exit 1; }
  sudo=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends coinor-cbc >/dev/null
command -v cbc >/dev/null || { echo "install-cbc: coinor-cbc installed but cbc is not on PATH" >&2; exit 1; }
