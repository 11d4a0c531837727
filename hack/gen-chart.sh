#!/usr/bin/env bash
# Copies into charts/supportstack-operator the files of config/ the chart
# renders, so that config/ stays their one source (Helm reads no file outside
# the chart directory), and writes the chart README's values table:
#
#   hack/gen-chart.sh [VERSION]
#
# make chart (and make manifests, after controller-gen) runs it. Copies, byte
# for byte:
#   config/crd/bases/*.yaml          -> crds/ (Helm installs them before the
#                                       templates, and never upgrades or
#                                       deletes them)
#   config/rbac/*role*.yaml          -> files/rbac/ (every Role, ClusterRole
#                                       and binding; the manager's rules are
#                                       controller-gen's role.yaml)
#   config/admission/*_policy.yaml   -> files/admission/
#   config/prometheus/{monitor,alerts}.yaml -> files/prometheus/
#   config/network-policy/allow-metrics-traffic.yaml -> files/network-policy/
#   config/default/metrics_service.yaml -> files/
#   config/grafana/supportstack.json -> files/grafana/
# The templates read them with .Files.Get and set only what a release
# decides: names (the release's prefix), namespace, labels, and the
# operator's ServiceAccount where a policy names it.
#
# VERSION (e.g. v0.2.0; the Makefile's VERSION, "dev" meaning none) sets the
# chart's version and appVersion, which stay equal: the chart of a release
# installs that release's operator and agent images.
# test/generated/chart_test.go fails when a copy or the table is stale.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# CHART_DIR: another chart directory to write (the tests run it on a copy).
CHART="${CHART_DIR:-${ROOT}/charts/supportstack-operator}"
version="${1:-dev}"

# Replace the copies wholesale, so a file removed from config/ leaves the
# chart too.
rm -rf "${CHART}/crds" "${CHART}/files"
mkdir -p "${CHART}/crds" "${CHART}/files/rbac" "${CHART}/files/admission" \
  "${CHART}/files/prometheus" "${CHART}/files/network-policy" "${CHART}/files/grafana"
cp "${ROOT}"/config/crd/bases/*.yaml "${CHART}/crds/"
cp "${ROOT}"/config/rbac/*role*.yaml "${CHART}/files/rbac/"
cp "${ROOT}"/config/admission/*_policy.yaml "${CHART}/files/admission/"
cp "${ROOT}"/config/prometheus/monitor.yaml "${ROOT}"/config/prometheus/alerts.yaml "${CHART}/files/prometheus/"
cp "${ROOT}"/config/network-policy/allow-metrics-traffic.yaml "${CHART}/files/network-policy/"
cp "${ROOT}"/config/default/metrics_service.yaml "${CHART}/files/"
cp "${ROOT}"/config/grafana/supportstack.json "${CHART}/files/grafana/"

if [[ "${version}" != dev ]]; then
  [[ "${version}" =~ ^v[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$ ]] || {
    echo "gen-chart: VERSION ${version} is not vMAJOR.MINOR.PATCH" >&2; exit 2; }
  sed -i -E "s/^(version|appVersion): .*/\1: ${version}/" "${CHART}/Chart.yaml"
fi

cd "${ROOT}" && go run ./hack/gen-chart-values -chart "${CHART}"
