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
	"fmt"
	"net/http"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	"sigs.k8s.io/controller-runtime/pkg/client"

	opsv1alpha1 "github.com/supportstack/operator/api/v1alpha1"
	"github.com/supportstack/operator/internal/queues"
	"github.com/supportstack/operator/internal/resources"
)

// queueBackend materializes a team's routing table in the help desk the
// team runs. There are two: the routing ConfigMap (the default) and Request
// Tracker.
type queueBackend interface {
	sync(ctx context.Context, team *opsv1alpha1.SupportTeam, table queues.Table) (backendSynced, error)
}

// backendSynced is what a backend reports after a successful sync.
type backendSynced struct {
	// externalIDs are the queues' ids in the backend, when it has ids.
	externalIDs map[string]string
	// summary is the QueuesSynced condition's message.
	summary string
}

// backendSpecError is a user's mistake found while syncing (a missing
// Secret): reported as InvalidSpec rather than retried with backoff.
type backendSpecError struct{ msg string }

func (e *backendSpecError) Error() string { return e.msg }

// backendFor picks the team's backend.
func (r *SupportTeamReconciler) backendFor(team *opsv1alpha1.SupportTeam) queueBackend {
	cm := &configMapBackend{client: r.Client, recorder: r.Recorder}
	if b := team.Spec.QueueBackend; b != nil && b.RequestTracker != nil {
		return &requestTrackerBackend{routing: cm, secrets: r.APIReader, recorder: r.Recorder, http: r.HTTP, spec: b.RequestTracker}
	}
	return cm
}

// configMapBackend writes the routing table to the team's ConfigMap.
type configMapBackend struct {
	client   client.Client
	recorder events.EventRecorder
	// extraData and extraAnnotations are what other backends add to the ConfigMap.
	extraData        map[string]string
	extraAnnotations map[string]string
}

func (b *configMapBackend) sync(ctx context.Context, team *opsv1alpha1.SupportTeam, table queues.Table) (backendSynced, error) {
	desired := resources.RoutingConfigMap(team, table)
	for k, v := range b.extraData {
		desired.Data[k] = v
	}
	desired.Annotations = b.extraAnnotations
	err := createOrPatch(ctx, b.client, b.recorder, team, desired, func(existing *corev1.ConfigMap) {
		existing.Labels = mergeLabels(existing.Labels, desired.Labels)
		existing.Annotations = mergeLabels(existing.Annotations, desired.Annotations)
		existing.Data = desired.Data
	})
	return backendSynced{summary: fmt.Sprintf("%d queues in ConfigMap %s", len(table.Queues), desired.Name)}, err
}

// requestTrackerBackend creates, adopts and disables queues, the team's
// group and its members in Request Tracker through REST2, and puts what
// REST2 cannot set (service levels, business hours, rights) in the routing
// ConfigMap for the RT deployment to mount.
type requestTrackerBackend struct {
	routing  *configMapBackend
	secrets  client.Reader
	recorder events.EventRecorder
	http     *http.Client
	spec     *opsv1alpha1.RequestTrackerBackend
}

func (b *requestTrackerBackend) sync(ctx context.Context, team *opsv1alpha1.SupportTeam, table queues.Table) (backendSynced, error) {
	cfg := queues.RenderRT(team)
	b.routing.extraData = map[string]string{RTSiteConfigKey: cfg.SiteConfig, RTInitialDataKey: cfg.InitialData}
	b.routing.extraAnnotations = map[string]string{AnnotationRTConfigSHA256: cfg.SHA256}
	if _, err := b.routing.sync(ctx, team, table); err != nil {
		return backendSynced{}, err
	}

	ref := b.spec.TokenSecretRef
	var secret corev1.Secret
	err := b.secrets.Get(ctx, types.NamespacedName{Namespace: team.Namespace, Name: ref.Name}, &secret)
	if apierrors.IsNotFound(err) {
		return backendSynced{}, &backendSpecError{fmt.Sprintf("queueBackend.requestTracker.tokenSecretRef: Secret %s not found in namespace %s", ref.Name, team.Namespace)}
	}
	if err != nil {
		return backendSynced{}, fmt.Errorf("reading Secret %s: %w", ref.Name, err)
	}
	token := strings.TrimSpace(string(secret.Data[ref.Key]))
	if token == "" {
		return backendSynced{}, &backendSpecError{fmt.Sprintf("queueBackend.requestTracker.tokenSecretRef: Secret %s has no key %s", ref.Name, ref.Key)}
	}
	desired := queues.RTDesiredFor(team)
	rt := &queues.RequestTracker{BaseURL: b.spec.URL, Token: token, HTTP: b.http}
	res, err := rt.Sync(ctx, desired)
	if err != nil {
		return backendSynced{}, err
	}
	if res.Writes > 0 {
		b.recorder.Eventf(team, nil, corev1.EventTypeNormal, opsv1alpha1.ReasonRequestTrackerSynced, "SyncQueues",
			"made %d changes in Request Tracker %s (disabled queues: %v)", res.Writes, b.spec.URL, res.Disabled)
	}
	return backendSynced{
		externalIDs: res.QueueIDs,
		summary: fmt.Sprintf("%d queues, group %s and %d members in Request Tracker %s",
			len(res.QueueIDs), desired.Group, len(desired.Members), b.spec.URL),
	}, nil
}
