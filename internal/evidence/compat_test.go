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
	"crypto/ed25519"
	"os"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	opsv1alpha1 "github.com/supportstack/operator/api/v1alpha1"
)

// goldenKey signed testdata/chain-before-missed-schedules.yaml: two
// evidence ConfigMaps exactly as the operator stored them before reports
// had missedSchedules, missedSchedulesDropped and recoverySet.
var goldenKey = ed25519.NewKeyFromSeed([]byte("golden-evidence-fixture-seed-32b"))

func goldenChain(t *testing.T) []Record {
	t.Helper()
	b, err := os.ReadFile("testdata/chain-before-missed-schedules.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var list corev1.ConfigMapList
	if err := yaml.UnmarshalStrict(b, &list); err != nil {
		t.Fatal(err)
	}
	return chainOf(list.Items)
}

// TestChainRecordedBeforeNewFieldsVerifies: fields added to the report
// must not break chains recorded before them. verify-evidence parses each
// stored report and requires its bytes to be the canonical encoding of
// what it parsed, so a new field without omitempty would make every old
// record "not in canonical form".
func TestChainRecordedBeforeNewFieldsVerifies(t *testing.T) {
	chain := goldenChain(t)
	if len(chain) != 2 {
		t.Fatalf("%d records in the fixture", len(chain))
	}
	for _, field := range []string{"missedSchedules", "recoverySet"} {
		if bytes.Contains(chain[0].Canonical, []byte(field)) {
			t.Fatalf("the fixture already has %s: it is not a report of the previous code", field)
		}
	}
	want := Expect{Drill: "helpdesk/helpdesk-weekly", DrillUID: "11111111-2222-3333-4444-555555555555",
		Head: &Head{Sequence: 2, SHA256: "1f4ad947b59c408852855f9c7a3971474f975bd9e5feacab638926dea94d1310"}}
	if err := VerifyChain(chain, goldenKey.Public().(ed25519.PublicKey), want); err != nil {
		t.Fatalf("a chain recorded before the new fields: %v", err)
	}
	for _, rec := range chain {
		r, err := Parse(rec.Canonical)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(r.Canonical(), rec.Canonical) {
			t.Errorf("%s re-encodes to other bytes:\n%s\n%s", rec.Name, r.Canonical(), rec.Canonical)
		}
	}
	// The fixture is not trivially accepted: one byte changed breaks it.
	chain[0].Canonical = bytes.Replace(chain[0].Canonical, []byte(`"result":"Passed"`), []byte(`"result":"Failed"`), 1)
	if err := VerifyChain(chain, goldenKey.Public().(ed25519.PublicKey), want); err == nil {
		t.Error("an altered golden record verifies")
	}
}

// TestReportCarriesMissedSchedulesAndRecoverySet: a run's missed schedule
// times and restored recovery set reach its report, in UTC, and the sealed
// record verifies and parses back to the same bytes.
func TestReportCarriesMissedSchedulesAndRecoverySet(t *testing.T) {
	warsaw := time.FixedZone("CET", 3600)
	missedAt := []metav1.Time{{Time: time.Date(2026, 11, 16, 7, 0, 0, 0, warsaw)}, {Time: time.Date(2026, 11, 23, 7, 0, 0, 0, warsaw)}}
	run := &opsv1alpha1.DRDrillRun{
		ObjectMeta: metav1.ObjectMeta{Namespace: "helpdesk", Name: "weekly-1", UID: "uid-weekly-1"},
		Spec:       opsv1alpha1.DRDrillRunSpec{DrillName: "weekly", MissedSchedules: missedAt, MissedSchedulesDropped: 3},
		Status: opsv1alpha1.DRDrillRunStatus{Phase: opsv1alpha1.DrillRunPassed,
			Snapshot: &opsv1alpha1.SnapshotRef{ID: "aaaaaaaa,bbbbbbbb", RecoverySet: "helpdesk-backup-29400000"}},
	}
	r := ReportOf(run, "v0.2.0")
	if r.RecoverySet != "helpdesk-backup-29400000" || r.MissedSchedulesDropped != 3 || len(r.MissedSchedules) != 2 || r.MissedSchedules[0].Location() != time.UTC {
		t.Fatalf("report %+v", r)
	}
	rec := Seal(ConfigMapName(run.Name), r, nil, goldenKey)
	for _, want := range []string{`"missedSchedules":["2026-11-16T06:00:00Z","2026-11-23T06:00:00Z"],"missedSchedulesDropped":3,`, `"recoverySet":"helpdesk-backup-29400000",`} {
		if !strings.Contains(string(rec.Canonical), want) {
			t.Errorf("canonical report lacks %s:\n%s", want, rec.Canonical)
		}
	}
	if err := Verify([]Record{rec}, goldenKey.Public().(ed25519.PublicKey)); err != nil {
		t.Error(err)
	}
	// Without missed times or a set the fields are absent, as before.
	run.Spec.MissedSchedules, run.Spec.MissedSchedulesDropped, run.Status.Snapshot.RecoverySet = nil, 0, ""
	if c := string(ReportOf(run, "v0.2.0").Canonical()); strings.Contains(c, "missedSchedules") || strings.Contains(c, "recoverySet") {
		t.Errorf("empty new fields are encoded: %s", c)
	}
}
