#!/usr/bin/env bash
# make demo / make demo-down: a single-node Kubernetes whose pods are real
# containers (hack/cluster.sh), the images built from Debian packages and
# imported into it (hack/images.sh), the operator deployed as users deploy it
# (config/default with the local images), the help desk itself as a
# HelpDesk (Request Tracker with its PostgreSQL and attachments, an S3
# repository: config/demo/), a SupportTeam's queues in it, tickets with
# attachments, and then the whole chain: a backup that backs up, the
# HelpDesk's drill that starts the restored RT and passes, a drill of our
# own that passes and one that fails, signed evidence verified and an HTML
# report.
#
# Needs root on Linux (the cluster changes iptables, links and mounts while it
# runs; hack/cluster.sh says what). Everything lives under DEMO_DIR
# (default .demo/); `down` stops every process `up` started, removes what the
# cluster made on the machine and removes DEMO_DIR.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
K8S_ASSETS="${K8S_ASSETS:-${ROOT}/bin/k8s/${K8S_VERSION:-v1.37.2}}"
DEMO_DIR="$(realpath -m "${DEMO_DIR:-${ROOT}/.demo}")"
export CLUSTER_DIR="${DEMO_DIR}/cluster"
export KUBECONFIG="${CLUSTER_DIR}/kubeconfig/admin.kubeconfig"
NAMESPACE=helpdesk
KUBECTL="${K8S_ASSETS}/kubectl"
CLI="${ROOT}/bin/supportstack"
export K8S_ASSETS

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
k() { "${KUBECTL}" "$@"; }

down() {
  if [[ -d "${CLUSTER_DIR}" ]]; then
    "${ROOT}/hack/cluster.sh" down >"${DEMO_DIR}/cluster-down.log" 2>&1 || {
      cat "${DEMO_DIR}/cluster-down.log" >&2
      return 1
    }
  fi
  rm -rf "${DEMO_DIR}"
}

# wait_for SECONDS DESCRIPTION COMMAND...: until COMMAND succeeds.
wait_for() {
  local seconds=$1 what=$2
  shift 2
  local deadline=$((SECONDS + seconds))
  until "$@" >/dev/null 2>&1; do
    if ((SECONDS >= deadline)); then
      echo "timed out after ${seconds}s waiting for ${what}" >&2
      return 1
    fi
    sleep 1
  done
}

# jsonpath OBJECT EXPR: one field of an object in the demo namespace.
jsonpath() { k get -n "${NAMESPACE}" "$1" -o "jsonpath=$2" 2>/dev/null; }

# run_drill DRILL TOKEN: starts a run now and waits until it has ended and
# its evidence is recorded; prints the run's name.
run_drill() {
  local drill=$1 token=$2 run
  k annotate -n "${NAMESPACE}" drdrill "${drill}" "ops.supportstack.io/run-now=${token}" --overwrite >/dev/null
  wait_for 30 "a run of ${drill}" sh -c "'${KUBECTL}' get drdrillruns -n ${NAMESPACE} -l ops.supportstack.io/drill=${drill} -o name | grep -q ."
  run="$(k get drdrillruns -n "${NAMESPACE}" -l "ops.supportstack.io/drill=${drill}" -o jsonpath='{.items[0].metadata.name}')"
  wait_for 300 "run ${run} to end with its evidence" sh -c \
    "'${KUBECTL}' get drdrillrun -n ${NAMESPACE} ${run} -o jsonpath='{.status.evidence.sha256}' | grep -q ."
  echo "${run}"
}

# diagnose: what the cluster says when a step of up fails (a rollout that never
# becomes available is most often a node under disk pressure or an image that
# did not import), printed before the demo exits.
diagnose() {
  {
    echo
    echo "== The step above failed; what the cluster says:"
    k get nodes -o 'custom-columns=NODE:.metadata.name,CONDITIONS:.status.conditions[?(@.status=="True")].type,TAINTS:.spec.taints[*].key' || true
    k get pods -A -o wide || true
    k get events -A --sort-by=.lastTimestamp 2>/dev/null | tail -25 || true
    df -h "${DEMO_DIR}" || true
  } >&2
}

show_run() {
  k get drdrillrun -n "${NAMESPACE}" "$1" -o go-template='{{.metadata.name}}: {{.status.phase}}
  {{.status.message}}
  sandbox {{.status.sandboxNamespace}}; measured RTO {{.status.measuredRTO}}, RPO {{.status.measuredRPO}}; objectives met: {{.status.objectivesMet}}
  timings: provision {{.status.timings.provision}}, restore {{.status.timings.restore}}, verify {{.status.timings.verify}}
  restored recovery set {{.status.snapshot.recoverySet}}: snapshot(s) {{.status.snapshot.id}}
{{range .status.checks}}  check {{.name}}: {{if .passed}}passed{{else}}FAILED{{end}} (expected {{.expected}}, observed {{.observed}}){{if .message}}: {{.message}}{{end}}
{{end}}  evidence ConfigMap {{.status.evidence.configMapName}}, sha256 {{.status.evidence.sha256}}
'
}

up() {
  [[ "$(id -u)" == 0 ]] || { echo "make demo starts a Kubernetes node and needs root" >&2; exit 1; }
  down
  mkdir -p "${DEMO_DIR}"
  local t0=${SECONDS}

  say "A single-node Kubernetes with real containers (hack/cluster.sh up; log ${DEMO_DIR}/cluster.log)"
  "${ROOT}/hack/cluster.sh" up >"${DEMO_DIR}/cluster.log" 2>&1 || { tail -30 "${DEMO_DIR}/cluster.log" >&2; exit 1; }
  k get nodes -o wide
  trap diagnose ERR

  say "Images built from Debian packages and imported into the node (hack/images.sh)"
  "${ROOT}/hack/images.sh" >"${DEMO_DIR}/images.log" 2>&1 || { tail -30 "${DEMO_DIR}/images.log" >&2; exit 1; }
  "${ROOT}/bin/cluster/ctr" --address "${CLUSTER_DIR}/run/containerd.sock" -n k8s.io images ls -q 2>/dev/null | grep supportstack | sort

  say "The operator, deployed as users deploy it: config/default with the local images"
  mkdir -p "${DEMO_DIR}/deploy"
  # Both images of one version, dev (hack/images.sh): what make deploy does with its default VERSION.
  KUBECTL="${KUBECTL}" "${ROOT}/hack/render-install.sh" supportstack/operator:dev supportstack/agent:dev >"${DEMO_DIR}/deploy/install.yaml"
  k apply --server-side -f "${DEMO_DIR}/deploy/install.yaml" >"${DEMO_DIR}/deploy.log"
  k wait --for condition=Established --timeout 60s crd --all >/dev/null
  k rollout status -n supportstack-system deployment/supportstack-controller-manager --timeout 120s
  k get pods -n supportstack-system

  say "The help desk as a HelpDesk: Request Tracker 5, its PostgreSQL and attachments, locked down, backed up to an S3 repository (config/demo/)"
  k apply -f "${ROOT}/config/demo/store.yaml" -f "${ROOT}/config/demo/helpdesk.yaml" >/dev/null
  "${CLI}" keygen --private "${DEMO_DIR}/drill-signing.key" --public "${DEMO_DIR}/drill-signing.pub" >/dev/null
  k create secret generic drill-signing-key -n "${NAMESPACE}" --from-file=ed25519.key="${DEMO_DIR}/drill-signing.key"
  k rollout status -n backup-store deployment/s3 --timeout 120s >/dev/null
  k wait -n "${NAMESPACE}" hd/helpdesk --for condition=Ready --timeout 300s >/dev/null || {
    k get hd -n "${NAMESPACE}" helpdesk -o jsonpath='{range .status.conditions[*]}{.type}={.status} {.reason}: {.message}{"\n"}{end}' >&2
    exit 1
  }
  k get hd -n "${NAMESPACE}"
  k get pods,pvc,networkpolicies -n "${NAMESPACE}"

  say "The sample SupportTeam on it (queueBackend.helpDesk): its queues, group, members and rights in RT, no token anywhere a lead can read"
  k apply -n "${NAMESPACE}" -f "${ROOT}/config/samples/ops_v1alpha1_supportteam.yaml" >/dev/null
  k patch st -n "${NAMESPACE}" windows-tier1 --type=merge -p '{"spec":{"queueBackend":{"helpDesk":{"name":"helpdesk"}}}}' >/dev/null
  wait_for 180 "the team's queues and rights in RT" sh -c \
    "'${KUBECTL}' get st -n '${NAMESPACE}' windows-tier1 -o jsonpath='{.status.conditions[?(@.type==\"QueuesSynced\")].message}' | grep -q 'rights on each queue set'"
  echo "QueuesSynced: $(k get st -n "${NAMESPACE}" windows-tier1 -o jsonpath='{.status.conditions[?(@.type=="QueuesSynced")].message}')"
  echo "can alice@example.com (the team's lead) get secret helpdesk-credentials? $(k auth can-i get secret/helpdesk-credentials -n "${NAMESPACE}" --as alice@example.com || true)"

  say "Three tickets with a screenshot each, made with RT's own API in its web pod (RT sends no mail: no relay); the screenshots moved to the attachments' volume"
  k exec -n "${NAMESPACE}" deploy/helpdesk-web -- perl -I/usr/share/request-tracker5/lib -e '
use RT; RT::LoadConfig(); RT::Init(); use MIME::Entity;
for my $i (1 .. 3) {
    my $mime = MIME::Entity->build(Type => "multipart/mixed", From => "customer$i\@example.com", Subject => "demo ticket $i");
    $mime->attach(Type => "text/plain", Data => "My laptop does not start ($i)");
    $mime->attach(Type => "application/octet-stream", Filename => "screenshot-$i.png", Encoding => "base64",
        Data => join("", map { chr(($_ * 7 + $i) % 256) } 1 .. 20000));
    my $t = RT::Ticket->new(RT->SystemUser);
    my ($id, undef, $msg) = $t->Create(Queue => "windows-phone", Subject => "demo ticket $i", Requestor => ["customer$i\@example.com"], MIMEObj => $mime);
    die "$msg\n" unless $id;
    print "ticket #$id in queue windows-phone\n";
}' 2>/dev/null
  # RT's externalizing job, now rather than at its hour: a Job from its CronJob.
  k create job -n "${NAMESPACE}" --from=cronjob/helpdesk-externalize helpdesk-externalize-demo >/dev/null
  k wait -n "${NAMESPACE}" job/helpdesk-externalize-demo --for condition=Complete --timeout 180s >/dev/null
  echo "attachments kept as files: $(k exec -n "${NAMESPACE}" statefulset/helpdesk-db -- psql -tA -U postgres -d rt5 -c "SELECT count(*) FROM attachments WHERE contentencoding = 'external'")"

  say "Two drills of our own on the HelpDesk's BackupPolicy (config/demo/drills.yaml), beside the one it owns"
  k apply -f "${ROOT}/config/demo/drills.yaml" >/dev/null
  wait_for 60 "the HelpDesk's BackupPolicy" "${KUBECTL}" get bkp -n "${NAMESPACE}" helpdesk
  k wait -n "${NAMESPACE}" bkp/helpdesk drdrill/helpdesk drdrill/helpdesk-weekly --for condition=Ready --timeout 60s >/dev/null
  k get bkp,drdrill -n "${NAMESPACE}"

  say "A backup now: kubectl annotate bkp helpdesk ops.supportstack.io/backup-now=demo"
  # The attachments volume is ReadWriteOnce and mounted by RT's web pod:
  # the backup pod must run on that pod's node.
  echo "RT's web pod has the attachments mounted on node $(k get pods -n "${NAMESPACE}" -l app.kubernetes.io/component=web,ops.supportstack.io/helpdesk=helpdesk -o jsonpath='{.items[0].spec.nodeName}');" \
    "the backup CronJob runs on node $(k get cronjob -n "${NAMESPACE}" helpdesk-backup -o jsonpath='{.spec.jobTemplate.spec.template.spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchFields[0].values[0]}')"
  k annotate -n "${NAMESPACE}" bkp helpdesk ops.supportstack.io/backup-now=demo --overwrite >/dev/null
  k wait -n "${NAMESPACE}" bkp/helpdesk --for condition=LastBackupSucceeded --timeout 300s >/dev/null || {
    k get bkp -n "${NAMESPACE}" helpdesk -o jsonpath='{range .status.conditions[*]}{.type}={.status} {.reason}: {.message}{"\n"}{end}' >&2
    exit 1
  }
  k get bkp -n "${NAMESPACE}" helpdesk -o go-template='BackupPolicy {{.metadata.name}}: Job {{.status.lastBackup.jobName}} {{.status.lastBackup.result}}, started {{.status.lastBackup.startTime}}, completed {{.status.lastBackup.completionTime}}
  recovery set {{.status.lastBackup.recoverySet}}:{{range .status.lastBackup.snapshots}} {{.source}}{{if .database}}/{{.database}}{{end}}={{.id}}{{end}}; {{.status.lastBackup.bytesAdded}} bytes added, {{.status.lastBackup.totalBytes}} bytes in all
{{range .status.conditions}}  {{.type}}={{.status}} {{.reason}}: {{.message}}
{{end}}'

  say "The HelpDesk's drill: it restores RT's database and attachments, starts RT in the sandbox and uses it (kubectl annotate drdrill helpdesk ops.supportstack.io/run-now=demo)"
  local owned passed failed
  owned="$(run_drill helpdesk demo)"
  show_run "${owned}"

  say "Our own drill of the same backup: kubectl annotate drdrill helpdesk-weekly ops.supportstack.io/run-now=demo"
  passed="$(run_drill helpdesk-weekly demo)"
  show_run "${passed}"

  say "The passed drills prove the backups restorable (RestoreVerified; the recovery set is tagged verified, so prune keeps it)"
  k wait -n "${NAMESPACE}" bkp/helpdesk --for condition=RestoreVerified --timeout 60s >/dev/null || true
  k get bkp -n "${NAMESPACE}" helpdesk -o go-template='{{range .status.conditions}}{{if eq .type "RestoreVerified"}}RestoreVerified={{.status}} {{.reason}}: {{.message}}{{end}}{{end}}
'
  k wait -n "${NAMESPACE}" hd/helpdesk --for condition=Protected --timeout 60s >/dev/null || true
  k get hd -n "${NAMESPACE}"

  say "After the backup, ticket #1 is deleted in RT; a drill expects the backup to match the help desk now"
  k exec -n "${NAMESPACE}" deploy/helpdesk-web -- perl -I/usr/share/request-tracker5/lib -e '
use RT; RT::LoadConfig(); RT::Init();
my $t = RT::Ticket->new(RT->SystemUser); $t->Load(1);
my ($ok, $msg) = $t->SetStatus("deleted"); die "$msg\n" unless $ok;' 2>/dev/null
  echo "source: $(k exec -n "${NAMESPACE}" statefulset/helpdesk-db -- psql -tA -U postgres -d rt5 -c "SELECT count(*) FROM tickets WHERE status <> 'deleted'") tickets"
  failed="$(run_drill helpdesk-after-cleanup demo)"
  show_run "${failed}"

  say "Evidence: bin/supportstack verify-evidence, and an HTML report for auditors"
  local drill
  for drill in helpdesk helpdesk-weekly helpdesk-after-cleanup; do
    "${CLI}" verify-evidence -n "${NAMESPACE}" "${drill}" --public-key "${DEMO_DIR}/drill-signing.pub"
  done
  "${CLI}" report -n "${NAMESPACE}" --format html --from 2000-01-01 --to 2100-01-01 >"${DEMO_DIR}/drill-report.html"
  echo "report: ${DEMO_DIR}/drill-report.html"

  say "kubectl get supportstack -A"
  k get supportstack -A

  say "The SupportTeam's coming week, hour by hour (bin/supportstack coverage; first 12 lines)"
  "${CLI}" coverage -n "${NAMESPACE}" windows-tier1 | head -12 || true

  say "A bad manifest is refused at admission (kubectl apply --dry-run=server)"
  cat <<'YAML' >"${DEMO_DIR}/bad-backuppolicy.yaml"
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
  k apply --dry-run=server -f "${DEMO_DIR}/bad-backuppolicy.yaml" 2>&1 || true

  trap - ERR
  say "Done in $((SECONDS - t0)) s. export KUBECONFIG=${KUBECONFIG}; operator log: kubectl logs -n supportstack-system deploy/supportstack-controller-manager; stop everything with: make demo-down"
}

case "${1:-}" in
up) up ;;
down) down ;;
*)
  echo "usage: $0 up|down" >&2
  exit 2
  ;;
esac
