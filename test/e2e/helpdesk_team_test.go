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
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/supportstack/operator/internal/queues"
	"github.com/supportstack/operator/internal/resources"
	"github.com/supportstack/operator/internal/testenv"
)

// helpDeskTeam: the sample SupportTeam, in the help desk's namespace, with
// queueBackend.helpDesk naming the HelpDesk rt. The operator (in its own
// namespace, past the web port's NetworkPolicy) makes the team's queues,
// group and members in that RT through REST2 as RT's service user, and
// the team's rights Job (an RT pod under restricted, past the database's
// NetworkPolicy) gives the group exactly its rights on its queues. The
// team's lead can read no Secret of the namespace, and what the lead can
// read holds no password.
func helpDeskTeam(t *testing.T, c cluster, psql func(db, query string) string) {
	began := time.Now()
	sample, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "config", "samples", "ops_v1alpha1_supportteam.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	c.stdin(t, string(sample), "apply", "-n", rtNamespace, "-f", "-")
	c.run(t, "patch", "supportteam", "-n", rtNamespace, "windows-tier1", "--type=merge", "-p", `{"spec":{"queueBackend":{"helpDesk":{"name":"rt"}}}}`)
	synced := func() string {
		return c.run(t, "get", "supportteam", "-n", rtNamespace, "windows-tier1", "-o", `jsonpath={.status.conditions[?(@.type=="QueuesSynced")].status} {.status.conditions[?(@.type=="QueuesSynced")].message}`)
	}
	waitFor(t, 4*time.Minute, func() error {
		if s := synced(); !strings.HasPrefix(s, "True ") || !strings.Contains(s, "rights on each queue set by Job rt-rights-") {
			return fmt.Errorf("QueuesSynced: %s", s)
		}
		return nil
	})
	t.Logf("SupportTeam on the HelpDesk: queues, group and rights in %s (%s)", time.Since(began).Round(time.Second), synced())

	// In RT's database: the queues, the group with the team's five
	// members, and the group's rights on exactly those queues.
	const group = "supportstack-" + rtNamespace + "-windows-tier1"
	if got := psql("rt5", "SELECT string_agg(name, ',' ORDER BY name) FROM queues WHERE name LIKE 'windows-%' AND disabled = 0"); got != "windows-escalations,windows-phone" {
		t.Errorf("the team's queues in RT: %q", got)
	}
	if got := psql("rt5", "SELECT string_agg(u.emailaddress, ',' ORDER BY u.emailaddress) FROM groupmembers m JOIN groups g ON g.id = m.groupid JOIN users u ON u.id = m.memberid "+
		"WHERE g.domain = 'UserDefined' AND g.name = '"+group+"'"); got != "alice@example.com,bob@example.com,carol@example.com,dave@example.com,erin@example.com" {
		t.Errorf("the members of RT group %s: %q", group, got)
	}
	rights := psql("rt5", "SELECT q.name || ':' || count(*) || ':' || string_agg(a.rightname, ',' ORDER BY a.rightname) FROM acl a JOIN groups g ON g.id = a.principalid "+
		"JOIN queues q ON q.id = a.objectid WHERE a.objecttype = 'RT::Queue' AND g.domain = 'UserDefined' AND g.name = '"+group+"' GROUP BY q.name ORDER BY q.name")
	for _, q := range []string{"windows-escalations", "windows-phone"} {
		if !strings.Contains(rights, fmt.Sprintf("%s:%d:", q, len(queues.RTQueueRights))) {
			t.Errorf("the group's rights on %s: %s", q, rights)
		}
	}
	if others := psql("rt5", "SELECT count(*) FROM acl a JOIN groups g ON g.id = a.principalid WHERE g.domain = 'UserDefined' AND g.name = '"+group+"' AND a.objecttype <> 'RT::Queue'"); others != "0" {
		t.Errorf("the group has %s rights beyond its queues", others)
	}
	if job := c.run(t, "get", "jobs", "-n", rtNamespace, "-l", resources.LabelSupportTeam+"=windows-tier1", "-o", `jsonpath={range .items[*]}{.metadata.name} {.status.succeeded}{"\n"}{end}`); !strings.HasPrefix(job, "rt-rights-") || !strings.Contains(job, " 1") {
		t.Errorf("the team's rights Job: %q", job)
	}

	// The lead (alice@example.com, bound by the operator's Role) reads
	// the team and its ConfigMap, and no Secret.
	as := []string{"--as", "alice@example.com", "-n", rtNamespace}
	if out, err := c.try(append([]string{"get", "secret", resources.HelpDeskNames{HelpDesk: "rt"}.Credentials()}, as...)...); err == nil || !strings.Contains(out, "forbidden") {
		t.Errorf("the lead read the help desk's credentials (%v): %s", err, out)
	}
	if out, err := c.try(append([]string{"get", "secrets"}, as...)...); err == nil || !strings.Contains(out, "forbidden") {
		t.Errorf("the lead listed the namespace's Secrets (%v): %s", err, out)
	}
	b64 := c.run(t, "get", "secret", "-n", rtNamespace, "rt-credentials", "-o", "jsonpath={.data."+resources.HelpDeskOperatorPasswordKey+"}")
	password, err := base64.StdEncoding.DecodeString(b64)
	if err != nil || len(password) < 24 {
		t.Fatalf("the operator's RT password: %v (%d bytes)", err, len(password))
	}
	for _, what := range [][]string{{"supportteam", "windows-tier1"}, {"configmap", "windows-tier1-queues"}} {
		out, err := c.try(append([]string{"get", what[0], what[1], "-o", "yaml"}, as...)...)
		if err != nil {
			t.Errorf("the lead reading %s %s: %v\n%s", what[0], what[1], err, out)
		}
		if strings.Contains(out, string(password)) || strings.Contains(out, b64) {
			t.Errorf("%s %s holds the operator's RT password", what[0], what[1])
		}
	}

	c.run(t, "delete", "supportteam", "-n", rtNamespace, "windows-tier1", "--wait", "--timeout", "2m")
	waitFor(t, 2*time.Minute, func() error {
		if left := c.run(t, "get", "jobs", "-n", rtNamespace, "-l", resources.LabelSupportTeam+"=windows-tier1", "-o", "name"); strings.TrimSpace(left) != "" {
			return fmt.Errorf("the team's rights Job outlived it: %s", left)
		}
		return nil
	})
}
