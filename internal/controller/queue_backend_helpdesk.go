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
	"cmp"
	"context"
	"fmt"
	"net/http"
	"strings"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	opsv1alpha1 "github.com/supportstack/operator/api/v1alpha1"
	"github.com/supportstack/operator/internal/queues"
	"github.com/supportstack/operator/internal/resources"
)

// helpDeskBackend keeps a team's queues, group and members in the Request
// Tracker of a HelpDesk of the team's namespace, signed in to REST2 as
// RT's service user (resources.RTOperatorUser) with the password the
// HelpDesk generated into its credentials Secret, which the team's leads
// cannot read (their Role grants no Secrets). REST2 cannot set rights, so
// a Job the team owns (resources.RTRightsJob) keeps its group's rights on
// its queues, once per change. The routing ConfigMap is written as for
// every backend.
type helpDeskBackend struct {
	routing *configMapBackend
	client  client.Client
	// secrets reads from the API server (Secrets, and a Job the cache
	// may not hold yet).
	secrets  client.Reader
	recorder events.EventRecorder
	http     *http.Client
	// webURL is the help desk's REST2 root: its web Service
	// (resources.HelpDeskWebURL) unless a test says otherwise.
	webURL  func(namespace string, names resources.HelpDeskNames) string
	rtImage string
	spec    *opsv1alpha1.HelpDeskBackend
}

func (b *helpDeskBackend) sync(ctx context.Context, team *opsv1alpha1.SupportTeam, table queues.Table) (backendSynced, error) {
	names := resources.HelpDeskNames{HelpDesk: b.spec.Name}
	hd := &opsv1alpha1.HelpDesk{}
	err := b.client.Get(ctx, types.NamespacedName{Namespace: team.Namespace, Name: b.spec.Name}, hd)
	if apierrors.IsNotFound(err) || (err == nil && !hd.DeletionTimestamp.IsZero()) {
		return backendSynced{}, &backendSpecError{opsv1alpha1.ReasonHelpDeskNotFound, fmt.Sprintf(
			"queueBackend.helpDesk.name: there is no HelpDesk %s in namespace %s (or it is being deleted): a team uses a help desk of its own namespace; create it or name another",
			b.spec.Name, team.Namespace)}
	}
	if err != nil {
		return backendSynced{}, fmt.Errorf("reading HelpDesk %s: %w", b.spec.Name, err)
	}
	if c := meta.FindStatusCondition(hd.Status.Conditions, opsv1alpha1.ConditionWebReady); c == nil || c.Status != metav1.ConditionTrue {
		why := "no WebReady condition yet"
		if c != nil {
			why = "WebReady " + string(c.Status) + ", " + c.Reason + ": " + c.Message
		}
		return backendSynced{}, &backendSpecError{opsv1alpha1.ReasonHelpDeskNotReady, fmt.Sprintf(
			"waiting for HelpDesk %s to serve (%s); the team's queues sync when it does", hd.Name, why)}
	}
	password, err := b.password(ctx, hd, names)
	if err != nil {
		return backendSynced{}, err
	}

	desired := queues.RTDesiredFor(team)
	url := b.webURL(team.Namespace, names)
	rt := &queues.RequestTracker{BaseURL: url, User: resources.RTOperatorUser, Token: password, InCluster: true, HTTP: b.http}
	res, err := rt.Sync(ctx, desired)
	if err != nil {
		return backendSynced{}, fmt.Errorf("HelpDesk %s: %w", hd.Name, err)
	}
	if res.Writes > 0 {
		b.recorder.Eventf(team, hd, corev1.EventTypeNormal, opsv1alpha1.ReasonRequestTrackerSynced, "SyncQueues",
			"made %d changes in the Request Tracker of HelpDesk %s (disabled queues: %v)", res.Writes, hd.Name, res.Disabled)
	}
	if _, err := b.routing.sync(ctx, team, table); err != nil {
		return backendSynced{}, err
	}

	// Rights name queues: only the team's own (a name RT gives to another
	// queue gets none of this team's rights).
	rights, err := b.rights(ctx, team, hd, names, desired.Group, res.QueueIDs)
	if err != nil {
		return backendSynced{externalIDs: res.QueueIDs}, err
	}
	if err := queuesNotOwned(res, desired); err != nil {
		return backendSynced{externalIDs: res.QueueIDs}, err
	}
	return backendSynced{
		externalIDs: res.QueueIDs,
		summary: fmt.Sprintf("%d queues, group %s and %d members in the Request Tracker of HelpDesk %s; %s",
			len(res.QueueIDs), desired.Group, len(desired.Members), hd.Name, rights),
	}, nil
}

// password reads the service user's password from the HelpDesk's
// credentials Secret. It goes only to that help desk's own web Service.
func (b *helpDeskBackend) password(ctx context.Context, hd *opsv1alpha1.HelpDesk, names resources.HelpDeskNames) (string, error) {
	secret := &corev1.Secret{}
	err := b.secrets.Get(ctx, types.NamespacedName{Namespace: hd.Namespace, Name: names.Credentials()}, secret)
	if apierrors.IsNotFound(err) || (err == nil && len(secret.Data[resources.HelpDeskOperatorPasswordKey]) == 0) {
		return "", &backendSpecError{opsv1alpha1.ReasonHelpDeskNotReady, fmt.Sprintf(
			"waiting for HelpDesk %s's credentials Secret %s to hold the key %s (the HelpDesk adds it)", hd.Name, names.Credentials(), resources.HelpDeskOperatorPasswordKey)}
	}
	if err != nil {
		return "", fmt.Errorf("reading Secret %s: %w", names.Credentials(), err)
	}
	return string(secret.Data[resources.HelpDeskOperatorPasswordKey]), nil
}

// rights makes sure the Job that sets the group's rights on the queues
// (ids) has run, and removes the team's rights Jobs of earlier states. It
// says how far the rights are.
func (b *helpDeskBackend) rights(ctx context.Context, team *opsv1alpha1.SupportTeam, hd *opsv1alpha1.HelpDesk, names resources.HelpDeskNames, group string, ids map[string]string) (string, error) {
	want := resources.RTRights{Group: group, Rights: queues.RTQueueRights, HelpDesk: string(hd.UID)}
	for _, id := range ids {
		want.QueueIDs = append(want.QueueIDs, id)
	}
	// The image whose schema the database holds: during an upgrade the
	// operator's new image may not be the database's yet.
	image := cmp.Or(hd.Status.Image, b.rtImage)
	o := helpDeskRTObjects(hd, image, resources.HelpDeskDatabasePassword(hd), names.Rights(want.Key()), "rights")
	o.Labels[resources.LabelSupportTeam] = team.Name
	desired := resources.RTRightsJob(o, want)

	var jobs batchv1.JobList
	// The team's rights Jobs on this help desk carry the labels this one does.
	if err := b.client.List(ctx, &jobs, client.InNamespace(team.Namespace), client.MatchingLabels(desired.Labels)); err != nil {
		return "", err
	}
	var current *batchv1.Job
	var earlier []string
	for i := range jobs.Items {
		job := &jobs.Items[i]
		switch {
		case !metav1.IsControlledBy(job, team):
			continue
		case job.Name == desired.Name:
			current = job
		default:
			// An earlier state's Job: what it set is replaced by the
			// current one's (the rights program revokes what is not
			// wanted). Deleted in the foreground, and the next Job made
			// only once it is gone: a pod of it still running could
			// otherwise finish after the new one and put back what the
			// new one revoked.
			earlier = append(earlier, job.Name)
			if job.DeletionTimestamp.IsZero() {
				if err := b.client.Delete(ctx, job, client.PropagationPolicy(metav1.DeletePropagationForeground)); client.IgnoreNotFound(err) != nil {
					return "", fmt.Errorf("deleting the earlier rights Job %s: %w", job.Name, err)
				}
			}
		}
	}
	if current == nil && len(earlier) > 0 {
		return fmt.Sprintf("rights waiting for the earlier rights Job %s to go", strings.Join(earlier, ", ")), nil
	}
	if current == nil {
		if err := controllerutil.SetControllerReference(team, desired, b.client.Scheme()); err != nil {
			return "", err
		}
		err := b.client.Create(ctx, desired)
		if apierrors.IsAlreadyExists(err) {
			// The cache may not hold a Job this team made a moment ago:
			// ask the API server whose it is.
			existing := &batchv1.Job{}
			if err := b.secrets.Get(ctx, client.ObjectKeyFromObject(desired), existing); err != nil {
				return "", fmt.Errorf("reading Job %s: %w", desired.Name, err)
			}
			if metav1.IsControlledBy(existing, team) {
				return fmt.Sprintf("rights being set by Job %s", desired.Name), nil
			}
			return "", &backendSpecError{opsv1alpha1.ReasonRightsFailed, fmt.Sprintf(
				"Job %s already exists in namespace %s and is not this team's: the operator does not run another's Job; delete it", desired.Name, team.Namespace)}
		}
		if err != nil {
			return "", fmt.Errorf("creating the rights Job %s: %w", desired.Name, err)
		}
		b.recorder.Eventf(team, desired, corev1.EventTypeNormal, opsv1alpha1.ReasonApplied, "Apply",
			"created Job %s: the rights of group %s on its %d queues in HelpDesk %s", desired.Name, group, len(want.QueueIDs), hd.Name)
		return fmt.Sprintf("rights being set by Job %s", desired.Name), nil
	}
	done := finishedCondition(current)
	switch {
	case done == nil:
		return fmt.Sprintf("rights being set by Job %s", current.Name), nil
	case done.Type == batchv1.JobFailed:
		return "", &backendSpecError{opsv1alpha1.ReasonRightsFailed, fmt.Sprintf(
			"the rights Job %s failed (%s): see kubectl logs -n %s job/%s; delete the Job to run it again", current.Name, done.Message, team.Namespace, current.Name)}
	}
	return fmt.Sprintf("%d rights on each queue set by Job %s", len(want.Rights), current.Name), nil
}
