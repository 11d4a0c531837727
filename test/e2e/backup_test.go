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

package e2e

import (
	"context"
	"fmt"
	"os/exec"
	"sort"
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"

	opsv1alpha1 "github.com/supportstack/operator/api/v1alpha1"
	"github.com/supportstack/operator/internal/testenv"
)

const everyMinutePolicy = `
apiVersion: v1
kind: Secret
metadata: {name: e2e-restic, namespace: helpdesk}
stringData: {password: e2e-password}
---
apiVersion: v1
kind: Secret
metadata: {name: e2e-db, namespace: helpdesk}
stringData: {uri: "postgresql://app:pw@helpdesk-db:5432/helpdesk"}
---
apiVersion: ops.supportstack.io/v1alpha1
kind: BackupPolicy
metadata: {name: every-minute, namespace: helpdesk}
spec:
  schedule: "* * * * *"
  sources:
    postgres: [{name: tickets, connectionSecretRef: {name: e2e-db, key: uri}, databases: [helpdesk]}]
  repository:
    url: s3:https://s3.example.com/e2e
    passwordSecretRef: {name: e2e-restic, key: password}
  retention: {keepLast: 3}
  objectives: {rpo: 26h}
`

// backupOnCluster applies a BackupPolicy that runs every minute on the kwok
// control plane and watches kube-controller-manager do the rest: the
// CronJob spawns Jobs, kwok's nodes complete them, the CronJob controller
// deletes Jobs beyond the history limit of 3 and the garbage collector their
// pods. kwok runs no container, so the agent leaves no result: the policy's
// status says exactly that.
func backupOnCluster(t *testing.T, kubectl, kubeconfig string) {
	ctx := context.Background()
	c := applyManifest(t, kubectl, kubeconfig, everyMinutePolicy)
	selector := client.MatchingLabels{"ops.supportstack.io/backuppolicy": "every-minute", "ops.supportstack.io/operation": "backup"}

	seen := map[string]bool{}
	var first string
	deadline := time.Now().Add(7 * time.Minute)
	for {
		var jobs batchv1.JobList
		if err := c.List(ctx, &jobs, client.InNamespace("helpdesk"), selector); err != nil {
			t.Fatal(err)
		}
		names := make([]string, 0, len(jobs.Items))
		complete := 0
		for _, j := range jobs.Items {
			names = append(names, j.Name)
			seen[j.Name] = true
			for _, cond := range j.Status.Conditions {
				if cond.Type == batchv1.JobComplete && cond.Status == corev1.ConditionTrue {
					complete++
				}
			}
		}
		sort.Strings(names)
		if first == "" && len(names) > 0 {
			first = names[0]
		}
		// Four Jobs have run, at most three are kept, and the first is gone.
		if len(seen) >= 4 && len(jobs.Items) <= 3 && !contains(names, first) {
			t.Logf("jobs seen %d, kept %v (%d complete)", len(seen), names, complete)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 7 minutes: seen %d jobs, kept %v, %d complete", len(seen), names, complete)
		}
		time.Sleep(5 * time.Second)
	}

	// The first Job's pods went with it (garbage collection).
	var pods corev1.PodList
	if err := c.List(ctx, &pods, client.InNamespace("helpdesk"), client.MatchingLabels{batchv1.JobNameLabel: first}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, time.Minute, func() error {
		if err := c.List(ctx, &pods, client.InNamespace("helpdesk"), client.MatchingLabels{batchv1.JobNameLabel: first}); err != nil {
			return err
		}
		if len(pods.Items) > 0 {
			return fmt.Errorf("%d pods of deleted job %s remain", len(pods.Items), first)
		}
		return nil
	})

	var policy opsv1alpha1.BackupPolicy
	waitFor(t, time.Minute, func() error {
		if err := c.Get(ctx, client.ObjectKey{Namespace: "helpdesk", Name: "every-minute"}, &policy); err != nil {
			return err
		}
		if policy.Status.LastBackup == nil || len(policy.Status.RecentBackups) < 3 {
			return fmt.Errorf("status %+v", policy.Status)
		}
		return nil
	})
	if msg := policy.Status.LastBackup.Message; msg != "the Job completed but the agent left no result" || policy.Status.LastBackup.Result != opsv1alpha1.BackupFailed {
		t.Errorf("lastBackup %+v: kwok runs no agent, so the run must not count as a backup", policy.Status.LastBackup)
	}

	// Deleting the policy removes everything it created (garbage collection
	// through owner references); the Secrets it only referred to stay.
	if err := c.Delete(ctx, &policy); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 2*time.Minute, func() error {
		left := []string{}
		for _, obj := range []client.Object{
			&batchv1.CronJob{}, &corev1.ServiceAccount{}, &networkingv1.NetworkPolicy{},
		} {
			name := map[string]string{"*v1.CronJob": "every-minute-backup", "*v1.ServiceAccount": "every-minute-backup-agent",
				"*v1.NetworkPolicy": "every-minute-backup-egress"}[fmt.Sprintf("%T", obj)]
			if err := c.Get(ctx, client.ObjectKey{Namespace: "helpdesk", Name: name}, obj); err == nil {
				left = append(left, fmt.Sprintf("%T %s", obj, name))
			}
		}
		var jobs batchv1.JobList
		if err := c.List(ctx, &jobs, client.InNamespace("helpdesk"), selector); err != nil {
			return err
		}
		if len(jobs.Items) > 0 {
			left = append(left, fmt.Sprintf("%d Jobs", len(jobs.Items)))
		}
		if len(left) > 0 {
			return fmt.Errorf("left after deleting the policy: %v", left)
		}
		return nil
	})
	var secret corev1.Secret
	if err := c.Get(ctx, client.ObjectKey{Namespace: "helpdesk", Name: "e2e-restic"}, &secret); err != nil {
		t.Errorf("the repository password Secret went with the policy: %v", err)
	}
}

// applyManifest applies YAML with kubectl, as a user would, and returns a
// client of the cluster.
func applyManifest(t *testing.T, kubectl, kubeconfig, manifest string) client.Client {
	t.Helper()
	apply := exec.Command(kubectl, "--kubeconfig", kubeconfig, "apply", "-f", "-")
	apply.Stdin = strings.NewReader(manifest)
	if out, err := apply.CombinedOutput(); err != nil {
		t.Fatalf("kubectl apply: %v\n%s", err, out)
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	c, err := client.New(cfg, client.Options{Scheme: testenv.Scheme()})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func waitFor(t *testing.T, timeout time.Duration, check func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := check()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal(err)
		}
		time.Sleep(2 * time.Second)
	}
}
