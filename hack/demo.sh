#!/usr/bin/env bash
# make demo / make demo-down: a local control plane (kwokctl --runtime binary
# with the binaries hack/setup-k8s.sh built: etcd, kube-apiserver,
# kube-controller-manager, kube-scheduler and kwok's simulated nodes), the
# operator running against it, the samples applied, and what came of them.
#
# Everything lives under .demo/ in the repository; `down` stops every process
# `up` started and removes .demo/.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
K8S_ASSETS="${K8S_ASSETS:?set K8S_ASSETS to the directory hack/setup-k8s.sh printed (make demo does)}"
# The end-to-end test runs this script with its own directory, cluster name
# and probe port, so it never collides with a demo you have running.
DEMO_DIR="${DEMO_DIR:-${ROOT}/.demo}"
CLUSTER="${DEMO_CLUSTER:-supportstack-demo}"
NAMESPACE=helpdesk
PROBE_ADDR="${DEMO_PROBE_ADDR:-127.0.0.1:18081}"
MANAGER_BIN="${MANAGER_BIN:-${ROOT}/bin/manager}"
export KWOK_WORKDIR="${DEMO_DIR}/kwok"
export KUBECONFIG="${DEMO_DIR}/kubeconfig"
KUBECTL="${K8S_ASSETS}/kubectl"
KWOKCTL="${K8S_ASSETS}/kwokctl"

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

down() {
  if [[ -f "${DEMO_DIR}/manager.pid" ]]; then
    pid="$(cat "${DEMO_DIR}/manager.pid")"
    if kill -0 "${pid}" 2>/dev/null; then
      kill "${pid}"
      for _ in $(seq 50); do kill -0 "${pid}" 2>/dev/null || break; sleep 0.2; done
      kill -9 "${pid}" 2>/dev/null || true
    fi
  fi
  if [[ -d "${KWOK_WORKDIR}/clusters/${CLUSTER}" ]]; then
    "${KWOKCTL}" delete cluster --name "${CLUSTER}" >/dev/null 2>&1 || true
  fi
  rm -rf "${DEMO_DIR}"
}

wait_for() { # wait_for SECONDS DESCRIPTION COMMAND...
  local seconds=$1 what=$2
  shift 2
  for _ in $(seq $((seconds * 5))); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.2
  done
  echo "timed out after ${seconds}s waiting for ${what}" >&2
  return 1
}

up() {
  down
  mkdir -p "${DEMO_DIR}"

  say "Starting a local control plane (etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kwok)"
  "${KWOKCTL}" create cluster --name "${CLUSTER}" --runtime binary \
    --etcd-binary "${K8S_ASSETS}/etcd" \
    --kube-apiserver-binary "${K8S_ASSETS}/kube-apiserver" \
    --kube-controller-manager-binary "${K8S_ASSETS}/kube-controller-manager" \
    --kube-scheduler-binary "${K8S_ASSETS}/kube-scheduler" \
    --kwok-controller-binary "${K8S_ASSETS}/kwok" \
    --kubeconfig "${KUBECONFIG}" --wait 2m >"${DEMO_DIR}/kwokctl.log" 2>&1
  "${KWOKCTL}" scale node --name "${CLUSTER}" --replicas 2 >>"${DEMO_DIR}/kwokctl.log" 2>&1
  "${KUBECTL}" get nodes

  say "Installing the CRDs and admission policies"
  "${KUBECTL}" apply --server-side -k "${ROOT}/config/crd"
  "${KUBECTL}" apply --server-side -k "${ROOT}/config/admission"
  "${KUBECTL}" wait --for condition=Established --timeout 60s crd --all >/dev/null

  say "Starting the operator (logs: ${DEMO_DIR}/manager.log)"
  "${MANAGER_BIN}" --health-probe-bind-address "${PROBE_ADDR}" --metrics-bind-address 0 \
    >"${DEMO_DIR}/manager.log" 2>&1 &
  echo $! >"${DEMO_DIR}/manager.pid"
  wait_for 60 "the operator to be ready" curl -fsS "http://${PROBE_ADDR}/readyz"
  echo "operator ready (pid $(cat "${DEMO_DIR}/manager.pid"))"

  say "Applying config/samples to namespace ${NAMESPACE}"
  "${KUBECTL}" create namespace "${NAMESPACE}" --dry-run=client -o yaml | "${KUBECTL}" apply -f - >/dev/null
  # What the sample BackupPolicy refers to. Demo values only: the password
  # is random, the database and S3 endpoint do not exist on this cluster.
  "${KUBECTL}" create secret generic restic -n "${NAMESPACE}" --from-literal=password="$(head -c 24 /dev/urandom | base64)" \
    --dry-run=client -o yaml | "${KUBECTL}" apply -f - >/dev/null
  "${KUBECTL}" create secret generic s3-credentials -n "${NAMESPACE}" --from-literal=AWS_ACCESS_KEY_ID=demo \
    --from-literal=AWS_SECRET_ACCESS_KEY=demo --dry-run=client -o yaml | "${KUBECTL}" apply -f - >/dev/null
  "${KUBECTL}" create secret generic helpdesk-db -n "${NAMESPACE}" --from-literal=uri=postgresql://helpdesk:demo@helpdesk-db:5432/helpdesk \
    --dry-run=client -o yaml | "${KUBECTL}" apply -f - >/dev/null
  # The sample DRDrill signs its evidence with an ed25519 key.
  "${ROOT}/bin/supportstack" keygen --private "${DEMO_DIR}/drill-signing.key" --public "${DEMO_DIR}/drill-signing.pub" >/dev/null
  "${KUBECTL}" create secret generic drill-signing-key -n "${NAMESPACE}" --from-file=ed25519.key="${DEMO_DIR}/drill-signing.key" \
    --dry-run=client -o yaml | "${KUBECTL}" apply -f - >/dev/null
  # kwok's cluster has no storage provisioner: two volumes to bind, one for
  # the attachments claim and one for the drill's scratch claim.
  for i in 1 2; do
    cat <<YAML | "${KUBECTL}" apply -f - >/dev/null
apiVersion: v1
kind: PersistentVolume
metadata: {name: demo-pv-${i}}
spec: {capacity: {storage: 10Gi}, accessModes: [ReadWriteOnce], persistentVolumeReclaimPolicy: Retain, hostPath: {path: /tmp/supportstack-demo-pv-${i}}}
YAML
  done
  cat <<'YAML' | "${KUBECTL}" apply -n "${NAMESPACE}" -f - >/dev/null
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: helpdesk-attachments}
spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}
YAML
  "${KUBECTL}" apply -n "${NAMESPACE}" -k "${ROOT}/config/samples"
  # Give the reconcilers a moment to act on the samples.
  sleep "${DEMO_SETTLE_SECONDS:-5}"

  say "kubectl get supportstack -A"
  "${KUBECTL}" get supportstack -A

  say "Conditions"
  for kind in supportteams backuppolicies drdrills drdrillruns; do
    "${KUBECTL}" get "${kind}" -A -o go-template='{{range .items}}{{.kind}} {{.metadata.namespace}}/{{.metadata.name}}:{{"\n"}}{{with .status}}{{with .conditions}}{{range .}}  {{.type}}={{.status}} {{.reason}}: {{.message}}{{"\n"}}{{end}}{{else}}  (no conditions yet){{"\n"}}{{end}}{{else}}  (no status yet: no reconciler for this kind has acted on it){{"\n"}}{{end}}{{end}}'
  done

  say "The SupportTeam's coming week, hour by hour (bin/supportstack coverage; first 16 lines)"
  "${ROOT}/bin/supportstack" coverage -n "${NAMESPACE}" windows-tier1 | head -16 || true

  say "Objects the operator created (label app.kubernetes.io/managed-by=supportstack-operator)"
  "${KUBECTL}" get configmaps,roles,rolebindings,serviceaccounts,cronjobs,jobs,networkpolicies \
    -A -l app.kubernetes.io/managed-by=supportstack-operator 2>&1 || true

  say "A restore drill on demand: kubectl annotate drdrill helpdesk-weekly ops.supportstack.io/run-now=demo"
  "${KUBECTL}" annotate -n "${NAMESPACE}" drdrill helpdesk-weekly ops.supportstack.io/run-now=demo --overwrite
  echo "kwok simulates pods and runs no container: the scratch server turns Ready and the restore Job"
  echo "completes, but no agent restores anything, so the run must end in Error saying so."
  wait_for 30 "the drill run" sh -c "'${KUBECTL}' get drdrillruns -n '${NAMESPACE}' -o name | grep -q ."
  "${KUBECTL}" wait -n "${NAMESPACE}" drdrillruns --all --for condition=EvidenceRecorded --timeout 120s >/dev/null
  "${KUBECTL}" get drdrillruns -A
  "${KUBECTL}" get drdrillruns -n "${NAMESPACE}" -o go-template='{{range .items}}{{.metadata.name}}: {{.status.phase}}: {{.status.message}}{{"\n"}}  sandbox {{.status.sandboxNamespace}}, evidence ConfigMap {{.status.evidence.configMapName}} sha256 {{.status.evidence.sha256}}{{"\n"}}{{end}}'
  sandbox="$("${KUBECTL}" get drdrillruns -n "${NAMESPACE}" -o jsonpath='{.items[0].status.sandboxNamespace}')"
  say "The run's sandbox ${sandbox} (kept for 2h after a failed run: keep OnFailure)"
  "${KUBECTL}" get namespace "${sandbox}" --show-labels
  "${KUBECTL}" get resourcequota,networkpolicies,pods,services,jobs,secrets -n "${sandbox}" 2>&1 || true
  say "Evidence (bin/supportstack verify-evidence; report --format csv)"
  "${ROOT}/bin/supportstack" verify-evidence -n "${NAMESPACE}" helpdesk-weekly --public-key "${DEMO_DIR}/drill-signing.pub" || true
  "${ROOT}/bin/supportstack" report -n "${NAMESPACE}" --format csv --from 2000-01-01 --to 2100-01-01 || true

  say "A bad manifest is refused at admission (kubectl apply --dry-run=server)"
  cat <<'YAML' | tee "${DEMO_DIR}/bad-backuppolicy.yaml"
apiVersion: ops.supportstack.io/v1alpha1
kind: BackupPolicy
metadata: {name: bad, namespace: helpdesk}
spec:
  schedule: "0 25 * * *"
  timeZone: Europe/Atlantis
  sources: {volumes: [{name: attachments, claimName: helpdesk-attachments}]}
  repository: {url: "ftp://backups", passwordSecretRef: {name: restic, key: password}}
  retention: {}
YAML
  "${KUBECTL}" apply --dry-run=server -f "${DEMO_DIR}/bad-backuppolicy.yaml" 2>&1 || true

  say "Done. KUBECONFIG=${KUBECONFIG}; operator log: ${DEMO_DIR}/manager.log; stop everything with: make demo-down"
}

case "${1:-}" in
up) up ;;
down) down ;;
*)
  echo "usage: $0 up|down" >&2
  exit 2
  ;;
esac
