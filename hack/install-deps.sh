#!/usr/bin/env bash
# Installs the Debian packages the test suite and the demo use, if missing:
# curl and procps (demo), PostgreSQL and restic (the data-path tests), perl
# and Request Tracker 5 with SQLite and its
# standalone server (the real help desk the queue tests run against; Perl's
# Authen::SASL for its mail to a relay that wants a login), and
# chromium (the report tests render the HTML report headless), mmdebstrap and
# util-linux's flock (hack/images.sh, which make test starts early).
# Idempotent: does nothing when everything is installed.
set -euo pipefail

packages=(make curl git procps ca-certificates perl libauthen-sasl-perl request-tracker5 rt5-db-sqlite rt5-standalone postgresql restic coinor-cbc chromium mmdebstrap util-linux)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "${p}" 2>/dev/null | grep -q "install ok installed" || missing+=("${p}")
done
((${#missing[@]})) || exit 0

echo "install-deps: installing Debian packages: ${missing[*]}" >&2
sudo=()
if [[ "$(id -u)" != 0 ]]; then
  command -v sudo >/dev/null || { echo "install-deps: run as root or install: ${missing[*]}" >&2; exit 1; }
  sudo=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
