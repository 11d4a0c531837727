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
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// resticSnapshot is one entry of restic snapshots --json.
type resticSnapshot struct {
	ShortID string    `json:"short_id"`
	Time    time.Time `json:"time"`
	Tags    []string  `json:"tags"`
}

// noJobRunning waits until no Job of the helpdesk namespace is running.
func noJobRunning(t *testing.T, c cluster) {
	t.Helper()
	waitFor(t, 5*time.Minute, func() error {
		if active := strings.TrimSpace(c.run(t, "get", "jobs", "-n", "helpdesk", "-o", "jsonpath={.items[*].status.active}")); active != "" {
			return fmt.Errorf("Jobs still running: %s", active)
		}
		return nil
	})
}

// repositorySnapshots lists the demo policy's snapshots by recovery set,
// read with restic from the node (not through the operator).
func repositorySnapshots(t *testing.T, c cluster) map[string][]resticSnapshot {
	t.Helper()
	s3 := strings.TrimSpace(c.run(t, "get", "pods", "-n", "backup-store", "-l", "app=s3", "-o", "jsonpath={.items[0].status.podIP}"))
	restic := exec.Command("restic", "snapshots", "--json", "--no-lock", "--tag", "policy=helpdesk/helpdesk")
	restic.Env = append(os.Environ(), "RESTIC_REPOSITORY=s3:http://"+s3+":8080/helpdesk-backups", "RESTIC_PASSWORD=restic-demo-repository-password",
		"AWS_ACCESS_KEY_ID=AKIDSUPPORTSTACKDEMO", "AWS_SECRET_ACCESS_KEY=supportstack-demo-s3-secret", "RESTIC_CACHE_DIR="+t.TempDir())
	out, err := restic.Output()
	if err != nil {
		t.Fatalf("restic snapshots: %v", err)
	}
	var snaps []resticSnapshot
	if err := json.Unmarshal(out, &snaps); err != nil {
		t.Fatal(err)
	}
	sets := map[string][]resticSnapshot{}
	for _, s := range snaps {
		for _, tag := range s.Tags {
			if name, ok := strings.CutPrefix(tag, "run="); ok {
				sets[name] = append(sets[name], s)
			}
		}
	}
	return sets
}

// verifiedRestores: after the drills that passed on real pods, the
// BackupPolicy's RestoreVerified is True and names the recovery set, whose
// every snapshot carries the verified tag in the repository (read with
// restic from the node, not from the operator); a prune whose keep rules
// would forget that set keeps it, and forgets the set between whole; with maxAge shorter than
// the pass's age, RestoreVerified turns False with its message and the
// restore-not-verified alert's expression holds on the operator's metrics.
func verifiedRestores(t *testing.T, c cluster) {
	policy := func(path string) string {
		return strings.TrimSpace(c.run(t, "get", "bkp", "-n", "helpdesk", "helpdesk", "-o", "jsonpath="+path))
	}
	var set string
	waitFor(t, 60*time.Second, func() error {
		status := policy(`{.status.conditions[?(@.type=="RestoreVerified")].status}`)
		set = policy("{.status.lastVerifiedRestore.recoverySet}")
		if status != "True" || set == "" {
			return fmt.Errorf("RestoreVerified %q, recovery set %q", status, set)
		}
		return nil
	})

	// The demo's policy backs up one database and one volume: data and
	// manifest of each, all tagged verified.
	snaps := repositorySnapshots(t, c)
	if n := len(snaps[set]); n != 4 {
		t.Errorf("recovery set %s has %d snapshots in the repository, want 4", set, n)
	}
	for _, s := range snaps[set] {
		if !slices.Contains(s.Tags, "verified") {
			t.Errorf("snapshot %s of the verified set %s lacks the verified tag: %v", s.ShortID, set, s.Tags)
		}
	}

	// One more backup, then prune with keepLast 1, which would forget the
	// verified set: it keeps the newest set and the verified one, and
	// forgets every other whole.
	noJobRunning(t, c) // e.g. the cordoned backup of the stuck-pod test, which runs once the node is back
	c.run(t, "annotate", "-n", "helpdesk", "bkp", "helpdesk", "ops.supportstack.io/backup-now=e2e-after-verified", "--overwrite")
	// The Job the token starts (resources.BackupNowJob): another backup
	// (the stuck-pod test's, once its node is back) may finish after it.
	sum := sha256.Sum256([]byte("e2e-after-verified"))
	job := fmt.Sprintf("helpdesk-backup-now-%x", sum[:4])
	var newest string
	waitFor(t, 5*time.Minute, func() error {
		out := policy(`{.status.recentBackups[?(@.jobName=="` + job + `")].recoverySet} {.status.recentBackups[?(@.jobName=="` + job + `")].result}`)
		newest, _, _ = strings.Cut(out, " ")
		if newest == "" || !strings.HasSuffix(out, "Succeeded") {
			return fmt.Errorf("backup %s: %q", job, out)
		}
		return nil
	})
	// The BackupPolicy is the HelpDesk's: its retention is set through
	// the HelpDesk.
	c.run(t, "patch", "hd", "-n", "helpdesk", "helpdesk", "--type", "merge", "-p", `{"spec":{"protection":{"retention":{"keepLast":1,"keepDaily":null,"keepWeekly":null,"keepMonthly":null}}}}`)
	t.Cleanup(func() {
		c.run(t, "patch", "hd", "-n", "helpdesk", "helpdesk", "--type", "merge", "-p", `{"spec":{"protection":{"retention":{"keepLast":7,"keepDaily":14,"keepWeekly":8,"keepMonthly":12}}}}`)
	})
	waitFor(t, 30*time.Second, func() error {
		out := c.run(t, "get", "cronjob", "-n", "helpdesk", "helpdesk-prune", "-o", "jsonpath={.spec.jobTemplate.spec.template.spec.containers[0].args}")
		if !strings.Contains(out, `\"keepLast\":1}`) && !strings.Contains(out, `"keepLast":1}`) {
			return fmt.Errorf("prune CronJob args %s", out)
		}
		return nil
	})
	noJobRunning(t, c)
	before := repositorySnapshots(t, c)
	for name, snaps := range before {
		if name != set && snaps[0].Time.After(before[newest][0].Time) {
			t.Errorf("set %s is newer than the backup this test started, %s", name, newest)
		}
	}
	c.run(t, "create", "job", "-n", "helpdesk", "--from=cronjob/helpdesk-prune", "e2e-prune")
	if out, err := c.try("wait", "-n", "helpdesk", "job/e2e-prune", "--for=condition=Complete", "--timeout=180s"); err != nil {
		t.Fatalf("the prune Job: %v %s\n%s", err, out, c.run(t, "logs", "-n", "helpdesk", "job/e2e-prune"))
	}
	t.Logf("prune: %s", c.run(t, "get", "pods", "-n", "helpdesk", "-l", "job-name=e2e-prune", "-o", "jsonpath={..terminated.message}"))
	after := repositorySnapshots(t, c)
	if len(after[set]) != 4 || len(after[newest]) != 4 || len(after) != 2 {
		counts := map[string]int{}
		for name, s := range after {
			counts[name] = len(s)
		}
		t.Errorf("after prune with keepLast 1: sets %v, want the verified %s and the newest %s, whole", counts, set, newest)
	}

	// A maxAge shorter than the pass's age: the verification is stale.
	c.run(t, "patch", "bkp", "-n", "helpdesk", "helpdesk", "--type", "merge", "-p", `{"spec":{"verification":{"maxAge":"1s"}}}`)
	t.Cleanup(func() {
		c.run(t, "patch", "bkp", "-n", "helpdesk", "helpdesk", "--type", "merge", "-p", `{"spec":{"verification":{"maxAge":"192h"}}}`)
	})
	waitFor(t, 60*time.Second, func() error {
		got := policy(`{.status.conditions[?(@.type=="RestoreVerified")].status} {.status.conditions[?(@.type=="RestoreVerified")].reason}`)
		if got != "False VerificationStale" {
			return fmt.Errorf("RestoreVerified %q", got)
		}
		return nil
	})
	if msg := policy(`{.status.conditions[?(@.type=="RestoreVerified")].message}`); !strings.Contains(msg, "more than spec.verification.maxAge (1s) ago") {
		t.Errorf("RestoreVerified message %q", msg)
	}
	// SupportStackRestoreNotVerified fires on supportstack_backup_restore_verified == 0.
	series := regexp.MustCompile(`(?m)^supportstack_backup_restore_verified\{namespace="helpdesk",policy="helpdesk"\} (\S+)$`)
	waitFor(t, 30*time.Second, func() error {
		out, err := scrapeMetrics(t, c, managerIP(t, c), "e2e-metrics")
		if err != nil {
			return fmt.Errorf("%v: %.200s", err, out)
		}
		m := series.FindStringSubmatch(out)
		if m == nil || m[1] != "0" {
			return fmt.Errorf("supportstack_backup_restore_verified for helpdesk/helpdesk: %v", m)
		}
		return nil
	})
}
