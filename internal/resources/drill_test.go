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

package resources

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"

	opsv1alpha1 "github.com/supportstack/operator/api/v1alpha1"
	"github.com/supportstack/operator/internal/agentapi"
)

func drillPolicy(url string, databases ...string) *opsv1alpha1.BackupPolicy {
	return &opsv1alpha1.BackupPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: "helpdesk", Namespace: "support"},
		Spec: opsv1alpha1.BackupPolicySpec{
			Sources: opsv1alpha1.BackupSources{
				Postgres: []opsv1alpha1.PostgresSource{{Name: "tickets", Databases: databases}},
				Volumes:  []opsv1alpha1.VolumeSource{{Name: "attachments", ClaimName: "att"}},
			},
			Repository: opsv1alpha1.Repository{URL: url},
		},
	}
}

func TestPlanDrillRefusals(t *testing.T) {
	sql := func(db string) opsv1alpha1.DrillCheck {
		return opsv1alpha1.DrillCheck{Name: "q", Database: db, SQL: "SELECT 1", Expect: &opsv1alpha1.Expectation{Min: new(int64)}}
	}
	rows := opsv1alpha1.DrillCheck{Name: "rows", CompareManifest: &opsv1alpha1.ManifestComparison{}}
	files := func(v string) opsv1alpha1.DrillCheck {
		return opsv1alpha1.DrillCheck{Name: "files", Files: &opsv1alpha1.FilesCheck{Volume: v}}
	}
	s3 := "s3:https://s3.example.com/b"
	cases := []struct {
		name   string
		policy *opsv1alpha1.BackupPolicy
		checks []opsv1alpha1.DrillCheck
		want   string // "" = accepted
	}{
		{"all kinds", drillPolicy(s3, "helpdesk"), []opsv1alpha1.DrillCheck{sql("helpdesk"), rows, files("attachments")}, ""},
		{"repository on a volume", drillPolicy("/backups", "helpdesk"), nil, "BackupPolicy helpdesk keeps its repository on a volume of its namespace, which a sandbox cannot mount"},
		{"unknown database", drillPolicy(s3, "helpdesk"), []opsv1alpha1.DrillCheck{sql("crm")}, `check q: BackupPolicy helpdesk backs up no database "crm" (it has helpdesk)`},
		{"unknown volume", drillPolicy(s3, "helpdesk"), []opsv1alpha1.DrillCheck{files("logos")}, `check files: BackupPolicy helpdesk has no volume source "logos"`},
		{"row counts without database, two databases", drillPolicy(s3, "helpdesk", "crm"), []opsv1alpha1.DrillCheck{rows}, "check rows: set database: BackupPolicy helpdesk backs up 2 databases (crm, helpdesk)"},
		{"every problem named", drillPolicy("/backups", "helpdesk"), []opsv1alpha1.DrillCheck{sql("crm"), files("logos")}, `volume of its namespace, which a sandbox cannot mount: drills need a repository reached over the network (s3:, rest:, sftp:, ...); check q: BackupPolicy helpdesk backs up no database "crm" (it has helpdesk); check files`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := PlanDrill(opsv1alpha1.DrillProcedure{BackupPolicyName: "helpdesk", Checks: tc.checks}, tc.policy)
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("%s: refused: %v", tc.name, err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
			}
		})
	}
}

func TestDrillPlanVerifyChecks(t *testing.T) {
	proc := opsv1alpha1.DrillProcedure{BackupPolicyName: "helpdesk", Checks: []opsv1alpha1.DrillCheck{
		{Name: "q", Database: "helpdesk", SQL: "SELECT count(*) FROM tickets", Expect: &opsv1alpha1.Expectation{Equals: new(int64)}},
		{Name: "rows", CompareManifest: &opsv1alpha1.ManifestComparison{Tables: []string{"tickets"}, TolerancePercent: 5}},
		{Name: "files", Files: &opsv1alpha1.FilesCheck{Volume: "attachments", CompareManifest: true}},
	}}
	plan, err := PlanDrill(proc, drillPolicy("s3:https://s3.example.com/b", "helpdesk"))
	if err != nil {
		t.Fatal(err)
	}
	if plan.Restore.Policy != "support/helpdesk" || plan.Restore.Snapshot != "latest" || len(plan.Restore.Postgres) != 1 || plan.Restore.Volumes[0].Target != "/restore" || !plan.HasVolumes {
		t.Errorf("restore %+v", plan.Restore)
	}
	if c := plan.Restore.Checker; c == nil || c.Name != CheckerRoleName || c.PasswordEnv != CheckerPasswordEnv {
		t.Errorf("the restore creates no checker role: %+v", c)
	}
	if _, err := plan.VerifyChecks([]agentapi.Restored{{Source: "tickets", Database: "helpdesk", ID: "aaaaaaaa"}}); err == nil || !strings.Contains(err.Error(), "no snapshot of attachments") {
		t.Errorf("a volume the restore did not report: %v", err)
	}
	restored := []agentapi.Restored{
		{Source: "tickets", Database: "helpdesk", ID: "aaaaaaaa", ManifestSHA256: strings.Repeat("d", 64)},
		{Source: "attachments", ID: "bbbbbbbb", ManifestSHA256: strings.Repeat("e", 64)},
	}
	checks, err := plan.VerifyChecks(restored)
	if err != nil || len(checks) != 3 {
		t.Fatalf("%+v %v", checks, err)
	}
	if c := checks[0]; c.SQL == "" || c.Equals == nil || c.TargetURIEnv != SandboxURIEnv {
		t.Errorf("sql check %+v", c)
	}
	// Manifests never travel in the configuration: the verify pod reads
	// them from the repository and checks the digest the restore reported.
	if c := checks[1]; c.Database != "helpdesk" || c.Tables.TolerancePercent != 5 || c.Tables.From == nil ||
		*c.Tables.From != (agentapi.ManifestRef{Policy: "support/helpdesk", Source: "tickets", Database: "helpdesk", Snapshot: "aaaaaaaa", SHA256: strings.Repeat("d", 64)}) {
		t.Errorf("row-count check %+v %+v", c, c.Tables)
	}
	if c := checks[2]; c.Files.Path != "/restore/data/attachments" || c.Files.From == nil ||
		*c.Files.From != (agentapi.ManifestRef{Policy: "support/helpdesk", Source: "attachments", Snapshot: "bbbbbbbb", SHA256: strings.Repeat("e", 64)}) {
		t.Errorf("files check %+v", c.Files)
	}
	b, _ := json.Marshal(checks)
	if strings.Contains(string(b), `"manifest"`) || strings.Contains(string(b), "tables\":[{") {
		t.Errorf("the verify configuration carries a manifest: %s", b)
	}
}

// TestDrillJobCredentials: the restore Job connects as the scratch
// server's superuser; the verify Job, which runs the drill author's SQL,
// gets the checker's URI and nothing of the superuser's.
func TestDrillJobCredentials(t *testing.T) {
	run := &opsv1alpha1.DRDrillRun{ObjectMeta: metav1.ObjectMeta{Name: "helpdesk-weekly-1", Namespace: "support"}}
	policy := drillPolicy("s3:https://s3.example.com/b", "helpdesk")
	secret := ScratchSecret(run, "superuser-pw-0123", "checker-pw-4567")
	if got := secret.StringData[ScratchCheckerURI]; !strings.HasPrefix(got, "postgresql://"+CheckerRoleName+":checker-pw-4567@") {
		t.Errorf("checker URI %q", got)
	}
	if got := secret.StringData[ScratchSuperuserURI]; !strings.HasPrefix(got, "postgresql://postgres:superuser-pw-0123@") {
		t.Errorf("superuser URI %q", got)
	}
	keysOf := func(job *batchv1.Job) map[string]string {
		keys := map[string]string{}
		c := job.Spec.Template.Spec.Containers[0]
		for _, e := range c.Env {
			if e.Value != "" {
				keys[e.Name] = "value:" + e.Value
			}
			if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil && e.ValueFrom.SecretKeyRef.Name == ScratchSecretName {
				keys[e.Name] = e.ValueFrom.SecretKeyRef.Key
			}
		}
		for _, f := range c.EnvFrom {
			if f.SecretRef != nil && f.SecretRef.Name == ScratchSecretName {
				keys["envFrom"] = "the whole scratch Secret"
			}
		}
		return keys
	}
	for _, tc := range []struct {
		name   string
		config agentapi.DrillConfig
		want   map[string]string
		denied []string
	}{
		{"restore connects as the superuser", agentapi.RestoreConfig{Policy: "support/helpdesk"},
			map[string]string{SandboxURIEnv: ScratchSuperuserURI, CheckerPasswordEnv: ScratchCheckerPassword}, nil},
		{"verify connects as the checker only", agentapi.VerifyJob{},
			map[string]string{SandboxURIEnv: ScratchCheckerURI}, []string{ScratchSuperuserURI, ScratchSuperuserPassword, ScratchCheckerPassword}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			job := DrillJob(run, policy, "agent:test", tc.config, 600, false)
			keys := keysOf(job)
			for env, key := range tc.want {
				if keys[env] != key {
					t.Errorf("%s from %q, want key %q", env, keys[env], key)
				}
			}
			for env, key := range keys {
				for _, d := range tc.denied {
					if key == d {
						t.Errorf("%s reads the scratch Secret's %s", env, d)
					}
				}
			}
			spec, _ := json.Marshal(job.Spec)
			for _, secret := range []string{"superuser-pw-0123", "checker-pw-4567"} {
				if strings.Contains(string(spec), secret) {
					t.Errorf("the Job's spec holds a password: %s", spec)
				}
			}
		})
	}
}

// TestSandboxNamespaceName: a default sandbox name is drill-<hash of the
// run's namespace and name>-<run name>, a DNS-1123 label of at most 63
// characters, the same for the same run, and different for runs of the same
// name in two namespaces (issue #11, item 6).
func TestSandboxNamespaceName(t *testing.T) {
	run := func(ns, name, fixed string) *opsv1alpha1.DRDrillRun {
		return &opsv1alpha1.DRDrillRun{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Spec: opsv1alpha1.DRDrillRunSpec{DrillProcedure: opsv1alpha1.DrillProcedure{Sandbox: opsv1alpha1.Sandbox{Namespace: fixed}}}}
	}
	hash := func(ns, name string) string {
		sum := sha256.Sum256([]byte(ns + "/" + name))
		return hex.EncodeToString(sum[:])[:10]
	}
	long := strings.Repeat("a", 56) + "-1234567"
	for _, tc := range []struct{ desc, ns, name, fixed, want string }{
		{"derived from the run and its namespace", "support", "helpdesk-weekly-29924100", "", "drill-" + hash("support", "helpdesk-weekly-29924100") + "-helpdesk-weekly-29924100"},
		{"fixed namespace", "support", "helpdesk-weekly-29924100", "restore-lab", "restore-lab"},
		{"truncated to 63 characters", "support", long, "", "drill-" + hash("support", long) + "-" + strings.Repeat("a", 46)},
		{"no trailing dash after truncation", "support", strings.Repeat("a", 45) + "-b", "", "drill-" + hash("support", strings.Repeat("a", 45)+"-b") + "-" + strings.Repeat("a", 45)},
		{"dots replaced", "support", "drill.v2-now-0a1b2c3d", "", "drill-" + hash("support", "drill.v2-now-0a1b2c3d") + "-drill-v2-now-0a1b2c3d"},
		{"longest run name", strings.Repeat("n", 63), strings.Repeat("r", 253), "", "drill-" + hash(strings.Repeat("n", 63), strings.Repeat("r", 253)) + "-" + strings.Repeat("r", 46)},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			got := SandboxNamespaceName(run(tc.ns, tc.name, tc.fixed))
			if got != tc.want {
				t.Errorf("SandboxNamespaceName(%s/%s, %q) = %q, want %q", tc.ns, tc.name, tc.fixed, got, tc.want)
			}
			if errs := validation.IsDNS1123Label(got); len(errs) != 0 {
				t.Errorf("%q is no namespace name: %v", got, errs)
			}
			if again := SandboxNamespaceName(run(tc.ns, tc.name, tc.fixed)); again != got {
				t.Errorf("not deterministic: %q then %q", got, again)
			}
		})
	}
	// The same drill name and schedule in two namespaces: two sandboxes.
	seen := map[string]string{}
	for _, ns := range []string{"support", "support-eu", "billing", "a", "b"} {
		for _, name := range []string{"helpdesk-weekly-29924100", long} {
			got := SandboxNamespaceName(run(ns, name, ""))
			if other, ok := seen[got]; ok {
				t.Errorf("%s/%s and %s share the sandbox %s", ns, name, other, got)
			}
			seen[got] = ns + "/" + name
		}
	}
}

// TestSandboxPodsBounded: every pod a drill starts (the scratch server
// with whatever image the drill names, the restore and verify Jobs' pods)
// has CPU and memory requests and limits, and the sandbox quota bounds
// them, with count/pods (issue #11, item 9), and ephemeral storage, for a
// backup of 5 GiB and an agent cache of 3 GiB (issue #19).
func TestSandboxPodsBounded(t *testing.T) {
	for _, withRT := range []bool{false, true} {
		t.Run(fmt.Sprintf("requestTracker check %v", withRT), func(t *testing.T) { sandboxPodsBounded(t, withRT) })
	}
}

func sandboxPodsBounded(t *testing.T, withRT bool) {
	run := &opsv1alpha1.DRDrillRun{ObjectMeta: metav1.ObjectMeta{Namespace: "support", Name: "helpdesk-now-0a1b2c3d"}}
	run.Spec.Sandbox.PostgresImage = "registry.example.com/anything:latest"
	policy := drillPolicy("s3:https://s3.example.com/b", "helpdesk")
	policy.Status.LastBackup = &opsv1alpha1.BackupResult{Result: opsv1alpha1.BackupSucceeded, TotalBytes: 5 << 30}
	const cache = 3 << 30
	scratchBytes := ScratchBytes(policy)
	scratch, _ := ScratchPostgres(run, scratchBytes)
	restore := DrillJob(run, policy, "supportstack/agent:dev", agentapi.RestoreConfig{ScratchBytes: scratchBytes}, 60, true, WithAgentCache(cache))
	verifyJob := agentapi.VerifyJob{}
	if withRT {
		run.Spec.Checks = rtDrillRun().Spec.Checks
		verifyJob.Checks = agentapi.VerifyConfig{{Name: "rt-smoke", Database: "helpdesk",
			RequestTracker: &agentapi.RequestTracker{URL: RTSandboxURL, AttachmentsPath: "/restore/data/attachments"}}}
	}
	verify := DrillJob(run, policy, "supportstack/agent:dev", verifyJob, 60, true, WithAgentCache(cache))
	if withRT != (len(verify.Spec.Template.Spec.InitContainers) == 1) {
		t.Fatalf("the verify pod's init containers: %+v", verify.Spec.Template.Spec.InitContainers)
	}
	quota := SandboxQuota(run, scratchBytes, cache).Spec.Hard
	for _, want := range []corev1.ResourceName{corev1.ResourceLimitsCPU, corev1.ResourceLimitsMemory, corev1.ResourceRequestsCPU, corev1.ResourceRequestsMemory, ResourceCountPods,
		corev1.ResourceRequestsEphemeralStorage, corev1.ResourceLimitsEphemeralStorage} {
		if _, ok := quota[want]; !ok {
			t.Errorf("the sandbox quota does not bound %s: %v", want, quota)
		}
	}
	sum := corev1.ResourceList{}
	for _, pod := range []struct {
		name string
		spec corev1.PodSpec
	}{{"scratch", scratch.Spec}, {"restore", restore.Spec.Template.Spec}, {"verify", verify.Spec.Template.Spec}} {
		for _, c := range slices.Concat(pod.spec.InitContainers, pod.spec.Containers) {
			for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory, corev1.ResourceEphemeralStorage} {
				req, lim := c.Resources.Requests[r], c.Resources.Limits[r]
				if req.IsZero() || lim.IsZero() || req.Cmp(lim) > 0 {
					t.Errorf("%s/%s: %s request %s, limit %s: want both, request <= limit", pod.name, c.Name, r, req.String(), lim.String())
				}
			}
			for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory, corev1.ResourceEphemeralStorage} {
				q := sum["limits."+r]
				q.Add(c.Resources.Limits[r])
				sum["limits."+r] = q
				q = sum["requests."+r]
				q.Add(c.Resources.Requests[r])
				sum["requests."+r] = q
			}
		}
	}
	// All three fit at once: the quota controller frees a finished pod's
	// share late, and the verify pod starts as soon as the restore ends.
	for r, used := range sum {
		if hard := quota[r]; used.Cmp(hard) > 0 {
			t.Errorf("the scratch server, restore and verify pods need %s %s, the quota allows %s", r, used.String(), hard.String())
		}
	}
	if n := quota[ResourceCountPods]; n.Value() < 3 || n.Value() > 6 {
		t.Errorf("count/pods %s: want room for the scratch, restore and verify pods and a few more", n.String())
	}
}
