/*
Copyright 2026 The SupportStack Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

// Package resources builds the child objects the operator owns from a spec.
// The functions are pure: they return the desired object, and the
// reconcilers create or patch it. It must not import a Kubernetes client,
// package controller or the agent: what a Job's agent is told comes from
// package agentapi.
package resources

import (
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	opsv1alpha1 "github.com/supportstack/operator/api/v1alpha1"
	"github.com/supportstack/operator/internal/queues"
)

// LabelSupportTeam names the SupportTeam an object belongs to.
const LabelSupportTeam = "ops.supportstack.io/supportteam"

// RoutingKey is the ConfigMap key holding the routing table.
const RoutingKey = "routing.json"

// Labels returns the labels of every object owned by an object of the given kind.
func Labels(kindLabel, name string) map[string]string {
	return map[string]string{
		opsv1alpha1.LabelManagedBy: opsv1alpha1.ManagedByValue,
		kindLabel:                  name,
	}
}

// RoutingConfigMapName is the name of a team's routing ConfigMap.
func RoutingConfigMapName(team *opsv1alpha1.SupportTeam) string {
	if b := team.Spec.QueueBackend; b != nil && b.ConfigMap != nil && b.ConfigMap.Name != "" {
		return b.ConfigMap.Name
	}
	return team.Name + "-queues"
}

// RoutingConfigMap is the ConfigMap a help desk mounts to route work.
func RoutingConfigMap(team *opsv1alpha1.SupportTeam, table queues.Table) *corev1.ConfigMap {
	return &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{
			Name:      RoutingConfigMapName(team),
			Namespace: team.Namespace,
			Labels:    Labels(LabelSupportTeam, team.Name),
		},
		Data: map[string]string{RoutingKey: table.JSON()},
	}
}

// TeamAccessName names the Role and RoleBinding of a team's leads.
func TeamAccessName(team *opsv1alpha1.SupportTeam) string { return team.Name + "-team-leads" }

// TeamAccessRole lets a team's leads and managers read and edit their own
// SupportTeam and read its routing ConfigMap: nothing else. routingOwned is
// false when a ConfigMap the team does not control holds the routing
// ConfigMap's name: then leads get no read access to it. Editing the team
// does not reach spec.queueBackend: that needs the verb
// configure-queue-backend, which this Role does not grant (the
// team-queue-backend ValidatingAdmissionPolicy asks for it).
func TeamAccessRole(team *opsv1alpha1.SupportTeam, routingOwned bool) *rbacv1.Role {
	rules := []rbacv1.PolicyRule{{
		APIGroups:     []string{opsv1alpha1.GroupVersion.Group},
		Resources:     []string{"supportteams"},
		ResourceNames: []string{team.Name},
		Verbs:         []string{"get", "update", "patch"},
	}}
	if routingOwned {
		rules = append(rules, rbacv1.PolicyRule{
			APIGroups:     []string{""},
			Resources:     []string{"configmaps"},
			ResourceNames: []string{RoutingConfigMapName(team)},
			Verbs:         []string{"get"},
		})
	}
	return &rbacv1.Role{
		ObjectMeta: metav1.ObjectMeta{
			Name:      TeamAccessName(team),
			Namespace: team.Namespace,
			Labels:    Labels(LabelSupportTeam, team.Name),
		},
		Rules: rules,
	}
}

// TeamAccessRoleBinding binds TeamAccessRole to the team's Leads and
// Managers, as RBAC users named by their e-mail (how an OIDC-authenticated
// cluster names people). Members without e-mail cannot be bound.
func TeamAccessRoleBinding(team *opsv1alpha1.SupportTeam) *rbacv1.RoleBinding {
	subjects := []rbacv1.Subject{}
	for _, m := range team.Spec.Members {
		if (m.Role == opsv1alpha1.RoleLead || m.Role == opsv1alpha1.RoleManager) && m.Email != "" {
			subjects = append(subjects, rbacv1.Subject{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: m.Email})
		}
	}
	return &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{
			Name:      TeamAccessName(team),
			Namespace: team.Namespace,
			Labels:    Labels(LabelSupportTeam, team.Name),
		},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: TeamAccessName(team)},
		Subjects: subjects,
	}
}
