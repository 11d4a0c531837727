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

package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/x509"
	"encoding/csv"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"
	"sigs.k8s.io/yaml"

	opsv1alpha1 "github.com/supportstack/operator/api/v1alpha1"
	"github.com/supportstack/operator/internal/evidence"
)

func TestCoverageFromFile(t *testing.T) {
	var out bytes.Buffer
	err := run([]string{"coverage", "-f", "../../config/samples/ops_v1alpha1_supportteam.yaml", "--at", "2026-11-23T15:00:00Z"}, &out)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"SupportTeam windows-tier1: 5 members, 3 on shift now",
		"HOUR (America/New_York)",
		"WINDOWS-PHONE",
		"Mon 2026-11-23 10:00 EST",
		"windows-phone: ",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}

// TestCoverageUsesDemandInUse: for a queue whose demand comes from
// history, coverage reads the forecast the operator put in status, not the
// declared fallback: here the declared demand is the sample's (weekdays
// 08:00-18:00) and the forecast only Monday 10:00-11:00.
func TestCoverageUsesDemandInUse(t *testing.T) {
	data, err := os.ReadFile("../../config/samples/ops_v1alpha1_supportteam.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var team opsv1alpha1.SupportTeam
	if err := yaml.UnmarshalStrict(data, &team); err != nil {
		t.Fatal(err)
	}
	team.Spec.Queues[1].Demand.Source = opsv1alpha1.DemandHistory
	team.Status.Queues = []opsv1alpha1.QueueStatus{{Name: "windows-escalations", Demand: &opsv1alpha1.DemandStatus{
		Source:    opsv1alpha1.DemandHistory,
		Intervals: []opsv1alpha1.DemandInterval{{Days: []opsv1alpha1.Weekday{"Mon"}, From: "10:00", To: "11:00", ContactsPerHour: 4}},
	}}}
	out, err := yaml.Marshal(&team)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "team.yaml")
	if err := os.WriteFile(file, out, 0o600); err != nil {
		t.Fatal(err)
	}
	var table bytes.Buffer
	if err := run([]string{"coverage", "-f", file, "--at", "2026-11-23T15:00:00Z"}, &table); err != nil {
		t.Fatal(err)
	}
	if want := "windows-escalations: 2 understaffed half-hours, worst Mon 2026-11-23 10:00 EST"; !strings.Contains(table.String(), want) {
		t.Errorf("coverage with the forecast in status lacks %q:\n%s", want, table.String())
	}
}

func TestCoverageRefusals(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no arguments", nil, "usage:"},
		{"not a SupportTeam", []string{"coverage", "-f", "../../config/samples/ops_v1alpha1_backuppolicy.yaml"}, "not a SupportTeam"},
		{"missing file", []string{"coverage", "-f", "missing.yaml"}, "no such file"},
		{"bad --at time", []string{"coverage", "--at", "monday", "-f", "x"}, "--at"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := run(tc.args, &bytes.Buffer{})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("run(%v) = %v, want an error containing %q", tc.args, err, tc.want)
			}
		})
	}
}

// evidenceCluster is a fake cluster holding a drill's chain of three
// signed reports (one failed; the third, after the tests' period, records
// a schedule time missed in it), each stored with the procedure naming
// BackupPolicy helpdesk, and another drill's single report (of policy
// ledger), both DRDrills with their evidence heads in status, and objs.
func evidenceCluster(t *testing.T, key ed25519.PrivateKey, objs ...client.Object) (client.Client, []*corev1.ConfigMap) {
	t.Helper()
	scheme := runtime.NewScheme()
	if err := corev1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	if err := opsv1alpha1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	var cms []*corev1.ConfigMap
	var drills []client.Object
	chain := func(ns, drill, policy string, results ...string) {
		procedure := evidence.ProcedureJSON(opsv1alpha1.DrillProcedure{BackupPolicyName: policy, Snapshot: "latest"})
		var prev *evidence.Record
		d := &opsv1alpha1.DRDrill{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: drill, UID: types.UID("uid-" + drill)},
			Spec: opsv1alpha1.DRDrillSpec{DrillProcedure: opsv1alpha1.DrillProcedure{BackupPolicyName: policy}}}
		for i, result := range results {
			run := &opsv1alpha1.DRDrillRun{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: fmt.Sprintf("%s-%d", drill, i+1), UID: types.UID(fmt.Sprintf("uid-%s-%d", drill, i+1))},
				Spec: opsv1alpha1.DRDrillRunSpec{DrillName: drill}}
			day := time.Date(2026, 11, 2+7*i, 6, 0, 0, 0, time.UTC)
			r := evidence.Report{Drill: ns + "/" + drill, DrillUID: string(d.UID), Run: run.Name, RunUID: string(run.UID), SnapshotID: "0123abcd", SnapshotTime: day.Add(-4 * time.Hour),
				MeasuredRTOSeconds: 1260, ObjectiveRTOSeconds: 1800, MeasuredRPOSeconds: 14400, ObjectiveRPOSeconds: 93600, ObjectivesMet: result == "Passed",
				Result: result, StartTime: day, CompletionTime: day.Add(21 * time.Minute), OperatorVersion: "v0.1.0",
				Checks:          []evidence.Check{{Name: "tickets-present", Passed: result == "Passed", Expected: ">= 1", Observed: "45000"}},
				ProcedureSHA256: evidence.Hash(procedure)}
			if i == 0 {
				r.RecoverySet = drill + "-backup-1"
			}
			if i == 2 {
				r.MissedSchedules = []time.Time{time.Date(2026, 11, 14, 6, 0, 0, 0, time.UTC)}
			}
			rec := evidence.Seal(evidence.ConfigMapName(run.Name), r, evidence.HeadOf(prev), key)
			rec.Procedure = procedure
			cms = append(cms, evidence.ToConfigMap(run, rec))
			prev = &rec
			d.Status.EvidenceHead = &opsv1alpha1.EvidenceHead{Sequence: int64(i + 1), SHA256: rec.SHA256, ConfigMapName: rec.Name, Run: run.Name}
		}
		drills = append(drills, d)
	}
	chain("helpdesk", "helpdesk-weekly", "helpdesk", "Passed", "Failed", "Passed")
	chain("finance", "ledger-daily", "ledger", "Passed")
	for _, cm := range cms {
		objs = append(objs, cm)
	}
	return fake.NewClientBuilder().WithScheme(scheme).WithObjects(append(objs, drills...)...).Build(), cms
}

// helpdeskPolicy is the BackupPolicy helpdesk/helpdesk with maxAge.
func helpdeskPolicy(maxAge time.Duration) *opsv1alpha1.BackupPolicy {
	return &opsv1alpha1.BackupPolicy{ObjectMeta: metav1.ObjectMeta{Namespace: "helpdesk", Name: "helpdesk"},
		Spec: opsv1alpha1.BackupPolicySpec{Verification: opsv1alpha1.Verification{MaxAge: &metav1.Duration{Duration: maxAge}}}}
}

func useClient(t *testing.T, c client.Client) {
	old := newClient
	newClient = func(genericclioptions.RESTClientGetter) (client.Client, error) { return c, nil }
	t.Cleanup(func() { newClient = old })
}

func TestVerifyEvidence(t *testing.T) {
	key := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, 32))
	c, cms := evidenceCluster(t, key)
	useClient(t, c)
	keyFile := filepath.Join(t.TempDir(), "key.pub")
	der, _ := x509.MarshalPKIXPublicKey(key.Public())
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := run([]string{"verify-evidence", "-n", "helpdesk", "helpdesk-weekly", "--public-key", keyFile}, &out); err != nil {
		t.Fatal(err)
	}
	if want := "drill helpdesk/helpdesk-weekly: 3 evidence records, hash chain intact, every record signed by the given key, ends at the drill's evidence head, sequence 3 (sha256 " +
		cms[2].Data[evidence.KeySHA256][:12] + ")\n"; out.String() != want {
		t.Errorf("got %q", out.String())
	}

	// Editing any byte of an old report makes verification fail naming it.
	// (ConfigMaps are immutable: a real forger deletes and re-creates one;
	// the fake cluster lets the test write in place.)
	old := cms[1]
	original := old.Data[evidence.KeyReport]
	edit := func(mutate func(*corev1.ConfigMap)) {
		t.Helper()
		var cm corev1.ConfigMap
		if err := c.Get(context.Background(), client.ObjectKeyFromObject(old), &cm); err != nil {
			t.Fatal(err)
		}
		mutate(&cm)
		if err := c.Update(context.Background(), &cm); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < len(original); i++ {
		tampered := []byte(original)
		tampered[i] ^= 0x01
		edit(func(cm *corev1.ConfigMap) { cm.Data[evidence.KeyReport] = string(tampered) })
		err := run([]string{"verify-evidence", "-n", "helpdesk", "helpdesk-weekly"}, &bytes.Buffer{})
		if err == nil || !strings.Contains(err.Error(), "evidence record 2 (helpdesk-weekly-2-evidence)") {
			t.Fatalf("byte %d edited: %v", i, err)
		}
	}
	edit(func(cm *corev1.ConfigMap) { cm.Data[evidence.KeyReport] = original })
	// A report re-hashed by the forger still fails: its signature does not verify.
	r, _ := evidence.Parse([]byte(original))
	r.Result = "Passed"
	forged := evidence.Seal(old.Name, r, &evidence.Head{Sequence: r.Sequence - 1, SHA256: r.PreviousReportSHA256}, nil)
	edit(func(cm *corev1.ConfigMap) {
		cm.Data[evidence.KeyReport], cm.Data[evidence.KeySHA256] = string(forged.Canonical), forged.SHA256
	})
	err := run([]string{"verify-evidence", "-n", "helpdesk", "helpdesk-weekly", "--public-key", keyFile}, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "evidence record 2 (helpdesk-weekly-2-evidence)") {
		t.Errorf("forged report: %v", err)
	}
	t.Logf("forged: %v", err)
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no drill named", []string{"verify-evidence", "-n", "helpdesk"}, "name one DRDrill"},
		{"drill without records", []string{"verify-evidence", "-n", "helpdesk", "nothing-here"}, "no evidence records"},
		{"missing public key file", []string{"verify-evidence", "--public-key", "/nonexistent", "x"}, "no such file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := run(tc.args, &bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("run(%v) = %v, want %q", tc.args, err, tc.want)
			}
		})
	}
}

func TestReportExport(t *testing.T) {
	key := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, 32))
	c, _ := evidenceCluster(t, key)
	useClient(t, c)
	period := []string{"--from", "2026-11-01", "--to", "2026-11-15"}

	var js bytes.Buffer
	if err := run(append([]string{"report", "-A", "--format", "json"}, period...), &js); err != nil {
		t.Fatal(err)
	}
	var export evidence.Export
	if err := json.Unmarshal(js.Bytes(), &export); err != nil {
		t.Fatal(err)
	}
	if len(export.Drills) != 2 || export.Drills[1].Drill != "helpdesk/helpdesk-weekly" || len(export.Drills[1].Reports) != 2 ||
		export.Drills[1].Chain != "verified" || export.Drills[1].Reports[1].Result != "Failed" {
		t.Errorf("json export %+v", export)
	}

	var csvOut bytes.Buffer
	if err := run(append([]string{"report", "-n", "helpdesk", "--format", "csv"}, period...), &csvOut); err != nil {
		t.Fatal(err)
	}
	// The runs, an empty line, then the policies' figures.
	lines := strings.Split(strings.TrimSpace(csvOut.String()), "\n")
	if len(lines) != 6 || !strings.HasPrefix(lines[0], "drill,chain,run,sequence,result") || !strings.HasSuffix(lines[1], ",helpdesk-weekly-backup-1,,0") ||
		lines[2] != "helpdesk/helpdesk-weekly,verified,helpdesk-weekly-2,2,Failed,2026-11-09T06:00:00Z,2026-11-09T06:21:00Z,0123abcd,2026-11-09T02:00:00Z,1260,1800,14400,93600,false,0,1,,,,0" ||
		lines[3] != "" || !strings.HasPrefix(lines[4], "policy,drills,excluded,end_not_checked,max_age,max_age_source,days,covered_days,coverage_percent") ||
		!strings.HasPrefix(lines[5], "helpdesk/helpdesk,helpdesk/helpdesk-weekly,,,192h0m0s,--max-age 192h0m0s (the default): BackupPolicy helpdesk/helpdesk not found in the cluster,14,8,57.1,2026-11-01 2026-11-10..2026-11-14,2,1,1,0,50.0,1,0,1,50.0,") {
		t.Errorf("csv:\n%s", csvOut.String())
	}

	// The newest record deleted: the export says the chain is broken.
	var newest corev1.ConfigMap
	if err := c.Get(context.Background(), client.ObjectKey{Namespace: "helpdesk", Name: "helpdesk-weekly-3-evidence"}, &newest); err != nil {
		t.Fatal(err)
	}
	mustDo(t, c.Delete(context.Background(), &newest))
	var truncated bytes.Buffer
	if err := run(append([]string{"report", "-n", "helpdesk", "--format", "json"}, period...), &truncated); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(truncated.String(), "evidence record 2 (helpdesk-weekly-2-evidence): is the newest record (sequence 2") {
		t.Errorf("export of a truncated chain:\n%s", truncated.String())
	}
	newest.ResourceVersion = ""
	mustDo(t, c.Create(context.Background(), &newest))

	// The DRDrill deleted as well (to hide the deleted record): the export
	// does not call the chain intact but says its end was not checked.
	mustDo(t, c.Delete(context.Background(), &newest))
	var drill opsv1alpha1.DRDrill
	mustDo(t, c.Get(context.Background(), client.ObjectKey{Namespace: "helpdesk", Name: "helpdesk-weekly"}, &drill))
	mustDo(t, c.Delete(context.Background(), &drill))
	var gone bytes.Buffer
	if err := run(append([]string{"report", "-n", "helpdesk", "--format", "json"}, period...), &gone); err != nil {
		t.Fatal(err)
	}
	var goneExport evidence.Export
	if err := json.Unmarshal(gone.Bytes(), &goneExport); err != nil {
		t.Fatal(err)
	}
	unchecked := "verified, end not checked: the DRDrill is not found (deleted?), so its evidence head is gone: newest records may have been deleted unseen; " +
		"verify with supportstack verify-evidence --expect-head SEQ:SHA256 from an earlier report or alert"
	if len(goneExport.Drills) != 1 || goneExport.Drills[0].Chain != unchecked || goneExport.Drills[0].EndChecked || goneExport.Drills[0].Broken {
		t.Errorf("export without the drill: %+v", goneExport.Drills)
	}
	var goneHTML bytes.Buffer
	if err := run(append([]string{"report", "-n", "helpdesk"}, period...), &goneHTML); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(goneHTML.String(), `Evidence chain: <span class="unchecked">verified, end not checked: the DRDrill is not found`) {
		t.Errorf("html without the drill:\n%s", goneHTML.String())
	}
	newest.ResourceVersion, drill.ResourceVersion = "", ""
	mustDo(t, c.Create(context.Background(), &newest))
	mustDo(t, c.Create(context.Background(), &drill))

	var html bytes.Buffer
	if err := run(append([]string{"report", "-A"}, period...), &html); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"<h2>finance/ledger-daily</h2>", "<h2>helpdesk/helpdesk-weekly</h2>", `class="Failed"`, "21m0s (30m0s)", "4h0m0s (26h0m0s)", "Evidence chain: verified",
		"<td>0123abcd (helpdesk-weekly-backup-1)</td>"} {
		if !strings.Contains(html.String(), want) {
			t.Errorf("html lacks %q", want)
		}
	}
	if strings.Contains(html.String(), "<script") || strings.Contains(html.String(), "http") {
		t.Error("the page is not self-contained")
	}
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no namespace", []string{"report"}, "give -n NAMESPACE or -A"},
		{"unknown format", []string{"report", "-A", "--format", "pdf"}, `--format "pdf"`},
		{"period ends before it starts", []string{"report", "-A", "--from", "2026-12-01", "--to", "2026-11-01"}, "is not before"},
		{"bad --from date", []string{"report", "-A", "--from", "yesterday"}, "--from"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := run(tc.args, &bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("run(%v) = %v, want %q", tc.args, err, tc.want)
			}
		})
	}
}

// TestReportAuditorView: per BackupPolicy, the report shows verified-restore
// coverage with the maxAge it used and where it came from (the policy's
// spec when the cluster has it, else --max-age), the pass rate with errors
// apart from failures, missed schedule times (from a later run's
// evidence), objective compliance and the control mapping, in JSON, CSV
// and HTML; a drill whose chain does not verify is not counted.
func TestReportAuditorView(t *testing.T) {
	key := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, 32))
	period := []string{"--from", "2026-11-01", "--to", "2026-11-15"}
	policies := func(t *testing.T, args ...string) map[string]evidence.PolicyAudit {
		t.Helper()
		var js bytes.Buffer
		if err := run(append(append([]string{"report", "-A", "--format", "json"}, period...), args...), &js); err != nil {
			t.Fatal(err)
		}
		var export evidence.Export
		if err := json.Unmarshal(js.Bytes(), &export); err != nil {
			t.Fatal(err)
		}
		out := map[string]evidence.PolicyAudit{}
		for _, p := range export.Policies {
			out[p.Policy] = p
		}
		return out
	}

	// helpdesk's policy says 72h: the pass of Nov 2 06:21 covers Nov 2 to
	// 4 (judged at each day's end). ledger's policy is gone: --max-age.
	c, cms := evidenceCluster(t, key, helpdeskPolicy(72*time.Hour))
	useClient(t, c)
	got := policies(t, "--max-age", "48h")
	helpdesk, ledger := got["helpdesk/helpdesk"], got["finance/ledger"]
	if len(got) != 2 || helpdesk.MaxAge != "72h0m0s" || helpdesk.MaxAgeSource != "BackupPolicy helpdesk/helpdesk spec.verification.maxAge, as it is now" ||
		fmt.Sprintf("%+v", helpdesk.Coverage) != fmt.Sprintf("%+v", evidence.Coverage{Days: 14, CoveredDays: 3, Percent: 300.0 / 14, Uncovered: []string{"2026-11-01", "2026-11-05..2026-11-14"}}) {
		t.Errorf("helpdesk %+v", helpdesk)
	}
	if ledger.MaxAge != "48h0m0s" || ledger.MaxAgeSource != "--max-age 48h0m0s: BackupPolicy finance/ledger not found in the cluster" ||
		ledger.Coverage.CoveredDays != 2 || ledger.Runs != (evidence.RunCounts{Finished: 1, Passed: 1}) {
		t.Errorf("ledger %+v", ledger)
	}
	if helpdesk.Runs != (evidence.RunCounts{Finished: 2, Passed: 1, Failed: 1}) || *helpdesk.PassRatePercent != 50 || helpdesk.MissedSchedules != 1 ||
		helpdesk.Objectives.Met != 1 || helpdesk.Objectives.WorstRPO.MeasuredSeconds != 14400 || len(helpdesk.Controls) != 2 ||
		!strings.Contains(helpdesk.Controls[0].Evidence, "on 3 of 14 days (21.4 %) the newest passed restore test was at most 72h0m0s old; 1 scheduled test(s) did not run in the period") {
		t.Errorf("helpdesk figures %+v", helpdesk)
	}

	var html bytes.Buffer
	if err := run(append([]string{"report", "-n", "helpdesk"}, period...), &html); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"<h3>helpdesk/helpdesk</h3>",
		"<tr><th>Verified-restore coverage</th><td>3 of 14 days (21.4 %); not covered: 2026-11-01, 2026-11-05..2026-11-14</td></tr>",
		"<tr><th>maxAge</th><td>72h0m0s (BackupPolicy helpdesk/helpdesk spec.verification.maxAge, as it is now)</td></tr>",
		"<tr><th>Pass rate</th><td>50.0 %: 1 passed of 2 finished; 1 failed, 0 errored</td></tr>",
		"<tr><th>Missed by schedule</th><td>1</td></tr>",
		"<b>ISO/IEC 27001:2022 A.8.13 Information backup (backup copies regularly tested).</b> Backup copies of helpdesk/helpdesk were tested",
		"<b>SOC 2 (2017 TSC) A1.3 Recovery plan procedures tested.</b> Each run carried out",
	} {
		if !strings.Contains(html.String(), want) {
			t.Errorf("html lacks %q", want)
		}
	}

	// The BackupPolicies cannot be read: every policy takes --max-age, and
	// says why.
	forbidden := interceptor.Funcs{List: func(ctx context.Context, cl client.WithWatch, list client.ObjectList, opts ...client.ListOption) error {
		if _, ok := list.(*opsv1alpha1.BackupPolicyList); ok {
			return apierrors.NewForbidden(opsv1alpha1.GroupVersion.WithResource("backuppolicies").GroupResource(), "", fmt.Errorf("RBAC"))
		}
		return cl.List(ctx, list, opts...)
	}}
	objs := clusterCopy(t, c, cms, helpdeskPolicy(72*time.Hour))
	useClient(t, fake.NewClientBuilder().WithScheme(c.Scheme()).WithObjects(objs...).WithInterceptorFuncs(forbidden).Build())
	if p := policies(t)["helpdesk/helpdesk"]; p.MaxAge != "192h0m0s" ||
		!strings.HasPrefix(p.MaxAgeSource, "--max-age 192h0m0s (the default): the BackupPolicies could not be read (") || p.Coverage.CoveredDays != 8 {
		t.Errorf("policies unreadable: %+v", p)
	}

	// A record of helpdesk-weekly re-signed with another key: the chain
	// does not verify, so none of its runs counts, and the drill is named.
	useClient(t, c)
	other := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{9}, 32))
	r, _ := evidence.Parse([]byte(cms[1].Data[evidence.KeyReport]))
	r.Result, r.ObjectivesMet = "Passed", true
	forged := evidence.Seal(cms[1].Name, r, &evidence.Head{Sequence: r.Sequence - 1, SHA256: r.PreviousReportSHA256}, other)
	var cm corev1.ConfigMap
	mustDo(t, c.Get(context.Background(), client.ObjectKeyFromObject(cms[1]), &cm))
	cm.Data[evidence.KeyReport], cm.Data[evidence.KeySHA256], cm.Data[evidence.KeySignature] = string(forged.Canonical), forged.SHA256, forged.Signature
	mustDo(t, c.Update(context.Background(), &cm))
	keyFile := filepath.Join(t.TempDir(), "key.pub")
	der, _ := x509.MarshalPKIXPublicKey(key.Public())
	mustDo(t, os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), 0o600))
	p := policies(t, "--public-key", keyFile)["helpdesk/helpdesk"]
	if len(p.Drills) != 0 || len(p.Excluded) != 1 || !strings.HasPrefix(p.Excluded[0], "helpdesk/helpdesk-weekly: evidence record 2 (helpdesk-weekly-2-evidence): the signature does not verify") ||
		p.Runs.Finished != 0 || p.Coverage.CoveredDays != 0 || p.PassRatePercent != nil {
		t.Errorf("a forged chain is counted: %+v", p)
	}

	if err := run([]string{"report", "-A", "--max-age", "8d"}, &bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), "max-age") {
		t.Errorf("--max-age 8d: %v", err)
	}
}

// TestReportPoliciesNoDrillRestores (issue 12, finding 8): a BackupPolicy
// of the cluster that no drill restores is in the auditor's view at 0 %
// with a note saying so, in JSON, CSV and HTML; missed schedule times still
// waiting in a DRDrill's status are shown per policy, marked as read from
// the cluster and apart from the evidence's figure; what cannot be read is
// said, not shown as nothing.
func TestReportPoliciesNoDrillRestores(t *testing.T) {
	key := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, 32))
	period := []string{"--from", "2026-11-01", "--to", "2026-11-15"}
	day := func(d int) metav1.Time { return metav1.Time{Time: time.Date(2026, 11, d, 6, 0, 0, 0, time.UTC)} }
	crm := &opsv1alpha1.BackupPolicy{ObjectMeta: metav1.ObjectMeta{Namespace: "helpdesk", Name: "crm"}}
	// A drill naming crm that never ran: one missed time in the period,
	// one after it, one dropped for want of room.
	crmDaily := &opsv1alpha1.DRDrill{ObjectMeta: metav1.ObjectMeta{Namespace: "helpdesk", Name: "crm-daily"},
		Spec:   opsv1alpha1.DRDrillSpec{DrillProcedure: opsv1alpha1.DrillProcedure{BackupPolicyName: "crm"}},
		Status: opsv1alpha1.DRDrillStatus{MissedSchedules: []metav1.Time{day(3), day(20)}, MissedSchedulesDropped: 1}}
	c, cms := evidenceCluster(t, key, helpdeskPolicy(96*time.Hour), crm, crmDaily)
	// helpdesk-weekly has a time pending too, besides the one its evidence records.
	var weekly opsv1alpha1.DRDrill
	mustDo(t, c.Get(context.Background(), client.ObjectKey{Namespace: "helpdesk", Name: "helpdesk-weekly"}, &weekly))
	weekly.Status.MissedSchedules = []metav1.Time{day(12)}
	mustDo(t, c.Update(context.Background(), &weekly))
	useClient(t, c)
	report := func(t *testing.T, format string) string {
		t.Helper()
		var out bytes.Buffer
		if err := run(append([]string{"report", "-n", "helpdesk", "--format", format}, period...), &out); err != nil {
			t.Fatal(err)
		}
		return out.String()
	}
	const note = "no drill restores this policy: no evidence records a restore of it; DRDrill helpdesk/crm-daily names it now, but has recorded no evidence restoring it"

	js := report(t, "json")
	var export evidence.Export
	mustDo(t, json.Unmarshal([]byte(js), &export))
	byPolicy := map[string]evidence.PolicyAudit{}
	for _, p := range export.Policies {
		byPolicy[p.Policy] = p
	}
	p, helpdesk := byPolicy["helpdesk/crm"], byPolicy["helpdesk/helpdesk"]
	if len(byPolicy) != 2 || !p.NoDrill || p.Note != note || p.Coverage.Days != 14 || p.Coverage.CoveredDays != 0 || p.Runs.Finished != 0 || p.PassRatePercent != nil ||
		p.MaxAgeSource != "BackupPolicy helpdesk/crm: spec.verification.maxAge unset, its default 192h0m0s" {
		t.Errorf("crm %+v", p)
	}
	if m := p.MissedPending; m == nil || fmt.Sprintf("%+v", *m) != fmt.Sprintf("%+v", evidence.PendingMissed{Source: evidence.PendingSource, InPeriod: 1, Undated: 1, Drills: []string{"helpdesk/crm-daily"}}) {
		t.Errorf("crm pending %+v", m)
	}
	// Evidence (Nov 14, recorded by a later run) and cluster (Nov 12) apart.
	if helpdesk.NoDrill || helpdesk.Note != "" || helpdesk.MissedSchedules != 1 || helpdesk.MissedPending == nil || helpdesk.MissedPending.InPeriod != 1 ||
		fmt.Sprint(helpdesk.MissedPending.Drills) != "[helpdesk/helpdesk-weekly]" {
		t.Errorf("helpdesk %+v pending %+v", helpdesk, helpdesk.MissedPending)
	}
	if !strings.Contains(js, `"source": "the DRDrills' status.missedSchedules, read from the cluster as it is now: not signed evidence"`) || len(export.NotRead) != 0 {
		t.Errorf("json:\n%s", js)
	}

	records, err := readCSV(report(t, "csv"))
	mustDo(t, err)
	header, crmLine := records[len(records)-3], records[len(records)-2]
	if got := strings.Join(header[len(header)-5:], ","); got != "no_drill,note,missed_schedules_pending_from_cluster,missed_schedules_pending_undated_from_cluster,missed_schedules_pending_drills" {
		t.Errorf("csv policy header ends %q", got)
	}
	if crmLine[0] != "helpdesk/crm" || crmLine[7] != "0" || crmLine[8] != "0.0" || crmLine[9] != "2026-11-01..2026-11-14" ||
		strings.Join(crmLine[len(crmLine)-5:], "|") != "true|"+note+"|1|1|helpdesk/crm-daily" {
		t.Errorf("csv crm line %q", crmLine)
	}
	if line := records[len(records)-1]; line[0] != "helpdesk/helpdesk" || strings.Join(line[len(line)-5:], "|") != "false||1|0|helpdesk/helpdesk-weekly" {
		t.Errorf("csv helpdesk line %q", line)
	}

	html := report(t, "html")
	for _, want := range []string{
		"<h3>helpdesk/crm</h3>",
		`<tr><th>Note</th><td class="broken">` + note + `</td></tr>`,
		"<tr><th>Verified-restore coverage</th><td>0 of 14 days (0.0 %); not covered: 2026-11-01..2026-11-14</td></tr>",
		"<tr><th>Missed, pending (read from the cluster, not from signed evidence)</th><td>1 (and 1 older, undated) in the status of DRDrill helpdesk/crm-daily; no run has carried them into evidence yet</td></tr>",
		"<b>ISO/IEC 27001:2022 A.8.13 Information backup (backup copies regularly tested).</b> No test of the backup copies of helpdesk/crm is evidenced (" + note + ")",
	} {
		if !strings.Contains(html, want) {
			t.Errorf("html lacks %q", want)
		}
	}

	// One list or the other not readable: the export says what it lacks,
	// counts no pending time it could not read, and names for crm only
	// what it read (the policy, or the drill that names it).
	for _, tc := range []struct {
		name      string
		forbidden client.ObjectList
		resource  string
		notRead   string
		crmNote   string
	}{
		{"the DRDrills not read", &opsv1alpha1.DRDrillList{}, "drdrills",
			"DRDrills (drdrills.ops.supportstack.io is forbidden: RBAC): evidence heads not checked, and the missed schedule times their status still holds are not counted",
			"no drill restores this policy: no evidence records a restore of it"},
		{"the BackupPolicies not read", &opsv1alpha1.BackupPolicyList{}, "backuppolicies",
			"BackupPolicies (backuppolicies.ops.supportstack.io is forbidden: RBAC): a policy no drill restores cannot be listed, and every policy's maxAge is --max-age 192h0m0s (the default)",
			note},
	} {
		t.Run(tc.name, func(t *testing.T) {
			objs := clusterCopy(t, c, cms, helpdeskPolicy(96*time.Hour), crm.DeepCopy())
			useClient(t, fake.NewClientBuilder().WithScheme(c.Scheme()).WithObjects(objs...).WithInterceptorFuncs(interceptor.Funcs{
				List: func(ctx context.Context, cl client.WithWatch, l client.ObjectList, opts ...client.ListOption) error {
					if fmt.Sprintf("%T", l) == fmt.Sprintf("%T", tc.forbidden) {
						return apierrors.NewForbidden(opsv1alpha1.GroupVersion.WithResource(tc.resource).GroupResource(), "", fmt.Errorf("RBAC"))
					}
					return cl.List(ctx, l, opts...)
				}}).Build())
			var export evidence.Export
			mustDo(t, json.Unmarshal([]byte(report(t, "json")), &export))
			if fmt.Sprint(export.NotRead) != "["+tc.notRead+"]" {
				t.Errorf("notReadFromCluster %q, want %q", export.NotRead, tc.notRead)
			}
			var crmRow *evidence.PolicyAudit
			for i, p := range export.Policies {
				if p.MissedPending != nil && tc.resource == "drdrills" {
					t.Errorf("%s: pending counted from DRDrills not read: %+v", p.Policy, p.MissedPending)
				}
				if p.Policy == "helpdesk/crm" {
					crmRow = &export.Policies[i]
				}
			}
			if crmRow == nil || !crmRow.NoDrill || crmRow.Note != tc.crmNote {
				t.Errorf("crm row %+v, want the note %q", crmRow, tc.crmNote)
			}
			html := report(t, "html")
			if !strings.Contains(html, `<p class="unchecked">Not read from the cluster: `+tc.notRead[:20]) {
				t.Errorf("html does not say what was not read")
			}
			if tc.resource == "drdrills" && !strings.Contains(html, "<td>not read: the DRDrills could not be read</td>") {
				t.Errorf("html does not say the pending times were not read")
			}
		})
	}
}

// readCSV reads the report's CSV: two tables of different widths.
func readCSV(s string) ([][]string, error) {
	r := csv.NewReader(strings.NewReader(s))
	r.FieldsPerRecord = -1
	return r.ReadAll()
}

func TestKeygen(t *testing.T) {
	dir := t.TempDir()
	priv, pub := filepath.Join(dir, "drill.key"), filepath.Join(dir, "drill.pub")
	if err := run([]string{"keygen", "--private", priv, "--public", pub}, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	privPEM, _ := os.ReadFile(priv)
	pubPEM, _ := os.ReadFile(pub)
	key, err := evidence.ParsePrivateKey(privPEM)
	if err != nil {
		t.Fatal(err)
	}
	pk, err := evidence.ParsePublicKey(pubPEM)
	if err != nil || !pk.Equal(key.Public()) {
		t.Errorf("public key %v does not match: %v", pk, err)
	}
	if info, _ := os.Stat(priv); info.Mode().Perm() != 0o600 {
		t.Errorf("private key mode %v", info.Mode())
	}
	if err := run([]string{"keygen", "--private", priv}, &bytes.Buffer{}); err == nil {
		t.Error("keygen without --public accepted")
	}
}

// TestVerifyEvidenceBinding: each way of making a chain lie that hashes
// and signatures alone miss is named by verify-evidence, with the record.
func TestVerifyEvidenceBinding(t *testing.T) {
	key := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, 32))
	keyFile := filepath.Join(t.TempDir(), "key.pub")
	der, _ := x509.MarshalPKIXPublicKey(key.Public())
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	verify := make([]string, 0, 8)
	verify = append(verify, "verify-evidence", "-n", "helpdesk", "helpdesk-weekly", "--public-key", keyFile)
	for _, tc := range []struct {
		name string
		// attack changes the fake cluster as the attacker would (cms are
		// helpdesk-weekly's three records, then ledger-daily's one).
		attack func(t *testing.T, c client.Client, cms []*corev1.ConfigMap)
		args   []string
		want   string
	}{
		{"another drill's record copied in under this drill's label", func(t *testing.T, c client.Client, cms []*corev1.ConfigMap) {
			// Signed by the same key, so only the binding can tell.
			foreign := cms[3].DeepCopy()
			foreign.Namespace, foreign.ResourceVersion = "helpdesk", ""
			foreign.Labels["ops.supportstack.io/drill"] = "helpdesk-weekly"
			foreign.Annotations[evidence.AnnotationSequence] = "4"
			mustDo(t, c.Create(ctx, foreign))
		}, verify, "evidence record 4 (ledger-daily-1-evidence): belongs to drill finance/ledger-daily (run ledger-daily-1), not to helpdesk/helpdesk-weekly"},
		{"the newest record deleted", func(t *testing.T, c client.Client, cms []*corev1.ConfigMap) {
			mustDo(t, c.Delete(ctx, cms[2]))
		}, verify, "evidence record 2 (helpdesk-weekly-2-evidence): is the newest record (sequence 2, sha256 "},
		{"the newest record deleted, head given by the auditor", func(t *testing.T, c client.Client, cms []*corev1.ConfigMap) {
			mustDo(t, c.Delete(ctx, cms[2]))
			// The drill too: the auditor's note is all that is left.
			mustDo(t, c.Delete(ctx, &opsv1alpha1.DRDrill{ObjectMeta: metav1.ObjectMeta{Namespace: "helpdesk", Name: "helpdesk-weekly"}}))
		}, append(verify, "--expect-head", "3:"+strings.Repeat("ab", 32)), "the newest record (sequence 3) was deleted"},
		{"a middle record deleted", func(t *testing.T, c client.Client, cms []*corev1.ConfigMap) {
			mustDo(t, c.Delete(ctx, cms[1]))
		}, verify, "evidence record 2 (helpdesk-weekly-3-evidence): names previous report"},
		{"two runs' records swapped between their ConfigMaps", func(t *testing.T, c client.Client, cms []*corev1.ConfigMap) {
			// The failed run 2 now looks passed when its ConfigMap is read;
			// order, hashes and signatures still hold.
			a, b := cms[1].DeepCopy(), cms[2].DeepCopy()
			mustDo(t, c.Delete(ctx, cms[1]))
			mustDo(t, c.Delete(ctx, cms[2]))
			a.Data, b.Data = b.Data, a.Data
			a.Annotations, b.Annotations = b.Annotations, a.Annotations
			for _, cm := range []*corev1.ConfigMap{a, b} {
				cm.ResourceVersion = ""
				mustDo(t, c.Create(ctx, cm))
			}
		}, verify, `evidence record 2 (helpdesk-weekly-3-evidence): is the report of run helpdesk-weekly-2 (uid uid-helpdesk-weekly-2), but it is stored as the record of run "helpdesk-weekly-3" (its ConfigMap is helpdesk-weekly-3-evidence, the run's own is helpdesk-weekly-2-evidence): a record moved under another run's name`},
		{"a record relabelled to another run", func(t *testing.T, c client.Client, cms []*corev1.ConfigMap) {
			var cm corev1.ConfigMap
			mustDo(t, c.Get(ctx, client.ObjectKeyFromObject(cms[0]), &cm))
			cm.Labels["ops.supportstack.io/drillrun"] = "helpdesk-weekly-3"
			mustDo(t, c.Update(ctx, &cm))
		}, verify, `evidence record 1 (helpdesk-weekly-1-evidence): is the report of run helpdesk-weekly-1 (uid uid-helpdesk-weekly-1), but it is stored as the record of run "helpdesk-weekly-3"`},
		{"a record re-sealed and re-signed with another key", func(t *testing.T, c client.Client, cms []*corev1.ConfigMap) {
			other := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{9}, 32))
			r, _ := evidence.Parse([]byte(cms[1].Data[evidence.KeyReport]))
			r.Result, r.ObjectivesMet = "Passed", true
			forged := evidence.Seal(cms[1].Name, r, &evidence.Head{Sequence: r.Sequence - 1, SHA256: r.PreviousReportSHA256}, other)
			var cm corev1.ConfigMap
			mustDo(t, c.Get(ctx, client.ObjectKeyFromObject(cms[1]), &cm))
			cm.Data[evidence.KeyReport], cm.Data[evidence.KeySHA256], cm.Data[evidence.KeySignature] = string(forged.Canonical), forged.SHA256, forged.Signature
			mustDo(t, c.Update(ctx, &cm))
		}, verify, "evidence record 2 (helpdesk-weekly-2-evidence): the signature does not verify"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, cms := evidenceCluster(t, key)
			useClient(t, c)
			if err := run(verify, &bytes.Buffer{}); err != nil {
				t.Fatalf("before the attack: %v", err)
			}
			tc.attack(t, c, cms)
			err := run(tc.args, &bytes.Buffer{})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want %q", err, tc.want)
			}
			t.Logf("named: %v", err)
		})
	}

	// The drill deleted to hide a deleted newest record: without a head to
	// compare with, verification fails and says what to pass; --no-head
	// verifies what is there and says plainly that the end is unchecked.
	c, cms := evidenceCluster(t, key)
	useClient(t, c)
	mustDo(t, c.Delete(ctx, cms[2]))
	mustDo(t, c.Delete(ctx, &opsv1alpha1.DRDrill{ObjectMeta: metav1.ObjectMeta{Namespace: "helpdesk", Name: "helpdesk-weekly"}}))
	var out bytes.Buffer
	err := run(verify, &out)
	if want := "drill helpdesk/helpdesk-weekly: 2 evidence records link up, but the DRDrill is not found (deleted?), so its evidence head is gone and no --expect-head was given, " +
		"so newest records deleted would not show: pass --expect-head SEQ:SHA256 from an earlier report or alert"; err == nil || !strings.Contains(err.Error(), want) || out.Len() != 0 {
		t.Errorf("without a drill: %v, output %q; want %q", err, out.String(), want)
	}
	if err == nil || !strings.Contains(err.Error(), "or --no-head to accept a chain whose end is unchecked") {
		t.Errorf("without a drill, --no-head not named: %v", err)
	}
	out.Reset()
	if err := run(append(verify, "--no-head"), &out); err != nil || out.String() != "drill helpdesk/helpdesk-weekly: 2 evidence records, hash chain intact, every record signed by the given key, "+
		"END NOT CHECKED (--no-head): the DRDrill is not found (deleted?), so its evidence head is gone, so newest records deleted would not show\n" {
		t.Errorf("--no-head without a drill: %v %q", err, out.String())
	}
	// The auditor's note still catches it.
	if err := run(append(verify, "--expect-head", "3:"+cms[2].Data[evidence.KeySHA256]), &bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), "the newest record (sequence 3) was deleted") {
		t.Errorf("--expect-head without a drill: %v", err)
	}
	if err := run(append(verify, "--expect-head", "3:"+cms[2].Data[evidence.KeySHA256], "--no-head"), &bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), "not both") {
		t.Errorf("--expect-head with --no-head: %v", err)
	}
	// A DRDrill whose status holds no head: the same refusal, naming that.
	c, _ = evidenceCluster(t, key)
	useClient(t, c)
	var d opsv1alpha1.DRDrill
	mustDo(t, c.Get(ctx, client.ObjectKey{Namespace: "helpdesk", Name: "helpdesk-weekly"}, &d))
	d.Status.EvidenceHead = nil
	mustDo(t, c.Update(ctx, &d))
	if err := run(verify, &bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), "3 evidence records link up, but the DRDrill's status has no evidence head and no --expect-head was given") {
		t.Errorf("a drill without a head: %v", err)
	}
	if err := run(append(verify, "--expect-head", "3"), &bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), "give SEQUENCE:SHA256") {
		t.Errorf("a malformed --expect-head: %v", err)
	}
}

func mustDo(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// clusterCopy is what a fake client needs to hold the evidence cluster c:
// the policies given, the evidence ConfigMaps and c's DRDrills, with no
// resourceVersion.
func clusterCopy(t *testing.T, c client.Client, cms []*corev1.ConfigMap, policies ...client.Object) []client.Object {
	t.Helper()
	var drills opsv1alpha1.DRDrillList
	mustDo(t, c.List(context.Background(), &drills))
	objs := make([]client.Object, 0, len(policies)+len(cms)+len(drills.Items))
	objs = append(objs, policies...)
	for _, cm := range cms {
		objs = append(objs, cm.DeepCopy())
	}
	for i := range drills.Items {
		objs = append(objs, &drills.Items[i])
	}
	for i := range objs {
		objs[i].SetResourceVersion("")
	}
	return objs
}
