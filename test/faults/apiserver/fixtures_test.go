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

package apiserver

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	opsv1alpha1 "github.com/supportstack/operator/api/v1alpha1"
	"github.com/supportstack/operator/internal/resources"
	"github.com/supportstack/operator/internal/schedule"
	"github.com/supportstack/operator/internal/testenv"
)

// fixture is a namespace with config/samples' SupportTeam and BackupPolicy
// (the policy without its volume source, so no PVC is needed: a database
// is enough), whose specs change by revision: revision r adds a lead
// lead-r and an e-mail queue email-r to the sample team and moves the
// policy's backup to 03:(5r) (revision 0 is the samples as they are).
type fixture struct {
	c      client.Client
	team   *opsv1alpha1.SupportTeam
	policy *opsv1alpha1.BackupPolicy
	// sampleTeam is the team's spec at revision 0.
	sampleTeam opsv1alpha1.SupportTeamSpec
}

// newFixture creates the fixture through c (past the proxy).
func newFixture(t *testing.T, c client.Client) *fixture {
	t.Helper()
	ctx := context.Background()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "faults-"}}
	if err := c.Create(ctx, ns); err != nil {
		t.Fatal(err)
	}
	f := &fixture{c: c, team: &opsv1alpha1.SupportTeam{}, policy: &opsv1alpha1.BackupPolicy{}}
	sample(t, ns.Name, "SupportTeam", f.team)
	sample(t, ns.Name, "BackupPolicy", f.policy)
	f.policy.Spec.Sources.Volumes = nil
	f.sampleTeam = *f.team.Spec.DeepCopy()
	for _, obj := range []client.Object{
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "restic", Namespace: ns.Name}, StringData: map[string]string{"password": "correct horse battery staple"}},
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "s3-credentials", Namespace: ns.Name},
			StringData: map[string]string{"AWS_ACCESS_KEY_ID": "AKIA", "AWS_SECRET_ACCESS_KEY": "s3-secret-key-456"}},
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "helpdesk-db", Namespace: ns.Name},
			StringData: map[string]string{"uri": "postgresql://app:db-pass-123@helpdesk-db:5432/helpdesk"}},
		&corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "helpdesk-db", Namespace: ns.Name}, Spec: corev1.ServiceSpec{
			Selector: map[string]string{"app": "postgres"},
			Ports:    []corev1.ServicePort{{Port: 5432, TargetPort: intstr.FromInt32(5433)}},
		}},
		f.team, f.policy,
	} {
		if err := c.Create(ctx, obj); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

// sample reads config/samples' object of kind into obj, in namespace ns.
func sample(t *testing.T, ns, kind string, obj client.Object) {
	t.Helper()
	if err := testenv.Sample(ns, kind, obj); err != nil {
		t.Fatal(err)
	}
}

// teamSpec is the team's spec at revision rev.
func (f *fixture) teamSpec(rev int) opsv1alpha1.SupportTeamSpec {
	spec := *f.sampleTeam.DeepCopy()
	if rev == 0 {
		return spec
	}
	spec.Members = append(spec.Members, opsv1alpha1.Member{
		Name: fmt.Sprintf("lead-%d", rev), Email: fmt.Sprintf("lead-%d@example.com", rev), Role: opsv1alpha1.RoleLead,
		Skills: []string{"windows", "email"}, Shifts: []string{"late"},
	})
	last := *spec.Queues[len(spec.Queues)-1].DeepCopy()
	last.Name = fmt.Sprintf("email-%d", rev)
	spec.Queues = append(spec.Queues, last)
	return spec
}

// backupSchedule is the policy's schedule at revision rev.
func backupSchedule(rev int) string {
	if rev == 0 {
		return "0 2 * * *"
	}
	return fmt.Sprintf("%d 3 * * *", 5*rev)
}

// change moves both objects' specs to revision rev, through the client
// past the proxy.
func (f *fixture) change(t *testing.T, rev int) {
	t.Helper()
	ctx := context.Background()
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		if err := f.c.Get(ctx, client.ObjectKeyFromObject(f.team), f.team); err != nil {
			return err
		}
		f.team.Spec = f.teamSpec(rev)
		return f.c.Update(ctx, f.team)
	})
	if err != nil {
		t.Fatalf("changing the team: %v", err)
	}
	err = retry.RetryOnConflict(retry.DefaultRetry, func() error {
		if err := f.c.Get(ctx, client.ObjectKeyFromObject(f.policy), f.policy); err != nil {
			return err
		}
		f.policy.Spec.Schedule = opsv1alpha1.CronSchedule(backupSchedule(rev))
		return f.c.Update(ctx, f.policy)
	})
	if err != nil {
		t.Fatalf("changing the policy: %v", err)
	}
}

// converged says what still differs from revision rev: each object's
// status must have observed its generation and say Ready for it, with what
// the spec implies (the team's headcount and queues, the policy's next
// backup), and the children must hold the spec (the team's RoleBinding
// binds its leads, its routing ConfigMap lists its queues; the policy's
// backup CronJob runs on its schedule).
func (f *fixture) converged(rev int) error {
	return errors.Join(f.teamConverged(rev), f.policyConverged(rev))
}

func (f *fixture) teamConverged(rev int) error {
	ctx := context.Background()
	team := &opsv1alpha1.SupportTeam{}
	if err := f.c.Get(ctx, client.ObjectKeyFromObject(f.team), team); err != nil {
		return err
	}
	want := f.teamSpec(rev)
	var errs []error
	if len(team.Spec.Members) != len(want.Members) {
		return fmt.Errorf("team: spec has %d members, revision %d has %d", len(team.Spec.Members), rev, len(want.Members))
	}
	if err := readyAt(team.Status.Conditions, team.Generation, team.Status.ObservedGeneration); err != nil {
		errs = append(errs, fmt.Errorf("team: %w", err))
	}
	if team.Status.Headcount != int32(len(want.Members)) {
		errs = append(errs, fmt.Errorf("team: headcount %d, want %d", team.Status.Headcount, len(want.Members)))
	}
	var queues, leads []string
	for _, q := range team.Status.Queues {
		queues = append(queues, q.Name)
	}
	var wantQueues, wantLeads []string
	for _, q := range want.Queues {
		wantQueues = append(wantQueues, q.Name)
	}
	for _, m := range want.Members {
		if m.Role == opsv1alpha1.RoleLead || m.Role == opsv1alpha1.RoleManager {
			wantLeads = append(wantLeads, m.Email)
		}
	}
	if !slices.Equal(queues, wantQueues) {
		errs = append(errs, fmt.Errorf("team: status lists queues %v, want %v", queues, wantQueues))
	}
	binding := &rbacv1.RoleBinding{}
	if err := f.c.Get(ctx, client.ObjectKey{Namespace: team.Namespace, Name: resources.TeamAccessName(team)}, binding); err != nil {
		return errors.Join(append(errs, err)...)
	}
	for _, s := range binding.Subjects {
		leads = append(leads, s.Name)
	}
	if !slices.Equal(leads, wantLeads) {
		errs = append(errs, fmt.Errorf("team: RoleBinding binds %v, want %v", leads, wantLeads))
	}
	routing := &corev1.ConfigMap{}
	if err := f.c.Get(ctx, client.ObjectKey{Namespace: team.Namespace, Name: resources.RoutingConfigMapName(team)}, routing); err != nil {
		return errors.Join(append(errs, err)...)
	}
	for r := 1; r <= rev; r++ {
		q := fmt.Sprintf("%q", fmt.Sprintf("email-%d", r))
		if has := strings.Contains(routing.Data[resources.RoutingKey], q); has != (r == rev) {
			errs = append(errs, fmt.Errorf("team: routing ConfigMap lists queue %s: %v, want %v", q, has, r == rev))
		}
	}
	return errors.Join(errs...)
}

func (f *fixture) policyConverged(rev int) error {
	ctx := context.Background()
	policy := &opsv1alpha1.BackupPolicy{}
	if err := f.c.Get(ctx, client.ObjectKeyFromObject(f.policy), policy); err != nil {
		return err
	}
	want := backupSchedule(rev)
	if string(policy.Spec.Schedule) != want {
		return fmt.Errorf("policy: spec schedule %q, revision %d has %q", policy.Spec.Schedule, rev, want)
	}
	var errs []error
	if err := readyAt(policy.Status.Conditions, policy.Generation, policy.Status.ObservedGeneration); err != nil {
		errs = append(errs, fmt.Errorf("policy: %w", err))
	}
	next, err := schedule.Next(want, string(policy.Spec.TimeZone), fakeNow)
	if err != nil {
		return err
	}
	if got := policy.Status.NextScheduleTime; got == nil || !got.Time.Equal(next) {
		errs = append(errs, fmt.Errorf("policy: next backup %v, want %v", got, next))
	}
	cj := &batchv1.CronJob{}
	if err := f.c.Get(ctx, client.ObjectKey{Namespace: policy.Namespace, Name: policy.Name + "-backup"}, cj); err != nil {
		return errors.Join(append(errs, err)...)
	}
	if cj.Spec.Schedule != want {
		errs = append(errs, fmt.Errorf("policy: backup CronJob runs at %q, want %q", cj.Spec.Schedule, want))
	}
	return errors.Join(errs...)
}

// readyAt says why an object's status has not observed generation and
// said Ready for it.
func readyAt(conditions []metav1.Condition, generation, observed int64) error {
	c := meta.FindStatusCondition(conditions, opsv1alpha1.ConditionReady)
	switch {
	case observed != generation:
		return fmt.Errorf("observedGeneration %d, generation %d", observed, generation)
	case c == nil || c.Status != metav1.ConditionTrue || c.ObservedGeneration != generation:
		return fmt.Errorf("Ready %+v at generation %d", c, generation)
	}
	return nil
}

// converge waits until the fixture holds revision rev, at most within,
// and returns how long that took.
func (f *fixture) converge(t *testing.T, rev int, within time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	for {
		err := f.converged(rev)
		if err == nil {
			return time.Since(start)
		}
		if time.Since(start) > within {
			t.Fatalf("revision %d not reached %v after: %v", rev, within, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
