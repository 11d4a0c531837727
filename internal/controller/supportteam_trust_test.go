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

// Issue #11 item 1, attacked as the actors would: a team lead (impersonated,
// with only the Role the operator gives leads) trying to reach a Secret or
// another ConfigMap through her SupportTeam, and a platform engineer
// (impersonated, with the supportstack admin or editor ClusterRole from
// config/rbac) whose backend names an unmarked Secret, a plain-http URL or a
// ConfigMap the team does not own.

package controller

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr/funcr"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	opsv1alpha1 "github.com/supportstack/operator/api/v1alpha1"
	"github.com/supportstack/operator/internal/queues"
	"github.com/supportstack/operator/internal/queues/rttest"
	"github.com/supportstack/operator/internal/testenv"
)

const (
	// qbResticPassword is the value a lead would like to exfiltrate.
	qbResticPassword = "restic-password-the-lead-must-never-see"
	// qbRTToken is a real queue token, in a Secret marked for that use.
	qbRTToken = "rt-token-marked-for-queue-use"
	// qbRefusal is the start of the policy's message after the user name.
	qbRefusal = " may not set or change spec.queueBackend of SupportTeam windows-tier1: " +
		"the queue backend decides which Secret the operator reads and where it sends it, so it is set by a " +
		"platform engineer allowed the verb configure-queue-backend on supportteams (the supportstack admin and " +
		"editor roles have it); team leads may edit members, shifts, time off, holidays and queues, " +
		"and must leave spec.queueBackend as it is"
	qbLead             = "alice@example.com"
	qbPlatformEngineer = "pe@example.com"
	qbEditor           = "ed@example.com"
)

// qbCatcher is an HTTP server on loopback that stands for the URL a backend
// names: it counts every connection and keeps every Authorization header.
type qbCatcher struct {
	*httptest.Server
	mu          sync.Mutex
	connections int
	auth        []string
}

func newQBCatcher(t *testing.T) *qbCatcher {
	t.Helper()
	c := &qbCatcher{}
	s := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.mu.Lock()
		c.auth = append(c.auth, r.Header.Get("Authorization"))
		c.mu.Unlock()
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	s.Config.ConnState = func(_ net.Conn, state http.ConnState) {
		if state == http.StateNew {
			c.mu.Lock()
			c.connections++
			c.mu.Unlock()
		}
	}
	s.Start()
	t.Cleanup(s.Close)
	c.Server = s
	return c
}

func (c *qbCatcher) seen() (int, []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.connections, append([]string(nil), c.auth...)
}

func (c *qbCatcher) assertUntouched(t *testing.T) {
	t.Helper()
	if n, auth := c.seen(); n != 0 {
		t.Errorf("the backend URL received %d connections (Authorization headers %q), want none", n, auth)
	}
}

// qbBindClusterRole installs config/rbac's ClusterRole name (the aggregated
// admin or editor role, bound directly: envtest runs no aggregation
// controller) and binds it to user in namespace ns.
func qbBindClusterRole(t *testing.T, ns, name, user string) {
	t.Helper()
	ctx := context.Background()
	objs, err := testenv.ReadObjects(filepath.Join(testenv.RepoRoot(), "config", "rbac"))
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, u := range objs {
		if u.GetKind() != "ClusterRole" || u.GetName() != name {
			continue
		}
		found = true
		var role rbacv1.ClusterRole
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, &role); err != nil {
			t.Fatal(err)
		}
		if err := k8sClient.Create(ctx, &role); err != nil && !apierrors.IsAlreadyExists(err) {
			t.Fatal(err)
		}
	}
	if !found {
		t.Fatalf("config/rbac has no ClusterRole %s", name)
	}
	binding := &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, GenerateName: "platform-"},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: name},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: user}},
	}
	if err := k8sClient.Create(ctx, binding); err != nil {
		t.Fatal(err)
	}
}

// qbLeadTeam creates the sample team (alice is its Lead) as a cluster admin
// with mutate applied, waits for it to settle Ready, and returns a
// client acting as alice once the operator's RoleBinding lets her read it.
func qbLeadTeam(t *testing.T, ns string, mutate func(*opsv1alpha1.SupportTeam)) (*opsv1alpha1.SupportTeam, client.Client) {
	t.Helper()
	team := sampleTeam(t, ns)
	if mutate != nil {
		mutate(team)
	}
	if err := k8sClient.Create(context.Background(), team); err != nil {
		t.Fatal(err)
	}
	team = readyTeamWithin(t, client.ObjectKeyFromObject(team), metav1.ConditionTrue, rtSyncLimit)
	alice := actAs(t, qbLead, "")
	eventually(t, 20*time.Second, func() error {
		return alice.Get(context.Background(), client.ObjectKeyFromObject(team), &opsv1alpha1.SupportTeam{})
	})
	return team, alice
}

// qbWaitForPolicy returns once the API server enforces the
// team-queue-backend policy (a policy takes effect a moment after it is
// created), trying a dry-run change of queueBackend as c.
func qbWaitForPolicy(t *testing.T, c client.Client, team *opsv1alpha1.SupportTeam) {
	t.Helper()
	eventually(t, 20*time.Second, func() error {
		var probe opsv1alpha1.SupportTeam
		if err := c.Get(context.Background(), client.ObjectKeyFromObject(team), &probe); err != nil {
			return err
		}
		probe.Spec.QueueBackend = &opsv1alpha1.QueueBackend{ConfigMap: &opsv1alpha1.ConfigMapBackend{Name: "probe"}}
		err := c.Update(context.Background(), &probe, client.DryRunAll)
		if err == nil || !strings.Contains(err.Error(), qbRefusal) {
			return fmt.Errorf("the policy is not enforced yet: %v", err)
		}
		return nil
	})
}

func qbSecret(t *testing.T, ns, name, key, value string, labels map[string]string) {
	t.Helper()
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: labels}, StringData: map[string]string{key: value}}
	if err := k8sClient.Create(context.Background(), s); err != nil {
		t.Fatal(err)
	}
}

var qbTokenMark = map[string]string{opsv1alpha1.LabelSecretUse: opsv1alpha1.SecretUseQueueToken}

// qbAssertNowhere fails if any of values appears in the team's status, in an
// event of the namespace or in a ConfigMap of the namespace.
func qbAssertNowhere(t *testing.T, team client.ObjectKey, values ...string) {
	t.Helper()
	ctx := context.Background()
	var got opsv1alpha1.SupportTeam
	if err := k8sClient.Get(ctx, team, &got); err != nil {
		t.Fatal(err)
	}
	var newEvents eventsv1.EventList
	var oldEvents corev1.EventList
	var cms corev1.ConfigMapList
	for _, list := range []client.ObjectList{&newEvents, &oldEvents, &cms} {
		if err := k8sClient.List(ctx, list, client.InNamespace(team.Namespace)); err != nil {
			t.Fatal(err)
		}
	}
	status, _ := json.Marshal(got.Status)
	texts := make([]string, 0, 1+len(newEvents.Items)+len(oldEvents.Items)+len(cms.Items))
	texts = append(texts, "status "+string(status))
	for _, e := range newEvents.Items {
		texts = append(texts, "event "+e.Reason+": "+e.Note)
	}
	for _, e := range oldEvents.Items {
		texts = append(texts, "event "+e.Reason+": "+e.Message)
	}
	for _, cm := range cms.Items {
		data, _ := json.Marshal(cm.Data)
		texts = append(texts, "ConfigMap "+cm.Name+" "+string(data))
	}
	for _, text := range texts {
		for _, v := range values {
			if strings.Contains(text, v) {
				t.Errorf("a secret value appears in %.80s...", text)
			}
		}
	}
}

// qbHasWarning waits for a Warning event of reason about the team.
func qbHasWarning(t *testing.T, team client.ObjectKey, reason string) {
	t.Helper()
	eventually(t, 10*time.Second, func() error {
		var list eventsv1.EventList
		if err := k8sClient.List(context.Background(), &list, client.InNamespace(team.Namespace)); err != nil {
			return err
		}
		for _, e := range list.Items {
			if e.Reason == reason && e.Type == corev1.EventTypeWarning && e.Regarding.Name == team.Name {
				return nil
			}
		}
		return fmt.Errorf("no Warning event %s among %d", reason, len(list.Items))
	})
}

// qbReconcileLogged runs one reconcile of the team outside the manager (Secrets
// are not watched; the manager would look again after 30s) and returns
// everything it logged, at every verbosity.
func qbReconcileLogged(t *testing.T, key client.ObjectKey) string {
	t.Helper()
	var buf bytes.Buffer
	var mu sync.Mutex
	log := funcr.New(func(prefix, args string) {
		mu.Lock()
		defer mu.Unlock()
		buf.WriteString(prefix + " " + args + "\n")
	}, funcr.Options{Verbosity: 10})
	r := &SupportTeamReconciler{Client: k8sClient, APIReader: k8sClient, Recorder: &events.FakeRecorder{},
		HTTP: &http.Client{Timeout: 10 * time.Second}, Clock: fakeClock}
	_, err := r.Reconcile(logf.IntoContext(context.Background(), log), ctrl.Request{NamespacedName: key})
	mu.Lock()
	defer mu.Unlock()
	if err != nil {
		buf.WriteString("error: " + err.Error() + "\n")
	}
	return buf.String()
}

// TestLeadCannotChangeQueueBackend: a lead, with exactly the rights the
// operator gives leads, points her team's backend at the restic password
// Secret and at a ConfigMap that is not the team's, and removes a backend a
// platform engineer set. Each is refused at admission; nothing reaches the
// URL; the team keeps its backend.
func TestLeadCannotChangeQueueBackend(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t)
	qbSecret(t, ns, "restic", "password", qbResticPassword, nil)
	thief := newQBCatcher(t)
	team, alice := qbLeadTeam(t, ns, nil)
	qbWaitForPolicy(t, alice, team)
	want := qbLead + qbRefusal

	refused := func(t *testing.T, err error) {
		t.Helper()
		if !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), want) {
			t.Fatalf("got %v, want Forbidden with %q", err, want)
		}
		t.Logf("refused: %v", err)
	}
	rtAtRestic := &opsv1alpha1.QueueBackend{RequestTracker: &opsv1alpha1.RequestTrackerBackend{
		URL: thief.URL, TokenSecretRef: opsv1alpha1.SecretKeyRef{Name: "restic", Key: "password"}}}

	t.Run("update: request tracker at the restic Secret", func(t *testing.T) {
		refused(t, update(t, alice, team.DeepCopy(), func(st *opsv1alpha1.SupportTeam) { st.Spec.QueueBackend = rtAtRestic }))
	})
	t.Run("merge patch: request tracker at the restic Secret", func(t *testing.T) {
		var st opsv1alpha1.SupportTeam
		if err := alice.Get(ctx, client.ObjectKeyFromObject(team), &st); err != nil {
			t.Fatal(err)
		}
		patched := st.DeepCopy()
		patched.Spec.QueueBackend = rtAtRestic
		refused(t, alice.Patch(ctx, patched, client.MergeFrom(&st)))
	})
	t.Run("configMap name of a ConfigMap that is not the team's", func(t *testing.T) {
		refused(t, update(t, alice, team.DeepCopy(), func(st *opsv1alpha1.SupportTeam) {
			st.Spec.QueueBackend = &opsv1alpha1.QueueBackend{ConfigMap: &opsv1alpha1.ConfigMapBackend{Name: "kube-root-ca.crt"}}
		}))
	})
	t.Run("removing the backend a platform engineer set", func(t *testing.T) {
		if err := update(t, k8sClient, team.DeepCopy(), func(st *opsv1alpha1.SupportTeam) {
			st.Spec.QueueBackend = &opsv1alpha1.QueueBackend{ConfigMap: &opsv1alpha1.ConfigMapBackend{Name: "windows-tier1-routing"}}
		}); err != nil {
			t.Fatal(err)
		}
		refused(t, update(t, alice, team.DeepCopy(), func(st *opsv1alpha1.SupportTeam) { st.Spec.QueueBackend = nil }))
	})

	var stored opsv1alpha1.SupportTeam
	if err := k8sClient.Get(ctx, client.ObjectKeyFromObject(team), &stored); err != nil {
		t.Fatal(err)
	}
	if b := stored.Spec.QueueBackend; b == nil || b.RequestTracker != nil || b.ConfigMap == nil || b.ConfigMap.Name != "windows-tier1-routing" {
		t.Errorf("stored queueBackend %+v, want the platform engineer's", b)
	}
	readyTeam(t, client.ObjectKeyFromObject(team), metav1.ConditionTrue)
	// Give a reconcile that should not exist the time to happen.
	time.Sleep(time.Second)
	thief.assertUntouched(t)
	qbAssertNowhere(t, client.ObjectKeyFromObject(team), qbResticPassword)
}

// TestLeadStillEditsRoster: with a backend a platform engineer set, the lead
// changes members and shifts (sending queueBackend back as it is) and the
// operator acts on it.
func TestLeadStillEditsRoster(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t)
	team, alice := qbLeadTeam(t, ns, func(st *opsv1alpha1.SupportTeam) {
		st.Spec.QueueBackend = &opsv1alpha1.QueueBackend{ConfigMap: &opsv1alpha1.ConfigMapBackend{Name: "windows-tier1-routing"}}
	})
	qbWaitForPolicy(t, alice, team)

	if err := update(t, alice, team.DeepCopy(), func(st *opsv1alpha1.SupportTeam) {
		st.Spec.Shifts[0].Start = "06:30"
		st.Spec.Members = append(st.Spec.Members, opsv1alpha1.Member{
			Name: "frank", Email: "frank@example.com", Skills: []string{"windows"}, Shifts: []string{"early"}})
	}); err != nil {
		t.Fatalf("the lead cannot edit her roster: %v", err)
	}
	if err := alice.Patch(ctx, &opsv1alpha1.SupportTeam{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: team.Name}},
		client.RawPatch("application/merge-patch+json", []byte(`{"spec":{"displayName":"Windows Tier 1 (patched)"}}`))); err != nil {
		t.Fatalf("the lead cannot patch her team: %v", err)
	}
	got := readyTeam(t, client.ObjectKeyFromObject(team), metav1.ConditionTrue)
	if got.Status.Headcount != 6 || got.Spec.Shifts[0].Start != "06:30" || got.Spec.DisplayName != "Windows Tier 1 (patched)" {
		t.Errorf("headcount %d, shift start %s, displayName %q: the lead's edits were not applied",
			got.Status.Headcount, got.Spec.Shifts[0].Start, got.Spec.DisplayName)
	}
	var routing corev1.ConfigMap
	eventually(t, 10*time.Second, func() error {
		if err := alice.Get(ctx, client.ObjectKey{Namespace: ns, Name: "windows-tier1-routing"}, &routing); err != nil {
			return err
		}
		if !strings.Contains(routing.Data["routing.json"], "frank") {
			return errors.New("frank is not in the routing table yet")
		}
		return nil
	})
}

// TestPlatformEngineersConfigureQueueBackend: the aggregated admin and
// editor roles carry configure-queue-backend, so their holders set and
// change a team's backend; the same request from the lead is refused.
func TestPlatformEngineersConfigureQueueBackend(t *testing.T) {
	ns := newNamespace(t)
	qbBindClusterRole(t, ns, "supportstack-admin-role", qbPlatformEngineer)
	qbBindClusterRole(t, ns, "supportstack-editor-role", qbEditor)
	team, alice := qbLeadTeam(t, ns, nil)
	qbWaitForPolicy(t, alice, team)
	for i, user := range []string{qbPlatformEngineer, qbEditor} {
		name := fmt.Sprintf("windows-tier1-routing-%d", i)
		if err := update(t, actAs(t, user, ""), team.DeepCopy(), func(st *opsv1alpha1.SupportTeam) {
			st.Spec.QueueBackend = &opsv1alpha1.QueueBackend{ConfigMap: &opsv1alpha1.ConfigMapBackend{Name: name}}
		}); err != nil {
			t.Errorf("%s cannot set queueBackend: %v", user, err)
		}
	}
	err := update(t, alice, team.DeepCopy(), func(st *opsv1alpha1.SupportTeam) {
		st.Spec.QueueBackend = &opsv1alpha1.QueueBackend{ConfigMap: &opsv1alpha1.ConfigMapBackend{Name: "windows-tier1-routing-2"}}
	})
	if !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), qbLead+qbRefusal) {
		t.Errorf("the lead making the same change: got %v, want Forbidden with %q", err, qbLead+qbRefusal)
	}
	got := readyTeam(t, client.ObjectKeyFromObject(team), metav1.ConditionTrue)
	if got.Spec.QueueBackend == nil || got.Spec.QueueBackend.ConfigMap.Name != "windows-tier1-routing-1" {
		t.Errorf("queueBackend %+v, want the editor's", got.Spec.QueueBackend)
	}
}

// TestUnmarkedTokenSecretIsNeverRead: a platform engineer's backend names the
// restic password Secret as the RT token, on a loopback URL the API server
// accepts. The operator reads no value from it and sends nothing; once the
// backend names a Secret marked queue-token, the token does go (the
// control that shows the URL would have seen it).
func TestUnmarkedTokenSecretIsNeverRead(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t)
	qbSecret(t, ns, "restic", "password", qbResticPassword, nil)
	qbSecret(t, ns, "rt-token", "token", qbRTToken, qbTokenMark)
	qbBindClusterRole(t, ns, "supportstack-admin-role", qbPlatformEngineer)
	pe := actAs(t, qbPlatformEngineer, "")
	rt := newQBCatcher(t)

	team := sampleTeam(t, ns)
	team.Spec.QueueBackend = &opsv1alpha1.QueueBackend{RequestTracker: &opsv1alpha1.RequestTrackerBackend{
		URL: rt.URL, TokenSecretRef: opsv1alpha1.SecretKeyRef{Name: "restic", Key: "password"}}}
	if err := pe.Create(ctx, team); err != nil {
		t.Fatalf("a platform engineer cannot create a team with a backend: %v", err)
	}
	// The catcher closes with the test: stop the manager retrying it.
	t.Cleanup(func() { _ = k8sClient.Delete(ctx, team) })
	key := client.ObjectKeyFromObject(team)
	got := readyTeam(t, key, metav1.ConditionFalse)
	want := "queueBackend.requestTracker.tokenSecretRef: Secret restic is not marked for use as a queue token, so the operator " +
		"neither reads it nor sends anything to the Request Tracker URL; if it holds the RT token (and nothing else), mark it: " +
		"kubectl label secret restic -n " + ns + " ops.supportstack.io/secret-use=queue-token"
	for _, c := range []string{opsv1alpha1.ConditionReady, opsv1alpha1.ConditionQueuesSynced} {
		if cond := condition(got, c); cond == nil || cond.Reason != opsv1alpha1.ReasonSecretNotMarked || cond.Message != want {
			t.Errorf("%s = %+v, want %s: %s", c, cond, opsv1alpha1.ReasonSecretNotMarked, want)
		}
	}
	qbHasWarning(t, key, opsv1alpha1.ReasonSecretNotMarked)
	if logs := qbReconcileLogged(t, key); strings.Contains(logs, qbResticPassword) {
		t.Errorf("the restic password is in the reconciler's log:\n%s", logs)
	}
	rt.assertUntouched(t)
	qbAssertNowhere(t, key, qbResticPassword)

	// The control: a marked Secret's token is sent.
	if err := update(t, pe, team, func(st *opsv1alpha1.SupportTeam) {
		st.Spec.QueueBackend.RequestTracker.TokenSecretRef = opsv1alpha1.SecretKeyRef{Name: "rt-token", Key: "token"}
	}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 20*time.Second, func() error {
		if _, auth := rt.seen(); len(auth) == 0 || auth[0] != "token "+qbRTToken {
			return fmt.Errorf("Authorization headers %q, want the marked token", auth)
		}
		return nil
	})
	// The catcher answers 503: the backend is unavailable.
	eventually(t, 20*time.Second, func() error {
		if err := k8sClient.Get(ctx, key, got); err != nil {
			return err
		}
		if c := condition(got, opsv1alpha1.ConditionReady); c == nil || c.Reason != opsv1alpha1.ReasonBackendUnavailable {
			return fmt.Errorf("Ready = %+v, want %s", c, opsv1alpha1.ReasonBackendUnavailable)
		}
		return nil
	})
	if _, auth := rt.seen(); strings.Contains(strings.Join(auth, " "), qbResticPassword) {
		t.Error("the restic password reached the URL")
	}
	qbAssertNowhere(t, key, qbResticPassword, qbRTToken)
}

// TestPlainHTTPQueueBackendRefused: a marked token Secret and a plain http
// URL to a host that is not loopback: the CRD refuses the team.
func TestPlainHTTPQueueBackendRefused(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t)
	qbSecret(t, ns, "rt-token", "token", qbRTToken, qbTokenMark)
	qbBindClusterRole(t, ns, "supportstack-admin-role", qbPlatformEngineer)
	pe := actAs(t, qbPlatformEngineer, "")
	const want = "must be an https URL such as https://rt.example.com: the RT token would travel in the clear over http, " +
		"which is accepted only for a loopback host (localhost, 127.0.0.0/8, [::1]) in tests"
	for _, url := range []string{"http://rt.example.com", "http://10.0.0.7:8080", "http://localhost.example.com"} {
		t.Run(url, func(t *testing.T) {
			team := sampleTeam(t, ns)
			team.Spec.QueueBackend = &opsv1alpha1.QueueBackend{RequestTracker: &opsv1alpha1.RequestTrackerBackend{
				URL: url, TokenSecretRef: opsv1alpha1.SecretKeyRef{Name: "rt-token", Key: "token"}}}
			err := pe.Create(ctx, team)
			if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), want) {
				t.Fatalf("got %v, want Invalid with %q", err, want)
			}
			t.Logf("refused: %v", err)
		})
	}
	if err := k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "windows-tier1"}, &opsv1alpha1.SupportTeam{}); !apierrors.IsNotFound(err) {
		t.Errorf("a refused team exists: %v", err)
	}
}

// TestUnownedConfigMapNotAdopted: the routing ConfigMap's name is taken by a
// ConfigMap the team does not control (one even labelled as the
// operator's, so it sits in the manager's cache). The operator neither
// writes nor adopts it, says so, and the team's lead gets no read access to
// it; a free name then works.
func TestUnownedConfigMapNotAdopted(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t)
	qbBindClusterRole(t, ns, "supportstack-admin-role", qbPlatformEngineer)
	pe := actAs(t, qbPlatformEngineer, "")
	const secretSetting = "db-password=do-not-overwrite"
	theirs := map[string]*corev1.ConfigMap{
		"helpdesk-settings": {ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "helpdesk-settings"}},
		"forged-label": {ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "forged-label",
			Labels: map[string]string{opsv1alpha1.LabelManagedBy: opsv1alpha1.ManagedByValue}}},
		// The default name <team>-queues, made before the team.
		"windows-tier1-queues": {ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "windows-tier1-queues"}},
	}
	for _, cm := range theirs {
		cm.Data = map[string]string{"settings": secretSetting}
		if err := k8sClient.Create(ctx, cm); err != nil {
			t.Fatal(err)
		}
	}

	team := sampleTeam(t, ns)
	if err := pe.Create(ctx, team); err != nil {
		t.Fatal(err)
	}
	key := client.ObjectKeyFromObject(team)
	alice := actAs(t, qbLead, "")
	eventually(t, 20*time.Second, func() error { return alice.Get(ctx, key, &opsv1alpha1.SupportTeam{}) })

	for _, name := range []string{"windows-tier1-queues", "helpdesk-settings", "forged-label"} {
		t.Run(name, func(t *testing.T) {
			field := "queueBackend.configMap.name"
			if name == "windows-tier1-queues" {
				field = "the routing ConfigMap (default name <team>-queues)"
			} else if err := update(t, pe, team, func(st *opsv1alpha1.SupportTeam) {
				st.Spec.QueueBackend = &opsv1alpha1.QueueBackend{ConfigMap: &opsv1alpha1.ConfigMapBackend{Name: name}}
			}); err != nil {
				t.Fatal(err)
			}
			got := readyTeam(t, key, metav1.ConditionFalse)
			want := field + ": ConfigMap " + name + " already exists in namespace " + ns + " and is not controlled by SupportTeam windows-tier1: " +
				"the operator neither overwrites nor adopts a ConfigMap it did not create; " +
				"set queueBackend.configMap.name to a name that is free, or delete ConfigMap " + name + " if it is a leftover"
			if c := condition(got, opsv1alpha1.ConditionReady); c.Reason != opsv1alpha1.ReasonConfigMapNotOwned || c.Message != want {
				t.Errorf("Ready = %s: %s\nwant %s: %s", c.Reason, c.Message, opsv1alpha1.ReasonConfigMapNotOwned, want)
			}
			qbHasWarning(t, key, opsv1alpha1.ReasonConfigMapNotOwned)
			// The lead's Role no longer names a ConfigMap, and she cannot read this one.
			eventually(t, 10*time.Second, func() error {
				var role rbacv1.Role
				if err := k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "windows-tier1-team-leads"}, &role); err != nil {
					return err
				}
				if len(role.Rules) != 1 || role.Rules[0].Resources[0] != "supportteams" {
					return fmt.Errorf("lead role rules %+v, want the team only", role.Rules)
				}
				return nil
			})
			if err := alice.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, &corev1.ConfigMap{}); !apierrors.IsForbidden(err) {
				t.Errorf("the lead reading ConfigMap %s: got %v, want Forbidden", name, err)
			}
		})
	}

	// None of them was touched: same resourceVersion, data, no owner.
	time.Sleep(time.Second)
	for name, before := range theirs {
		var now corev1.ConfigMap
		if err := k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, &now); err != nil {
			t.Fatal(err)
		}
		if now.ResourceVersion != before.ResourceVersion || now.Data["settings"] != secretSetting || len(now.Data) != 1 || len(now.OwnerReferences) != 0 {
			t.Errorf("ConfigMap %s was written: resourceVersion %s (was %s), data keys %v, owners %+v",
				name, now.ResourceVersion, before.ResourceVersion, keys(now.Data), now.OwnerReferences)
		}
	}

	// The control: a free name is created, owned, and readable by the lead.
	if err := update(t, pe, team, func(st *opsv1alpha1.SupportTeam) {
		st.Spec.QueueBackend = &opsv1alpha1.QueueBackend{ConfigMap: &opsv1alpha1.ConfigMapBackend{Name: "windows-tier1-routing"}}
	}); err != nil {
		t.Fatal(err)
	}
	got := readyTeam(t, key, metav1.ConditionTrue)
	var routing corev1.ConfigMap
	eventually(t, 10*time.Second, func() error {
		return alice.Get(ctx, client.ObjectKey{Namespace: ns, Name: "windows-tier1-routing"}, &routing)
	})
	assertOwned(t, &routing, got)
}

// TestLeadCannotTakeOverRTQueue: in a real Request Tracker, team
// finance/payroll owns queue "payroll" and an RT admin made "facilities" by
// hand. The lead of a team whose backend a platform engineer pointed at that
// RT (with the platform's token), impersonated with only the leads' Role,
// adds queues of those names to her team, then drops them. Neither queue is
// changed, re-enabled or disabled; the team reports QueueNotOwned with a
// Warning event; the routing ConfigMap grants the team no rights on them;
// the team's own queues still sync; the token appears nowhere.
func TestLeadCannotTakeOverRTQueue(t *testing.T) {
	ctx := context.Background()
	rt := rttest.Start(t)
	platform := &queues.RequestTracker{BaseURL: rt.URL, Token: rt.Token, HTTP: &http.Client{Timeout: 30 * time.Second}}
	if _, err := platform.Sync(ctx, queues.RTDesired{Owner: "finance/payroll", Group: "supportstack-finance-payroll",
		Queues: []queues.RTQueue{{Name: "payroll", Description: "Email queue of team payroll"}}}); err != nil {
		t.Fatal(err)
	}
	if code, out := rt.Call(http.MethodPost, "/queue", map[string]any{"Name": "facilities", "Description": "made by hand"}); code != http.StatusCreated {
		t.Fatalf("creating facilities: %d %v", code, out)
	}
	theirs := []string{"facilities", "payroll"}
	snapshot := func() map[string]map[string]any {
		out := map[string]map[string]any{}
		for _, name := range theirs {
			code, q := rt.Call(http.MethodGet, "/queue/"+name, nil)
			if code != http.StatusOK {
				t.Fatalf("queue %s: %d", name, code)
			}
			out[name] = q
		}
		return out
	}
	before := snapshot()

	ns := newNamespace(t)
	qbSecret(t, ns, "rt-token", "token", rt.Token, qbTokenMark)
	team, alice := qbLeadTeam(t, ns, func(st *opsv1alpha1.SupportTeam) {
		st.Spec.QueueBackend = &opsv1alpha1.QueueBackend{RequestTracker: &opsv1alpha1.RequestTrackerBackend{
			URL: rt.URL, TokenSecretRef: opsv1alpha1.SecretKeyRef{Name: "rt-token", Key: "token"}}}
	})
	key := client.ObjectKeyFromObject(team)

	if err := update(t, alice, team.DeepCopy(), func(st *opsv1alpha1.SupportTeam) {
		for _, name := range theirs {
			q := *st.Spec.Queues[1].DeepCopy()
			q.Name = name
			st.Spec.Queues = append(st.Spec.Queues, q)
		}
	}); err != nil {
		t.Fatalf("the lead cannot add queues to her team: %v", err)
	}
	got := readyTeamWithin(t, key, metav1.ConditionFalse, rtSyncLimit)
	synced := condition(got, opsv1alpha1.ConditionQueuesSynced)
	want := fmt.Sprintf(`spec.queues facilities: Request Tracker queue facilities (id %v) already exists and was not created by SupportStack: `+
		`the operator neither changes, re-enables nor disables it. Rename the queue in spec.queues, or have an RT admin release it to this team `+
		`by starting its Description with "SupportStack %s/windows-tier1:"; spec.queues payroll: Request Tracker queue payroll (id %v) already exists `+
		`and belongs to another SupportStack team: the operator neither changes, re-enables nor disables it. Rename the queue in spec.queues, `+
		`or have an RT admin release it to this team by starting its Description with "SupportStack %s/windows-tier1:" (the team's other 2 queues are synced)`,
		before["facilities"]["id"], ns, before["payroll"]["id"], ns)
	if synced == nil || synced.Status != metav1.ConditionFalse || synced.Reason != opsv1alpha1.ReasonQueueNotOwned || synced.Message != want {
		t.Errorf("QueuesSynced = %+v\nwant False, %s: %s", synced, opsv1alpha1.ReasonQueueNotOwned, want)
	}
	qbHasWarning(t, key, opsv1alpha1.ReasonQueueNotOwned)
	// The team's own queues keep their Request Tracker ids meanwhile.
	for _, q := range got.Status.Queues {
		if own := q.Name == "windows-phone" || q.Name == "windows-escalations"; own != (q.ExternalID != "") {
			t.Errorf("queue %s has external id %q during QueueNotOwned", q.Name, q.ExternalID)
		}
	}
	if after := snapshot(); !reflect.DeepEqual(after, before) {
		t.Errorf("queues the team does not own changed:\nbefore %v\nafter  %v", before, after)
	}
	for _, name := range []string{"windows-phone", "windows-escalations"} {
		if code, q := rt.Call(http.MethodGet, "/queue/"+name, nil); code != http.StatusOK ||
			!strings.HasPrefix(fmt.Sprint(q["Description"]), queues.OwnerMarker(ns+"/windows-tier1")) {
			t.Errorf("the team's own queue %s: %d %v", name, code, q)
		}
	}
	var cm corev1.ConfigMap
	if err := k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "windows-tier1-queues"}, &cm); err != nil {
		t.Fatal(err)
	}
	for _, name := range theirs {
		if strings.Contains(cm.Data[RTInitialDataKey], "'"+name+"'") || strings.Contains(cm.Data[RTSiteConfigKey], "'"+name+"'") {
			t.Errorf("the routing ConfigMap gives the team rights or a service level on %s:\n%s", name, cm.Data[RTInitialDataKey])
		}
	}
	if !strings.Contains(cm.Data[RTInitialDataKey], "Queue => 'windows-escalations'") {
		t.Errorf("the team's own queue has no rights:\n%s", cm.Data[RTInitialDataKey])
	}

	// She drops them again: nothing is disabled, the team is Ready.
	if err := update(t, alice, team.DeepCopy(), func(st *opsv1alpha1.SupportTeam) { st.Spec.Queues = st.Spec.Queues[:2] }); err != nil {
		t.Fatalf("the lead cannot remove queues: %v", err)
	}
	readyTeamWithin(t, key, metav1.ConditionTrue, rtSyncLimit)
	if after := snapshot(); !reflect.DeepEqual(after, before) {
		t.Errorf("queues the team does not own changed after it dropped them:\nbefore %v\nafter  %v", before, after)
	}
	qbAssertNowhere(t, key, rt.Token)
}
