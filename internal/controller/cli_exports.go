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
	"context"
	"errors"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	opsv1alpha1 "github.com/supportstack/operator/api/v1alpha1"
	"github.com/supportstack/operator/internal/actuals"
)

// These exports let the CLI (cmd/supportstack) compute exactly what the
// operator computes, rather than a copy that could drift.

// ActualsOptions are the calendar (business hours as RT renders them,
// closed holidays), first-response targets and responders (members'
// e-mail addresses) the operator measures team's tickets with, at now:
// `supportstack report team` computes a report's service levels exactly as
// status does.
func ActualsOptions(team *opsv1alpha1.SupportTeam, now time.Time) (actuals.Options, error) {
	return actualsOptions(team, now)
}

// ForecastDemand is the demand a History queue's status shows when the
// operator holds tickets (its last 28 days) at now: the tests of
// `supportstack forecast` check that --weeks 4 proposes the same.
func ForecastDemand(team *opsv1alpha1.SupportTeam, queue string, tickets []actuals.Ticket, now time.Time) *opsv1alpha1.DemandStatus {
	return forecastDemand(team, queue, tickets, now)
}

// QueueToken is the RT token of a team whose queue backend is Request
// Tracker, read as the operator reads it: from the Secret the spec names in
// the team's namespace, and only when that Secret is marked as a queue
// token (the spec says where the token is sent). `supportstack` reads it
// with the user's own credentials, so the user's RBAC decides.
func QueueToken(ctx context.Context, secrets client.Reader, team *opsv1alpha1.SupportTeam) (string, error) {
	if team.Spec.QueueBackend == nil || team.Spec.QueueBackend.RequestTracker == nil {
		return "", errors.New("the team's spec names no token Secret (queueBackend.requestTracker)")
	}
	return (&requestTrackerBackend{secrets: secrets, spec: team.Spec.QueueBackend.RequestTracker}).token(ctx, team)
}
