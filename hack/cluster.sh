#!/usr/bin/env bash
# A single-node Kubernetes cluster whose pods are real containers, for tests
# that need more than kwok (running images, Services, DNS, NetworkPolicies,
# volumes, PodSecurity).
#
#   hack/cluster.sh up        start it (binaries: hack/setup-k8s.sh and
#                             hack/build-cluster-bins.sh; pause and busybox
#                             images are built and imported by hack/images.sh);
#                             first removes what a cluster killed before
#                             `down` left, and refuses while one still runs
#   hack/cluster.sh down      stop it and remove everything it made
#   hack/cluster.sh status    components, node, and leftovers
#   hack/cluster.sh check     leftovers only; exit status 1 if there are any
#   hack/cluster.sh env       prints `export KUBECONFIG=...`
#
# Everything lives in CLUSTER_DIR (default <repo>/.cluster): certificates,
# kubeconfigs (kubeconfig/admin.kubeconfig), etcd, containerd's root and
# state, the kubelet's root, CNI configuration and IPAM, logs (logs/), PVs.
# Host objects carry the prefix CLUSTER_PREFIX (default ssk): the node-IP
# bridge ssk-node, the pod bridge ssk-cni0, iptables chains SSK-*, cgroups
# /ssk. Kubernetes' own components name theirs KUBE-* (kube-proxy,
# kube-router, kubelet canaries) and CNI's portmap CNI-HOSTPORT-*: `down`
# removes those too, so do not run another kube-proxy or kube-router on the
# same machine.
#
# Addresses: node 10.77.0.1 (a bridge with no ports), pods 10.78.0.0/24,
# Services 10.79.0.0/24 (DNS 10.79.0.10). Ports: etcd 22379/22380,
# kube-apiserver 16443 (on the node IP), controller-manager 20257, scheduler
# 20259, kubelet 20250 (healthz 20248), kube-proxy 20256/20249, CoreDNS
# 10.77.0.1:53 (ready 20181), kube-router health 20246.
#
# NetworkPolicies are enforced by kube-router once it has seen the pod's IP
# and programmed its firewall, about a second after the pod starts; until
# then the new pod talks freely. NETPOL_DEFAULT_DENY=1 makes that window fail
# closed instead (--netpol-default-deny: the pod's packets are rejected, so
# its first DNS lookups or connections fail and must be retried).
#
# Pods see only the cluster: their resolv.conf names only the cluster DNS
# (which answers cluster names only), there is no masquerading, and guard
# chains drop pod traffic to anything but pods, Services and the node IP.
#
# Components run as host processes: etcd, kube-apiserver (Node,RBAC;
# NodeRestriction; PodSecurity), kube-controller-manager, kube-scheduler,
# containerd 2 (runc), kubelet, kube-proxy (iptables), CoreDNS (kubernetes
# plugin, no forward; Service kube-system/kube-dns), kube-router (firewall
# only: NetworkPolicies), local-path-provisioner (default StorageClass
# local-path, WaitForFirstConsumer).
set -Eeuo pipefail
set +m

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
K8S_VERSION="${K8S_VERSION:-v1.37.2}"
D="$(realpath -m "${CLUSTER_DIR:-${ROOT}/.cluster}")"
PREFIX="${CLUSTER_PREFIX:-ssk}"
PFX="$(tr '[:lower:]' '[:upper:]' <<<"${PREFIX}")"
K8S_BIN="$(realpath -m "${K8S_ASSETS:-${ROOT}/bin/k8s/${K8S_VERSION}}")"
BIN="$(realpath -m "${CLUSTER_BINS:-${ROOT}/bin/cluster}")"

NODE_NAME="${PREFIX}-node"
NODE_LINK="${PREFIX}-node"
POD_BRIDGE="${PREFIX}-cni0"
CNI_NETWORK="${PREFIX}"
NODE_IP="${NODE_IP:-10.77.0.1}"
POD_CIDR="${POD_CIDR:-10.78.0.0/24}"
POD_GATEWAY="${POD_GATEWAY:-10.78.0.1}"
SERVICE_CIDR="${SERVICE_CIDR:-10.79.0.0/24}"
DNS_IP="${DNS_IP:-10.79.0.10}"
CGROUP_ROOT="/${PREFIX}"

ETCD_PORT=22379
ETCD_PEER_PORT=22380
APISERVER_PORT=16443
KCM_PORT=20257
SCHEDULER_PORT=20259
KUBELET_PORT=20250
KUBELET_HEALTHZ_PORT=20248
PROXY_HEALTHZ_PORT=20256
PROXY_METRICS_PORT=20249
COREDNS_READY_PORT=20181
ROUTER_HEALTH_PORT=20246

# Start order; `down` stops them in reverse, with pods deleted first.
COMPONENTS=(etcd kube-apiserver kube-controller-manager kube-scheduler containerd kubelet kube-proxy coredns kube-router local-path-provisioner)
# Images every cluster needs: the sandbox and the provisioner's helper.
BASE_IMAGES=(pause busybox)
SANDBOX_IMAGE="docker.io/supportstack/pause:dev"
HELPER_IMAGE="docker.io/supportstack/busybox:dev"

# Host settings the components change (kubelet: kernel tunables; CNI bridge
# and us: forwarding; kube-proxy: conntrack, route_localnet): `down` puts
# back what `up` found.
SYSCTLS=(
  net.ipv4.ip_forward net.ipv4.conf.all.forwarding net.ipv4.conf.default.forwarding
  net.ipv6.conf.all.forwarding net.ipv4.conf.all.route_localnet
  net.bridge.bridge-nf-call-iptables net.bridge.bridge-nf-call-ip6tables
  vm.overcommit_memory vm.panic_on_oom kernel.panic kernel.panic_on_oops
  kernel.keys.root_maxkeys kernel.keys.root_maxbytes
  net.netfilter.nf_conntrack_max net.netfilter.nf_conntrack_tcp_timeout_established
  net.netfilter.nf_conntrack_tcp_timeout_close_wait net.netfilter.nf_conntrack_tcp_be_liberal
)
# Paths written whatever the flags say; removed by `down` when `up` did not
# find them.
OUTSIDE_PATHS=(/var/lib/kubelet/device-plugins /var/lib/kubelet /var/log/containers /var/lib/cni/results /var/lib/cni/networks /var/lib/cni /run/containerd/s /run/containerd)

log() { echo "cluster: $*" >&2; }
die() { log "$*"; exit 1; }
kc() { "${K8S_BIN}/kubectl" --kubeconfig "${D}/kubeconfig/admin.kubeconfig" "$@"; }
ipt() { iptables -w 5 "$@"; }

# ---------------------------------------------------------------------------
# processes

pid_of() { [[ -f "${D}/run/$1.pid" ]] && cat "${D}/run/$1.pid" 2>/dev/null || true; }
alive() {
  local pid
  pid="$(pid_of "$1")"
  [[ -n "${pid}" ]] && kill -0 "${pid}" 2>/dev/null && grep -qF -- "${D}" "/proc/${pid}/cmdline" 2>/dev/null
}

# running PID: the process exists and is not a zombie.
running() { [[ -e "/proc/$1" ]] && ! grep -q '^[0-9]* (.*) Z' "/proc/$1/stat" 2>/dev/null; }
# elapsed START: seconds since START (an EPOCHREALTIME), one decimal.
elapsed() { awk -v a="$1" -v b="${EPOCHREALTIME}" 'BEGIN {printf "%.1f", b - a}'; }

# start NAME CMD...: runs CMD in its own session, output to logs/NAME.log.
start() {
  local name="$1"
  shift
  setsid "$@" >>"${D}/logs/${name}.log" 2>&1 </dev/null &
  echo $! >"${D}/run/${name}.pid"
}

# stop NAME [SECONDS]: SIGTERM, wait, SIGKILL.
stop() {
  local name="$1" wait="${2:-15}" pid i t=${EPOCHREALTIME}
  pid="$(pid_of "${name}")"
  if alive "${name}"; then
    kill -TERM "${pid}" 2>/dev/null || true
    for ((i = 0; i < wait * 10; i++)); do
      running "${pid}" || break
      sleep 0.1
    done
    if running "${pid}"; then
      log "${name} did not stop in ${wait}s: SIGKILL"
      kill -KILL "${pid}" 2>/dev/null || true
      sleep 0.2
    fi
  fi
  rm -f "${D}/run/${name}.pid"
  [[ -z "${pid}" ]] || log "stopped ${name} ($(elapsed "${t}") s)"
}

# wait_for DESCRIPTION SECONDS CMD...: polls CMD until it succeeds.
wait_for() {
  local what="$1" timeout="$2" deadline
  shift 2
  deadline=$((SECONDS + timeout))
  until "$@" >/dev/null 2>&1; do
    if ((SECONDS >= deadline)); then
      log "timed out after ${timeout}s waiting for ${what}"
      return 1
    fi
    sleep 0.25
  done
}

# ---------------------------------------------------------------------------
# certificates and kubeconfigs

pki() {
  local p="${D}/pki"
  mkdir -p "${p}"
  openssl ecparam -name prime256v1 -genkey -noout -out "${p}/ca.key" 2>/dev/null
  openssl req -x509 -new -key "${p}/ca.key" -subj "/CN=${PREFIX}-ca" -days 3650 -out "${p}/ca.crt" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign,digitalSignature" 2>/dev/null
  # service account tokens
  openssl genrsa -out "${p}/sa.key" 2048 2>/dev/null
  openssl rsa -in "${p}/sa.key" -pubout -out "${p}/sa.pub" 2>/dev/null
  cert apiserver "kube-apiserver" "" serverAuth \
    "DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local,DNS:localhost,IP:${NODE_IP},IP:${SERVICE_CIDR%.*}.1,IP:127.0.0.1"
  cert apiserver-kubelet-client kube-apiserver-kubelet-client system:masters clientAuth
  cert admin "${PREFIX}-admin" system:masters clientAuth
  cert kube-controller-manager system:kube-controller-manager "" clientAuth
  cert kube-scheduler system:kube-scheduler "" clientAuth
  cert kubelet "system:node:${NODE_NAME}" system:nodes clientAuth
  cert kubelet-serving "system:node:${NODE_NAME}" system:nodes serverAuth "DNS:${NODE_NAME},IP:${NODE_IP}"
  cert kube-proxy system:kube-proxy "" clientAuth
  cert coredns "${PREFIX}:coredns" "" clientAuth
  cert kube-router "${PREFIX}:kube-router" "" clientAuth
  cert local-path-provisioner "${PREFIX}:local-path-provisioner" "" clientAuth
  rm -f "${p}"/*.csr "${p}"/*.ext "${p}"/ca.srl
  local c
  for c in admin kube-controller-manager kube-scheduler kubelet kube-proxy coredns kube-router local-path-provisioner; do
    kubeconfig "${c}"
  done
}

# cert NAME CN ORG USAGE [SANS]
cert() {
  local p="${D}/pki" name="$1" cn="$2" org="$3" usage="$4" sans="${5:-}" subj
  subj="/CN=${cn}"
  [[ -z "${org}" ]] || subj="/O=${org}${subj}"
  openssl ecparam -name prime256v1 -genkey -noout -out "${p}/${name}.key" 2>/dev/null
  openssl req -new -key "${p}/${name}.key" -subj "${subj}" -out "${p}/${name}.csr" 2>/dev/null
  {
    echo "basicConstraints=CA:FALSE"
    echo "keyUsage=critical,digitalSignature,keyEncipherment"
    echo "extendedKeyUsage=${usage}"
    [[ -z "${sans}" ]] || echo "subjectAltName=${sans}"
  } >"${p}/${name}.ext"
  openssl x509 -req -in "${p}/${name}.csr" -CA "${p}/ca.crt" -CAkey "${p}/ca.key" -CAcreateserial \
    -days 3650 -extfile "${p}/${name}.ext" -out "${p}/${name}.crt" 2>/dev/null
}

kubeconfig() {
  mkdir -p "${D}/kubeconfig"
  cat >"${D}/kubeconfig/$1.kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: ${PREFIX}
  cluster:
    server: https://${NODE_IP}:${APISERVER_PORT}
    certificate-authority: ${D}/pki/ca.crt
users:
- name: $1
  user:
    client-certificate: ${D}/pki/$1.crt
    client-key: ${D}/pki/$1.key
contexts:
- name: ${PREFIX}
  context:
    cluster: ${PREFIX}
    user: $1
current-context: ${PREFIX}
EOF
}

# ---------------------------------------------------------------------------
# configuration files

configs() {
  mkdir -p "${D}/containerd" "${D}/cni/net.d" "${D}/kubelet" "${D}/coredns" "${D}/storage" "${D}/pod-logs" "${D}/kube-proxy"
  mkdir -p "${D}/containerd/certs.d/_default"
  printf 'server = "http://127.0.0.1:9"\n' >"${D}/containerd/certs.d/_default/hosts.toml"
  cat >"${D}/containerd/config.toml" <<EOF
version = 4
root = '${D}/containerd/root'
state = '${D}/containerd/state'
temp = '${D}/containerd/tmp'
imports = []
disabled_plugins = ['io.containerd.nri.v1.nri']

[plugins]
  [plugins.'io.containerd.server.v1.grpc']
    address = '${D}/run/containerd.sock'
  [plugins.'io.containerd.server.v1.ttrpc']
    address = '${D}/run/containerd.sock.ttrpc'
  [plugins.'io.containerd.server.v1.debug']
    address = ''
  [plugins.'io.containerd.server.v1.metrics']
    address = ''
  [plugins.'io.containerd.cri.v1.images']
    snapshotter = 'overlayfs'
    [plugins.'io.containerd.cri.v1.images'.pinned_images]
      sandbox = '${SANDBOX_IMAGE}'
    # The cluster never pulls: every registry resolves to a closed port on
    # loopback, so an image that was not imported fails at once, locally.
    [plugins.'io.containerd.cri.v1.images'.registry]
      config_path = '${D}/containerd/certs.d'

  [plugins.'io.containerd.cri.v1.runtime']
    # this machine's kind lacks CAP_SYS_RESOURCE: runc cannot lower oom_score_adj
    restrict_oom_score_adj = true
    netns_mounts_under_state_dir = true
    cdi_spec_dirs = []
    [plugins.'io.containerd.cri.v1.runtime'.containerd]
      default_runtime_name = 'runc'
      [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc]
        runtime_type = 'io.containerd.runc.v2'
        [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc.options]
          BinaryName = '$(command -v runc)'
          Root = '${D}/containerd/runc'
          SystemdCgroup = false
    [plugins.'io.containerd.cri.v1.runtime'.cni]
      bin_dirs = ['/usr/lib/cni']
      conf_dir = '${D}/cni/net.d'
      max_conf_num = 1

  [plugins.'io.containerd.grpc.v1.cri']
    stream_server_address = '127.0.0.1'
    stream_server_port = '0'

  [plugins.'io.containerd.internal.v1.opt']
    path = '${D}/containerd/opt'

  [plugins.'io.containerd.image-verifier.v1.bindir']
    bin_dir = '${D}/containerd/image-verifier'
EOF

  cat >"${D}/cni/net.d/10-${CNI_NETWORK}.conflist" <<EOF
{
  "cniVersion": "1.0.0",
  "name": "${CNI_NETWORK}",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "${POD_BRIDGE}",
      "isGateway": true,
      "ipMasq": false,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "dataDir": "${D}/cni/ipam",
        "ranges": [[{"subnet": "${POD_CIDR}", "gateway": "${POD_GATEWAY}"}]],
        "routes": [{"dst": "0.0.0.0/0"}]
      }
    },
    {"type": "portmap", "capabilities": {"portMappings": true}}
  ]
}
EOF

  cat >"${D}/kubelet/config.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
# this machine's kind runs cgroup v1 (hybrid)
failCgroupV1: false
cgroupDriver: cgroupfs
cgroupRoot: ${CGROUP_ROOT}
address: ${NODE_IP}
port: ${KUBELET_PORT}
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: ${KUBELET_HEALTHZ_PORT}
tlsCertFile: ${D}/pki/kubelet-serving.crt
tlsPrivateKeyFile: ${D}/pki/kubelet-serving.key
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: ${D}/pki/ca.crt}
authorization:
  mode: Webhook
clusterDomain: cluster.local
clusterDNS: [${DNS_IP}]
# no upstream resolvers for pods
resolvConf: ""
containerRuntimeEndpoint: unix://${D}/run/containerd.sock
imageServiceEndpoint: unix://${D}/run/containerd.sock
podLogsDir: ${D}/pod-logs
volumePluginDir: ${D}/kubelet/volume-plugins
failSwapOn: false
protectKernelDefaults: false
serializeImagePulls: false
rotateCertificates: false
serverTLSBootstrap: false
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
evictionHard:
  memory.available: 100Mi
  nodefs.available: 1%
  nodefs.inodesFree: 1%
  imagefs.available: 1%
shutdownGracePeriod: 0s
syncFrequency: 10s
fileCheckFrequency: 10s
EOF

  cat >"${D}/kube-proxy/config.yaml" <<EOF
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection:
  kubeconfig: ${D}/kubeconfig/kube-proxy.kubeconfig
mode: iptables
hostnameOverride: ${NODE_NAME}
bindAddress: ${NODE_IP}
clusterCIDR: ${POD_CIDR}
healthzBindAddress: 127.0.0.1:${PROXY_HEALTHZ_PORT}
metricsBindAddress: 127.0.0.1:${PROXY_METRICS_PORT}
nodePortAddresses: [${NODE_IP}/32]
iptables:
  localhostNodePorts: false
  masqueradeAll: false
  syncPeriod: 10s
  minSyncPeriod: 0s
# leave the host's conntrack settings alone
conntrack:
  maxPerCore: 0
  min: 0
  tcpEstablishedTimeout: 0s
  tcpCloseWaitTimeout: 0s
EOF

  cat >"${D}/coredns/Corefile" <<EOF
.:53 {
    bind ${NODE_IP}
    errors
    ready 127.0.0.1:${COREDNS_READY_PORT}
    kubernetes cluster.local in-addr.arpa ip6.arpa {
        kubeconfig ${D}/kubeconfig/coredns.kubeconfig ${PREFIX}
        pods insecure
        ttl 5
    }
    cache 5
    loadbalance
}
EOF

  cat >"${D}/storage/config.json" <<EOF
{"nodePathMap": [{"node": "DEFAULT_PATH_FOR_NON_LISTED_NODES", "paths": ["${D}/storage/volumes"]}]}
EOF
  mkdir -p "${D}/storage/volumes"
}

# Objects the host components need: RBAC, the DNS Service, the provisioner.
bootstrap_objects() {
  cat <<EOF
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: "${PREFIX}:coredns"}
rules:
- apiGroups: [""]
  resources: [endpoints, services, pods, namespaces]
  verbs: [list, watch]
- apiGroups: [discovery.k8s.io]
  resources: [endpointslices]
  verbs: [list, watch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: "${PREFIX}:coredns"}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: "${PREFIX}:coredns"}
subjects: [{apiGroup: rbac.authorization.k8s.io, kind: User, name: "${PREFIX}:coredns"}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: "${PREFIX}:kube-router"}
rules:
- apiGroups: [""]
  resources: [namespaces, pods, services, nodes, endpoints]
  verbs: [list, get, watch]
- apiGroups: [networking.k8s.io]
  resources: [networkpolicies]
  verbs: [list, get, watch]
- apiGroups: [discovery.k8s.io]
  resources: [endpointslices]
  verbs: [list, get, watch]
- apiGroups: [coordination.k8s.io]
  resources: [leases]
  verbs: [get, create, update]
- apiGroups: [""]
  resources: [events]
  verbs: [create, patch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: "${PREFIX}:kube-router"}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: "${PREFIX}:kube-router"}
subjects: [{apiGroup: rbac.authorization.k8s.io, kind: User, name: "${PREFIX}:kube-router"}]
---
apiVersion: v1
kind: Service
metadata:
  name: kube-dns
  namespace: kube-system
  labels: {k8s-app: kube-dns, kubernetes.io/name: CoreDNS}
spec:
  clusterIP: ${DNS_IP}
  ports:
  - {name: dns, port: 53, protocol: UDP, targetPort: 53}
  - {name: dns-tcp, port: 53, protocol: TCP, targetPort: 53}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: kube-dns-host
  namespace: kube-system
  labels:
    kubernetes.io/service-name: kube-dns
    endpointslice.kubernetes.io/managed-by: ${PREFIX}-cluster.sh
addressType: IPv4
endpoints:
- addresses: [${NODE_IP}]
  conditions: {ready: true}
ports:
- {name: dns, port: 53, protocol: UDP}
- {name: dns-tcp, port: 53, protocol: TCP}
---
apiVersion: v1
kind: Namespace
metadata:
  name: local-path-storage
  labels: {pod-security.kubernetes.io/enforce: privileged}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: local-path-provisioner-service-account, namespace: local-path-storage}
automountServiceAccountToken: false
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: local-path-provisioner-role, namespace: local-path-storage}
rules:
- apiGroups: [""]
  resources: [pods]
  verbs: [get, list, watch, create, patch, update, delete]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: local-path-provisioner-bind, namespace: local-path-storage}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: local-path-provisioner-role}
subjects: [{apiGroup: rbac.authorization.k8s.io, kind: User, name: "${PREFIX}:local-path-provisioner"}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: local-path-provisioner-role}
rules:
- apiGroups: [""]
  resources: [nodes, persistentvolumeclaims, configmaps, pods, pods/log]
  verbs: [get, list, watch]
- apiGroups: [""]
  resources: [persistentvolumes]
  verbs: [get, list, watch, create, patch, update, delete]
- apiGroups: [""]
  resources: [events]
  verbs: [create, patch]
- apiGroups: [storage.k8s.io]
  resources: [storageclasses]
  verbs: [get, list, watch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: local-path-provisioner-bind}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: local-path-provisioner-role}
subjects: [{apiGroup: rbac.authorization.k8s.io, kind: User, name: "${PREFIX}:local-path-provisioner"}]
---
apiVersion: v1
kind: ConfigMap
metadata: {name: local-path-config, namespace: local-path-storage}
data:
  setup: |-
    #!/bin/sh
    set -eu
    mkdir -m 0777 -p "\$VOL_DIR"
  teardown: |-
    #!/bin/sh
    set -eu
    rm -rf "\$VOL_DIR"
  helperPod.yaml: |-
    apiVersion: v1
    kind: Pod
    metadata:
      name: helper-pod
    spec:
      automountServiceAccountToken: false
      tolerations:
      - {key: node.kubernetes.io/disk-pressure, operator: Exists, effect: NoSchedule}
      containers:
      - name: helper-pod
        image: ${HELPER_IMAGE}
        imagePullPolicy: IfNotPresent
---
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: local-path
  annotations: {storageclass.kubernetes.io/is-default-class: "true"}
provisioner: rancher.io/local-path
volumeBindingMode: WaitForFirstConsumer
reclaimPolicy: Delete
EOF
}

# ---------------------------------------------------------------------------
# host network

# Guard chains: pods reach pods, Services and the node IP, nothing else, and
# nothing from outside reaches pods. raw sees addresses before kube-proxy's
# DNAT, mangle after it.
guard_rules() {
  local pre="${PFX}-GUARD-PRE" fwd="${PFX}-GUARD-FWD" in="${PFX}-GUARD-IN"
  ipt -t raw -N "${pre}"
  ipt -t raw -A "${pre}" -s "${POD_CIDR}" -d "${POD_CIDR}" -j RETURN
  ipt -t raw -A "${pre}" -s "${POD_CIDR}" -d "${SERVICE_CIDR}" -j RETURN
  ipt -t raw -A "${pre}" -s "${POD_CIDR}" -d "${NODE_IP}" -j RETURN
  ipt -t raw -A "${pre}" -s "${POD_CIDR}" -j DROP
  ipt -t raw -A "${pre}" -d "${POD_CIDR}" -j DROP
  ipt -t raw -I PREROUTING 1 -m comment --comment "${PREFIX} cluster guard" -j "${pre}"
  ipt -t mangle -N "${fwd}"
  ipt -t mangle -A "${fwd}" -s "${POD_CIDR}" -d "${POD_CIDR}" -j RETURN
  ipt -t mangle -A "${fwd}" -s "${POD_CIDR}" -j DROP
  ipt -t mangle -A "${fwd}" -d "${POD_CIDR}" -j DROP
  ipt -t mangle -I FORWARD 1 -m comment --comment "${PREFIX} cluster guard" -j "${fwd}"
  ipt -t mangle -N "${in}"
  ipt -t mangle -A "${in}" -s "${POD_CIDR}" -d "${NODE_IP}" -j RETURN
  ipt -t mangle -A "${in}" -s "${POD_CIDR}" -m conntrack --ctstate ESTABLISHED,RELATED -j RETURN
  ipt -t mangle -A "${in}" -s "${POD_CIDR}" -j DROP
  ipt -t mangle -I INPUT 1 -m comment --comment "${PREFIX} cluster guard" -j "${in}"
}

network_up() {
  ip link add "${NODE_LINK}" type bridge
  ip addr add "${NODE_IP}/32" dev "${NODE_LINK}"
  ip link set "${NODE_LINK}" up
  # ClusterIP traffic kube-proxy did not rewrite ends here instead of the uplink.
  ip route add "${SERVICE_CIDR}" dev "${NODE_LINK}"
  sysctl -qw net.ipv4.ip_forward=1
  guard_rules
}

# Chains of this cluster and of the Kubernetes components, in every table.
our_chain() { [[ "$1" =~ ^(${PFX}-|KUBE-|CNI-HOSTPORT-) ]]; }

# remove_chains CMD: deletes the jumps to our chains from the built-in
# chains, then flushes and deletes our chains, in every table.
remove_chains() {
  local cmd="$1" table chain rule line chains
  for table in raw mangle nat filter; do
    "${cmd}" -w 5 -t "${table}" -S >/dev/null 2>&1 || continue
    chains=()
    while read -r line; do
      chain="${line#-N }"
      our_chain "${chain}" && chains+=("${chain}")
    done < <("${cmd}" -w 5 -t "${table}" -S | grep '^-N ' || true)
    # rules in other chains jumping to ours
    while read -r line; do
      rule="${line#-A }"
      chain="${rule%% *}"
      our_chain "${chain}" && continue
      if [[ "${rule}" =~ -j\ ([^ ]+) ]] && our_chain "${BASH_REMATCH[1]}"; then
        eval "\"${cmd}\" -w 5 -t ${table} -D ${rule}" 2>/dev/null || true
      fi
    done < <("${cmd}" -w 5 -t "${table}" -S | grep '^-A ' || true)
    for chain in "${chains[@]}"; do "${cmd}" -w 5 -t "${table}" -F "${chain}" 2>/dev/null || true; done
    for chain in "${chains[@]}"; do "${cmd}" -w 5 -t "${table}" -X "${chain}" 2>/dev/null || true; done
  done
}

# The iptables-nft tables: `down` deletes those `up` did not find once they
# are empty (built-in chains only).
NFT_TABLES=" raw mangle nat filter security "
nft_tables() {
  command -v nft >/dev/null || return 0
  nft list tables 2>/dev/null | awk '($2 == "ip" || $2 == "ip6") && index("'"${NFT_TABLES}"'", " " $3 " ") {print $2 " " $3}'
}
table_empty() { # FAMILY TABLE
  local cmd=iptables out
  [[ "$1" == ip6 ]] && cmd=ip6tables
  out="$("${cmd}-save" -t "$2" 2>/dev/null)" || return 1
  ! grep -q '^-A' <<<"${out}" && ! grep '^:' <<<"${out}" | grep -qvE '^:(PREROUTING|INPUT|FORWARD|OUTPUT|POSTROUTING) '
}

# table_accepts FAMILY TABLE: every base chain's policy is ACCEPT.
table_accepts() {
  local cmd=iptables
  [[ "$1" == ip6 ]] && cmd=ip6tables
  ! "${cmd}-save" -t "$2" 2>/dev/null | grep '^:' | grep -qv ' ACCEPT '
}

our_ipset() { [[ "$1" =~ ^(inet6:)?(KUBE-|kube-router-|${PREFIX}-) ]]; }

network_down() {
  local link s
  # host ends of pod veths first, then the bridges (routes go with them)
  for link in $(ip -o link show master "${POD_BRIDGE}" 2>/dev/null | awk -F': ' '{print $2}' | cut -d@ -f1); do
    ip link del "${link}" 2>/dev/null || true
  done
  for link in $(ip -o link show | awk -F': ' '{print $2}' | cut -d@ -f1 | grep -E "^${PREFIX}-" || true); do
    ip link del "${link}" 2>/dev/null || true
  done
  remove_chains iptables
  remove_chains ip6tables
  for s in $(ipset list -n 2>/dev/null || true); do
    our_ipset "${s}" && ipset flush "${s}" 2>/dev/null || true
  done
  for s in $(ipset list -n 2>/dev/null || true); do
    our_ipset "${s}" && { ipset destroy "${s}" 2>/dev/null || true; }
  done
}

# ---------------------------------------------------------------------------
# host state

save_host_state() {
  local k v p
  mkdir -p "${D}/host-state"
  : >"${D}/host-state/sysctl"
  for k in "${SYSCTLS[@]}"; do
    v="$(sysctl -n "${k}" 2>/dev/null)" && echo "${k}=${v}" >>"${D}/host-state/sysctl"
  done
  nft_tables >"${D}/host-state/nft-tables"
  : >"${D}/host-state/absent"
  for p in "${OUTSIDE_PATHS[@]}"; do
    [[ -e "${p}" ]] || echo "${p}" >>"${D}/host-state/absent"
  done
}

restore_host_state() {
  local line k v p
  if [[ -f "${D}/host-state/sysctl" ]]; then
    while IFS= read -r line; do
      k="${line%%=*}"
      v="${line#*=}"
      [[ "$(sysctl -n "${k}" 2>/dev/null)" == "${v}" ]] || sysctl -qw "${k}=${v}" 2>/dev/null || log "could not restore ${k}=${v}"
    done <"${D}/host-state/sysctl"
  fi
  if [[ -f "${D}/host-state/nft-tables" ]]; then
    while read -r fam table; do
      grep -qx "${fam} ${table}" "${D}/host-state/nft-tables" && continue
      table_empty "${fam}" "${table}" && nft delete table "${fam}" "${table}" 2>/dev/null || true
    done < <(nft_tables)
  fi
  # container log links of ours, CNI results of our network
  find /var/log/containers -maxdepth 1 -type l -lname "${D}/*" -delete 2>/dev/null || true
  rm -f /var/lib/cni/results/"${CNI_NETWORK}"-* 2>/dev/null || true
  local sandbox
  for sandbox in "${D}"/containerd/root/io.containerd.grpc.v1.cri/sandboxes/*; do
    [[ -e "${sandbox}" ]] && rm -f "/var/lib/cni/results/cni-loopback-${sandbox##*/}-lo"
  done
  rm -rf /var/lib/cni/networks/"${CNI_NETWORK}" 2>/dev/null || true
  if [[ -f "${D}/host-state/absent" ]]; then
    while IFS= read -r p; do
      case "${p}" in
        # kubelet's and the shims' own, when they were not there before
        /var/lib/kubelet/device-plugins | /run/containerd/s) rm -rf "${p}" ;;
        *) rmdir "${p}" 2>/dev/null || true ;;
      esac
    done <"${D}/host-state/absent"
  fi
}

# ---------------------------------------------------------------------------
# cgroups (v1 hierarchies and the unified one)

cgroup_dirs() {
  local h
  for h in /sys/fs/cgroup/*/ /sys/fs/cgroup/; do
    [[ -d "${h}${CGROUP_ROOT#/}" ]] && echo "${h}${CGROUP_ROOT#/}"
  done
  true
}

cgroups_up() {
  local h
  for h in /sys/fs/cgroup/*/; do
    [[ -f "${h}cgroup.procs" ]] || continue
    mkdir -p "${h}${CGROUP_ROOT#/}"
    if [[ -f "${h}cpuset.cpus" ]]; then
      cat "${h}cpuset.cpus" >"${h}${CGROUP_ROOT#/}/cpuset.cpus"
      cat "${h}cpuset.mems" >"${h}${CGROUP_ROOT#/}/cpuset.mems"
    fi
  done
}

# Kills whatever still runs in our cgroups, then removes them.
cgroups_down() {
  local dir pids i
  for i in 1 2 3; do
    pids="$(for dir in $(cgroup_dirs); do find "${dir}" -name cgroup.procs -exec cat {} + 2>/dev/null; done | sort -u)"
    [[ -n "${pids}" ]] || break
    log "killing processes left in ${CGROUP_ROOT}: $(echo ${pids})"
    kill -KILL ${pids} 2>/dev/null || true
    sleep 0.5
  done
  for dir in $(cgroup_dirs); do
    find "${dir}" -depth -type d -exec rmdir {} \; 2>/dev/null || true
  done
}

# ---------------------------------------------------------------------------
# mounts

our_mounts() {
  # mount points (field 5) under the cluster directory, deepest first
  awk -v d="${D}/" 'index($5, d) == 1 || $5 == substr(d, 1, length(d) - 1) {print $5}' /proc/self/mountinfo |
    awk '{print length($0) " " $0}' | sort -rn | cut -d' ' -f2-
}

unmount_all() {
  local m i
  for i in 1 2 3; do
    [[ -n "$(our_mounts)" ]] || return 0
    for m in $(our_mounts); do
      umount "${m}" 2>/dev/null || umount -l "${m}" 2>/dev/null || true
    done
  done
}

# ---------------------------------------------------------------------------
# up

node_has_cidr() { [[ -n "$(kc get node "${NODE_NAME}" -o jsonpath='{.spec.podCIDR}' 2>/dev/null)" ]]; }
apply_bootstrap() { bootstrap_objects | kc apply -f - >/dev/null; }
no_pods() { [[ -z "$(kc get pods -A -o name 2>/dev/null)" ]]; }

# reclaim removes what an earlier cluster with our prefix left on the host
# when it was killed before `down` (a timed-out CI job, an ended session): its
# directory may be gone, but its node link, cgroups, chains and the kubelet's
# paths stay, and the next run's `check` would report them. It acts only on
# proof of such a run (a link, cgroup or chain with our prefix), and only
# when no kubelet, kube-proxy or kube-router runs on the machine (ours or the
# machine's own: their KUBE-* chains look alike) and none of our fixed ports
# is in use; else it refuses and says what to do. (Other etcd and
# kube-apiserver processes, envtest's, leave the host's network alone.)
reclaim() {
  local left p fam table running port
  left="$(check)" && return 0
  grep -qE "^leftover: (link ${PREFIX}-|cgroup |ip6?tables -t [a-z]+ chain ${PFX}-)" <<<"${left}" || return 0
  running="$(pgrep -x 'kubelet|kube-proxy|kube-router' | tr '\n' ' ' || true)"
  for port in "${ETCD_PORT}" "${APISERVER_PORT}" "${KCM_PORT}" "${SCHEDULER_PORT}" "${KUBELET_PORT}"; do
    if ss -Htln "( sport = :${port} )" | grep -q .; then running+="port ${port} "; fi
  done
  if [[ -n "${running}" ]]; then
    printf '%s\n' "${left}" >&2
    die "the above (prefix ${PREFIX}) is what a cluster killed before \`down\` leaves, but a kubelet, kube-proxy or kube-router runs on this machine or one of our ports is in use (${running% }): if they are that cluster's, take it down with its own hack/cluster.sh down (CLUSTER_DIR=... hack/cluster.sh down); otherwise remove the ${PREFIX}-* objects listed by hand"
  fi
  log "removing what a cluster killed before \`down\` left: $(grep -c . <<<"${left}") objects"
  cgroups_down
  network_down
  # the tables iptables-nft made for those chains: empty, and every base
  # chain accepting (a table that drops by policy is someone's firewall)
  while read -r fam table; do
    [[ -n "${fam}" ]] && table_empty "${fam}" "${table}" && table_accepts "${fam}" "${table}" &&
      { nft delete table "${fam}" "${table}" 2>/dev/null || true; }
  done < <(nft_tables)
  rm -f /var/lib/cni/results/"${CNI_NETWORK}"-* 2>/dev/null || true
  rm -rf /var/lib/cni/networks/"${CNI_NETWORK}" 2>/dev/null || true
  # the kubelet's own (no kubelet runs: above), and the shims' unless a
  # containerd of the machine's runs
  find /var/log/containers -maxdepth 1 -type l -delete 2>/dev/null || true
  rm -f /var/lib/cni/results/cni-loopback-* 2>/dev/null || true
  rm -rf /var/lib/kubelet/device-plugins
  pgrep -x containerd >/dev/null || rm -rf /run/containerd/s
  for p in "${OUTSIDE_PATHS[@]}"; do rmdir "${p}" 2>/dev/null || true; done
  if left="$(check)"; then return 0; fi
  die "could not remove what an earlier run left:"$'\n'"${left}"
}

up() {
  [[ ${EUID} -eq 0 ]] || die "must run as root"
  if [[ -d "${D}" ]]; then
    alive kube-apiserver && die "already up (${D}); hack/cluster.sh down first"
    die "${D} exists from an earlier run: hack/cluster.sh down first"
  fi
  local b
  for b in "${K8S_BIN}"/{etcd,kube-apiserver,kube-controller-manager,kube-scheduler,kubectl} \
    "${BIN}"/{kubelet,kube-proxy,containerd,containerd-shim-runc-v2,ctr,coredns,kube-router,local-path-provisioner}; do
    [[ -x "${b}" ]] || die "missing ${b}: run hack/setup-k8s.sh and hack/build-cluster-bins.sh"
  done
  for b in runc iptables ipset openssl /usr/lib/cni/bridge /usr/lib/cni/host-local /usr/lib/cni/portmap /usr/lib/cni/loopback; do
    command -v "${b}" >/dev/null || die "missing ${b}: run hack/build-cluster-bins.sh"
  done
  ((${#D} < 80)) || die "CLUSTER_DIR is too long for unix socket paths: ${D}"
  reclaim

  local t0=${SECONDS}
  mkdir -p "${D}"/{run,logs}
  save_host_state
  trap 'log "up failed; logs in ${D}/logs; run hack/cluster.sh down"' ERR
  pki
  configs
  network_up
  export PATH="${BIN}:${PATH}"

  start etcd "${K8S_BIN}/etcd" --name "${PREFIX}" --data-dir "${D}/etcd" \
    --listen-client-urls "http://127.0.0.1:${ETCD_PORT}" --advertise-client-urls "http://127.0.0.1:${ETCD_PORT}" \
    --listen-peer-urls "http://127.0.0.1:${ETCD_PEER_PORT}" --initial-advertise-peer-urls "http://127.0.0.1:${ETCD_PEER_PORT}" \
    --initial-cluster "${PREFIX}=http://127.0.0.1:${ETCD_PEER_PORT}" --unsafe-no-fsync --log-level warn
  wait_for etcd 30 curl -sf "http://127.0.0.1:${ETCD_PORT}/health"

  start kube-apiserver "${K8S_BIN}/kube-apiserver" \
    --etcd-servers "http://127.0.0.1:${ETCD_PORT}" \
    --bind-address "${NODE_IP}" --advertise-address "${NODE_IP}" --secure-port "${APISERVER_PORT}" \
    --cert-dir "${D}/pki/apiserver-generated" \
    --tls-cert-file "${D}/pki/apiserver.crt" --tls-private-key-file "${D}/pki/apiserver.key" \
    --client-ca-file "${D}/pki/ca.crt" \
    --kubelet-client-certificate "${D}/pki/apiserver-kubelet-client.crt" --kubelet-client-key "${D}/pki/apiserver-kubelet-client.key" \
    --kubelet-preferred-address-types InternalIP \
    --service-account-issuer "https://kubernetes.default.svc.cluster.local" \
    --service-account-key-file "${D}/pki/sa.pub" --service-account-signing-key-file "${D}/pki/sa.key" \
    --service-cluster-ip-range "${SERVICE_CIDR}" \
    --authorization-mode Node,RBAC \
    --enable-admission-plugins NodeRestriction \
    --allow-privileged=true --profiling=false --v=1
  wait_for kube-apiserver 60 kc get --raw /readyz

  start kube-controller-manager "${K8S_BIN}/kube-controller-manager" \
    --kubeconfig "${D}/kubeconfig/kube-controller-manager.kubeconfig" \
    --authentication-kubeconfig "${D}/kubeconfig/kube-controller-manager.kubeconfig" \
    --authorization-kubeconfig "${D}/kubeconfig/kube-controller-manager.kubeconfig" \
    --bind-address 127.0.0.1 --secure-port "${KCM_PORT}" --cert-dir "${D}/pki/kcm-generated" \
    --service-account-private-key-file "${D}/pki/sa.key" --root-ca-file "${D}/pki/ca.crt" \
    --use-service-account-credentials=true \
    --allocate-node-cidrs=true --cluster-cidr "${POD_CIDR}" --node-cidr-mask-size "${POD_CIDR#*/}" \
    --service-cluster-ip-range "${SERVICE_CIDR}" \
    --controllers '*,-csrsigning,-csrapproving' \
    --leader-elect=false --profiling=false --v=1
  start kube-scheduler "${K8S_BIN}/kube-scheduler" \
    --kubeconfig "${D}/kubeconfig/kube-scheduler.kubeconfig" \
    --authentication-kubeconfig "${D}/kubeconfig/kube-scheduler.kubeconfig" \
    --authorization-kubeconfig "${D}/kubeconfig/kube-scheduler.kubeconfig" \
    --bind-address 127.0.0.1 --secure-port "${SCHEDULER_PORT}" --cert-dir "${D}/pki/scheduler-generated" \
    --leader-elect=false --profiling=false --v=1
  wait_for "the bootstrap objects" 30 apply_bootstrap

  start containerd "${BIN}/containerd" --config "${D}/containerd/config.toml"
  wait_for containerd 30 "${BIN}/ctr" --address "${D}/run/containerd.sock" version
  CLUSTER_DIR="${D}" CTR="${BIN}/ctr" "${ROOT}/hack/images.sh" "${BASE_IMAGES[@]}"

  cgroups_up
  start kubelet "${BIN}/kubelet" --config "${D}/kubelet/config.yaml" \
    --kubeconfig "${D}/kubeconfig/kubelet.kubeconfig" --root-dir "${D}/kubelet" --cert-dir "${D}/kubelet/pki" \
    --hostname-override "${NODE_NAME}" --node-ip "${NODE_IP}" --v=1
  start kube-proxy "${BIN}/kube-proxy" --config "${D}/kube-proxy/config.yaml" --v=1
  start coredns "${BIN}/coredns" -conf "${D}/coredns/Corefile"
  wait_for "node ${NODE_NAME} with a pod CIDR" 60 node_has_cidr
  start kube-router "${BIN}/kube-router" --kubeconfig "${D}/kubeconfig/kube-router.kubeconfig" \
    --hostname-override "${NODE_NAME}" \
    --run-firewall=true --run-router=false --run-service-proxy=false --run-loadbalancer=false --enable-cni=false \
    --enable-ipv4=true --enable-ipv6=false \
    --service-cluster-ip-range "${SERVICE_CIDR}" \
    --health-addr 127.0.0.1 --health-port "${ROUTER_HEALTH_PORT}" --metrics-port 0 \
    --netpol-default-deny="$([[ "${NETPOL_DEFAULT_DENY:-0}" == 1 ]] && echo true || echo false)" \
    --iptables-sync-period 30s --v=1
  start local-path-provisioner "${BIN}/local-path-provisioner" start \
    --kubeconfig "${D}/kubeconfig/local-path-provisioner.kubeconfig" \
    --config "${D}/storage/config.json" --provisioner-name rancher.io/local-path \
    --namespace local-path-storage --configmap-name local-path-config \
    --service-account-name local-path-provisioner-service-account --helper-image "${HELPER_IMAGE}"

  wait_for "node ${NODE_NAME} Ready" 90 kc wait --for=condition=Ready "node/${NODE_NAME}" --timeout=2s
  wait_for kube-proxy 30 curl -sf "http://127.0.0.1:${PROXY_HEALTHZ_PORT}/healthz"
  wait_for coredns 30 curl -sf "http://127.0.0.1:${COREDNS_READY_PORT}/ready"
  wait_for kube-router 30 curl -sf "http://127.0.0.1:${ROUTER_HEALTH_PORT}/healthz"
  wait_for "the default ServiceAccount" 60 kc -n default get serviceaccount default
  local c
  for c in "${COMPONENTS[@]}"; do alive "${c}" || die "${c} exited; see ${D}/logs/${c}.log"; done
  trap - ERR
  log "up in $((SECONDS - t0)) s; export KUBECONFIG=${D}/kubeconfig/admin.kubeconfig"
}

# ---------------------------------------------------------------------------
# down

down() {
  [[ ${EUID} -eq 0 ]] || die "must run as root"
  local t0=${SECONDS} c
  if [[ -d "${D}" ]]; then
    stop local-path-provisioner 5
    # nothing recreates or schedules pods from here on
    stop kube-controller-manager 10
    stop kube-scheduler 10
    if alive kube-apiserver && alive kubelet; then
      # the kubelet tears the pods down: containers, sandboxes, networks, volumes
      kc delete pods --all --all-namespaces --grace-period=5 --wait=false >/dev/null 2>&1 || true
      # Job pods carry a finalizer only the (stopped) Job controller removes.
      drop_pod_finalizers
      wait_for "pods to be deleted" 60 no_pods ||
        timeout 30 "${K8S_BIN}/kubectl" --kubeconfig "${D}/kubeconfig/admin.kubeconfig" delete pods --all --all-namespaces \
          --force --grace-period=0 --wait=false >/dev/null 2>&1 || true
    fi
    stop kubelet 15
    stop kube-proxy 10
    stop kube-router 10
    stop coredns 10
    if alive containerd; then
      # what the kubelet left: tasks (their shims exit with them) and containers
      local ctr=("${BIN}/ctr" --address "${D}/run/containerd.sock" -n k8s.io)
      for c in $("${ctr[@]}" tasks ls -q 2>/dev/null); do
        "${ctr[@]}" tasks kill -s SIGKILL "${c}" >/dev/null 2>&1 || true
      done
      sleep 0.5
      for c in $("${ctr[@]}" tasks ls -q 2>/dev/null); do
        "${ctr[@]}" tasks delete -f "${c}" >/dev/null 2>&1 || true
      done
      for c in $("${ctr[@]}" containers ls -q 2>/dev/null); do
        "${ctr[@]}" containers delete "${c}" >/dev/null 2>&1 || true
      done
    fi
    stop containerd 15
    stop kube-apiserver 20
    stop etcd 15
  fi
  # anything of ours still running (a shim, a component of a crashed run)
  kill_ours
  cgroups_down
  unmount_all
  network_down
  if [[ -d "${D}" ]]; then
    restore_host_state
    rm -rf "${D}"
  fi
  log "down in $((SECONDS - t0)) s"
  local left
  if ! left="$(check)"; then
    echo "${left}" >&2
    return 1
  fi
}

# drop_pod_finalizers lets pods go whose finalizers no controller will remove
# any more (batch.kubernetes.io/job-tracking once kube-controller-manager is
# stopped).
drop_pod_finalizers() {
  local pod
  for pod in $(kc get pods --all-namespaces -o jsonpath='{range .items[?(@.metadata.finalizers)]}{.metadata.namespace}/{.metadata.name}{" "}{end}' 2>/dev/null); do
    kc patch pod -n "${pod%%/*}" "${pod#*/}" --type=merge -p '{"metadata":{"finalizers":null}}' >/dev/null 2>&1 || true
  done
}

# Processes of the cluster's binaries whose command line names the cluster
# directory (components, shims), whoever started them.
our_pids() {
  local p exe
  for p in /proc/[0-9]*; do
    exe="$(readlink "${p}/exe" 2>/dev/null)" || continue
    [[ "${exe}" == "${BIN}/"* || "${exe}" == "${K8S_BIN}/"* ]] || continue
    grep -qF -- "${D}/" "${p}/cmdline" 2>/dev/null && echo "${p#/proc/}"
  done
  true
}

kill_ours() {
  local pids
  pids="$(our_pids)"
  [[ -n "${pids}" ]] || return 0
  kill -TERM ${pids} 2>/dev/null || true
  sleep 2
  pids="$(our_pids)"
  [[ -z "${pids}" ]] || kill -KILL ${pids} 2>/dev/null || true
  sleep 0.2
}

# ---------------------------------------------------------------------------
# status and leftovers

# Prints what the cluster left on the machine, one line each; exit 1 if any.
check() {
  local out=() p table chain s m
  [[ ! -e "${D}" ]] || out+=("directory ${D}")
  for p in $(our_pids); do out+=("process ${p}: $(tr '\0' ' ' <"/proc/${p}/cmdline" | cut -c1-120)"); done
  for m in $(our_mounts); do out+=("mount ${m}"); done
  for p in $(cgroup_dirs); do out+=("cgroup ${p}"); done
  while read -r p; do [[ -n "${p}" ]] && out+=("link ${p}"); done < <(ip -o link show | awk -F': ' '{print $2}' | cut -d@ -f1 | grep -E "^${PREFIX}-" || true)
  while read -r p; do [[ -n "${p}" ]] && out+=("link ${p} (in ${POD_BRIDGE})"); done < <(ip -o link show master "${POD_BRIDGE}" 2>/dev/null | awk -F': ' '{print $2}' | cut -d@ -f1)
  for p in iptables ip6tables; do
    for table in raw mangle nat filter; do
      while read -r chain; do
        our_chain "${chain}" && out+=("${p} -t ${table} chain ${chain}")
      done < <("${p}" -w 5 -t "${table}" -S 2>/dev/null | sed -n 's/^-N //p')
    done
  done
  for s in $(ipset list -n 2>/dev/null || true); do our_ipset "${s}" && out+=("ipset ${s}"); done
  while read -r p table; do
    [[ -n "${p}" ]] && table_empty "${p}" "${table}" && out+=("nft table ${p} ${table} (empty; made by iptables-nft; may predate the cluster)")
  done < <(nft_tables)
  if ip route show "${SERVICE_CIDR}" 2>/dev/null | grep -q .; then out+=("route ${SERVICE_CIDR}"); fi
  for p in /var/lib/kubelet /var/log/containers /var/lib/cni /run/containerd/s; do
    [[ -e "${p}" ]] && out+=("path ${p} (written by the kubelet, CNI or containerd shims; may predate the cluster)")
  done
  ((${#out[@]})) || return 0
  printf 'leftover: %s\n' "${out[@]}"
  return 1
}

status() {
  local c
  if [[ -d "${D}" ]]; then
    for c in "${COMPONENTS[@]}"; do
      if alive "${c}"; then echo "${c}: running (pid $(pid_of "${c}"))"; else echo "${c}: not running"; fi
    done
    if alive kube-apiserver; then
      kc get nodes -o wide 2>/dev/null || true
      echo "export KUBECONFIG=${D}/kubeconfig/admin.kubeconfig"
    fi
  else
    echo "no cluster at ${D}"
  fi
  check || true
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  status) status ;;
  check) check ;;
  env) echo "export KUBECONFIG=${D}/kubeconfig/admin.kubeconfig" ;;
  *) sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 2 ;;
esac
