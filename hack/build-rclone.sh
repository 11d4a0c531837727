#!/usr/bin/env bash
# Builds rclone (the tests' and the demo's S3 endpoint: `rclone serve s3`
# over a local directory, whose bucket the demo makes with `rclone mkdir`)
# into OUT, with only those commands and the local backend
# (hack/lib/trimmed-build.sh), in throwaway Go caches. test/tools fails when
# a manifest runs the s3 image with another command.
#
#   hack/build-rclone.sh OUT VERSION
set -euo pipefail
out="$1" version="$2"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=hack/lib/trimmed-build.sh
source "${ROOT}/hack/lib/trimmed-build.sh"
caches="$(mktemp -d)"
trap 'chmod -R u+w "${caches}"; rm -rf "${caches}"' EXIT
export GOCACHE="${caches}/build" GOMODCACHE="${caches}/mod"
echo "building rclone ${version} (serve s3, mkdir, local backend)" >&2
build_trimmed "${out}" github.com/rclone/rclone "${version}" 'package main

import (
	_ "github.com/rclone/rclone/backend/local"
	"github.com/rclone/rclone/cmd"
	_ "github.com/rclone/rclone/cmd/mkdir"
	_ "github.com/rclone/rclone/cmd/serve/s3"
)

func main() { cmd.Main() }'
