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
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/supportstack/operator/internal/resources"
	"github.com/supportstack/operator/internal/testenv"
)

// helpDeskUpgrade gives the operator another RT image (--rt-image): the
// same image under another name, as the issue asks ("tested with the same
// version"). The protected help desk is backed up first (a backup-now of
// its BackupPolicy that succeeds), RT's schema upgrade runs as a Job with
// the new image and finds nothing to change, and only then do the web
// pods roll to it; RT's data is the same row for row, and REST2 still
// serves the ticket made at the start.
func helpDeskUpgrade(t *testing.T, c cluster, psql func(db, query string) string, rest func(password, path, post string) (string, error), rootPassword, ticket string) {
	const next = "docker.io/supportstack/rt:5-same"
	began := time.Now()
	tag := exec.Command(filepath.Join(testenv.RepoRoot(), "bin", "cluster", "ctr"), "--address", filepath.Join(c.dir, "run", "containerd.sock"),
		"-n", "k8s.io", "images", "tag", "--force", resources.DefaultRTImage, next)
	if out, err := tag.CombinedOutput(); err != nil {
		t.Fatalf("ctr images tag %s %s: %v\n%s", resources.DefaultRTImage, next, err, out)
	}
	fingerprint := psql("rt5", rtDatabaseFingerprint)
	if image := c.run(t, "get", "hd", "-n", rtNamespace, "rt", "-o", "jsonpath={.status.image}"); image != resources.DefaultRTImage {
		t.Fatalf("status.image before the upgrade: %q", image)
	}

	c.run(t, "patch", "deployment", "-n", "supportstack-system", "supportstack-controller-manager", "--type=json",
		"-p", `[{"op":"add","path":"/spec/template/spec/containers/0/args/-","value":"--rt-image=`+next+`"}]`)
	c.run(t, "rollout", "status", "-n", "supportstack-system", "deployment/supportstack-controller-manager", "--timeout", "180s")
	waitFor(t, 6*time.Minute, func() error {
		state := c.run(t, "get", "hd", "-n", rtNamespace, "rt", "-o", `jsonpath={.status.image} {.status.conditions[?(@.type=="Ready")].status} {.status.conditions[?(@.type=="SchemaReady")].message}`)
		if !strings.HasPrefix(state, next+" True") {
			return fmt.Errorf("HelpDesk rt: %s", state)
		}
		return nil
	})
	c.run(t, "rollout", "status", "-n", rtNamespace, "deployment/rt-web", "--timeout", "180s")
	t.Logf("the upgrade to %s (backup, upgrade Job, roll): %s", next, time.Since(began).Round(time.Second))

	// In order: the backup succeeded, then the upgrade Job ran.
	token := c.run(t, "get", "backuppolicy", "-n", rtNamespace, "rt", "-o", "jsonpath={.metadata.annotations.ops\\.supportstack\\.io/backup-now}")
	backupJob := resources.BackupNowJobName("rt-backup", "", token)
	backup := c.run(t, "get", "job", "-n", rtNamespace, backupJob, "-o", `jsonpath={.status.succeeded} {.status.completionTime}`)
	upgradeJob := resources.HelpDeskNames{HelpDesk: "rt"}.Upgrade(resources.DefaultRTImage, next)
	upgrade := c.run(t, "get", "job", "-n", rtNamespace, upgradeJob, "-o", `jsonpath={.status.succeeded} {.status.startTime} {.spec.template.spec.containers[0].image}`)
	b, u := strings.Fields(backup), strings.Fields(upgrade)
	if len(b) != 2 || b[0] != "1" || len(u) != 3 || u[0] != "1" || u[2] != next || u[1] < b[1] {
		t.Errorf("the backup Job %s (%s) and the upgrade Job %s (%s): want both succeeded, the upgrade started after the backup ended, with %s", backupJob, backup, upgradeJob, upgrade, next)
	}
	if logs := c.jobLogs(t, rtNamespace, upgradeJob); !strings.Contains(logs, "No DB changes since") && !strings.Contains(logs, "up to date") || !strings.Contains(logs, "rt-upgrade: done") {
		t.Errorf("the upgrade Job's log:\n%s", logs)
	}
	waitFor(t, time.Minute, func() error {
		images := c.run(t, "get", "pods", "-n", rtNamespace, "-l", "app.kubernetes.io/instance=rt,app.kubernetes.io/component=web", "-o", `jsonpath={range .items[*]}{.spec.containers[0].image} {.status.phase}{"\n"}{end}`)
		if !strings.Contains(images, next+" Running") || strings.Contains(images, resources.DefaultRTImage+" ") {
			return fmt.Errorf("the web pods after the upgrade:\n%s", images)
		}
		return nil
	})
	if again := psql("rt5", rtDatabaseFingerprint); again != fingerprint {
		t.Errorf("the upgrade to the same version changed RT's data:\nbefore %s\nafter  %s", fingerprint, again)
	}
	if out, err := rest(rootPassword, "/ticket/"+ticket, ""); err != nil || !strings.Contains(out, "e2e: created through REST2") {
		t.Errorf("GET /REST/2.0/ticket/%s after the upgrade: %v\n%s", ticket, err, out)
	}
}
