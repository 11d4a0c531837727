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

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	opsv1alpha1 "github.com/supportstack/operator/api/v1alpha1"
	"github.com/supportstack/operator/internal/evidence"
	"github.com/supportstack/operator/internal/resources"
)

// recordEvidence writes the run's report into an immutable ConfigMap in
// the drill's namespace, chained to the drill's previous report. A
// ConfigMap left by an interrupted earlier attempt is taken as it is.
func (r *DRDrillRunReconciler) recordEvidence(ctx context.Context, run *opsv1alpha1.DRDrillRun) error {
	name := evidence.ConfigMapName(run.Name)
	var existing corev1.ConfigMap
	err := r.APIReader.Get(ctx, types.NamespacedName{Namespace: run.Namespace, Name: name}, &existing)
	switch {
	case err == nil:
		if existing.Labels[resources.LabelDrillRun] != run.Name {
			return fmt.Errorf("ConfigMap %s exists and is not this run's evidence", name)
		}
		rec, _, err := evidence.FromConfigMap(&existing)
		if err != nil {
			return err
		}
		r.setEvidence(run, rec)
		return nil
	case !apierrors.IsNotFound(err):
		return err
	}
	key, err := signingKey(ctx, r.APIReader, run.Namespace, run.Spec.Evidence)
	if err != nil {
		return err
	}
	chain, err := evidence.LoadChain(ctx, r.APIReader, run.Namespace, run.Spec.DrillName)
	if err != nil {
		return err
	}
	var previous *evidence.Record
	if len(chain) > 0 {
		previous = &chain[len(chain)-1]
	}
	rec := evidence.Seal(name, evidence.ReportOf(run, r.Version), previous, key)
	cm := evidence.ToConfigMap(run, rec)
	if err := r.Create(ctx, cm); err != nil {
		return fmt.Errorf("creating evidence ConfigMap %s: %w", name, err)
	}
	r.setEvidence(run, rec)
	r.Recorder.Eventf(run, cm, corev1.EventTypeNormal, opsv1alpha1.ReasonEvidenceRecorded, "RecordEvidence", "report %s recorded in ConfigMap %s (sha256 %.12s)", run.Name, name, rec.SHA256)
	return nil
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
