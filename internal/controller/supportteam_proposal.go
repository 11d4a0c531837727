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

package controller

import (
	"bytes"
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	opsv1alpha1 "github.com/supportstack/operator/api/v1alpha1"
	"github.com/supportstack/operator/internal/resources"
	"github.com/supportstack/operator/internal/roster"
	"github.com/supportstack/operator/internal/rosterplan"
)

// Roster proposals the operator keeps (spec.rostering.propose).
const (
	// DefaultProposalTimeLimit bounds one proposal's search.
	DefaultProposalTimeLimit = 2 * time.Second
	// ProposalIterations fixes the annealing's length, seeded by the
	// spec's generation, so the search does not depend on the machine's
	// speed; the polish after it (roster.Solve) stops at the time limit.
	// The proposal is computed once per generation in any case, so a
	// repeat that differed would not flap status.
	ProposalIterations = 20000
	// ProposalMaxAge is how old a proposal may get before it is computed
	// again for the same spec (the horizon moves).
	ProposalMaxAge = 24 * time.Hour
	// ProposalTeamKey and ProposalSummaryKey are the proposal ConfigMap's
	// keys: the proposed SupportTeam and the diff with the figures.
	ProposalTeamKey    = "team.yaml"
	ProposalSummaryKey = "summary.txt"
)

// ProposalConfigMapName is the ConfigMap holding a team's proposed roster.
func ProposalConfigMapName(team *opsv1alpha1.SupportTeam) string {
	return team.Name + "-roster-proposal"
}

// reconcileProposal keeps a proposed roster when the team asks for one. It
// computes only when the spec's generation changed or the proposal is a day
// old, so a steady state neither solves nor writes; it never changes the
// team's spec.
func (r *SupportTeamReconciler) reconcileProposal(ctx context.Context, team *opsv1alpha1.SupportTeam, spec opsv1alpha1.SupportTeamSpec) error {
	if team.Spec.Rostering == nil || !team.Spec.Rostering.Propose {
		// The ConfigMap, if any, stays for the manager and goes with the team.
		team.Status.Proposal = nil
		return nil
	}
	now := r.Clock.Now()
	if p := team.Status.Proposal; p != nil && p.ObservedGeneration == team.Generation && now.Sub(p.ComputedAt.Time) < ProposalMaxAge {
		return nil
	}
	previous := team.Status.Proposal
	status := &opsv1alpha1.ProposalStatus{ObservedGeneration: team.Generation, ComputedAt: metav1.NewTime(now)}
	if err := r.propose(ctx, team, spec, status); err != nil {
		// Keep the last proposal's status, so the next reconcile tries again.
		team.Status.Proposal = previous
		return err
	}
	team.Status.Proposal = status
	return nil
}

// propose computes the proposal, writes its ConfigMap and fills status.
func (r *SupportTeamReconciler) propose(ctx context.Context, team *opsv1alpha1.SupportTeam, spec opsv1alpha1.SupportTeamSpec, status *opsv1alpha1.ProposalStatus) error {
	// The roster is fitted to the demand coverage uses (a forecast for
	// demand.source History); the manifest keeps the team's own spec.
	demanded := team.DeepCopy()
	demanded.Spec = spec
	now := status.ComputedAt.Time
	limit := r.ProposalTimeLimit
	if limit <= 0 {
		limit = DefaultProposalTimeLimit
	}
	proposal, err := rosterplan.Propose(demanded, now, rosterplan.Options{Weeks: 1, Solver: roster.Options{
		Seed: uint64(team.Generation), TimeLimit: limit, Iterations: ProposalIterations,
	}})
	if err != nil {
		// A spec the proposal cannot serve is the user's to fix: say so
		// in status; the proposal is tried again when the spec changes.
		status.Message = fmt.Sprintf("no proposal: %v", err)
		return nil
	}
	obj, err := rosterplan.TeamObject(team)
	if err != nil {
		return err
	}
	manifest, err := proposal.Manifest(obj)
	if err != nil {
		return err
	}
	var summary bytes.Buffer
	if err := proposal.WriteTable(&summary); err != nil {
		return err
	}
	status.UnderstaffedIntervalsNow = int32(proposal.Now.UnderstaffedIntervals)
	status.UnderstaffedIntervalsProposed = int32(proposal.Proposed.UnderstaffedIntervals)
	status.StaffHalfHoursShortNow = int32(proposal.Now.StaffHalfHoursShort)
	status.StaffHalfHoursShortProposed = int32(proposal.Proposed.StaffHalfHoursShort)
	status.OverContract = metav1.Duration{Duration: time.Duration(proposal.Proposed.OverContract(proposal.Contracts)) * time.Minute}

	name := ProposalConfigMapName(team)
	if notOwned, err := r.notOwnedConfigMap(ctx, team, name); err != nil || notOwned {
		if notOwned {
			status.Message = fmt.Sprintf("ConfigMap %s already exists and is not controlled by SupportTeam %s: the operator neither overwrites nor adopts it; delete or rename it to get the full proposal",
				name, team.Name)
		}
		return err
	}
	desired := &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Namespace: team.Namespace, Name: name, Labels: resources.Labels(resources.LabelSupportTeam, team.Name)},
		Data:       map[string]string{ProposalTeamKey: string(manifest), ProposalSummaryKey: summary.String()},
	}
	if err := createOrPatch(ctx, r.Client, r.Recorder, team, desired, func(cm *corev1.ConfigMap) {
		cm.Labels = mergeLabels(cm.Labels, desired.Labels)
		cm.Data = desired.Data
	}); err != nil {
		return err
	}
	status.ConfigMapName = name
	status.Message = fmt.Sprintf("proposed roster for the week from %s: %d understaffed queue-intervals now, %d proposed; review and apply %s",
		proposal.Input.Problem.Start.Format(time.DateOnly), proposal.Now.UnderstaffedIntervals, proposal.Proposed.UnderstaffedIntervals, ProposalTeamKey)
	return nil
}

// notOwnedConfigMap reports whether ConfigMap name exists and is not
// controlled by the team (asking the API server when the cache, which
// holds only the operator's labelled ConfigMaps, does not have it).
func (r *SupportTeamReconciler) notOwnedConfigMap(ctx context.Context, team *opsv1alpha1.SupportTeam, name string) (bool, error) {
	key := types.NamespacedName{Namespace: team.Namespace, Name: name}
	var cm corev1.ConfigMap
	err := r.Get(ctx, key, &cm)
	if apierrors.IsNotFound(err) && r.APIReader != nil {
		err = r.APIReader.Get(ctx, key, &cm)
	}
	if apierrors.IsNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("reading ConfigMap %s: %w", name, err)
	}
	return !metav1.IsControlledBy(&cm, team), nil
}
