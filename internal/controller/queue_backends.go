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
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
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
// Secret): reported as a condition with its reason (InvalidSpec when
// empty) rather than retried with backoff.
type backendSpecError struct{ reason, msg string }

func (e *backendSpecError) Error() string { return e.msg }

// routingConfigMapNotOwned returns why the team's routing ConfigMap must not
// be written, or "" when it does not exist yet or this team controls it. A
// name in queueBackend.configMap.name could otherwise make the operator
// overwrite and adopt any ConfigMap of the namespace, and give the team's
// leads read access to it.
func (r *SupportTeamReconciler) routingConfigMapNotOwned(ctx context.Context, team *opsv1alpha1.SupportTeam) (string, error) {
	key := types.NamespacedName{Namespace: team.Namespace, Name: resources.RoutingConfigMapName(team)}
	var cm corev1.ConfigMap
	err := r.Get(ctx, key, &cm)
	if apierrors.IsNotFound(err) && r.APIReader != nil {
		// The cache holds only ConfigMaps labelled as the operator's: ask
		// the API server about the others.
		err = r.APIReader.Get(ctx, key, &cm)
	}
	if apierrors.IsNotFound(err) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("reading ConfigMap %s: %w", key.Name, err)
	}
	if metav1.IsControlledBy(&cm, team) {
		return "", nil
	}
	field := "queueBackend.configMap.name"
	if b := team.Spec.QueueBackend; b == nil || b.ConfigMap == nil || b.ConfigMap.Name == "" {
		field = "the routing ConfigMap (default name <team>-queues)"
	}
	return fmt.Sprintf("%s: ConfigMap %s already exists in namespace %s and is not controlled by SupportTeam %s: "+
		"the operator neither overwrites nor adopts a ConfigMap it did not create; "+
		"set queueBackend.configMap.name to a name that is free, or delete ConfigMap %s if it is a leftover",
		field, key.Name, team.Namespace, team.Name, key.Name), nil
}

// backendFor picks the team's backend: Request Tracker at a URL, a
// HelpDesk's Request Tracker, or the routing ConfigMap alone.
func (r *SupportTeamReconciler) backendFor(team *opsv1alpha1.SupportTeam) queueBackend {
	cm := &configMapBackend{client: r.Client, recorder: r.Recorder}
	b := team.Spec.QueueBackend
	switch {
	case b != nil && b.RequestTracker != nil:
		return &requestTrackerBackend{routing: cm, secrets: r.APIReader, recorder: r.Recorder, http: r.HTTP, spec: b.RequestTracker}
	case b != nil && b.HelpDesk != nil:
		webURL := r.HelpDeskWebURL
		if webURL == nil {
			webURL = resources.HelpDeskWebURL
		}
		return &helpDeskBackend{routing: cm, client: r.Client, secrets: r.APIReader, recorder: r.Recorder, http: r.HTTP,
			webURL: webURL, rtImage: r.RTImage, spec: b.HelpDesk}
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

// requestTrackerBackend creates, changes and disables the team's queues, its
// group and its members in Request Tracker through REST2, and puts what
// REST2 cannot set (service levels, business hours, rights) in the routing
// ConfigMap for the RT deployment to mount. A queue name RT already gives to
// a queue the team does not own is left alone and reported (QueueNotOwned);
// the team's other queues still sync.
type requestTrackerBackend struct {
	routing  *configMapBackend
	secrets  client.Reader
	recorder events.EventRecorder
	http     *http.Client
	spec     *opsv1alpha1.RequestTrackerBackend
}

func (b *requestTrackerBackend) sync(ctx context.Context, team *opsv1alpha1.SupportTeam, table queues.Table) (backendSynced, error) {
	if err := queues.CheckURL(b.spec.URL); err != nil {
		return backendSynced{}, &backendSpecError{opsv1alpha1.ReasonInsecureURL, err.Error()}
	}
	token, err := b.token(ctx, team)
	if err != nil {
		return backendSynced{}, err
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

	// Rights and service levels name queues, so they are rendered once RT
	// has said which queues are the team's: only for those.
	cfg := queues.RenderRTOwned(team, res.QueueIDs)
	b.routing.extraData = map[string]string{RTSiteConfigKey: cfg.SiteConfig, RTInitialDataKey: cfg.InitialData}
	b.routing.extraAnnotations = map[string]string{AnnotationRTConfigSHA256: cfg.SHA256}
	if _, err := b.routing.sync(ctx, team, table); err != nil {
		return backendSynced{}, err
	}

	if err := queuesNotOwned(res, desired); err != nil {
		return backendSynced{externalIDs: res.QueueIDs}, err
	}
	return backendSynced{
		externalIDs: res.QueueIDs,
		summary: fmt.Sprintf("%d queues, group %s and %d members in Request Tracker %s",
			len(res.QueueIDs), desired.Group, len(desired.Members), b.spec.URL),
	}, nil
}

// token reads the RT token from the Secret the team names, only if that
// Secret is marked for this use: the team's spec says where the token is
// sent, so an unmarked Secret (a restic password, a database URI) is never
// read. Its labels are read first, without its data.
func (b *requestTrackerBackend) token(ctx context.Context, team *opsv1alpha1.SupportTeam) (string, error) {
	ref := b.spec.TokenSecretRef
	key := types.NamespacedName{Namespace: team.Namespace, Name: ref.Name}
	meta := &metav1.PartialObjectMetadata{}
	meta.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("Secret"))
	err := b.secrets.Get(ctx, key, meta)
	if apierrors.IsNotFound(err) {
		return "", &backendSpecError{msg: fmt.Sprintf("queueBackend.requestTracker.tokenSecretRef: Secret %s not found in namespace %s", ref.Name, team.Namespace)}
	}
	if err != nil {
		return "", fmt.Errorf("reading Secret %s: %w", ref.Name, err)
	}
	if !markedQueueToken(meta.Labels) {
		return "", &backendSpecError{opsv1alpha1.ReasonSecretNotMarked, secretNotMarked(ref.Name, team.Namespace)}
	}
	var secret corev1.Secret
	if err := b.secrets.Get(ctx, key, &secret); err != nil {
		return "", fmt.Errorf("reading Secret %s: %w", ref.Name, err)
	}
	// The label may have gone between the two reads.
	if !markedQueueToken(secret.Labels) {
		return "", &backendSpecError{opsv1alpha1.ReasonSecretNotMarked, secretNotMarked(ref.Name, team.Namespace)}
	}
	token := strings.TrimSpace(string(secret.Data[ref.Key]))
	if token == "" {
		return "", &backendSpecError{msg: fmt.Sprintf("queueBackend.requestTracker.tokenSecretRef: Secret %s has no key %s", ref.Name, ref.Key)}
	}
	return token, nil
}

func markedQueueToken(labels map[string]string) bool {
	return labels[opsv1alpha1.LabelSecretUse] == opsv1alpha1.SecretUseQueueToken
}

func secretNotMarked(name, namespace string) string {
	return fmt.Sprintf("queueBackend.requestTracker.tokenSecretRef: Secret %s is not marked for use as a queue token, so the operator "+
		"neither reads it nor sends anything to the Request Tracker URL; if it holds the RT token (and nothing else), mark it: "+
		"kubectl label secret %s -n %s %s=%s", name, name, namespace, opsv1alpha1.LabelSecretUse, opsv1alpha1.SecretUseQueueToken)
}

// queuesNotOwned is QueueNotOwned for the queues RT gives to another team
// or to nobody (res.NotOwned), nil when there are none.
func queuesNotOwned(res queues.RTResult, desired queues.RTDesired) error {
	if len(res.NotOwned) == 0 {
		return nil
	}
	msgs := make([]string, 0, len(res.NotOwned))
	for _, q := range res.NotOwned {
		msgs = append(msgs, "spec.queues "+q.Name+": "+q.Message(desired.Owner))
	}
	return &backendSpecError{opsv1alpha1.ReasonQueueNotOwned, strings.Join(msgs, "; ") +
		fmt.Sprintf(" (the team's other %d queues are synced)", len(res.QueueIDs))}
}
