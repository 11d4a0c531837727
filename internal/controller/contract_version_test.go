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
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	opsv1alpha1 "github.com/supportstack/operator/api/v1alpha1"
	"github.com/supportstack/operator/internal/agentapi"
)

// refusedTermination runs the real agent on the backup CronJob's own
// command line with its configuration's contract version changed to
// another one, as an agent image of another build would receive it, and
// returns the termination message it leaves.
func refusedTermination(t *testing.T, cj *batchv1.CronJob) string {
	t.Helper()
	args := append([]string{}, cj.Spec.JobTemplate.Spec.Template.Spec.Containers[0].Args...)
	if len(args) != 3 || args[1] != "--"+agentapi.ConfigFlag {
		t.Fatalf("backup container args %q: not <operation> --config JSON", args)
	}
	var cfg map[string]any
	if err := json.Unmarshal([]byte(args[2]), &cfg); err != nil {
		t.Fatal(err)
	}
	cfg[agentapi.ContractField] = agentapi.ContractVersion + 1
	b, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	args[2] = string(b)

	dir := t.TempDir()
	bin, termination := filepath.Join(dir, "agent"), filepath.Join(dir, "termination-log")
	if out, err := exec.Command("go", "build", "-o", bin, "../../cmd/agent").CombinedOutput(); err != nil {
		t.Fatalf("building the agent: %v\n%s", err, out)
	}
	// Tools that cannot run: the refusal comes before any of them.
	cmd := exec.Command(bin, append(args, "--termination-log", termination, "--restic", filepath.Join(dir, "no-restic"),
		"--pg-dump", filepath.Join(dir, "no-pg_dump"))...)
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != agentapi.ExitContractMismatch {
		t.Fatalf("agent on a config of another contract version: %v, want exit code %d\n%s", err, agentapi.ExitContractMismatch, out)
	}
	message, err := os.ReadFile(termination)
	if err != nil {
		t.Fatal(err)
	}
	return string(message)
}

// A backup whose agent refused the configuration as another contract
// version's fails with reason AgentVersionMismatch in LastBackupSucceeded
// and in its Warning event, and the agent's sentence (both versions, what
// to do) in lastBackup; an ordinary failure after it is BackupFailed again.
func TestBackupPolicyAgentVersionMismatch(t *testing.T) {
	ctx := context.Background()
	policy := readySamplePolicy(t)
	ns, key := policy.Namespace, client.ObjectKeyFromObject(policy)
	var cj batchv1.CronJob
	if err := k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "helpdesk-backup"}, &cj); err != nil {
		t.Fatal(err)
	}
	message := refusedTermination(t, &cj)
	want := (&agentapi.ContractError{Agent: agentapi.ContractVersion, Config: agentapi.ContractVersion + 1}).Error()

	now := fakeClock.Now()
	finishJob(t, ns, "helpdesk-backup-1", false, message, now)
	got := waitPolicy(t, key, func(p *opsv1alpha1.BackupPolicy) error {
		if c := policyCondition(p, opsv1alpha1.ConditionLastBackupSucceeded); c == nil || c.Status != metav1.ConditionFalse ||
			c.Reason != opsv1alpha1.ReasonAgentVersionMismatch {
			return fmt.Errorf("LastBackupSucceeded %+v", c)
		}
		return nil
	})
	if lb := got.Status.LastBackup; lb == nil || lb.JobName != "helpdesk-backup-1" || lb.Result != opsv1alpha1.BackupFailed || lb.Message != want {
		t.Errorf("lastBackup %+v, want failed with %q", lb, want)
	}
	if c := policyCondition(got, opsv1alpha1.ConditionLastBackupSucceeded); !strings.Contains(c.Message, want) {
		t.Errorf("LastBackupSucceeded message %q lacks %q", c.Message, want)
	}
	eventually(t, 10*time.Second, func() error {
		var list eventsv1.EventList
		if err := k8sClient.List(ctx, &list, client.InNamespace(ns)); err != nil {
			return err
		}
		for _, e := range list.Items {
			if e.Reason == opsv1alpha1.ReasonAgentVersionMismatch && e.Type == "Warning" && strings.Contains(e.Note, want) {
				return nil
			}
		}
		return fmt.Errorf("no AgentVersionMismatch event among %d", len(list.Items))
	})

	// The reason follows the newest backup: an ordinary failure is
	// BackupFailed. (The refusal's times are the agent's real clock.)
	later := time.Now().Add(time.Hour)
	finishJob(t, ns, "helpdesk-backup-2", false, agentMessage(t, false, later, "restic: repository is already locked"), later)
	waitPolicy(t, key, func(p *opsv1alpha1.BackupPolicy) error {
		if c := policyCondition(p, opsv1alpha1.ConditionLastBackupSucceeded); c == nil || c.Reason != opsv1alpha1.ReasonBackupFailed ||
			!strings.Contains(c.Message, "repository is already locked") {
			return fmt.Errorf("LastBackupSucceeded %+v", c)
		}
		return nil
	})
}
