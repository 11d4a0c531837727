{{/*
The prefix of every object's name: the release name, so that release
"supportstack" names its objects as config/default (namePrefix supportstack-)
does, or fullnameOverride. A Service's name is a DNS-1035 label (a letter
first, at most 63 characters) and the longest suffix config/ gives a name,
"-controller-manager-metrics-service" (and the ServiceMonitor's
"-controller-manager-metrics-monitor"), is 35 characters: the prefix is at
most 28. A longer prefix, or one that is not lower-case letters, digits and
"-" starting with a letter (a release name may hold dots or start with a
digit), becomes its first characters made so, "-", and six hex digits of
the SHA-256 of the whole: two releases whose names differ only past the cut
still name their cluster-scoped objects (ClusterRoles, admission policies)
apart. Every name, the ServiceAccount the admission policies let through
and the job the alerts select come from this one prefix, so they agree
however it was cut.
*/}}
{{- define "supportstack.prefix" -}}
{{- $want := default .Release.Name .Values.fullnameOverride -}}
{{- $p := regexReplaceAll "[^a-z0-9-]+" (lower $want) "-" | trimAll "-" -}}
{{- if not (regexMatch "^[a-z]" $p) -}}
{{- $p = printf "supportstack-%s" $p | trimSuffix "-" -}}
{{- end -}}
{{- if or (ne $p $want) (gt (len $p) 28) -}}
{{- $p = printf "%s-%s" ($p | trunc 21 | trimSuffix "-") (sha256sum $want | trunc 6) -}}
{{- end -}}
{{- $p -}}
{{- end }}

{{/* name of one object: the prefix, "-", the name config/ gives it. */}}
{{- define "supportstack.name" -}}
{{- printf "%s-%s" (include "supportstack.prefix" .root) .name -}}
{{- end }}

{{/* The manager's ServiceAccount. */}}
{{- define "supportstack.serviceAccountName" -}}
{{- include "supportstack.name" (dict "root" . "name" "controller-manager") -}}
{{- end }}

{{/*
The user name the manager's requests carry, which the admission policies of
config/admission name (config/default's, replaced by this release's).
*/}}
{{- define "supportstack.serviceAccountUser" -}}
{{- printf "system:serviceaccount:%s:%s" .Release.Namespace (include "supportstack.serviceAccountName" .) -}}
{{- end }}

{{/* Labels of every object. */}}
{{- define "supportstack.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: supportstack-operator
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/*
The manager pod's labels that select it (Deployment, metrics Service,
NetworkPolicy, ServiceMonitor): config/manager's, unchanged, so that an
install moved from `make deploy` to the chart keeps its selector (a
Deployment's selector cannot change).
*/}}
{{- define "supportstack.selectorLabels" -}}
control-plane: controller-manager
app.kubernetes.io/name: supportstack-operator
{{- end }}

{{/* The operator image: image.tag, or the chart's appVersion when empty. */}}
{{- define "supportstack.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end }}

{{/*
The agent image: agentImage, or the operator image's with "operator"
replaced by "agent" in the last path element, as the Makefile derives
AGENT_IMG from IMG: one version for both, which share a wire contract.
An operator repository not named .../operator gives no agent image to
derive: the render fails and asks for agentImage rather than run Docker
Hub's supportstack/agent, which a mirror or private registry user did not
choose.
*/}}
{{- define "supportstack.agentImage" -}}
{{- if .Values.agentImage -}}
{{- .Values.agentImage -}}
{{- else if or (eq .Values.image.repository "operator") (hasSuffix "/operator" .Values.image.repository) -}}
{{- printf "%sagent:%s" (trimSuffix "operator" .Values.image.repository) (default .Chart.AppVersion .Values.image.tag) -}}
{{- else -}}
{{- fail (printf "agentImage is empty and image.repository %q does not end in /operator, so the agent image cannot be derived from it: set agentImage to the backup agent image of the same version (e.g. --set agentImage=<registry>/<path>/agent:%s)" .Values.image.repository (default .Chart.AppVersion .Values.image.tag)) -}}
{{- end -}}
{{- end }}

{{/*
mergedYaml (list DICT...): the dicts merged into one, a later one's value
winning on a key several set, as YAML: a key the chart sets and a user's
value also sets renders once (toYaml of each would write it twice).
*/}}
{{- define "supportstack.mergedYaml" -}}
{{- $out := dict -}}
{{- range . -}}
{{- $out = mergeOverwrite $out (deepCopy (. | default dict)) -}}
{{- end -}}
{{- toYaml $out -}}
{{- end }}

{{/*
fromConfig (dict root obj [labels]): the object of a file copied from config/ (hack/gen-chart.sh)
with this release's name prefix and labels. config/'s own labels (RBAC
aggregation, control-plane, app.kubernetes.io/name, which Services,
ServiceMonitors and NetworkPolicies select) and annotations are kept;
kustomize's managed-by is Helm's here. Extra labels (a value such as
serviceMonitor.labels) are merged last: on a key the chart also sets, the
user's value wins (one key, one value). Bindings' roleRef and
ServiceAccount subjects follow, as kustomize's namePrefix and namespace do.
Namespaced kinds get the release namespace.
*/}}
{{- define "supportstack.fromConfig" -}}
{{- $root := .root -}}
{{- $obj := .obj -}}
{{- $prefix := include "supportstack.prefix" $root -}}
{{- $labels := include "supportstack.labels" $root | fromYaml -}}
{{- range $k, $v := ($obj.metadata.labels | default dict) -}}
{{- if ne $k "app.kubernetes.io/managed-by" -}}
{{- $_ := set $labels $k $v -}}
{{- end -}}
{{- end -}}
{{- $labels = mergeOverwrite $labels (.labels | default dict) -}}
{{- $meta := dict "name" (printf "%s-%s" $prefix $obj.metadata.name) "labels" $labels -}}
{{- with $obj.metadata.annotations -}}
{{- $_ := set $meta "annotations" . -}}
{{- end -}}
{{- if has $obj.kind (list "Role" "RoleBinding" "Service" "NetworkPolicy" "ServiceMonitor" "PrometheusRule") -}}
{{- $_ := set $meta "namespace" $root.Release.Namespace -}}
{{- end -}}
{{- $_ := set $obj "metadata" $meta -}}
{{- if $obj.roleRef -}}
{{- $_ := set $obj.roleRef "name" (printf "%s-%s" $prefix $obj.roleRef.name) -}}
{{- end -}}
{{- range $obj.subjects -}}
{{- if eq .kind "ServiceAccount" -}}
{{- $_ := set . "name" (printf "%s-%s" $prefix .name) -}}
{{- $_ := set . "namespace" $root.Release.Namespace -}}
{{- end -}}
{{- end -}}
{{- if eq $obj.kind "ValidatingAdmissionPolicyBinding" -}}
{{- $_ := set $obj.spec "policyName" (printf "%s-%s" $prefix $obj.spec.policyName) -}}
{{- end -}}
{{ toYaml $obj }}
{{- end }}

{{/*
configText FILE: a file copied from config/, with what names
config/default's manager (namespace supportstack-system, prefix
supportstack-) replaced by this release's: the ServiceAccount user the
admission policies let through or refuse, the metrics Service's job the
alerts and the dashboard select, the kubectl commands the alerts suggest.
*/}}
{{- define "supportstack.configText" -}}
{{- $text := .root.Files.Get .file -}}
{{- $text = replace "system:serviceaccount:supportstack-system:supportstack-controller-manager" (include "supportstack.serviceAccountUser" .root) $text -}}
{{- $text = replace "supportstack-controller-manager" (include "supportstack.serviceAccountName" .root) $text -}}
{{- $text = replace "-n supportstack-system " (printf "-n %s " .root.Release.Namespace) $text -}}
{{- $text -}}
{{- end }}

{{/*
configDocs (dict root file [labels]): the YAML documents of a file copied
from config/ (configText), each through fromConfig (extra labels merged). A
document that does not parse fails the render rather than vanish from it.
*/}}
{{- define "supportstack.configDocs" -}}
{{- range $doc := regexSplit "(?m)^---[ \t]*$" (include "supportstack.configText" .) -1 -}}
{{- $obj := fromYaml $doc -}}
{{- if hasKey $obj "Error" -}}
{{- fail (printf "%s: %s" $.file $obj.Error) -}}
{{- end -}}
{{- if $obj.kind }}
---
{{ include "supportstack.fromConfig" (dict "root" $.root "obj" $obj "labels" $.labels) }}
{{- end -}}
{{- end -}}
{{- end }}
