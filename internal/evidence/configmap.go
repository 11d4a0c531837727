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

package evidence

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	opsv1alpha1 "github.com/supportstack/operator/api/v1alpha1"
	"github.com/supportstack/operator/internal/resources"
)

// The labels are the drill objects' own (internal/resources).
const (
	labelDrill    = resources.LabelDrill
	labelDrillRun = resources.LabelDrillRun
	labelEvidence = resources.LabelEvidence
)

// Keys and labels of evidence ConfigMaps.
const (
	KeyReport    = "report.json"
	KeySHA256    = "sha256"
	KeySignature = "signature"
	// KeyProcedure holds the procedure's canonical JSON, whose SHA-256 the
	// report records: the checks' SQL an auditor reads.
	KeyProcedure = "procedure.json"

	// AnnotationSequence orders a drill's records; Verify checks the order
	// against the sequence inside each report.
	AnnotationSequence = "ops.supportstack.io/evidence-sequence"
)

// ConfigMapName is the evidence ConfigMap of a run.
func ConfigMapName(run string) string {
	name := run + "-evidence"
	if len(name) > 253 {
		name = name[:253]
	}
	return name
}

// ProcedureJSON is the canonical JSON of a drill procedure as a run
// carries it (checks with their SQL, objectives, snapshot, sandbox, the
// BackupPolicy whose sources are restored, the signing key reference):
// compact, in the API's field order, no HTML escaping.
func ProcedureJSON(p opsv1alpha1.DrillProcedure) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(p) // a DrillProcedure always encodes
	return bytes.TrimRight(b.Bytes(), "\n")
}

// TriggerOf is what started a run, from the trigger the operator wrote
// into its spec; a run without one says "unknown".
func TriggerOf(run *opsv1alpha1.DRDrillRun) Trigger {
	t := run.Spec.Trigger
	if t == nil {
		return Trigger{Kind: "unknown"}
	}
	out := Trigger{Kind: string(t.Kind), RunNowToken: t.RunNowToken, FieldManager: t.FieldManager}
	if t.ScheduledTime != nil {
		out.ScheduledTime = t.ScheduledTime.UTC().Format(time.RFC3339)
	}
	return out
}

// ReportOf is the report of a finished run, from its status. The drill's
// UID is the run's controller's: the reconciler records evidence only for
// runs its drill created and acknowledged.
func ReportOf(run *opsv1alpha1.DRDrillRun, operatorVersion string) Report {
	st := run.Status
	seconds := func(d *metav1.Duration) float64 {
		if d == nil {
			return 0
		}
		return d.Seconds()
	}
	at := func(t *metav1.Time) (out metav1.Time) {
		if t != nil {
			out = *t
		}
		return out
	}
	r := Report{
		Drill:              run.Namespace + "/" + run.Spec.DrillName,
		Run:                run.Name,
		RunUID:             string(run.UID),
		Trigger:            TriggerOf(run),
		ProcedureSHA256:    Hash(ProcedureJSON(run.Spec.DrillProcedure)),
		MeasuredRTOSeconds: seconds(st.MeasuredRTO),
		MeasuredRPOSeconds: seconds(st.MeasuredRPO),
		ObjectivesMet:      st.ObjectivesMet != nil && *st.ObjectivesMet,
		Result:             string(st.Phase),
		StartTime:          at(st.StartTime).Time,
		CompletionTime:     at(st.CompletionTime).Time,
		OperatorVersion:    operatorVersion,
		Checks:             []Check{},
	}
	if owner := metav1.GetControllerOf(run); owner != nil && owner.Kind == "DRDrill" && owner.Name == run.Spec.DrillName {
		r.DrillUID = string(owner.UID)
	}
	if s := st.Snapshot; s != nil {
		r.SnapshotID, r.SnapshotTime, r.ManifestSHA256, r.RecoverySet = s.ID, at(s.Time).Time, s.ManifestSHA256, s.RecoverySet
	}
	for _, t := range run.Spec.MissedSchedules {
		r.MissedSchedules = append(r.MissedSchedules, t.UTC())
	}
	r.MissedSchedulesDropped = run.Spec.MissedSchedulesDropped
	if t := st.Timings; t != nil {
		r.ProvisionSeconds, r.RestoreSeconds, r.VerifySeconds = seconds(t.Provision), seconds(t.Restore), seconds(t.Verify)
	}
	if o := run.Spec.Objectives; o != nil {
		r.ObjectiveRTOSeconds, r.ObjectiveRPOSeconds = seconds(o.RTO), seconds(o.RPO)
	}
	for _, c := range st.Checks {
		r.Checks = append(r.Checks, Check{Name: c.Name, Passed: c.Passed, Expected: c.Expected, Observed: c.Observed})
	}
	// Why the run ended as it did (and, for a pass, how many checks passed).
	r.Message = st.Message
	return r
}

// HeadFromStatus is the evidence head a DRDrill's status holds, as
// VerifyChain and Seal take it (nil for nil).
func HeadFromStatus(h *opsv1alpha1.EvidenceHead) *Head {
	if h == nil {
		return nil
	}
	return &Head{Sequence: h.Sequence, SHA256: h.SHA256}
}

// ToConfigMap stores a record: immutable, labelled with its drill and run.
// It has no owner: evidence outlives the runs and the drill it describes.
func ToConfigMap(run *opsv1alpha1.DRDrillRun, rec Record) *corev1.ConfigMap {
	seq := int64(0)
	if r, err := Parse(rec.Canonical); err == nil {
		seq = r.Sequence
	}
	data := map[string]string{KeyReport: string(rec.Canonical), KeySHA256: rec.SHA256}
	if rec.Signature != "" {
		data[KeySignature] = rec.Signature
	}
	if len(rec.Procedure) > 0 {
		data[KeyProcedure] = string(rec.Procedure)
	}
	return &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{
			Name: rec.Name, Namespace: run.Namespace,
			Labels: map[string]string{
				opsv1alpha1.LabelManagedBy: opsv1alpha1.ManagedByValue,
				labelDrill:                 run.Spec.DrillName,
				labelDrillRun:              run.Name,
				labelEvidence:              "true",
			},
			Annotations: map[string]string{AnnotationSequence: strconv.FormatInt(seq, 10)},
		},
		Immutable: ptr.To(true),
		Data:      data,
	}
}

// FromConfigMap reads a stored record and, when it parses, its report.
func FromConfigMap(cm *corev1.ConfigMap) (Record, Report, error) {
	rec := Record{Name: cm.Name, Run: cm.Labels[labelDrillRun], Canonical: []byte(cm.Data[KeyReport]), SHA256: cm.Data[KeySHA256], Signature: cm.Data[KeySignature]}
	if p, ok := cm.Data[KeyProcedure]; ok {
		rec.Procedure = []byte(p)
	}
	if len(rec.Canonical) == 0 {
		return rec, Report{}, fmt.Errorf("ConfigMap %s has no %s", cm.Name, KeyReport)
	}
	r, err := Parse(rec.Canonical)
	return rec, r, err
}

// LoadChain lists a drill's records, oldest first (by the sequence
// annotation, then creation). Verify decides whether they hold.
func LoadChain(ctx context.Context, c client.Reader, namespace, drill string) ([]Record, error) {
	var cms corev1.ConfigMapList
	if err := c.List(ctx, &cms, client.InNamespace(namespace), client.MatchingLabels{labelDrill: drill, labelEvidence: "true"}); err != nil {
		return nil, err
	}
	return chainOf(cms.Items), nil
}

// chainOf orders one drill's evidence ConfigMaps into its records.
func chainOf(items []corev1.ConfigMap) []Record {
	seq := func(cm *corev1.ConfigMap) int64 {
		n, _ := strconv.ParseInt(cm.Annotations[AnnotationSequence], 10, 64)
		return n
	}
	sort.SliceStable(items, func(i, j int) bool {
		if a, b := seq(&items[i]), seq(&items[j]); a != b {
			return a < b
		}
		if !items[i].CreationTimestamp.Equal(&items[j].CreationTimestamp) {
			return items[i].CreationTimestamp.Before(&items[j].CreationTimestamp)
		}
		return items[i].Name < items[j].Name
	})
	out := make([]Record, 0, len(items))
	for i := range items {
		rec, _, _ := FromConfigMap(&items[i])
		out = append(out, rec)
	}
	return out
}

// ParsePrivateKey reads an ed25519 private key: PEM PKCS#8, or its 64 raw
// bytes (seed and public key), or a 32-byte seed.
func ParsePrivateKey(b []byte) (ed25519.PrivateKey, error) {
	if block, _ := pem.Decode(b); block != nil {
		k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		if err != nil {
			return nil, err
		}
		if key, ok := k.(ed25519.PrivateKey); ok {
			return key, nil
		}
		return nil, errors.New("the PEM key is not ed25519")
	}
	switch len(b) {
	case ed25519.PrivateKeySize:
		return ed25519.PrivateKey(b), nil
	case ed25519.SeedSize:
		return ed25519.NewKeyFromSeed(b), nil
	}
	return nil, fmt.Errorf("an ed25519 key is PEM PKCS#8 or %d raw bytes, not %d bytes", ed25519.PrivateKeySize, len(b))
}

// ParsePublicKey reads an ed25519 public key: PEM PKIX, or 32 raw bytes.
// A private key is accepted too (its public half is used).
func ParsePublicKey(b []byte) (ed25519.PublicKey, error) {
	if block, _ := pem.Decode(b); block != nil && block.Type == "PUBLIC KEY" {
		k, err := x509.ParsePKIXPublicKey(block.Bytes)
		if err != nil {
			return nil, err
		}
		if key, ok := k.(ed25519.PublicKey); ok {
			return key, nil
		}
		return nil, errors.New("the PEM key is not ed25519")
	}
	if len(b) == ed25519.PublicKeySize {
		return ed25519.PublicKey(b), nil
	}
	priv, err := ParsePrivateKey(b)
	if err != nil {
		return nil, err
	}
	return priv.Public().(ed25519.PublicKey), nil
}
