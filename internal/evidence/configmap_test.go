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
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	opsv1alpha1 "github.com/supportstack/operator/api/v1alpha1"
)

func TestParseKeys(t *testing.T) {
	key := ed25519.NewKeyFromSeed([]byte("0123456789abcdef0123456789abcdef"))
	der, _ := x509.MarshalPKCS8PrivateKey(key)
	pubDER, _ := x509.MarshalPKIXPublicKey(key.Public())
	privPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})
	for name, in := range map[string][]byte{"pem": privPEM, "64 raw bytes": key, "32-byte seed": key.Seed()} {
		t.Run("private key from "+name, func(t *testing.T) {
			got, err := ParsePrivateKey(in)
			if err != nil || !got.Equal(key) {
				t.Errorf("private key from %s: %v", name, err)
			}
		})
	}
	for name, in := range map[string][]byte{"pem": pubPEM, "32 raw bytes": key.Public().(ed25519.PublicKey), "the private key": privPEM} {
		t.Run("public key from "+name, func(t *testing.T) {
			got, err := ParsePublicKey(in)
			if err != nil || !got.Equal(key.Public()) {
				t.Errorf("public key from %s: %v", name, err)
			}
		})
	}
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ecDER, _ := x509.MarshalPKCS8PrivateKey(ec)
	for name, tc := range map[string]struct {
		in   []byte
		want string
	}{
		"an ECDSA key":  {pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: ecDER}), "the PEM key is not ed25519"},
		"17 bytes":      {[]byte("not a key at all!"), "an ed25519 key is PEM PKCS#8 or 64 raw bytes, not 17 bytes"},
		"a damaged PEM": {pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte("junk")}), "asn1"},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := ParsePrivateKey(tc.in); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%s: %v, want %q", name, err, tc.want)
			}
		})
	}
}

func TestReportOfAndConfigMap(t *testing.T) {
	t0 := time.Date(2026, 11, 23, 6, 0, 0, 0, time.UTC)
	d := func(x time.Duration) *metav1.Duration { return &metav1.Duration{Duration: x} }
	met := false
	run := &opsv1alpha1.DRDrillRun{
		ObjectMeta: metav1.ObjectMeta{Namespace: "helpdesk", Name: "weekly-1"},
		Spec: opsv1alpha1.DRDrillRunSpec{DrillName: "weekly", DrillProcedure: opsv1alpha1.DrillProcedure{
			Objectives: &opsv1alpha1.DrillObjectives{RTO: d(30 * time.Minute), RPO: d(26 * time.Hour)}}},
		Status: opsv1alpha1.DRDrillRunStatus{
			Phase: opsv1alpha1.DrillRunFailed, Message: "checks failed: rows",
			StartTime: &metav1.Time{Time: t0}, CompletionTime: &metav1.Time{Time: t0.Add(40 * time.Minute)},
			Snapshot:    &opsv1alpha1.SnapshotRef{ID: "aaaaaaaa", Time: &metav1.Time{Time: t0.Add(-2 * time.Hour)}, ManifestSHA256: "ff"},
			Timings:     &opsv1alpha1.PhaseTimings{Provision: d(time.Minute), Restore: d(30 * time.Minute), Verify: d(9 * time.Minute)},
			MeasuredRTO: d(40 * time.Minute), MeasuredRPO: d(2 * time.Hour), ObjectivesMet: &met,
			Checks: []opsv1alpha1.CheckResult{{Name: "rows", Passed: false, Expected: "t=10", Observed: "t=9", Message: "lost a row"}},
		},
	}
	r := ReportOf(run, "v1.2.3")
	if r.Drill != "helpdesk/weekly" || r.Result != "Failed" || r.Message != "checks failed: rows" || r.MeasuredRTOSeconds != 2400 ||
		r.ObjectiveRPOSeconds != 93600 || r.RestoreSeconds != 1800 || r.ManifestSHA256 != "ff" || len(r.Checks) != 1 || r.OperatorVersion != "v1.2.3" {
		t.Errorf("report %+v", r)
	}
	rec := Seal(ConfigMapName(run.Name), r, nil, nil)
	cm := ToConfigMap(run, rec)
	if cm.Name != "weekly-1-evidence" || !*cm.Immutable || cm.Labels[labelDrill] != "weekly" || cm.Annotations[AnnotationSequence] != "1" || len(cm.OwnerReferences) != 0 {
		t.Errorf("ConfigMap %+v", cm.ObjectMeta)
	}
	back, report, err := FromConfigMap(cm)
	if err != nil || back.SHA256 != rec.SHA256 || report.Run != "weekly-1" {
		t.Errorf("read back %+v %v", back, err)
	}
	delete(cm.Data, KeyReport)
	if _, _, err := FromConfigMap(cm); err == nil || !strings.Contains(err.Error(), "has no report.json") {
		t.Errorf("empty ConfigMap: %v", err)
	}
}

// TestReportBinding: a report names its drill by the run's controller, its
// run by UID, what triggered it and the digest of the procedure it ran; a
// change to any check's SQL changes the digest, and the stored procedure
// reads back beside the report.
func TestReportBinding(t *testing.T) {
	due := time.Date(2026, 11, 23, 6, 0, 0, 0, time.FixedZone("CET", 3600))
	yes := true
	base := func() *opsv1alpha1.DRDrillRun {
		return &opsv1alpha1.DRDrillRun{
			ObjectMeta: metav1.ObjectMeta{Namespace: "helpdesk", Name: "weekly-1", UID: "run-uid",
				OwnerReferences: []metav1.OwnerReference{{Kind: "DRDrill", Name: "weekly", UID: "drill-uid", Controller: &yes}}},
			Spec: opsv1alpha1.DRDrillRunSpec{DrillName: "weekly", DrillProcedure: opsv1alpha1.DrillProcedure{BackupPolicyName: "helpdesk", Snapshot: "latest",
				Checks: []opsv1alpha1.DrillCheck{{Name: "tickets", Database: "helpdesk", SQL: "SELECT count(*) FROM tickets", Expect: &opsv1alpha1.Expectation{Min: new(int64)}}}}},
		}
	}
	for _, tc := range []struct {
		name    string
		mutate  func(*opsv1alpha1.DRDrillRun)
		trigger Trigger
		drill   string
	}{
		{"scheduled", func(r *opsv1alpha1.DRDrillRun) {
			r.Spec.Trigger = &opsv1alpha1.RunTrigger{Kind: opsv1alpha1.RunTriggerSchedule, ScheduledTime: &metav1.Time{Time: due}}
		}, Trigger{Kind: "schedule", ScheduledTime: "2026-11-23T05:00:00Z"}, "drill-uid"},
		{"run now", func(r *opsv1alpha1.DRDrillRun) {
			r.Spec.Trigger = &opsv1alpha1.RunTrigger{Kind: opsv1alpha1.RunTriggerRunNow, RunNowToken: "audit", FieldManager: "kubectl-annotate"}
		}, Trigger{Kind: "run-now", RunNowToken: "audit", FieldManager: "kubectl-annotate"}, "drill-uid"},
		{"no trigger, controlled by another drill", func(r *opsv1alpha1.DRDrillRun) { r.OwnerReferences[0].Name = "other" },
			Trigger{Kind: "unknown"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			run := base()
			tc.mutate(run)
			r := ReportOf(run, "v1")
			if r.Trigger != tc.trigger || r.DrillUID != tc.drill || r.RunUID != "run-uid" || r.ProcedureSHA256 != Hash(ProcedureJSON(run.Spec.DrillProcedure)) {
				t.Errorf("report %+v", r)
			}
		})
	}
	run := base()
	before := Hash(ProcedureJSON(run.Spec.DrillProcedure))
	run.Spec.Checks[0].SQL = "SELECT 1"
	if Hash(ProcedureJSON(run.Spec.DrillProcedure)) == before {
		t.Error("the procedure digest does not change with a check's SQL")
	}
	rec := Seal(ConfigMapName(run.Name), ReportOf(run, "v1"), nil, nil)
	rec.Procedure = ProcedureJSON(run.Spec.DrillProcedure)
	back, _, err := FromConfigMap(ToConfigMap(run, rec))
	if err != nil || string(back.Procedure) != string(rec.Procedure) || !strings.Contains(string(back.Procedure), `"sql":"SELECT 1"`) {
		t.Errorf("stored procedure %s (%v)", back.Procedure, err)
	}
	if err := Verify([]Record{back}, nil); err != nil {
		t.Errorf("verify: %v", err)
	}
}
