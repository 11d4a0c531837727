#!/usr/bin/env bash
# Builds the container images of the local cluster (hack/cluster.sh) without a
# container engine or registry, and imports them into the cluster's
# containerd.
#
#   hack/images.sh [--no-import] [NAME...]     NAME: pause busybox agent
#                                               operator postgres s3 rt (default:
#                                               all these)
#
# Each image is one layer: a root file system made by mmdebstrap from Debian
# packages (or a few files for the static binaries), wrapped as an OCI image
# archive bin/images/<NAME>.oci.tar. An archive is rebuilt only when its
# inputs change (recipe, suite, binaries): their hash is kept beside it in
# <NAME>.inputs. The Debian root file systems are kept in bin/images/.cache
# (or IMAGES_CACHE), so a new agent binary costs seconds, not an mmdebstrap
# run; Debian updates come in when a recipe changes or that directory is
# removed. After building, the images are imported with
# `ctr -n k8s.io images import` into the containerd of CLUSTER_DIR if it is
# running (skipping images it already holds at the same digest).
#
#   docker.io/supportstack/pause:dev       sandbox image (hack/pause/main.go)
#   docker.io/supportstack/busybox:dev     busybox-static: probes, provisioner helper pods
#   docker.io/supportstack/agent:dev       ./cmd/agent + postgresql-client-15 + restic, uid 65532
#   docker.io/supportstack/operator:dev    ./cmd (the manager) + CA certificates, uid 65532;
#                                          built without -X main.version, it runs
#                                          supportstack/agent:dev, the agent above
#   docker.io/supportstack/postgres:15     Debian postgresql-15 with the interface of the
#                                          official image (POSTGRES_PASSWORD, PGDATA, uid 999);
#                                          also tagged docker.io/library/postgres:15 in the
#                                          cluster (POSTGRES_ALIAS=0 to skip)
#   docker.io/supportstack/s3:dev          rclone (bin/rclone-<version>) `serve s3`
#   docker.io/supportstack/rt:5            Debian's Request Tracker 5 (request-tracker5,
#                                          rt5-db-postgresql) served by Starman, uid 65532,
#                                          for a read-only root: see recipe_rt
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CLUSTER_DIR="$(realpath -m "${CLUSTER_DIR:-${ROOT}/.cluster}")"
OUT="${IMAGES_DIR:-${ROOT}/bin/images}"
# make sets IMAGES_CACHE to a directory of the machine's tool cache
# (hack/tool-cache.sh), so that a fresh clone reuses the root file systems.
CACHE="${IMAGES_CACHE:-${OUT}/.cache}"
SUITE="${SUITE:-bookworm}"
RCLONE_VERSION="${RCLONE_VERSION:-v1.71.0}"
RCLONE_BIN="${RCLONE_BIN:-${ROOT}/bin/rclone-${RCLONE_VERSION}}"
CTR="${CTR:-${ROOT}/bin/cluster/ctr}"
POSTGRES_ALIAS="${POSTGRES_ALIAS:-1}"
ALL=(pause busybox agent operator postgres s3 rt)

log() { echo "images: $*" >&2; }
die() { log "$*"; exit 1; }

do_import=1
names=()
for a in "$@"; do
  case "${a}" in
    --no-import) do_import=0 ;;
    -h | --help) sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 0 ;;
    *) names+=("${a}") ;;
  esac
done
((${#names[@]})) || names=("${ALL[@]}")

mkdir -p "${OUT}"
# One build at a time in OUT: make test starts one in the background
# (images-prefetch) while its tools build, and the end-to-end tests' own call
# waits here for it, then finds its archives up to date.
exec 9>"${OUT}/.lock"
if ! flock -n 9; then
  log "waiting for another hack/images.sh building in ${OUT}"
  flock 9
fi
WORK="$(mktemp -d "${OUT}/.work.XXXXXX")"
trap 'rm -rf "${WORK}"' EXIT

# Files dropped from every Debian root file system: documentation (copyright
# files stay), manuals, translations, apt lists and caches, logs.
DPKG_OPTS=(
  --dpkgopt='path-exclude=/usr/share/doc/*'
  --dpkgopt='path-include=/usr/share/doc/*/copyright'
  --dpkgopt='path-exclude=/usr/share/man/*'
  --dpkgopt='path-exclude=/usr/share/info/*'
  --dpkgopt='path-exclude=/usr/share/locale/*'
  --dpkgopt='path-exclude=/usr/share/lintian/*'
  --aptopt='APT::Install-Recommends "false"'
)
CLEANUP='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/* "$1"/var/cache/debconf/*-old "$1"/var/log/* "$1"/var/lib/dpkg/*-old'

# mmdebstrap_dir DIR VARIANT PACKAGES [mmdebstrap options...]: a root file system in DIR.
mmdebstrap_dir() {
  local dir="$1" variant="$2" pkgs="$3"
  shift 3
  mmdebstrap --quiet --variant="${variant}" --include="${pkgs}" "${DPKG_OPTS[@]}" \
    "$@" --customize-hook="${CLEANUP}" "${SUITE}" "${dir}" >&2
}

# passwd_files DIR LINE...: /etc/passwd and /etc/group with root and the
# given "name:uid" users (group of the same id and name).
passwd_files() {
  local dir="$1" u
  shift
  mkdir -p "${dir}/etc"
  printf 'root:x:0:0:root:/root:/sbin/nologin\n' >"${dir}/etc/passwd"
  printf 'root:x:0:\n' >"${dir}/etc/group"
  for u in "$@"; do
    printf '%s:x:%s:%s::/home/%s:/sbin/nologin\n' "${u%%:*}" "${u#*:}" "${u#*:}" "${u%%:*}" >>"${dir}/etc/passwd"
    printf '%s:x:%s:\n' "${u%%:*}" "${u#*:}" >>"${dir}/etc/group"
  done
}

# cached_rootfs DIR FUNC: FUNC DIR makes a root file system in DIR; its result
# is kept in bin/images/.cache (keyed by FUNC's definition, the suite and the
# common options) and unpacked on later calls, so that changing a binary
# does not rerun mmdebstrap.
cached_rootfs() {
  local dir="$1" func="$2" hash tarball
  hash="$({
    echo "${SUITE}"
    declare -f "${func}" mmdebstrap_dir
    printf '%s\n' "${DPKG_OPTS[@]}" "${CLEANUP}"
  } | sha256sum | cut -c1-16)"
  tarball="${CACHE}/${func}-${hash}.tar"
  if [[ -f "${tarball}" ]]; then
    mkdir -p "${dir}"
    tar --numeric-owner -xpf "${tarball}" -C "${dir}"
    return 0
  fi
  "${func}" "${dir}"
  # device nodes are runc's business
  if [[ -d "${dir}/dev" ]]; then find "${dir}/dev" -mindepth 1 -delete; fi
  mkdir -p "${CACHE}"
  rm -f "${CACHE}/${func}-"*.tar
  tar --numeric-owner -C "${dir}" -cf "${tarball}.tmp" . && mv "${tarball}.tmp" "${tarball}"
}

ca_base() { mmdebstrap --quiet --variant=extract --include=ca-certificates "${SUITE}" "$1" >&2; }
# ca_bundle ROOTFS: the Mozilla CA certificates of Debian's ca-certificates
# package, concatenated as update-ca-certificates would, with its copyright.
ca_bundle() {
  [[ -d "${WORK}/ca" ]] || cached_rootfs "${WORK}/ca" ca_base
  mkdir -p "$1/etc/ssl/certs"
  cat "${WORK}/ca"/usr/share/ca-certificates/mozilla/*.crt >"$1/etc/ssl/certs/ca-certificates.crt"
  install -D -m 0644 "${WORK}/ca/usr/share/doc/ca-certificates/copyright" "$1/usr/share/doc/ca-certificates/copyright"
}

go_build() { # OUT PACKAGE
  (cd "${ROOT}" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$1" "$2")
}

# --- recipes ---------------------------------------------------------------
# Each recipe_<name> DIR fills DIR with the root file system and prints the
# image config (the "config" object of the OCI image configuration).
# inputs_<name> prints the files (beyond the recipe itself) the image is made of.

inputs_pause() { go_build "${WORK}/pause" ./hack/pause/main.go && echo "${WORK}/pause"; }
recipe_pause() {
  install -D -m 0755 "${WORK}/pause" "$1/pause"
  echo '{"User":"65535:65535","Entrypoint":["/pause"]}'
}

inputs_busybox() { :; }
busybox_base() {
  mmdebstrap --quiet --variant=extract --include=busybox-static "${SUITE}" "$1" >&2
  rm -rf "$1"/usr/share/doc/*/changelog* "$1"/usr/share/man "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*
  mkdir -p "$1"/usr/bin "$1"/usr/sbin "$1"/sbin "$1"/tmp "$1"/root
  chmod 1777 "$1/tmp"
  chroot "$1" /bin/busybox --install -s
  passwd_files "$1" nobody:65534
}
recipe_busybox() {
  cached_rootfs "$1" busybox_base
  echo '{"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],"Cmd":["sh"]}'
}

inputs_agent() { go_build "${WORK}/agent" ./cmd/agent && echo "${WORK}/agent"; }
agent_base() {
  mmdebstrap_dir "$1" minbase ca-certificates,postgresql-client-15,restic \
    --customize-hook='echo "nonroot:x:65532:65532::/home/nonroot:/usr/sbin/nologin" >>"$1/etc/passwd"; echo "nonroot:x:65532:" >>"$1/etc/group"; mkdir -p "$1/home/nonroot"; chown 65532:65532 "$1/home/nonroot"'
}
recipe_agent() {
  cached_rootfs "$1" agent_base
  install -D -m 0755 "${WORK}/agent" "$1/usr/local/bin/agent"
  echo '{"User":"65532:65532","Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],"Entrypoint":["/usr/local/bin/agent"]}'
}

inputs_operator() { go_build "${WORK}/manager" ./cmd && echo "${WORK}/manager"; }
recipe_operator() {
  install -D -m 0755 "${WORK}/manager" "$1/manager"
  ca_bundle "$1"
  passwd_files "$1" nonroot:65532
  mkdir -p "$1/tmp" "$1/home/nonroot" && chmod 1777 "$1/tmp" && chown 65532:65532 "$1/home/nonroot"
  echo '{"User":"65532:65532","Entrypoint":["/manager"]}'
}

# The interface of the official postgres image that the drill's scratch
# server relies on (internal/resources/drill.go): POSTGRES_PASSWORD, PGDATA on
# an emptyDir, uid 999, /var/run/postgresql and /tmp writable, read-only root,
# pg_isready on PATH.
POSTGRES_ENTRYPOINT='#!/bin/sh
# Initialises PGDATA when empty (superuser "postgres", password from
# POSTGRES_PASSWORD, remote logins by scram-sha-256), then runs the server.
set -eu
if [ "${1:-}" = "" ] || [ "${1#-}" != "$1" ]; then set -- postgres "$@"; fi
if [ "$1" != postgres ]; then exec "$@"; fi
: "${PGDATA:=/var/lib/postgresql/data}"
export PGDATA
# An uid without a passwd entry (initdb needs one): nss_wrapper, as upstream.
if ! id -un >/dev/null 2>&1 && [ -e /usr/lib/x86_64-linux-gnu/libnss_wrapper.so ]; then
  NSS_WRAPPER_PASSWD="$(mktemp)"; NSS_WRAPPER_GROUP="$(mktemp)"
  cat /etc/passwd >"$NSS_WRAPPER_PASSWD"; cat /etc/group >"$NSS_WRAPPER_GROUP"
  echo "postgres:x:$(id -u):$(id -g):PostgreSQL:/var/lib/postgresql:/bin/false" >>"$NSS_WRAPPER_PASSWD"
  echo "postgres:x:$(id -g):" >>"$NSS_WRAPPER_GROUP"
  export LD_PRELOAD=/usr/lib/x86_64-linux-gnu/libnss_wrapper.so NSS_WRAPPER_PASSWD NSS_WRAPPER_GROUP
fi
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  auth="${POSTGRES_HOST_AUTH_METHOD:-scram-sha-256}"
  if [ -z "${POSTGRES_PASSWORD:-}" ] && [ "$auth" != trust ]; then
    echo "postgres-entrypoint: POSTGRES_PASSWORD is empty (set POSTGRES_HOST_AUTH_METHOD=trust to allow that)" >&2
    exit 1
  fi
  mkdir -p "$PGDATA"
  chmod 0700 "$PGDATA"
  locale=C.UTF-8
  if locale -a 2>/dev/null | grep -qi "^en_US.utf8$"; then locale=en_US.UTF-8; fi
  printf "%s\n" "${POSTGRES_PASSWORD:-}" |
    initdb --username="${POSTGRES_USER:-postgres}" --pwfile=/dev/stdin --auth-local=trust \
      --auth-host="$auth" --encoding=UTF8 --locale="$locale" ${POSTGRES_INITDB_ARGS:-} >/dev/null
  printf "host all all all %s\n" "$auth" >>"$PGDATA/pg_hba.conf"
  printf "listen_addresses = %s\njit = off\n" "'"'"'*'"'"'" >>"$PGDATA/postgresql.conf"
  if [ -n "${POSTGRES_DB:-}" ] && [ "$POSTGRES_DB" != postgres ]; then
    postgres --single -D "$PGDATA" postgres >/dev/null <<SQL
CREATE DATABASE "$POSTGRES_DB";
SQL
  fi
  echo "postgres-entrypoint: initialised $PGDATA" >&2
fi
exec "$@"
'
inputs_postgres() { printf '%s' "${POSTGRES_ENTRYPOINT}" >"${WORK}/postgres-entrypoint" && echo "${WORK}/postgres-entrypoint"; }
postgres_base() {
  # The postgres user is 999 as in the official image; postgresql-common
  # must create no cluster in the image.
  mmdebstrap_dir "$1" minbase postgresql-15,libnss-wrapper,locales \
    --essential-hook='echo "postgres:x:999:999:PostgreSQL administrator:/var/lib/postgresql:/bin/sh" >>"$1/etc/passwd"; echo "postgres:x:999:" >>"$1/etc/group"; mkdir -p "$1/etc/postgresql-common"; echo "create_main_cluster = false" >"$1/etc/postgresql-common/createcluster.conf"' \
    --customize-hook='rm -rf "$1"/usr/lib/x86_64-linux-gnu/libLLVM-* "$1"/usr/lib/x86_64-linux-gnu/libz3.so* "$1"/usr/lib/postgresql/15/lib/bitcode "$1"/usr/lib/postgresql/15/lib/llvmjit*' \
    --customize-hook='echo "en_US.UTF-8 UTF-8" >"$1/etc/locale.gen"; chroot "$1" locale-gen >/dev/null; rm -rf "$1/usr/share/i18n/charmaps" "$1/usr/share/i18n/locales"' \
    --customize-hook='mkdir -p "$1/var/lib/postgresql/data"; chown -R 999:999 "$1/var/lib/postgresql"; chmod 0777 "$1/var/lib/postgresql/data"'
}
recipe_postgres() {
  cached_rootfs "$1" postgres_base
  # the socket directory, as upstream; never through var/run, an absolute
  # symlink to the host's /run here
  install -d -m 3777 -o 999 -g 999 "$1/run/postgresql"
  install -D -m 0755 "${WORK}/postgres-entrypoint" "$1/usr/local/bin/postgres-entrypoint"
  ln -s postgres-entrypoint "$1/usr/local/bin/docker-entrypoint.sh"
  echo '{"User":"999:999","Env":["PATH=/usr/lib/postgresql/15/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin","PGDATA=/var/lib/postgresql/data","LANG=en_US.UTF-8"],"Entrypoint":["/usr/local/bin/postgres-entrypoint"],"Cmd":["postgres"],"ExposedPorts":{"5432/tcp":{}},"Volumes":{"/var/lib/postgresql/data":{}},"StopSignal":"SIGINT"}'
}

libc_base() {
  mmdebstrap --quiet --variant=extract --include=libc6 "${SUITE}" "$1" >&2
  rm -rf "$1"/usr/share/doc/*/changelog* "$1"/usr/share/locale "$1"/usr/share/man "$1"/usr/share/lintian "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*
}
inputs_s3() {
  [[ -x "${RCLONE_BIN}" ]] || die "missing ${RCLONE_BIN} (make rclone)"
  echo "${RCLONE_BIN}"
}
recipe_s3() {
  install -D -m 0755 "${RCLONE_BIN}" "$1/usr/local/bin/rclone"
  if ldd "${RCLONE_BIN}" >/dev/null 2>&1; then
    # Linked against glibc: take it from Debian.
    cached_rootfs "${WORK}/libc" libc_base
    cp -a "${WORK}/libc/." "$1/"
  fi
  ca_bundle "$1"
  passwd_files "$1" nonroot:65532
  mkdir -p "$1/tmp" "$1/data" "$1/home/nonroot" && chmod 1777 "$1/tmp" && chown 65532:65532 "$1/data" "$1/home/nonroot"
  echo '{"User":"65532:65532","Env":["HOME=/home/nonroot","XDG_CONFIG_HOME=/tmp","XDG_CACHE_HOME=/tmp"],"Entrypoint":["/usr/local/bin/rclone"],"Cmd":["serve","s3","--addr",":9000","/data"],"ExposedPorts":{"9000/tcp":{}}}'
}

# Request Tracker 5 from Debian, for a pod with a read-only root file system
# as uid 65532. What the packages would make host-specific is removed:
# dbconfig-no-thanks keeps dbconfig-common from configuring a database at
# install time, and the debconf-generated RT_SiteConfig.d files (database,
# rtname, /rt web path, timezone) are deleted, so the image holds no
# credentials and no site. /etc/request-tracker5/RT_SiteConfig.pm keeps only
# image defaults (log to stderr); the pod mounts its configuration as
# /etc/request-tracker5/RT_SiteConfig.d/ (a Secret), whose database password
# reads an environment variable. RT writes only to /var/cache/request-tracker5
# (Mason's compiled components; without it RT does not start; sessions live
# in the database with PostgreSQL) and /tmp (multipart request bodies, e.g.
# uploaded attachments, are spooled there): both are emptyDirs in the pod.
# Served by Starman (rt-server --server Starman); rt5-standalone is installed
# only because request-tracker5 depends on one of the web server packages (it
# brings Starlet), msmtp-mta is its mail transport (no local MTA daemon), w3m
# its HTML-to-text converter (RT warns at start-up without one), and
# libauthen-sasl-perl lets Net::SMTP log in to a relay (spec.mail.relay's
# credentials).
RT_SITE_CONFIG='# supportstack/rt image defaults. The site (name, database, ...) is set by
# the files of /etc/request-tracker5/RT_SiteConfig.d/, mounted into the pod;
# they are read after this file.
Set($LogToSTDERR, "info");
Set($LogToSyslog, undef);
Set($LogToFile, undef);
Set($WebPath, "");
1;
'
# rt_rootfs is not named *_base, which every image's input hash includes:
# its definition is an input of this image alone (inputs_rt).
inputs_rt() {
  printf '%s' "${RT_SITE_CONFIG}" >"${WORK}/rt-site-config"
  declare -f rt_rootfs >"${WORK}/rt-rootfs.recipe"
  echo "${WORK}/rt-site-config" "${WORK}/rt-rootfs.recipe"
}
rt_rootfs() {
  mmdebstrap_dir "$1" minbase request-tracker5,rt5-db-postgresql,rt5-standalone,dbconfig-no-thanks,starman,msmtp-mta,ca-certificates,w3m,libauthen-sasl-perl \
    --customize-hook='rm -f "$1"/etc/request-tracker5/RT_SiteConfig.d/*.pm "$1"/etc/cron.d/request-tracker5' \
    --customize-hook='echo "nonroot:x:65532:65532::/home/nonroot:/usr/sbin/nologin" >>"$1/etc/passwd"; echo "nonroot:x:65532:" >>"$1/etc/group"; mkdir -p "$1/home/nonroot"; chown 65532:65532 "$1/home/nonroot"'
}
recipe_rt() {
  cached_rootfs "$1" rt_rootfs
  install -m 0644 "${WORK}/rt-site-config" "$1/etc/request-tracker5/RT_SiteConfig.pm"
  install -d -m 0755 "$1/etc/request-tracker5/RT_SiteConfig.d"
  rm -rf "$1"/var/cache/request-tracker5/* "$1"/var/log/request-tracker5
  echo '{"User":"65532:65532","Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin","HOME=/home/nonroot","LANG=C.UTF-8"],"Entrypoint":["/usr/share/request-tracker5/libexec/rt-server"],"Cmd":["--server","Starman","--port","8080"],"ExposedPorts":{"8080/tcp":{}}}'
}

ref_of() {
  case "$1" in
    postgres) echo "docker.io/supportstack/postgres:15" ;;
    rt) echo "docker.io/supportstack/rt:5" ;;
    *) echo "docker.io/supportstack/$1:dev" ;;
  esac
}

# oci_archive ROOTFS_DIR CONFIG_JSON REF OUT: a single-layer OCI image archive.
oci_archive() {
  local dir="$1" config="$2" ref="$3" out="$4" lay="${WORK}/layout"
  rm -rf "${lay}" && mkdir -p "${lay}/blobs/sha256"
  # Device nodes are runc's business.
  [[ -d "${dir}/dev" ]] && find "${dir}/dev" -mindepth 1 -delete
  tar --sort=name --numeric-owner -C "${dir}" -cf "${WORK}/layer.tar" .
  local diff_id layer_digest layer_size cfg cfg_digest manifest manifest_digest
  diff_id="$(sha256sum "${WORK}/layer.tar" | cut -d' ' -f1)"
  gzip -n -6 -c "${WORK}/layer.tar" >"${WORK}/layer.tar.gz"
  rm -f "${WORK}/layer.tar"
  layer_digest="$(sha256sum "${WORK}/layer.tar.gz" | cut -d' ' -f1)"
  layer_size="$(stat -c %s "${WORK}/layer.tar.gz")"
  mv "${WORK}/layer.tar.gz" "${lay}/blobs/sha256/${layer_digest}"
  cfg="$(printf '{"architecture":"amd64","os":"linux","config":%s,"rootfs":{"type":"layers","diff_ids":["sha256:%s"]},"history":[{"created_by":"hack/images.sh %s"}]}' "${config}" "${diff_id}" "${ref}")"
  printf '%s' "${cfg}" >"${WORK}/blob"
  cfg_digest="$(sha256sum "${WORK}/blob" | cut -d' ' -f1)"
  mv "${WORK}/blob" "${lay}/blobs/sha256/${cfg_digest}"
  manifest="$(printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%d},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:%s","size":%d}]}' \
    "${cfg_digest}" "${#cfg}" "${layer_digest}" "${layer_size}")"
  printf '%s' "${manifest}" >"${WORK}/blob"
  manifest_digest="$(sha256sum "${WORK}/blob" | cut -d' ' -f1)"
  mv "${WORK}/blob" "${lay}/blobs/sha256/${manifest_digest}"
  printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%d,"annotations":{"io.containerd.image.name":"%s","org.opencontainers.image.ref.name":"%s"}}]}' \
    "${manifest_digest}" "${#manifest}" "${ref}" "${ref##*:}" >"${lay}/index.json"
  printf '{"imageLayoutVersion":"1.0.0"}' >"${lay}/oci-layout"
  tar --sort=name --numeric-owner -C "${lay}" -cf "${out}.tmp" oci-layout index.json blobs
  mv "${out}.tmp" "${out}"
  echo "sha256:${manifest_digest}" >"${out%.oci.tar}.digest"
}

build() {
  local name="$1" start=${SECONDS} files hash archive="${OUT}/$1.oci.tar" f
  declare -F "recipe_${name}" >/dev/null || die "unknown image ${name} (one of: ${ALL[*]})"
  files="$("inputs_${name}")"
  hash="$({
    echo "suite ${SUITE}"
    declare -f "recipe_${name}" mmdebstrap_dir passwd_files ca_bundle cached_rootfs oci_archive
    compgen -A function | grep '_base$' | while read -r f; do declare -f "${f}"; done
    printf '%s\n' "${DPKG_OPTS[@]}" "${CLEANUP}"
    for f in ${files}; do sha256sum "${f}" | cut -d' ' -f1; done
  } | sha256sum | cut -d' ' -f1)"
  if [[ -f "${archive}" && -f "${OUT}/${name}.digest" && "$(cat "${OUT}/${name}.inputs" 2>/dev/null)" == "${hash}" ]]; then
    log "${name}: up to date ($(du -h "${archive}" | cut -f1))"
    return 0
  fi
  log "${name}: building $(ref_of "${name}")"
  local dir="${WORK}/rootfs-${name}" config
  rm -rf "${dir}"
  config="$("recipe_${name}" "${dir}")"
  oci_archive "${dir}" "${config}" "$(ref_of "${name}")" "${archive}"
  rm -rf "${dir}"
  echo "${hash}" >"${OUT}/${name}.inputs"
  log "${name}: built in $((SECONDS - start)) s ($(du -h "${archive}" | cut -f1))"
}

# ctr CMD...: ctr on the cluster's containerd, without its cgroup v1 deprecation warning.
ctr() {
  "${CTR}" --address "${CLUSTER_DIR}/run/containerd.sock" -n k8s.io "$@" 2> >(grep -v 'DEPRECATION: The support for cgroup v1' >&2)
}

import() {
  local name="$1" ref digest have
  ref="$(ref_of "${name}")"
  digest="$(cat "${OUT}/${name}.digest")"
  have="$(ctr images ls "name==${ref}" 2>/dev/null | awk 'NR>1 {print $3}')"
  if [[ "${have}" != "${digest}" ]]; then
    local start=${SECONDS}
    ctr images import "${OUT}/${name}.oci.tar" >/dev/null
    log "${name}: imported ${ref} in $((SECONDS - start)) s"
  else
    log "${name}: ${ref} already in the cluster"
  fi
  if [[ "${name}" == postgres && "${POSTGRES_ALIAS}" == 1 ]]; then
    ctr images tag --force "${ref}" docker.io/library/postgres:15 >/dev/null
  fi
}

for n in "${names[@]}"; do build "${n}"; done
if ((do_import)); then
  if [[ -S "${CLUSTER_DIR}/run/containerd.sock" ]]; then
    for n in "${names[@]}"; do import "${n}"; done
  else
    log "no containerd at ${CLUSTER_DIR}/run/containerd.sock: not imported (run this again after hack/cluster.sh up)"
  fi
fi
