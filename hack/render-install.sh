#!/usr/bin/env bash
# Renders the operator's install manifest (config/default) with the manager
# image and the agent image it runs, to stdout:
#
#   hack/render-install.sh OPERATOR_IMAGE AGENT_IMAGE
#
# make deploy and make build-installer call it with IMG and AGENT_IMG, both
# tagged VERSION; hack/demo.sh with the local cluster's :dev images. The two
# images must be one build: the agent refuses a configuration of another
# contract version (internal/agentapi.ContractVersion).
#
# It builds a throwaway overlay of config/default (nothing checked in is
# edited, unlike `kustomize edit set image` in config/manager): an images
# entry for the manager, and --agent-image added to the manager's
# arguments. config/manager itself names no agent image, so a manager
# deployed without this script runs the agent of its own version.
#
# Environment: KUSTOMIZE, a kustomize binary (`$KUSTOMIZE build`); without
# it, `${KUBECTL:-kubectl} kustomize`.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
(($# == 2)) || { echo "usage: $0 OPERATOR_IMAGE AGENT_IMAGE" >&2; exit 2; }
operator="$1" agent="$2"
[[ -n "${operator}" && -n "${agent}" && "${agent}" != *[[:space:]]* ]] || { echo "render-install: empty image or one with spaces" >&2; exit 2; }

# image_entry IMAGE: a kustomize images entry renaming supportstack/operator
# (what config/manager names the manager image) to IMAGE: name, then a tag
# or a digest if it has one (a registry's port is not a tag).
image_entry() {
  local img="$1" name tag=""
  if [[ "${img}" == *@* ]]; then
    printf -- '- {name: supportstack/operator, newName: "%s", digest: "%s"}\n' "${img%%@*}" "${img#*@}"
    return
  fi
  name="${img}"
  if [[ "${img##*/}" == *:* ]]; then
    name="${img%:*}" tag="${img##*:}"
  fi
  printf -- '- {name: supportstack/operator, newName: "%s"%s}\n' "${name}" "${tag:+, newTag: \"${tag}\"}"
}

overlay="$(mktemp -d)"
trap 'rm -rf "${overlay}"' EXIT
cat >"${overlay}/kustomization.yaml" <<YAML
resources:
- $(realpath --relative-to "${overlay}" "${ROOT}/config/default")
images:
$(image_entry "${operator}")
patches:
- target: {kind: Deployment, name: supportstack-controller-manager}
  patch: |-
    - op: add
      path: /spec/template/spec/containers/0/args/-
      value: "--agent-image=${agent}"
YAML
if [[ -n "${KUSTOMIZE:-}" ]]; then
  "${KUSTOMIZE}" build "${overlay}"
else
  "${KUBECTL:-kubectl}" kustomize "${overlay}"
fi
