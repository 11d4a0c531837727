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
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"strconv"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	opsv1alpha1 "github.com/supportstack/operator/api/v1alpha1"
	"github.com/supportstack/operator/internal/resources"
)

// image is the RT image the help desks run: the operator's (--rt-image),
// resources.DefaultRTImage when not set.
func (r *HelpDeskReconciler) image() string {
	if r.RTImage == "" {
		return resources.DefaultRTImage
	}
	return r.RTImage
}

// jobOnce creates job, controlled by the help desk, unless it exists, and
// returns it as the cache holds it (without its pods' template) or as
// created. A Job of that name the help desk does not control (a deleted
// HelpDesk's, whose completion says nothing of this one's database) is
// refused (notForeign).
func (r *HelpDeskReconciler) jobOnce(ctx context.Context, hd *opsv1alpha1.HelpDesk, job *batchv1.Job) (*batchv1.Job, bool, error) {
	if err := r.notForeign(ctx, hd, job); err != nil {
		return nil, false, err
	}
	existing := &batchv1.Job{}
	err := r.Get(ctx, client.ObjectKeyFromObject(job), existing)
	if !apierrors.IsNotFound(err) {
		return existing, false, err
	}
	if err := controllerutil.SetControllerReference(hd, job, r.Scheme()); err != nil {
		return nil, false, err
	}
	if err := r.Create(ctx, job); err != nil && !apierrors.IsAlreadyExists(err) {
		return nil, false, fmt.Errorf("creating Job %s: %w", job.Name, err)
	}
	return job, true, nil
}

// runningImage is the image RT's web pods run now, "" without a web
// Deployment: for a help desk set up before status.image was kept, the
// image its schema is taken to be of (not the operator's, which may be
// new: that would roll the pods with no backup and no upgrade).
func (r *HelpDeskReconciler) runningImage(ctx context.Context, hd *opsv1alpha1.HelpDesk, names resources.HelpDeskNames) (string, error) {
	web := &appsv1.Deployment{}
	err := r.Get(ctx, types.NamespacedName{Namespace: hd.Namespace, Name: names.Web()}, web)
	if apierrors.IsNotFound(err) || (err == nil && (!metav1.IsControlledBy(web, hd) || len(web.Spec.Template.Spec.Containers) == 0)) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	return web.Spec.Template.Spec.Containers[0].Image, nil
}

// upgrade carries a help desk whose schema is another image's
// (status.image) to image, in order: a backup of the help desk first (with
// spec.protection: a backup-now of its BackupPolicy, waited for), then
// RT's schema upgrade with the new image (RTUpgradeJob, once per image),
// and only then is status.image moved, so that RT's pods (web, mail
// gateway, periodic jobs), which apply leaves alone until the schema is
// ready, roll to it. A failed backup or upgrade stops there, saying so:
// the pods keep the image they run. It returns true when the schema is
// image's.
func (r *HelpDeskReconciler) upgrade(ctx context.Context, hd *opsv1alpha1.HelpDesk, names resources.HelpDeskNames, db resources.HelpDeskDatabaseConn, image string) (bool, error) {
	waiting := func(msg string) (bool, error) {
		setCondition(hd, opsv1alpha1.ConditionSchemaReady, metav1.ConditionFalse, opsv1alpha1.ReasonProgressing, msg)
		setCondition(hd, opsv1alpha1.ConditionReady, metav1.ConditionFalse, opsv1alpha1.ReasonProgressing, msg)
		return false, nil
	}
	failed := func(msg string) (bool, error) {
		setCondition(hd, opsv1alpha1.ConditionSchemaReady, metav1.ConditionFalse, opsv1alpha1.ReasonUpgradeFailed, msg)
		setCondition(hd, opsv1alpha1.ConditionReady, metav1.ConditionFalse, opsv1alpha1.ReasonUpgradeFailed, msg)
		return false, nil
	}
	from := hd.Status.Image
	if hd.Spec.Protection != nil {
		backup, err := r.backupBeforeUpgrade(ctx, hd, names, db, image)
		if err != nil {
			return false, err
		}
		switch backup.state {
		case backupRunning:
			return waiting(fmt.Sprintf("upgrading from image %s to %s: %s", from, image, backup.msg))
		case backupFailed:
			return failed(fmt.Sprintf("the upgrade from image %s to %s stopped before it began: %s; RT's pods keep %s. "+
				"Fix the backup and delete the BackupPolicy's annotation %s to back up again", from, image, backup.msg, from, resources.AnnotationBackupNow))
		}
	}

	job := resources.RTUpgradeJob(helpDeskRTObjects(hd, image, db.Password, names.Upgrade(from, image), "schema"), db)
	existing, created, err := r.jobOnce(ctx, hd, job)
	switch {
	case err != nil:
		return false, err
	case created:
		if hd.Spec.Protection == nil {
			r.Recorder.Eventf(hd, job, corev1.EventTypeWarning, opsv1alpha1.ReasonUpgradeWithoutBackup, "Upgrade",
				"upgrading RT's schema from image %s to %s with no backup first: the HelpDesk has no spec.protection", from, image)
		}
		r.Recorder.Eventf(hd, job, corev1.EventTypeNormal, opsv1alpha1.ReasonApplied, "Upgrade",
			"created Job %s: RT's schema upgrade from image %s to %s", job.Name, from, image)
		return waiting(fmt.Sprintf("upgrading from image %s to %s: waiting for the upgrade Job %s", from, image, job.Name))
	}
	switch done := finishedCondition(existing); {
	case done == nil:
		return waiting(fmt.Sprintf("upgrading from image %s to %s: waiting for the upgrade Job %s", from, image, job.Name))
	case done.Type == batchv1.JobFailed:
		return failed(fmt.Sprintf("the upgrade Job %s from image %s to %s failed (%s: %s); RT's pods keep %s. Its log says why: kubectl logs -n %s job/%s; "+
			"restore the backup, or fix the database and delete the Job to run it again", job.Name, from, image, done.Reason, done.Message, from, hd.Namespace, job.Name))
	}
	hd.Status.Image = image
	r.Recorder.Eventf(hd, existing, corev1.EventTypeNormal, opsv1alpha1.ReasonUpgraded, "Upgrade",
		"RT's schema is image %s's (Job %s): RT's pods roll to it", image, job.Name)
	setCondition(hd, opsv1alpha1.ConditionSchemaReady, metav1.ConditionTrue, opsv1alpha1.ReasonAvailable, "the database holds RT "+hd.Spec.Version+"'s schema")
	return true, nil
}

type backupState int

const (
	backupRunning backupState = iota
	backupDone
	backupFailed
)

type upgradeBackup struct {
	state backupState
	msg   string
}

// backupBeforeUpgrade asks the help desk's BackupPolicy for a backup of
// its own before the upgrade to image (the backup-now annotation, one
// token per image and attempt: upgrade-<hash>-<time>) and reads how
// it went from the policy's recent backups. A policy not made yet (protection added with the new image) is
// made first.
func (r *HelpDeskReconciler) backupBeforeUpgrade(ctx context.Context, hd *opsv1alpha1.HelpDesk, names resources.HelpDeskNames, db resources.HelpDeskDatabaseConn, image string) (upgradeBackup, error) {
	sum := sha256.Sum256([]byte(image))
	// One token per image and attempt: the same token again would start
	// no Job (the policy keeps its last one), so after a failed backup
	// whoever removes the annotation gets a new attempt.
	prefix := "upgrade-" + hex.EncodeToString(sum[:])[:10] + "-"
	policy := &opsv1alpha1.BackupPolicy{}
	err := r.Get(ctx, types.NamespacedName{Namespace: hd.Namespace, Name: hd.Name}, policy)
	if apierrors.IsNotFound(err) || (err == nil && !metav1.IsControlledBy(policy, hd)) {
		if err := r.protect(ctx, hd, names, db); err != nil {
			return upgradeBackup{}, err
		}
		return upgradeBackup{backupRunning, "waiting for the BackupPolicy " + hd.Name + " to back up the help desk first"}, nil
	}
	if err != nil {
		return upgradeBackup{}, err
	}
	token := policy.Annotations[resources.AnnotationBackupNow]
	if !strings.HasPrefix(token, prefix) {
		token = prefix + strconv.FormatInt(time.Now().UnixNano(), 36)
		before := policy.DeepCopy()
		policy.Annotations = maps.Clone(policy.Annotations)
		if policy.Annotations == nil {
			policy.Annotations = map[string]string{}
		}
		policy.Annotations[resources.AnnotationBackupNow] = token
		if err := r.Patch(ctx, policy, client.MergeFrom(before)); err != nil {
			return upgradeBackup{}, fmt.Errorf("asking BackupPolicy %s for a backup before the upgrade: %w", policy.Name, err)
		}
		r.Recorder.Eventf(hd, policy, corev1.EventTypeNormal, opsv1alpha1.ReasonBackupStarted, "Upgrade",
			"backing up before the upgrade to image %s: BackupPolicy %s, %s=%s", image, policy.Name, resources.AnnotationBackupNow, token)
	}
	job := resources.BackupNowJobName(resources.BackupPartName(policy, 1), "", token)
	for _, b := range policy.Status.RecentBackups {
		if b.JobName != job {
			continue
		}
		if b.Result == opsv1alpha1.BackupSucceeded {
			return upgradeBackup{backupDone, ""}, nil
		}
		return upgradeBackup{backupFailed, fmt.Sprintf("the backup before it (Job %s of BackupPolicy %s) failed: %s", job, policy.Name, b.Message)}, nil
	}
	return upgradeBackup{backupRunning, fmt.Sprintf("backing up first: waiting for Job %s of BackupPolicy %s", job, policy.Name)}, nil
}
