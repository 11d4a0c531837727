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
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	opsv1alpha1 "github.com/supportstack/operator/api/v1alpha1"
	"github.com/supportstack/operator/internal/queues/rttest"
)

// TestSupportTeamWithRequestTracker runs the reconciler against a real
// private Request Tracker: a missing token Secret is reported, then the
// queues appear in RT with their ids in status.
func TestSupportTeamWithRequestTracker(t *testing.T) {
	ctx := context.Background()
	rt := rttest.Start(t)
	ns := newNamespace(t)
	team := sampleTeam(t, ns)
	team.Spec.QueueBackend = &opsv1alpha1.QueueBackend{RequestTracker: &opsv1alpha1.RequestTrackerBackend{
		URL:            rt.URL,
		TokenSecretRef: opsv1alpha1.SecretKeyRef{Name: "rt-token", Key: "token"},
	}}
	if err := k8sClient.Create(ctx, team); err != nil {
		t.Fatal(err)
	}
	got := readyTeam(t, client.ObjectKeyFromObject(team), metav1.ConditionFalse)
	ready := condition(got, opsv1alpha1.ConditionReady)
	wantMsg := "queueBackend.requestTracker.tokenSecretRef: Secret rt-token not found in namespace " + ns
	if ready.Reason != opsv1alpha1.ReasonInvalidSpec || ready.Message != wantMsg {
		t.Errorf("Ready = %s: %s, want %s: %s", ready.Reason, ready.Message, opsv1alpha1.ReasonInvalidSpec, wantMsg)
	}

	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "rt-token", Namespace: ns,
			Labels: map[string]string{opsv1alpha1.LabelSecretUse: opsv1alpha1.SecretUseQueueToken}},
		StringData: map[string]string{"token": rt.Token},
	}
	if err := k8sClient.Create(ctx, secret); err != nil {
		t.Fatal(err)
	}
	// Secrets are not watched: the reconciler looks again after 30s. A change
	// to the team makes the manager look now. (A second reconciler run beside
	// the manager's would race it to create the queues in RT.)
	nudged := time.Now()
	nudge(t, team)
	got = readyTeamWithin(t, client.ObjectKeyFromObject(team), metav1.ConditionTrue, rtSyncLimit)
	t.Logf("queues in RT %v after the nudge", time.Since(nudged).Round(time.Millisecond))
	synced := condition(got, opsv1alpha1.ConditionQueuesSynced)
	if synced.Status != metav1.ConditionTrue || !strings.Contains(synced.Message, "2 queues, group supportstack-"+ns+"-windows-tier1 and 5 members in Request Tracker") {
		t.Errorf("QueuesSynced = %+v", synced)
	}
	for _, q := range got.Status.Queues {
		if q.ExternalID == "" {
			t.Errorf("queue %s has no externalID", q.Name)
		}
		code, rtQueue := rt.Call(http.MethodGet, "/queue/"+q.ExternalID, nil)
		if code != http.StatusOK || rtQueue["Name"] != q.Name {
			t.Errorf("RT queue %s: %d %v", q.ExternalID, code, rtQueue["Name"])
		}
	}
	var cm corev1.ConfigMap
	if err := k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "windows-tier1-queues"}, &cm); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(cm.Data[RTSiteConfigKey], "BusinessMinutes => 240") || !strings.Contains(cm.Data[RTInitialDataKey], "@ACL") ||
		len(cm.Annotations[AnnotationRTConfigSHA256]) != 64 {
		t.Errorf("routing ConfigMap lacks the RT configuration: keys %v annotations %v", keys(cm.Data), cm.Annotations)
	}
	// The token is nowhere in status, conditions or the ConfigMap.
	for _, text := range []string{got.Status.Conditions[0].Message, got.Status.Conditions[1].Message, got.Status.Conditions[2].Message, cm.Data[RTSiteConfigKey]} {
		if strings.Contains(text, rt.Token) {
			t.Fatal("the RT token leaked into status or the ConfigMap")
		}
	}
}

// nudge changes an annotation on obj, which makes the manager reconcile it.
func nudge(t *testing.T, obj client.Object) {
	t.Helper()
	patch := []byte(fmt.Sprintf(`{"metadata":{"annotations":{"test.supportstack.io/nudge":%q}}}`, time.Now().Format(time.RFC3339Nano)))
	if err := k8sClient.Patch(context.Background(), obj, client.RawPatch(types.MergePatchType, patch)); err != nil {
		t.Fatal(err)
	}
}

func keys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
