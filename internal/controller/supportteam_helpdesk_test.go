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
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	opsv1alpha1 "github.com/supportstack/operator/api/v1alpha1"
	"github.com/supportstack/operator/internal/queues"
	"github.com/supportstack/operator/internal/queues/rttest"
	"github.com/supportstack/operator/internal/resources"
)

// teamRightsJobs are the rights Jobs of the team on the help desk.
func teamRightsJobs(t *testing.T, ns, helpDesk, team string) []batchv1.Job {
	t.Helper()
	var jobs batchv1.JobList
	if err := k8sClient.List(context.Background(), &jobs, client.InNamespace(ns), client.MatchingLabels{
		resources.LabelHelpDesk: helpDesk, "app.kubernetes.io/component": "rights", resources.LabelSupportTeam: team}); err != nil {
		t.Fatal(err)
	}
	return jobs.Items
}

// runRightsJob runs what the rights Job's pod runs (its command and its
// environment) against the local RT, as the pod would against the help
// desk's database.
func runRightsJob(t *testing.T, rt *rttest.Server, job batchv1.Job) string {
	t.Helper()
	c := job.Spec.Template.Spec.Containers[0]
	var env []string
	for _, e := range c.Env {
		if e.ValueFrom == nil {
			env = append(env, e.Name+"="+e.Value)
		}
	}
	out, err := rt.Command(env, c.Command[0], c.Command[1:]...)
	if err != nil {
		t.Fatalf("the rights Job's command: %v\n%s", err, out)
	}
	return out
}

// TestSupportTeamOnHelpDesk: a SupportTeam with queueBackend.helpDesk gets
// its queues, group, members and the group's rights in the help desk's RT
// (a real RT standing in for the web Service), signed in as the service
// user with the password the HelpDesk generated, and its leads can read
// that password nowhere: not the Secret, not the team's ConfigMap, status
// or events.
func TestSupportTeamOnHelpDesk(t *testing.T) {
	ctx := context.Background()
	rt := rttest.Start(t)
	ns := newNamespace(t)

	team := sampleTeam(t, ns)
	team.Spec.QueueBackend = &opsv1alpha1.QueueBackend{HelpDesk: &opsv1alpha1.HelpDeskBackend{Name: "desk"}}
	if err := k8sClient.Create(ctx, team); err != nil {
		t.Fatal(err)
	}
	key := client.ObjectKeyFromObject(team)
	got := readyTeam(t, key, metav1.ConditionFalse)
	if c := condition(got, opsv1alpha1.ConditionQueuesSynced); c.Reason != opsv1alpha1.ReasonHelpDeskNotFound ||
		!strings.Contains(c.Message, "there is no HelpDesk desk in namespace "+ns) {
		t.Errorf("before the HelpDesk exists: %s: %s", c.Reason, c.Message)
	}

	// The HelpDesk appears and comes up; the team follows it (a watch,
	// not a timer).
	hd := hdNew(ns, "desk")
	hdCreate(t, hd)
	eventually(t, 30*time.Second, func() error {
		if err := k8sClient.Get(ctx, key, got); err != nil {
			return err
		}
		if c := condition(got, opsv1alpha1.ConditionQueuesSynced); c == nil || c.Reason != opsv1alpha1.ReasonHelpDeskNotReady {
			return fmt.Errorf("QueuesSynced %v, want HelpDeskNotReady", c)
		}
		return nil
	})
	hdReadyDatabase(t, ns, "desk")
	completeJob(t, hdSchemaJob(t, ns, "desk"), true, "rt-schema: done", fakeClock.Now())
	hdReadyWeb(t, ns, "desk")
	hdWaitFor(t, client.ObjectKeyFromObject(hd), hdCondition(opsv1alpha1.ConditionReady, metav1.ConditionTrue, opsv1alpha1.ReasonReconciled))

	// The schema Job made RT's service user with the generated password:
	// here, the same program against the local RT.
	var creds corev1.Secret
	hdGet(t, ns, "desk-credentials", &creds)
	password := string(creds.Data[resources.HelpDeskOperatorPasswordKey])
	if !hdPassword.MatchString(password) {
		t.Fatalf("the generated operator password %q is not 24+ letters and digits", password)
	}
	schema := hdSchemaJob(t, ns, "desk")
	mounted := false
	for _, v := range schema.Spec.Template.Spec.Volumes {
		if s := v.Secret; s != nil && s.SecretName == "desk-credentials" && len(s.Items) == 1 && s.Items[0].Key == resources.HelpDeskOperatorPasswordKey {
			mounted = true
		}
	}
	if !mounted {
		t.Errorf("the schema Job does not mount %s", resources.HelpDeskOperatorPasswordKey)
	}
	file := filepath.Join(t.TempDir(), "password")
	if err := os.WriteFile(file, []byte(password), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := rt.Command([]string{resources.RTOperatorPasswordFileEnv + "=" + file}, "perl", "-e", resources.RTOperatorUserPerl); err != nil {
		t.Fatalf("the service user: %v\n%s", err, out)
	}

	// The operator's REST2 calls go to the help desk's web Service
	// (resources.HelpDeskWebURL); here, to the local RT. The HelpDesk
	// turning Ready wakes the team.
	if url := resources.HelpDeskWebURL(ns, resources.HelpDeskNames{HelpDesk: "desk"}); url != "http://desk-web."+ns+".svc" {
		t.Errorf("the web Service's URL %s", url)
	}
	helpDeskWebURLs.Store(ns, rt.URL)
	t.Cleanup(func() { helpDeskWebURLs.Delete(ns) })
	if err := update(t, k8sClient, hdWaitFor(t, client.ObjectKeyFromObject(hd), hdCondition(opsv1alpha1.ConditionReady, metav1.ConditionTrue, "")), func(h *opsv1alpha1.HelpDesk) {
		h.Annotations = map[string]string{"test": "wake the teams"}
	}); err != nil {
		t.Fatal(err)
	}
	group := queues.RTGroupName(team)
	synced := func(want string) {
		t.Helper()
		eventually(t, rtSyncLimit, func() error {
			if err := k8sClient.Get(ctx, key, got); err != nil {
				return err
			}
			c := condition(got, opsv1alpha1.ConditionQueuesSynced)
			if c == nil || c.Status != metav1.ConditionTrue || !strings.Contains(c.Message, want) || got.Status.ObservedGeneration != got.Generation {
				return fmt.Errorf("QueuesSynced %+v, want True with %q", c, want)
			}
			return nil
		})
	}
	synced("2 queues, group " + group + " and 5 members in the Request Tracker of HelpDesk desk; rights being set by Job desk-rights-")
	ids := make([]string, 0, len(got.Status.Queues))
	for _, q := range got.Status.Queues {
		code, rtQueue := rt.Call(http.MethodGet, "/queue/"+q.ExternalID, nil)
		if code != http.StatusOK || rtQueue["Name"] != q.Name {
			t.Errorf("RT queue %s: %d %v", q.ExternalID, code, rtQueue["Name"])
		}
		ids = append(ids, q.ExternalID)
	}
	members := strings.Fields(rt.Perl(`my $g = RT::Group->new(RT->SystemUser); $g->LoadUserDefinedGroup(q{` + group + `}) or die;
my $m = $g->UserMembersObj; while (my $u = $m->Next) { print $u->EmailAddress, "\n" }`))
	if len(members) != 5 {
		t.Errorf("RT group %s has members %v, want the team's 5", group, members)
	}

	// The rights Job: the help desk's RT pod, labelled as its rights
	// component and the team's, owned by the team; what its pod runs
	// gives the group exactly its rights on its queues.
	jobs := teamRightsJobs(t, ns, "desk", team.Name)
	if len(jobs) != 1 {
		t.Fatalf("%d rights Jobs, want 1", len(jobs))
	}
	job := jobs[0]
	if !metav1.IsControlledBy(&job, got) {
		t.Errorf("the rights Job is not controlled by the team: %v", job.OwnerReferences)
	}
	spec := job.Spec.Template.Spec
	if spec.Containers[0].Image != resources.DefaultRTImage || spec.Volumes[0].Secret == nil || spec.Volumes[0].Secret.SecretName != "desk-site-config" ||
		spec.AutomountServiceAccountToken == nil || *spec.AutomountServiceAccountToken {
		t.Errorf("the rights Job's pod: image %s, volumes %v", spec.Containers[0].Image, spec.Volumes)
	}
	for _, v := range spec.Volumes {
		if v.PersistentVolumeClaim != nil {
			t.Errorf("the rights Job mounts the claim %s", v.PersistentVolumeClaim.ClaimName)
		}
	}
	out := runRightsJob(t, rt, job)
	if !strings.Contains(out, "18 rights on 2 queues; 18 granted, 0 revoked") {
		t.Errorf("the rights Job's program: %s", out)
	}
	want := make([]string, 0, len(ids)*len(queues.RTQueueRights))
	for _, id := range ids {
		for _, right := range queues.RTQueueRights {
			want = append(want, "RT::Queue:"+id+"/"+right)
		}
	}
	slices.Sort(want)
	gotRights := strings.Fields(rt.Perl(`my $g = RT::Group->new(RT->SystemUser); $g->LoadUserDefinedGroup(q{` + group + `}) or die;
my $acl = RT::ACL->new(RT->SystemUser); $acl->Limit(FIELD => "PrincipalId", VALUE => $g->PrincipalObj->id);
while (my $ace = $acl->Next) { print $ace->ObjectType, ":", $ace->ObjectId, "/", $ace->RightName, "\n" }`))
	slices.Sort(gotRights)
	if !slices.Equal(gotRights, want) {
		t.Errorf("the group's rights:\n got %v\nwant %v", gotRights, want)
	}
	completeJob(t, &job, true, "", fakeClock.Now())
	synced("9 rights on each queue set by Job " + job.Name)

	// Steady state: another pass writes nothing to the API server (and
	// nothing to RT: the sync's own test counts that).
	counting, writes := countingClient(t)
	steady := &SupportTeamReconciler{Client: counting, APIReader: k8sClient, Recorder: &events.FakeRecorder{},
		HTTP: &http.Client{Timeout: 30 * time.Second}, Clock: fakeClock, HelpDeskWebURL: testHelpDeskWebURL}
	if _, err := steady.Reconcile(ctx, ctrl.Request{NamespacedName: key}); err != nil {
		t.Fatal(err)
	}
	if n := writes.Load(); n != 0 {
		t.Errorf("a reconcile in the steady state sent %d write requests", n)
	}

	// The team's lead: no Secret of the namespace, so not the password;
	// what the lead may read (the team, its ConfigMap) does not hold it.
	lead := actAs(t, "alice@example.com", "")
	if err := lead.Get(ctx, client.ObjectKey{Namespace: ns, Name: "desk-credentials"}, &corev1.Secret{}); !apierrors.IsForbidden(err) {
		t.Errorf("the lead reading desk-credentials: %v, want Forbidden", err)
	}
	if err := lead.List(ctx, &corev1.SecretList{}, client.InNamespace(ns)); !apierrors.IsForbidden(err) {
		t.Errorf("the lead listing Secrets: %v, want Forbidden", err)
	}
	var leadTeam opsv1alpha1.SupportTeam
	if err := lead.Get(ctx, key, &leadTeam); err != nil {
		t.Fatalf("the lead reading the team: %v", err)
	}
	var routing corev1.ConfigMap
	if err := lead.Get(ctx, client.ObjectKey{Namespace: ns, Name: resources.RoutingConfigMapName(team)}, &routing); err != nil {
		t.Fatalf("the lead reading the routing ConfigMap: %v", err)
	}
	var evs corev1.EventList
	if err := k8sClient.List(ctx, &evs, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	texts := make([]string, 0, len(leadTeam.Status.Conditions)+len(routing.Data)+len(evs.Items))
	for _, c := range leadTeam.Status.Conditions {
		texts = append(texts, c.Message)
	}
	for _, v := range routing.Data {
		texts = append(texts, v)
	}
	for _, e := range evs.Items {
		texts = append(texts, e.Message)
	}
	for _, text := range texts {
		if strings.Contains(text, password) {
			t.Fatal("the service user's password is in what a lead can read")
		}
	}

	// The team drops a queue: a new rights Job for the one left, the old
	// one goes, and its program revokes the dropped queue's rights.
	if err := update(t, k8sClient, got, func(s *opsv1alpha1.SupportTeam) {
		s.Spec.Queues = s.Spec.Queues[:1]
		s.Spec.Queues[0].Escalation = nil
	}); err != nil {
		t.Fatal(err)
	}
	// Each step waits on a reconcile that syncs RT first. The earlier Job
	// is deleted in the foreground and the next one made only once it is
	// gone (envtest runs no garbage collector: its foregroundDeletion
	// finalizer is what the collector would take away after the Job's pods).
	eventually(t, rtSyncLimit, func() error {
		var old batchv1.Job
		if err := k8sClient.Get(ctx, client.ObjectKeyFromObject(&job), &old); err != nil {
			return err
		}
		if old.DeletionTimestamp == nil || !slices.Contains(old.Finalizers, metav1.FinalizerDeleteDependents) {
			return fmt.Errorf("the earlier rights Job: deletion %v, finalizers %v", old.DeletionTimestamp, old.Finalizers)
		}
		if n := len(teamRightsJobs(t, ns, "desk", team.Name)); n != 1 {
			return fmt.Errorf("%d rights Jobs while the earlier one goes, want it alone", n)
		}
		return nil
	})
	eventually(t, rtSyncLimit, func() error {
		if err := k8sClient.Get(ctx, key, got); err != nil {
			return err
		}
		if c := condition(got, opsv1alpha1.ConditionQueuesSynced); !strings.Contains(c.Message, "rights waiting for the earlier rights Job "+job.Name+" to go") {
			return fmt.Errorf("QueuesSynced while the earlier Job goes: %s", c.Message)
		}
		return nil
	})
	if err := update(t, k8sClient, &job, func(j *batchv1.Job) { j.Finalizers = nil }); err != nil && !apierrors.IsNotFound(err) {
		t.Fatal(err)
	}
	var current []batchv1.Job
	eventually(t, rtSyncLimit, func() error {
		current = nil
		for _, j := range teamRightsJobs(t, ns, "desk", team.Name) {
			if j.DeletionTimestamp == nil {
				current = append(current, j)
			}
		}
		if len(current) != 1 || current[0].Name == job.Name {
			return fmt.Errorf("rights Jobs after dropping a queue: %d, want one new", len(current))
		}
		return nil
	})
	if out := runRightsJob(t, rt, current[0]); !strings.Contains(out, "9 rights on 1 queues; 0 granted, 9 revoked") {
		t.Errorf("the new rights Job's program: %s", out)
	}
	if err := k8sClient.Get(ctx, client.ObjectKeyFromObject(&job), &batchv1.Job{}); !apierrors.IsNotFound(err) {
		t.Errorf("the earlier rights Job %s: %v, want it gone", job.Name, err)
	}
}
