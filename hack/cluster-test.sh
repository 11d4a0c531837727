#!/usr/bin/env bash
# Proves the cluster of hack/cluster.sh runs what the project needs. Expects
# `hack/cluster.sh up` and `hack/images.sh` (all images) to have run; leaves
# nothing behind but what `hack/cluster.sh down` removes.
#
#   (a) a pod that prints and exits: its termination message reaches the pod
#       status, its log reaches kubectl
#   (b) the PostgreSQL image in the drill's scratch-server pod shape (uid 999,
#       PGDATA on an emptyDir, read-only root) answers psql from another pod
#       through its Service DNS name
#   (c) NetworkPolicy: default-deny egress (DNS allowed) blocks that, an allow
#       rule to port 5432 opens it again
#   (d) a PVC of the default StorageClass is bound by the provisioner and
#       written by a pod
#   (e) PodSecurity "restricted": a non-compliant pod is refused; compliant
#       pods run with a read-only root file system as non-root
#   (f) pods reach neither the machine nor anything beyond the cluster: DNS
#       answers cluster names only; the guard chains drop the rest
#
#   (g) the operator image runs the manager; the S3 image serves S3 through
#       a Service
#
#   hack/cluster-test.sh [a b c d e f g]      (default: all)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
K8S_VERSION="${K8S_VERSION:-v1.37.2}"
D="$(realpath -m "${CLUSTER_DIR:-${ROOT}/.cluster}")"
PREFIX="${CLUSTER_PREFIX:-ssk}"
PFX="$(tr '[:lower:]' '[:upper:]' <<<"${PREFIX}")"
KUBECTL="${K8S_ASSETS:-${ROOT}/bin/k8s/${K8S_VERSION}}/kubectl"
export KUBECONFIG="${D}/kubeconfig/admin.kubeconfig"
NS=ssk-test
BUSYBOX=docker.io/supportstack/busybox:dev
AGENT=docker.io/supportstack/agent:dev
POSTGRES=docker.io/supportstack/postgres:15

kc() { "${KUBECTL}" "$@"; }
log() { echo "cluster-test: $*" >&2; }
pass() { echo "PASS $*"; }
fail() {
  echo "FAIL $*"
  failed=1
}
failed=0

# ns NAME [restricted]: a fresh namespace with its default ServiceAccount.
ns() {
  kc delete namespace "$1" --ignore-not-found --wait=true >/dev/null
  kc create namespace "$1" >/dev/null
  if [[ "${2:-}" == restricted ]]; then
    kc label namespace "$1" pod-security.kubernetes.io/enforce=restricted >/dev/null
  fi
  local _
  for _ in $(seq 1 100); do
    kc -n "$1" get serviceaccount default >/dev/null 2>&1 && return 0
    sleep 0.2
  done
  log "no default ServiceAccount in $1"
  return 1
}

# Restricted pod and container security, as internal/resources does.
pod_security() { # UID
  cat <<EOF
  securityContext:
    runAsNonRoot: true
    runAsUser: $1
    runAsGroup: $1
    fsGroup: $1
    seccompProfile: {type: RuntimeDefault}
EOF
}
container_security='
    securityContext:
      allowPrivilegeEscalation: false
      readOnlyRootFilesystem: true
      runAsNonRoot: true
      capabilities: {drop: [ALL]}
      seccompProfile: {type: RuntimeDefault}'

# run_pod NS NAME IMAGE TIMEOUT CMD...: a restricted one-shot pod (uid
# 65532); prints its log, fails when the pod fails.
run_pod() {
  local ns="$1" name="$2" image="$3" timeout="$4" phase
  shift 4
  kc -n "${ns}" delete pod "${name}" --ignore-not-found --wait=true >/dev/null
  {
    cat <<EOF
apiVersion: v1
kind: Pod
metadata: {name: ${name}}
spec:
  restartPolicy: Never
  automountServiceAccountToken: false
$(pod_security 65532)
  volumes: [{name: tmp, emptyDir: {}}]
  containers:
  - name: main
    image: ${image}
    imagePullPolicy: IfNotPresent
    command: $(printf '%s\0' "$@" | jq -cRs 'split("\u0000") | if .[-1] == "" then .[:-1] else . end')
    volumeMounts: [{name: tmp, mountPath: /tmp}]
    env: [{name: HOME, value: /tmp}]${container_security}
EOF
  } | kc -n "${ns}" apply -f - >/dev/null
  local deadline=$((SECONDS + timeout))
  while :; do
    phase="$(kc -n "${ns}" get pod "${name}" -o jsonpath='{.status.phase}')"
    [[ "${phase}" == Succeeded || "${phase}" == Failed ]] && break
    if ((SECONDS > deadline)); then
      kc -n "${ns}" describe pod "${name}" | tail -20 >&2
      return 1
    fi
    sleep 0.5
  done
  kc -n "${ns}" logs "${name}" 2>&1 || true
  [[ "${phase}" == Succeeded ]]
}

test_a() {
  local t0=${SECONDS} msg
  ns "${NS}-a"
  kc -n "${NS}-a" apply -f - >/dev/null <<EOF
apiVersion: v1
kind: Pod
metadata: {name: hello}
spec:
  restartPolicy: Never
  containers:
  - name: hello
    image: ${BUSYBOX}
    imagePullPolicy: IfNotPresent
    command: [sh, -c, 'echo hello from a container; echo "finished: \$(hostname)" >/dev/termination-log']
EOF
  kc -n "${NS}-a" wait pod/hello --for=jsonpath='{.status.phase}'=Succeeded --timeout=60s >/dev/null
  msg="$(kc -n "${NS}-a" get pod hello -o jsonpath='{.status.containerStatuses[0].state.terminated.message}')"
  if [[ "${msg}" == "finished: hello"* ]] && kc -n "${NS}-a" logs hello | grep -q 'hello from a container'; then
    pass "(a) termination message '${msg}' and log reached the API ($((SECONDS - t0)) s)"
  else
    fail "(a) termination message '${msg}'"
  fi
}

# The scratch server in the shape internal/resources/drill.go gives it.
postgres_up() {
  ns "${NS}-pg" restricted
  kc -n "${NS}-pg" create secret generic scratch-postgres --from-literal=password=s3cret-pw >/dev/null
  kc -n "${NS}-pg" apply -f - >/dev/null <<EOF
apiVersion: v1
kind: Pod
metadata:
  name: scratch-postgres
  labels: {ops.supportstack.io/component: scratch-postgres}
spec:
  automountServiceAccountToken: false
$(pod_security 999)
  volumes:
  - {name: data, emptyDir: {sizeLimit: 1Gi}}
  - {name: run, emptyDir: {}}
  - {name: tmp, emptyDir: {}}
  containers:
  - name: postgres
    image: ${POSTGRES}
    env:
    - {name: PGDATA, value: /var/lib/postgresql/data/pgdata}
    - name: POSTGRES_PASSWORD
      valueFrom: {secretKeyRef: {name: scratch-postgres, key: password}}
    ports: [{name: postgres, containerPort: 5432}]
    volumeMounts:
    - {name: data, mountPath: /var/lib/postgresql/data}
    - {name: run, mountPath: /var/run/postgresql}
    - {name: tmp, mountPath: /tmp}
    readinessProbe:
      exec: {command: [pg_isready, -h, 127.0.0.1, -U, postgres]}
      periodSeconds: 2
    resources:
      requests: {cpu: 250m, memory: 256Mi}
      limits: {memory: 1Gi}${container_security}
---
apiVersion: v1
kind: Service
metadata: {name: scratch-postgres}
spec:
  selector: {ops.supportstack.io/component: scratch-postgres}
  ports: [{name: postgres, port: 5432, targetPort: 5432}]
EOF
  kc -n "${NS}-pg" wait pod/scratch-postgres --for=condition=Ready --timeout=120s >/dev/null
}

PSQL_URI="postgresql://postgres:s3cret-pw@scratch-postgres.${NS}-pg.svc:5432/postgres?sslmode=disable&connect_timeout=5"

# kube-router enforces a new pod's policies about a second after it starts
# (before that the pod talks freely, or with NETPOL_DEFAULT_DENY=1 not at
# all): clients wait, then retry.
PSQL_RETRY="sleep 2; for i in 1 2 3 4 5; do psql '${PSQL_URI}' -tAc \"select 'answer=' || 6*7\" && exit 0; sleep 1; done; exit 1"

test_b() {
  local t0=${SECONDS} out
  postgres_up || {
    kc -n "${NS}-pg" logs scratch-postgres >&2 || true
    fail "(b) scratch postgres not ready"
    return
  }
  ns "${NS}-client" restricted
  if out="$(run_pod "${NS}-client" psql "${AGENT}" 90 sh -c "${PSQL_RETRY}")" && grep -q 'answer=42' <<<"${out}"; then
    pass "(b) psql from another pod through scratch-postgres.${NS}-pg.svc: ${out} ($((SECONDS - t0)) s)"
  else
    fail "(b) psql: ${out}"
  fi
}

test_c() {
  local t0=${SECONDS} out
  kc -n "${NS}-client" apply -f - >/dev/null <<EOF
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: default-deny-egress}
spec:
  podSelector: {}
  policyTypes: [Egress]
  egress:
  - ports: [{protocol: UDP, port: 53}, {protocol: TCP, port: 53}]
EOF
  sleep 2
  if out="$(run_pod "${NS}-client" psql-denied "${AGENT}" 90 sh -c "${PSQL_RETRY}")"; then
    fail "(c) default-deny egress did not block psql: ${out}"
    return
  fi
  pass "(c) default-deny egress blocks psql: $(tail -1 <<<"${out}")"
  kc -n "${NS}-client" apply -f - >/dev/null <<EOF
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: allow-postgres}
spec:
  podSelector: {}
  policyTypes: [Egress]
  egress:
  - to:
    - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: ${NS}-pg}}
      podSelector: {matchLabels: {ops.supportstack.io/component: scratch-postgres}}
    ports: [{protocol: TCP, port: 5432}]
EOF
  sleep 2
  if out="$(run_pod "${NS}-client" psql-allowed "${AGENT}" 90 sh -c "${PSQL_RETRY}")" && grep -q 'answer=42' <<<"${out}"; then
    pass "(c) the allow rule opens it again: ${out} ($((SECONDS - t0)) s)"
  else
    fail "(c) allow rule: ${out}"
  fi
  kc -n "${NS}-client" delete networkpolicy allow-postgres >/dev/null
  sleep 2
  if out="$(run_pod "${NS}-client" psql-denied-again "${AGENT}" 90 sh -c "${PSQL_RETRY}")"; then
    fail "(c) removing the allow rule did not block again"
  else
    pass "(c) removing the allow rule blocks again"
  fi
}

test_d() {
  local t0=${SECONDS} out pv path
  ns "${NS}-pvc" restricted
  kc -n "${NS}-pvc" apply -f - >/dev/null <<EOF
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data}
spec:
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 64Mi}}
---
apiVersion: v1
kind: Pod
metadata: {name: writer}
spec:
  restartPolicy: Never
  automountServiceAccountToken: false
$(pod_security 65532)
  volumes: [{name: data, persistentVolumeClaim: {claimName: data}}]
  containers:
  - name: main
    image: ${BUSYBOX}
    command: [sh, -c, 'echo persisted >/data/file && cat /data/file']
    volumeMounts: [{name: data, mountPath: /data}]${container_security}
EOF
  if ! kc -n "${NS}-pvc" wait pod/writer --for=jsonpath='{.status.phase}'=Succeeded --timeout=120s >/dev/null; then
    kc -n "${NS}-pvc" describe pvc data pod/writer | tail -30 >&2
    fail "(d) writer pod did not succeed"
    return
  fi
  pv="$(kc -n "${NS}-pvc" get pvc data -o jsonpath='{.status.phase} {.spec.volumeName} {.spec.storageClassName}')"
  path="$(kc get pv "$(cut -d' ' -f2 <<<"${pv}")" -o jsonpath='{.spec.hostPath.path}{.spec.local.path}')"
  if [[ "${pv}" == Bound* && "$(cat "${path}/file" 2>/dev/null)" == persisted ]]; then
    pass "(d) PVC ${pv} at ${path} holds the pod's file ($((SECONDS - t0)) s)"
  else
    fail "(d) PVC ${pv} path ${path}"
  fi
}

test_e() {
  local out
  ns "${NS}-e" restricted
  if out="$(kc -n "${NS}-e" run rootish --image="${BUSYBOX}" --restart=Never -- true 2>&1)"; then
    fail "(e) a non-compliant pod was admitted"
  else
    pass "(e) restricted namespace refuses a non-compliant pod: $(grep -o 'violates PodSecurity[^:]*' <<<"${out}")"
  fi
  if out="$(run_pod "${NS}-e" ro "${BUSYBOX}" 60 sh -c 'id; if touch /x 2>/dev/null; then echo root-writable; else echo root-read-only; fi; touch /tmp/y && echo tmp-writable')" &&
    grep -q 'uid=65532' <<<"${out}" && grep -q root-read-only <<<"${out}" && grep -q tmp-writable <<<"${out}"; then
    pass "(e) compliant pod: $(tr '\n' ' ' <<<"${out}")"
  else
    fail "(e) compliant pod: ${out}"
  fi
}

test_f() {
  local out before after host_ip
  ns "${NS}-f"
  # Cluster names resolve, others do not (no upstream); the machine's own
  # uplink address is dropped by the guard chains (a timeout, not a
  # refusal). No probe is ever sent to an address off this machine.
  host_ip="$(ip -4 -o addr show scope global | awk -v p="${PREFIX}-" 'index($2, p) != 1 {sub("/.*", "", $4); print $4; exit}')"
  before="$(guard_drops)"
  out="$(run_pod "${NS}-f" probe "${BUSYBOX}" 60 sh -c "
    sleep 2
    sed 's/^/resolv.conf: /' /etc/resolv.conf
    nslookup kubernetes.default.svc.cluster.local >/dev/null 2>&1 && echo dns-cluster-ok || echo dns-cluster-failed
    nslookup example.com >/dev/null 2>&1 && echo dns-external-answered || echo dns-external-none
    timeout 5 nc -w 3 ${host_ip} 9 </dev/null 2>&1 | grep -q refused && echo host-reached || echo host-blocked
  " || true)"
  after="$(guard_drops)"
  echo "${out}" | sed 's/^/  /'
  if grep -q dns-cluster-ok <<<"${out}" && grep -q dns-external-none <<<"${out}" &&
    grep -q host-blocked <<<"${out}" && ((after > before)); then
    pass "(f) cluster DNS only; the guard dropped $((after - before)) packets to ${host_ip}"
  else
    fail "(f) isolation (guard drops ${before} -> ${after})"
  fi
}
guard_drops() { iptables -w 5 -t raw -L "${PFX}-GUARD-PRE" -v -x -n | awk '$3 == "DROP" {s += $1} END {print s + 0}'; }

test_g() {
  local out
  ns "${NS}-g" restricted
  if out="$(run_pod "${NS}-g" manager docker.io/supportstack/operator:dev 60 /manager --help 2>&1)" || grep -qi 'usage' <<<"${out}"; then
    pass "(g) operator image runs /manager as uid 65532: $(grep -m1 -i usage <<<"${out}")"
  else
    fail "(g) operator image: ${out}"
  fi
  kc -n "${NS}-g" apply -f - >/dev/null <<EOF
apiVersion: v1
kind: Pod
metadata: {name: s3, labels: {app: s3}}
spec:
  automountServiceAccountToken: false
$(pod_security 65532)
  volumes: [{name: data, emptyDir: {}}, {name: tmp, emptyDir: {}}]
  containers:
  - name: s3
    image: docker.io/supportstack/s3:dev
    args: [serve, s3, --addr, ":9000", --auth-key, "AKIDSUPPORTSTACK,supportstack-s3-secret", /data]
    volumeMounts: [{name: data, mountPath: /data}, {name: tmp, mountPath: /tmp}]
    readinessProbe: {tcpSocket: {port: 9000}, periodSeconds: 1}${container_security}
---
apiVersion: v1
kind: Service
metadata: {name: s3}
spec:
  selector: {app: s3}
  ports: [{port: 9000, targetPort: 9000}]
EOF
  if ! kc -n "${NS}-g" wait pod/s3 --for=condition=Ready --timeout=60s >/dev/null; then
    kc -n "${NS}-g" logs s3 >&2 || true
    fail "(g) s3 pod not ready"
    return
  fi
  out="$(run_pod "${NS}-g" s3-client "${BUSYBOX}" 60 sh -c "sleep 2; timeout 15 wget -S -O- http://s3.${NS}-g.svc:9000/ 2>&1; true")"
  if grep -q 'HTTP/1.1' <<<"${out}"; then
    pass "(g) rclone serve s3 answers through its Service: $(grep -m1 'HTTP/1.1' <<<"${out}" | sed 's/^ *//')"
  else
    fail "(g) s3: ${out}"
  fi
}

tests=("$@")
# The images come from hack/images.sh, not from a registry.
node_images="$("${ROOT}/bin/cluster/ctr" --address "${D}/run/containerd.sock" -n k8s.io images ls -q 2>/dev/null)"
for image in "${BUSYBOX}" "${AGENT}" "${POSTGRES}" docker.io/supportstack/operator:dev docker.io/supportstack/s3:dev; do
  grep -qx "${image}" <<<"${node_images}" || { log "image ${image} is not in the cluster: run hack/images.sh"; exit 1; }
done
((${#tests[@]})) || tests=(a b c d e f g)
for t in "${tests[@]}"; do
  case "${t}" in
    c) [[ " ${tests[*]} " == *" b "* ]] || test_b ;;
  esac
  "test_${t}"
done
for n in a pg client pvc e f g; do kc delete namespace "${NS}-${n}" --ignore-not-found --wait=false >/dev/null; done
exit "${failed}"
