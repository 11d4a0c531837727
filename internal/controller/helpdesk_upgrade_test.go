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
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	opsv1alpha1 "github.com/supportstack/operator/api/v1alpha1"
	"github.com/supportstack/operator/internal/resources"
)

// runRTImage restarts the manager with --rt-image image ("" for the
// default); the test's end puts the default back.
func runRTImage(t *testing.T, image string, whileStopped ...func()) {
	t.Helper()
	start := stopManagerFor(t)
	for _, f := range whileStopped {
		f()
	}
	testRTImage = image
	start()
	t.Cleanup(func() {
		if testRTImage != "" {
			testRTImage = ""
			restartManager(t)
		}
	})
}

// hdWebImage is the image of the web Deployment's pods.
func hdWebImage(t *testing.T, ns, name string) string {
	t.Helper()
	var web appsv1.Deployment
	hdGet(t, ns, name+"-web", &web)
	return web.Spec.Template.Spec.Containers[0].Image
}

// hdSchemaNotReady checks that SchemaReady is False with reason and a
// part of its message.
func hdSchemaNotReady(reason, message string) func(*opsv1alpha1.HelpDesk) error {
	return func(hd *opsv1alpha1.HelpDesk) error {
		c := meta.FindStatusCondition(hd.Status.Conditions, opsv1alpha1.ConditionSchemaReady)
		if c == nil || c.Status != metav1.ConditionFalse || c.Reason != reason || !strings.Contains(c.Message, message) {
			return fmt.Errorf("SchemaReady %+v, want False %s with %q", c, reason, message)
		}
		return nil
	}
}

// TestHelpDeskImageUpgrade: a new RT image (the operator's --rt-image)
// takes a protected help desk through a backup of its own first, then RT's
// schema upgrade Job with the new image, and only then rolls the web pods;
// every step survives a restart of the operator. A failed backup stops the
// next upgrade before its Job, the pods keeping their image. A help desk
// without protection is upgraded with a Warning that no backup was taken.
func TestHelpDeskImageUpgrade(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t)
	createPolicyInputs(t, ns)
	hd := hdReady(t, ns, "up", func(h *opsv1alpha1.HelpDesk) { h.Spec.Protection = protection(false) })
	key := client.ObjectKeyFromObject(hd)
	if hd.Status.Image != resources.DefaultRTImage || hdWebImage(t, ns, "up") != resources.DefaultRTImage {
		t.Fatalf("before: status.image %q, web %q", hd.Status.Image, hdWebImage(t, ns, "up"))
	}
	unprotected := hdReady(t, ns, "bare", nil)

	const next = "docker.io/supportstack/rt:5-next"
	// bare stands for a help desk set up before status.image was kept: its
	// schema is taken to be of the image its pods run, not of the
	// operator's new one (which would roll them with no upgrade).
	runRTImage(t, next, func() {
		if err := k8sClient.Get(ctx, client.ObjectKeyFromObject(unprotected), unprotected); err != nil {
			t.Fatal(err)
		}
		unprotected.Status.Image = ""
		if err := k8sClient.Status().Update(ctx, unprotected); err != nil {
			t.Fatal(err)
		}
	})
	// Unprotected: the upgrade Job at once, with a Warning (checked before
	// the manager restarts again: an event not yet sent goes with it).
	bareKey := client.ObjectKeyFromObject(unprotected)
	bareUpgrade := &batchv1.Job{}
	eventually(t, hdWait, func() error {
		return k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: resources.HelpDeskNames{HelpDesk: "bare"}.Upgrade(resources.DefaultRTImage, next)}, bareUpgrade)
	})
	hdWantEvent(t, ns, "bare", opsv1alpha1.ReasonUpgradeWithoutBackup, "with no backup first")
	completeJob(t, bareUpgrade, false, "rt-upgrade: refused", fakeClock.Now())
	hdWaitFor(t, bareKey, hdSchemaNotReady(opsv1alpha1.ReasonUpgradeFailed, "the upgrade Job "+bareUpgrade.Name))
	if got := hdWebImage(t, ns, "bare"); got != resources.DefaultRTImage {
		t.Errorf("after a failed upgrade the web pods run %s, want the old image", got)
	}

	hdWaitFor(t, key, hdSchemaNotReady(opsv1alpha1.ReasonProgressing, "backing up first: waiting for Job up-backup-now-"))
	var policy opsv1alpha1.BackupPolicy
	hdGet(t, ns, "up", &policy)
	token := policy.Annotations[resources.AnnotationBackupNow]
	if !strings.HasPrefix(token, "upgrade-") {
		t.Fatalf("the BackupPolicy's %s is %q", resources.AnnotationBackupNow, token)
	}
	restartManager(t)
	backupJob := &batchv1.Job{}
	eventually(t, hdWait, func() error {
		return k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: resources.BackupNowJobName("up-backup", "", token)}, backupJob)
	})
	hdAbsent(t, ns, resources.HelpDeskNames{HelpDesk: "up"}.Upgrade(resources.DefaultRTImage, next), &batchv1.Job{}, "before the backup finished")
	if got := hdWebImage(t, ns, "up"); got != resources.DefaultRTImage {
		t.Errorf("the web pods run %s before the upgrade", got)
	}

	completeJob(t, backupJob, true, agentMessage(t, true, fakeClock.Now(), ""), fakeClock.Now())
	upgradeName := resources.HelpDeskNames{HelpDesk: "up"}.Upgrade(resources.DefaultRTImage, next)
	hdWaitFor(t, key, hdSchemaNotReady(opsv1alpha1.ReasonProgressing, "waiting for the upgrade Job "+upgradeName))
	upgrade := &batchv1.Job{}
	hdGet(t, ns, upgradeName, upgrade)
	c := upgrade.Spec.Template.Spec.Containers[0]
	db := resources.ManagedDatabaseConn(ns, resources.HelpDeskNames{HelpDesk: "up"})
	if c.Image != next || !slices.Equal(c.Command, resources.AwaitDatabase(db, "/bin/sh", "-c", resources.RTUpgradeScript)) || upgrade.Labels["app.kubernetes.io/component"] != "schema" || *upgrade.Spec.BackoffLimit != 0 {
		t.Errorf("the upgrade Job: image %s, command %q, labels %v, backoffLimit %d", c.Image, c.Command, upgrade.Labels, *upgrade.Spec.BackoffLimit)
	}
	hdCheckOwned(t, upgrade, hd)
	restartManager(t)
	if got := hdWebImage(t, ns, "up"); got != resources.DefaultRTImage {
		t.Errorf("the web pods run %s while the schema is upgraded", got)
	}

	completeJob(t, upgrade, true, "rt-upgrade: done", fakeClock.Now())
	eventually(t, hdWait, func() error {
		if got := hdWebImage(t, ns, "up"); got != next {
			return fmt.Errorf("the web pods run %s, want %s", got, next)
		}
		return nil
	})
	hdReadyWeb(t, ns, "up")
	hd = hdWaitFor(t, key, hdCondition(opsv1alpha1.ConditionReady, metav1.ConditionTrue, opsv1alpha1.ReasonReconciled))
	if hd.Status.Image != next {
		t.Errorf("status.image %q after the upgrade, want %s", hd.Status.Image, next)
	}
	hdWantEvent(t, ns, "up", opsv1alpha1.ReasonUpgraded, "RT's schema is image "+next+"'s")

	// The next image's backup fails: no upgrade Job, the pods keep next.
	const third = "docker.io/supportstack/rt:5-third"
	runRTImage(t, third)
	hdWaitFor(t, key, hdSchemaNotReady(opsv1alpha1.ReasonProgressing, "backing up first"))
	hdGet(t, ns, "up", &policy)
	failedJob := &batchv1.Job{}
	eventually(t, hdWait, func() error {
		return k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: resources.BackupNowJobName("up-backup", "", policy.Annotations[resources.AnnotationBackupNow])}, failedJob)
	})
	completeJob(t, failedJob, false, agentMessage(t, false, fakeClock.Now(), "repository unreachable"), fakeClock.Now())
	hdWaitFor(t, key, hdSchemaNotReady(opsv1alpha1.ReasonUpgradeFailed, "stopped before it began"))
	if err := k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: resources.HelpDeskNames{HelpDesk: "up"}.Upgrade(next, third)}, &batchv1.Job{}); !apierrors.IsNotFound(err) {
		t.Errorf("an upgrade Job after a failed backup: %v", err)
	}
	if got := hdWebImage(t, ns, "up"); got != next {
		t.Errorf("after a failed backup the web pods run %s, want %s", got, next)
	}

	// Removing the annotation is a new attempt: a new token, a new backup
	// Job, and once it succeeds the upgrade from next to third.
	failedToken := policy.Annotations[resources.AnnotationBackupNow]
	if err := update(t, k8sClient, &policy, func(p *opsv1alpha1.BackupPolicy) { delete(p.Annotations, resources.AnnotationBackupNow) }); err != nil {
		t.Fatal(err)
	}
	retry := &batchv1.Job{}
	eventually(t, hdWait, func() error {
		hdGet(t, ns, "up", &policy)
		token := policy.Annotations[resources.AnnotationBackupNow]
		if token == "" || token == failedToken {
			return fmt.Errorf("the backup-now token after the retry: %q", token)
		}
		return k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: resources.BackupNowJobName("up-backup", "", token)}, retry)
	})
	completeJob(t, retry, true, agentMessage(t, true, fakeClock.Now(), ""), fakeClock.Now())
	eventually(t, hdWait, func() error {
		return k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: resources.HelpDeskNames{HelpDesk: "up"}.Upgrade(next, third)}, &batchv1.Job{})
	})
}

// hdWantEvent waits for an event of the HelpDesk with reason whose note has text.
func hdWantEvent(t *testing.T, ns, name, reason, text string) {
	t.Helper()
	waitNotes(t, ns, name, reason, fmt.Sprintf("one among them saying %q", text), func(notes []string) bool {
		return slices.ContainsFunc(notes, func(note string) bool { return strings.Contains(note, text) })
	})
}
