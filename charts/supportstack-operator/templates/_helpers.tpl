{{/*
The prefix of every object's name: the release name, so that release
"supportstack" names its objects as config/default (namePrefix supportstack-)
does, or fullnameOverride. At most 30 characters: the longest suffix,
"-supportstack-editor-role", keeps a name within 63.
*/}}
{{- define "supportstack.prefix" -}}
{{- default .Release.Name .Values.fullnameOverride | trunc 30 | trimSuffix "-" -}}
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
AGENT_IMG from IMG (supportstack/agent when the repository is not
.../operator): one version for both, which share a wire contract.
*/}}
{{- define "supportstack.agentImage" -}}
{{- if .Values.agentImage -}}
{{- .Values.agentImage -}}
{{- else -}}
{{- $repo := "supportstack/agent" -}}
{{- if or (eq .Values.image.repository "operator") (hasSuffix "/operator" .Values.image.repository) -}}
{{- $repo = printf "%sagent" (trimSuffix "operator" .Values.image.repository) -}}
{{- end -}}
{{- printf "%s:%s" $repo (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}
{{- end }}

{{/*
fromConfig (dict root obj [labels]): the object of a file copied from config/ (hack/gen-chart.sh)
with this release's name prefix and labels; the labels config/ sets for
Kubernetes itself (RBAC aggregation, control-plane) are kept, kustomize's
managed-by is not. Bindings' roleRef and ServiceAccount subjects follow, as
kustomize's namePrefix and namespace do. Namespaced kinds get the release
namespace.
*/}}
{{- define "supportstack.fromConfig" -}}
{{- $root := .root -}}
{{- $obj := .obj -}}
{{- $prefix := include "supportstack.prefix" $root -}}
{{- $labels := include "supportstack.labels" $root | fromYaml -}}
{{- range $k, $v := ($obj.metadata.labels | default dict) -}}
{{- if or (hasPrefix "rbac.authorization.k8s.io/" $k) (eq $k "control-plane") -}}
{{- $_ := set $labels $k $v -}}
{{- end -}}
{{- end -}}
{{- $labels = merge $labels (.labels | default dict) -}}
{{- $meta := dict "name" (printf "%s-%s" $prefix $obj.metadata.name) "labels" $labels -}}
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
