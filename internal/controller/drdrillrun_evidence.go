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
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	opsv1alpha1 "github.com/supportstack/operator/api/v1alpha1"
	"github.com/supportstack/operator/internal/evidence"
)

// ackGrace is how long a new run waits for its drill's status to list it:
// the DRDrill controller acknowledges a run right after creating it.
const ackGrace = 15 * time.Second

// errNotCreatedByOperator: the run is not one its drill created.
var errNotCreatedByOperator = errors.New("not created by the operator")

// notCreatedMessage says what a refused run is and what to do instead.
func notCreatedMessage(run *opsv1alpha1.DRDrillRun) string {
	return fmt.Sprintf("this run was not started by the operator for drill %s: create runs by annotating the DRDrill with %s", run.Spec.DrillName, AnnotationRunNow)
}

// acceptingDrill reads the run's drill through reader and returns it when
// the run is the drill's own: controlled by it (same UID) and listed by
// name and UID in its status.createdRuns, which only the operator writes.
// Otherwise the error is errNotCreatedByOperator. A cached copy can only
// be older than the API server's, and the operator never lists a UID it
// did not create, so the cache's yes is as good as the API server's; its
// no is asked again of the API server (admit).
func acceptingDrill(ctx context.Context, reader client.Reader, run *opsv1alpha1.DRDrillRun) (*opsv1alpha1.DRDrill, error) {
	drill := &opsv1alpha1.DRDrill{}
	if err := reader.Get(ctx, types.NamespacedName{Namespace: run.Namespace, Name: run.Spec.DrillName}, drill); apierrors.IsNotFound(err) {
		return nil, errNotCreatedByOperator
	} else if err != nil {
		return nil, err
	}
	owner := metav1.GetControllerOf(run)
	if owner == nil || owner.Kind != "DRDrill" || owner.Name != drill.Name || owner.UID != drill.UID || !createdBy(drill, run) {
		return nil, errNotCreatedByOperator
	}
	return drill, nil
}

// createdBy says whether the drill's status lists the run by name and UID.
func createdBy(drill *opsv1alpha1.DRDrill, run *opsv1alpha1.DRDrillRun) bool {
	for _, c := range drill.Status.CreatedRuns {
		if c.Name == run.Name && c.UID == run.UID {
			return true
		}
	}
	return false
}

// recordEvidence writes the run's report into an immutable ConfigMap in
// the drill's namespace, chained to the drill's evidence head (its status,
// which only the operator writes), signed with the key the DRDrill names
// (never the run's copy), then moves the head to it. A ConfigMap of that
// name is taken as this run's only when it holds exactly the record this
// run writes (an interrupted earlier attempt); anything else is refused.
func (r *DRDrillRunReconciler) recordEvidence(ctx context.Context, run *opsv1alpha1.DRDrillRun) error {
	defer r.drills.lock(run.Namespace + "/" + run.Spec.DrillName)()
	drill, err := acceptingDrill(ctx, r.APIReader, run)
	if err != nil {
		return err
	}
	name := evidence.ConfigMapName(run.Name)
	var existing corev1.ConfigMap
	err = r.APIReader.Get(ctx, types.NamespacedName{Namespace: run.Namespace, Name: name}, &existing)
	if err != nil && !apierrors.IsNotFound(err) {
		return err
	}
	if h := drill.Status.EvidenceHead; err == nil && h != nil && h.ConfigMapName == name && h.Run == run.Name {
		// Recorded, and the head moved to it, before an interruption.
		rec, _, perr := evidence.FromConfigMap(&existing)
		if perr == nil && rec.SHA256 == h.SHA256 {
			r.setEvidence(run, rec)
			return nil
		}
	}
	key, kerr := signingKey(ctx, r.APIReader, run.Namespace, drill.Spec.Evidence)
	if kerr != nil {
		return kerr
	}
	report := evidence.ReportOf(run, r.Version)
	report.DrillUID = string(drill.UID)
	rec := evidence.Seal(name, report, evidence.HeadFromStatus(drill.Status.EvidenceHead), key)
	rec.Procedure = evidence.ProcedureJSON(run.Spec.DrillProcedure)
	cm := evidence.ToConfigMap(run, rec)
	if err == nil {
		if !equality.Semantic.DeepEqual(existing.Data, cm.Data) || !equality.Semantic.DeepEqual(existing.Labels, cm.Labels) {
			return fmt.Errorf("ConfigMap %s already exists and is not the record this run writes (someone else created it, or the chain moved on): "+
				"the evidence cannot be recorded until it is deleted", name)
		}
	} else if err := r.Create(ctx, cm); err != nil {
		return fmt.Errorf("creating evidence ConfigMap %s: %w", name, err)
	}
	if err := r.advanceHead(ctx, drill, run, rec); err != nil {
		return fmt.Errorf("moving drill %s's evidence head to %s: %w", drill.Name, name, err)
	}
	r.setEvidence(run, rec)
	r.Recorder.Eventf(run, cm, corev1.EventTypeNormal, opsv1alpha1.ReasonEvidenceRecorded, "RecordEvidence", "report %s recorded in ConfigMap %s (sha256 %.12s)", run.Name, name, rec.SHA256)
	return nil
}

// advanceHead moves the drill's evidence head to rec, only from the head
// rec was chained to (optimistic concurrency: a conflict is retried by the
// next reconcile, which finds the ConfigMap it created).
func (r *DRDrillRunReconciler) advanceHead(ctx context.Context, drill *opsv1alpha1.DRDrill, run *opsv1alpha1.DRDrillRun, rec evidence.Record) error {
	parsed, err := evidence.Parse(rec.Canonical)
	if err != nil {
		return err
	}
	return retry.RetryOnConflict(retry.DefaultBackoff, func() error {
		fresh := &opsv1alpha1.DRDrill{}
		if err := r.APIReader.Get(ctx, types.NamespacedName{Namespace: drill.Namespace, Name: drill.Name}, fresh); err != nil {
			return err
		}
		if fresh.UID != drill.UID || !equality.Semantic.DeepEqual(fresh.Status.EvidenceHead, drill.Status.EvidenceHead) {
			return errors.New("the head moved while the record was written")
		}
		fresh.Status.EvidenceHead = &opsv1alpha1.EvidenceHead{Sequence: parsed.Sequence, SHA256: rec.SHA256, ConfigMapName: rec.Name, Run: run.Name}
		return r.Status().Update(ctx, fresh)
	})
}

func (r *DRDrillRunReconciler) setEvidence(run *opsv1alpha1.DRDrillRun, rec evidence.Record) {
	prev := ""
	if rep, err := evidence.Parse(rec.Canonical); err == nil {
		prev = rep.PreviousReportSHA256
	}
	run.Status.Evidence = &opsv1alpha1.EvidenceRef{ConfigMapName: rec.Name, SHA256: rec.SHA256, PreviousSHA256: prev, Signature: rec.Signature}
	setCondition(run, opsv1alpha1.ConditionEvidenceRecorded, metav1.ConditionTrue, opsv1alpha1.ReasonEvidenceRecorded,
		fmt.Sprintf("report in ConfigMap %s, sha256 %s", rec.Name, rec.SHA256))
}
