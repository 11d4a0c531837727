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
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	opsv1alpha1 "github.com/supportstack/operator/api/v1alpha1"
	"github.com/supportstack/operator/internal/agentapi"
)

// rtDrillRun is a run whose procedure has a requestTracker check on the
// attachments volume.
func rtDrillRun() *opsv1alpha1.DRDrillRun {
	run := &opsv1alpha1.DRDrillRun{ObjectMeta: metav1.ObjectMeta{Namespace: "support", Name: "rt-weekly-1"}}
	run.Spec.Checks = []opsv1alpha1.DrillCheck{{Name: "rt-smoke", RequestTracker: &opsv1alpha1.RequestTrackerCheck{AttachmentsVolume: "attachments"}}}
	return run
}

// rtVerifyJob is the verify Job of rtDrillRun as the controller renders it.
func rtVerifyJob(t *testing.T, opts ...AgentPodOption) corev1.PodSpec {
	t.Helper()
	run := rtDrillRun()
	policy := drillPolicy("s3:https://s3.example.com/b", "rt5")
	plan, err := PlanDrill(run.Spec.DrillProcedure, policy)
	if err != nil {
		t.Fatal(err)
	}
	checks, err := plan.VerifyChecks([]agentapi.Restored{
		{Source: "tickets", Database: "rt5", ID: "aaaaaaaa", ManifestSHA256: strings.Repeat("d", 64)},
		{Source: "attachments", ID: "bbbbbbbb", ManifestSHA256: strings.Repeat("e", 64)},
	})
	if err != nil {
		t.Fatal(err)
	}
	return DrillJob(run, policy, "agent:1", agentapi.VerifyJob{Checks: checks}, 600, true, opts...).Spec.Template.Spec
}

func TestPlanDrillRequestTracker(t *testing.T) {
	rt := func(database, volume string, sample *int32) []opsv1alpha1.DrillCheck {
		return []opsv1alpha1.DrillCheck{{Name: "rt-smoke", Database: database, RequestTracker: &opsv1alpha1.RequestTrackerCheck{AttachmentsVolume: volume, SampleAttachments: sample}}}
	}
	s3 := "s3:https://s3.example.com/b"
	for _, tc := range []struct {
		name   string
		policy *opsv1alpha1.BackupPolicy
		checks []opsv1alpha1.DrillCheck
		want   string
	}{
		{"one database, the attachments", drillPolicy(s3, "rt5"), rt("", "attachments", nil), ""},
		{"no volume", drillPolicy(s3, "rt5"), rt("rt5", "", nil), ""},
		{"unknown volume", drillPolicy(s3, "rt5"), rt("", "files", nil), `check rt-smoke: BackupPolicy helpdesk has no volume source "files"`},
		{"two databases, none named", drillPolicy(s3, "rt5", "crm"), rt("", "", nil), "check rt-smoke: set database: BackupPolicy helpdesk backs up 2 databases"},
		{"a name RT's configuration cannot carry", drillPolicy(s3, "rt-5"), rt("", "", nil), `check rt-smoke: Request Tracker cannot use database "rt-5": its name must be a plain PostgreSQL identifier`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := PlanDrill(opsv1alpha1.DrillProcedure{BackupPolicyName: "helpdesk", Checks: tc.checks}, tc.policy)
			if (tc.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.want)) {
				t.Errorf("%v, want %q", err, tc.want)
			}
		})
	}

	// The verify configuration: RT on loopback, the manifest named by the
	// snapshot and digest the restore reported, the restored attachments,
	// five attachments sampled unless said; none without a volume.
	restored := []agentapi.Restored{{Source: "tickets", Database: "rt5", ID: "aaaaaaaa", ManifestSHA256: strings.Repeat("d", 64)}}
	for _, tc := range []struct {
		name       string
		checks     []opsv1alpha1.DrillCheck
		path       string
		sample     int
		restoreSet []agentapi.Restored
	}{
		{"default sample", rt("", "attachments", nil), "/restore/data/attachments", DefaultRTSampleAttachments, restored},
		{"sample of 12", rt("rt5", "attachments", ptr.To[int32](12)), "/restore/data/attachments", 12, restored},
		{"no volume, no sample", rt("rt5", "", nil), "", 0, restored},
	} {
		t.Run(tc.name, func(t *testing.T) {
			plan, err := PlanDrill(opsv1alpha1.DrillProcedure{BackupPolicyName: "helpdesk", Checks: tc.checks}, drillPolicy(s3, "rt5"))
			if err != nil {
				t.Fatal(err)
			}
			checks, err := plan.VerifyChecks(tc.restoreSet)
			if err != nil {
				t.Fatal(err)
			}
			c := checks[0]
			want := agentapi.RequestTracker{URL: "http://127.0.0.1:8080", AttachmentsPath: tc.path, SampleAttachments: tc.sample,
				From: &agentapi.ManifestRef{Policy: "support/helpdesk", Source: "tickets", Database: "rt5", Snapshot: "aaaaaaaa", SHA256: strings.Repeat("d", 64)}}
			if c.Database != "rt5" || c.TargetURIEnv != SandboxURIEnv || c.RequestTracker == nil || c.RequestTracker.URL != want.URL ||
				c.RequestTracker.AttachmentsPath != want.AttachmentsPath || c.RequestTracker.SampleAttachments != want.SampleAttachments || *c.RequestTracker.From != *want.From {
				t.Errorf("%+v %+v, want %+v", c, c.RequestTracker, want)
			}
		})
	}
}

// TestDrillJobRequestTracker: the verify pod of a run with a requestTracker
// check runs RT as a sidecar (it ends with the agent) from the operator's
// RT image, in the sandbox role, on the restored database as the checker
// role (its password alone, never the superuser's), with no mail and the
// restored attachments read-only where RT looks for them; a verify pod
// without the check has no RT.
func TestDrillJobRequestTracker(t *testing.T) {
	spec := rtVerifyJob(t, WithRTImage("registry.example.com/rt:5.0.3"))
	if len(spec.InitContainers) != 1 {
		t.Fatalf("init containers %+v, want RT's sidecar", spec.InitContainers)
	}
	rt := spec.InitContainers[0]
	if rt.RestartPolicy == nil || *rt.RestartPolicy != corev1.ContainerRestartPolicyAlways || rt.Image != "registry.example.com/rt:5.0.3" {
		t.Errorf("RT's container: restartPolicy %v, image %s, want a sidecar of the operator's RT image", rt.RestartPolicy, rt.Image)
	}
	env := map[string]corev1.EnvVar{}
	for _, e := range rt.Env {
		env[e.Name] = e
	}
	if e := env[RTDatabasePasswordEnv]; e.ValueFrom == nil || e.ValueFrom.SecretKeyRef == nil || e.ValueFrom.SecretKeyRef.Name != ScratchSecretName || e.ValueFrom.SecretKeyRef.Key != ScratchCheckerPassword {
		t.Errorf("RT's database password from %+v, want the scratch Secret's checker password", e.ValueFrom)
	}
	for _, e := range rt.Env {
		if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil && (e.ValueFrom.SecretKeyRef.Key == ScratchSuperuserPassword || e.ValueFrom.SecretKeyRef.Key == ScratchSuperuserURI) {
			t.Errorf("RT reads the scratch superuser's %s", e.ValueFrom.SecretKeyRef.Key)
		}
	}
	if len(rt.EnvFrom) != 0 {
		t.Errorf("RT takes whole Secrets: %+v", rt.EnvFrom)
	}
	if env[rtServerRoleEnv].Value != "sandbox" || env[rtScriptEnv].Value != RTServerScript {
		t.Errorf("RT's role %q, want sandbox, running RTServerScript", env[rtServerRoleEnv].Value)
	}
	config := env[rtSiteConfigEnv].Value
	for _, want := range []string{
		"Set($DatabaseHost, 'scratch-postgres." + SandboxNamespaceName(rtDrillRun()) + ".svc');",
		"Set($DatabaseName, 'rt5');", "Set($DatabaseUser, '" + CheckerRoleName + "');",
		"Set($MailCommand, 'testfile');", "Path => '" + RTAttachmentsPath + "'",
	} {
		if !strings.Contains(config, want) {
			t.Errorf("RT's site configuration lacks %s:\n%s", want, config)
		}
	}
	mounted := false
	for _, m := range rt.VolumeMounts {
		if m.Name == "restored" {
			mounted = m.MountPath == RTAttachmentsPath && m.SubPath == "data/attachments" && m.ReadOnly
		}
	}
	if !mounted {
		t.Errorf("RT's mounts %+v, want the restored attachments (data/attachments) read-only at %s", rt.VolumeMounts, RTAttachmentsPath)
	}
	if sc := rt.SecurityContext; sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem || sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
		t.Errorf("RT's security context %+v, want restricted", sc)
	}
	if got := rtVerifyJob(t).InitContainers[0].Image; got != DefaultRTImage {
		t.Errorf("without --rt-image RT runs %s, want %s", got, DefaultRTImage)
	}
	plain := DrillJob(&opsv1alpha1.DRDrillRun{ObjectMeta: metav1.ObjectMeta{Namespace: "support", Name: "r"}}, drillPolicy("s3:https://s3.example.com/b", "rt5"), "agent:1",
		agentapi.VerifyJob{Checks: agentapi.VerifyConfig{{Name: "q", SQL: "SELECT 1"}}}, 600, true, WithRTImage("rt:5"))
	if n := len(plain.Spec.Template.Spec.InitContainers); n != 0 {
		t.Errorf("a verify pod without the check has %d init containers", n)
	}
}
