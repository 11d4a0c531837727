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
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/supportstack/operator/internal/resources"
	"github.com/supportstack/operator/internal/testenv"
)

// rtNamespace runs the Request Tracker of TestRequestTracker.
const rtNamespace = "rt"

// rtDatabaseFingerprint is every RT table a set-up writes, each as its row
// count and an md5 over its rows in id order (users carries the root
// password's hash, so a second insert would show). The attribute
// ExternalStorage is left out: it is the externalizing job's bookmark,
// which each run of its CronJob rewrites (one fired at a quarter-hour
// between delete and re-create once failed the comparison).
const rtDatabaseFingerprint = `SELECT string_agg(t || ':' || n || ':' || h, ' ' ORDER BY t) FROM (
  SELECT 'users' t, count(*) n, md5(coalesce(string_agg(x::text, '|' ORDER BY id), '')) h FROM users x
  UNION ALL SELECT 'principals', count(*), md5(coalesce(string_agg(x::text, '|' ORDER BY id), '')) FROM principals x
  UNION ALL SELECT 'groups', count(*), md5(coalesce(string_agg(x::text, '|' ORDER BY id), '')) FROM groups x
  UNION ALL SELECT 'groupmembers', count(*), md5(coalesce(string_agg(x::text, '|' ORDER BY id), '')) FROM groupmembers x
  UNION ALL SELECT 'acl', count(*), md5(coalesce(string_agg(x::text, '|' ORDER BY id), '')) FROM acl x
  UNION ALL SELECT 'queues', count(*), md5(coalesce(string_agg(x::text, '|' ORDER BY id), '')) FROM queues x
  UNION ALL SELECT 'scrips', count(*), md5(coalesce(string_agg(x::text, '|' ORDER BY id), '')) FROM scrips x
  UNION ALL SELECT 'templates', count(*), md5(coalesce(string_agg(x::text, '|' ORDER BY id), '')) FROM templates x
  UNION ALL SELECT 'customfields', count(*), md5(coalesce(string_agg(x::text, '|' ORDER BY id), '')) FROM customfields x
  UNION ALL SELECT 'attributes', count(*), md5(coalesce(string_agg(x::text, '|' ORDER BY id), '')) FROM attributes x WHERE name <> 'ExternalStorage'
  UNION ALL SELECT 'tickets', count(*), md5(coalesce(string_agg(x::text, '|' ORDER BY id), '')) FROM tickets x) f`

// manifest is obj as JSON with its kind, for kubectl apply.
func manifest(t *testing.T, apiVersion, kind string, obj any) string {
	t.Helper()
	b, err := json.Marshal(obj)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]any{}
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	m["apiVersion"], m["kind"] = apiVersion, kind
	out, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

func rtSecret(t *testing.T, name string, data map[string]string) string {
	t.Helper()
	return manifest(t, "v1", "Secret", corev1.Secret{
		ObjectMeta: metaName(name),
		StringData: data,
	})
}

// TestHelpDesk runs the operator on its own real-pod cluster, as users
// deploy it, and applies the sample HelpDesk (config/samples) in a
// namespace enforcing PodSecurity restricted. The operator makes the
// credentials, the NetworkPolicies, PostgreSQL on its volume, RT's schema
// Job and the web Deployment (Starman, read-only root), whose Service
// answers REST2 as RT's root with the generated password. Every cell of
// the help desk's connection matrix is tried. An uploaded file moves to
// the attachments' volume when a Job from the externalizing CronJob runs. Deleting the HelpDesk with
// deletionPolicy Retain keeps the database: created again, it runs the
// schema Job on the set-up database, which changes no data, and the
// ticket and its externalized attachment are still there. With Delete, the
// volumes and credentials go. Between the two, spec.protection backs the
// help desk up and its drill passes, then fails once a file is lost
// (protectHelpDesk).
func TestHelpDesk(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Fatal("the real-pod cluster runs a kubelet, containerd and NetworkPolicy enforcement: run make test as root")
	}
	assets := os.Getenv("K8S_ASSETS")
	if assets == "" {
		t.Fatal("K8S_ASSETS is not set: run this test with \"make test\" or \"make test-e2e\"")
	}
	root := testenv.RepoRoot()
	dir := filepath.Join(t.TempDir(), "cluster")
	env := append(os.Environ(), "K8S_ASSETS="+assets, "CLUSTER_DIR="+dir)
	script := func(name string, args ...string) string {
		t.Helper()
		start := time.Now()
		cmd := exec.Command(filepath.Join(root, "hack", name), args...)
		cmd.Env = append(env, "KUBECTL="+filepath.Join(assets, "kubectl"))
		out, err := cmd.Output()
		if err != nil {
			var stderr []byte
			if ee, ok := err.(*exec.ExitError); ok {
				stderr = ee.Stderr
			}
			t.Fatalf("hack/%s %s: %v\n%s%s", name, strings.Join(args, " "), err, out, stderr)
		}
		t.Logf("hack/%s %s: %s", name, strings.Join(args, " "), time.Since(start).Round(time.Second))
		return string(out)
	}
	t.Cleanup(func() {
		if _, err := os.Stat(dir); err != nil {
			return
		}
		script("cluster.sh", "down")
		if left := leftovers(t, filepath.Dir(dir)); len(left) > 0 {
			t.Errorf("hack/cluster.sh down left behind:\n%s", strings.Join(left, "\n"))
		}
	})
	script("cluster.sh", "up")
	script("images.sh", "pause", "busybox", "postgres", "rt", "operator", "agent", "s3")
	c := cluster{dir: dir, kubectl: filepath.Join(assets, "kubectl"), kubeconfig: filepath.Join(dir, "kubeconfig", "admin.kubeconfig")}
	start := time.Now()

	// The operator as users deploy it (hack/demo.sh does the same).
	c.stdin(t, script("render-install.sh", "supportstack/operator:dev", "supportstack/agent:dev"), "apply", "--server-side", "-f", "-")
	c.run(t, "wait", "--for", "condition=Established", "--timeout", "60s", "crd", "--all")
	c.run(t, "rollout", "status", "-n", "supportstack-system", "deployment/supportstack-controller-manager", "--timeout", "180s")

	c.apply(t, `{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"`+rtNamespace+`","labels":{"pod-security.kubernetes.io/enforce":"restricted","pod-security.kubernetes.io/enforce-version":"latest"}}}`)
	waitFor(t, time.Minute, func() error {
		_, err := c.try("get", "serviceaccount", "-n", rtNamespace, "default")
		return err
	})
	// The control: the namespace refuses a pod that is not restricted, so
	// every pod below that runs was admitted under restricted.
	if out, err := c.try("run", "-n", rtNamespace, "unrestricted", "--image=supportstack/busybox:dev", "--restart=Never", "--", "true"); err == nil || !strings.Contains(out, "violates PodSecurity") {
		t.Fatalf("an unrestricted pod was not refused (%v): %s", err, out)
	}

	sample, err := os.ReadFile(filepath.Join(root, "config", "samples", "ops_v1alpha1_helpdesk.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	applyHelpDesk := func() {
		t.Helper()
		began := time.Now()
		c.stdin(t, string(sample), "apply", "-n", rtNamespace, "-f", "-")
		if out, err := c.try("wait", "-n", rtNamespace, "hd/rt", "--for", "condition=Ready", "--timeout", "8m"); err != nil {
			conditions, _ := c.try("get", "hd", "-n", rtNamespace, "rt", "-o", `jsonpath={range .status.conditions[*]}{.type}={.status} {.reason}: {.message}{"\n"}{end}`)
			pods, _ := c.try("get", "pods", "-n", rtNamespace, "-o", "wide")
			logs, _ := c.try("logs", "-n", rtNamespace, "job/rt-schema-5")
			t.Fatalf("the HelpDesk did not become Ready: %v\n%s\n%s\n%s\nschema log:\n%s", err, out, conditions, pods, logs)
		}
		t.Logf("HelpDesk rt Ready in %s", time.Since(began).Round(time.Second))
	}
	applyHelpDesk()
	if secured := c.run(t, "get", "hd", "-n", rtNamespace, "rt", "-o", `jsonpath={.status.conditions[?(@.type=="Secured")].status}`); secured != "True" {
		t.Errorf("Secured is %q, want True in a restricted namespace", secured)
	}
	c.run(t, "get", "hd", "-n", rtNamespace)
	secret := func(key string) string {
		t.Helper()
		b64 := c.run(t, "get", "secret", "-n", rtNamespace, "rt-credentials", "-o", "jsonpath={.data."+key+"}")
		v, err := base64.StdEncoding.DecodeString(b64)
		if err != nil {
			t.Fatalf("rt-credentials %s: %v", key, err)
		}
		return string(v)
	}
	rootPassword := secret("root-password")
	if siteConfig := c.run(t, "get", "secret", "-n", rtNamespace, "rt-site-config", "-o", "jsonpath={.data.50-supportstack\\.pm}"); strings.Contains(siteConfig, base64.StdEncoding.EncodeToString([]byte(secret("database-password")))) || siteConfig == "" {
		t.Errorf("the site configuration is empty or holds the database password")
	}
	psql := func(db, query string) string {
		t.Helper()
		return strings.TrimSpace(c.run(t, "exec", "-n", rtNamespace, "statefulset/rt-db", "--", "psql", "-tA", "-U", "postgres", "-d", db, "-c", query))
	}

	// Starman serves, not RT's development server; the root is read-only.
	procs := c.run(t, "exec", "-n", rtNamespace, "deploy/rt-web", "--", "sh", "-c", `for p in /proc/[0-9]*; do tr '\0' ' ' <$p/cmdline; echo; done`)
	if !strings.Contains(procs, "starman worker") || !strings.Contains(procs, "starman master") {
		t.Errorf("the web container's processes are not Starman's:\n%s", procs)
	}
	if out, err := c.try("exec", "-n", rtNamespace, "deploy/rt-web", "--", "sh", "-c", "touch /etc/request-tracker5/x"); err == nil || !strings.Contains(out, "Read-only file system") {
		t.Errorf("the web container's root is writable (%v): %s", err, out)
	}

	// REST2 through the Service, from a restricted busybox pod.
	c.apply(t, rtClient)
	waitFor(t, 2*time.Minute, func() error {
		phase := strings.TrimSpace(c.run(t, "get", "pod", "-n", rtNamespace, "rt-client", "-o", "jsonpath={.status.phase}"))
		if phase != "Running" {
			return fmt.Errorf("rt-client is %s", phase)
		}
		return nil
	})
	// restAt sends a REST2 request as RT's root to the web Service host
	// of the namespace.
	restAt := func(host, password, path, post string) (string, error) {
		args := []string{"exec", "-n", rtNamespace, "rt-client", "--", "timeout", "30", "wget", "-q", "-O", "-",
			"--header", "Authorization: Basic " + base64.StdEncoding.EncodeToString([]byte("root:"+password))}
		if post != "" {
			args = append(args, "--header", "Content-Type: application/json", "--post-data", post)
		}
		return c.try(append(args, "http://"+host+"."+rtNamespace+".svc/REST/2.0"+path)...)
	}
	rest := func(password, path, post string) (string, error) { return restAt("rt-web", password, path, post) }
	if out, err := rest("not-"+rootPassword, "/queues/all", ""); err == nil || !strings.Contains(out, "401") {
		t.Errorf("REST2 with a wrong root password answered (%v): %s", err, out)
	}
	out, err := rest(rootPassword, "/queues/all?fields=Name", "")
	if err != nil {
		t.Fatalf("GET /REST/2.0/queues/all: %v\n%s", err, out)
	}
	var queues struct {
		Items []struct {
			ID   json.Number `json:"id"`
			Name string      `json:"Name"`
		} `json:"items"`
	}
	if err := json.Unmarshal([]byte(out), &queues); err != nil {
		t.Fatalf("queues: %v: %s", err, out)
	}
	general := false
	for _, q := range queues.Items {
		general = general || q.Name == "General"
	}
	if !general {
		t.Errorf("GET /REST/2.0/queues/all lists no General queue: %s", out)
	}
	out, err = rest(rootPassword, "/ticket", `{"Queue":"General","Subject":"e2e: created through REST2"}`)
	if err != nil {
		t.Fatalf("POST /REST/2.0/ticket: %v\n%s", err, out)
	}
	var created struct {
		ID   json.Number `json:"id"`
		Type string      `json:"type"`
	}
	if err := json.Unmarshal([]byte(out), &created); err != nil || created.Type != "ticket" || created.ID == "" {
		t.Fatalf("POST /REST/2.0/ticket answered %s (%v)", out, err)
	}
	if subject := psql("rt5", "SELECT subject FROM tickets WHERE id = "+created.ID.String()); subject != "e2e: created through REST2" {
		t.Errorf("ticket %s in the database has subject %q", created.ID, subject)
	}
	// A ticket with an uploaded file: multipart bodies are spooled to /tmp
	// (HTTP::Entity::Parser), which only the emptyDir makes writable.
	const boundary = "supportstack-e2e-boundary"
	body := "--" + boundary + "\r\nContent-Disposition: form-data; name=\"JSON\"\r\nContent-Type: application/json\r\n\r\n" +
		`{"Queue":"General","Subject":"e2e: with an attachment"}` + "\r\n--" + boundary +
		"\r\nContent-Disposition: form-data; name=\"Attachments\"; filename=\"e2e.txt\"\r\nContent-Type: text/plain\r\n\r\nattached through REST2\r\n--" + boundary +
		"\r\nContent-Disposition: form-data; name=\"Attachments\"; filename=\"e2e.bin\"\r\nContent-Type: application/octet-stream\r\n\r\n" + binaryAttachment + "\r\n--" + boundary + "--\r\n"
	cmd := exec.Command(c.kubectl, "--kubeconfig", c.kubeconfig, "exec", "-i", "-n", rtNamespace, "rt-client", "--", "timeout", "30", "wget", "-q", "-O", "-",
		"--header", "Authorization: Basic "+base64.StdEncoding.EncodeToString([]byte("root:"+rootPassword)),
		"--header", "Content-Type: multipart/form-data; boundary="+boundary, "--post-file", "/dev/stdin", "http://rt-web."+rtNamespace+".svc/REST/2.0/ticket")
	cmd.Stdin = strings.NewReader(body)
	if b, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(b), `"type":"ticket"`) {
		t.Errorf("POST /REST/2.0/ticket with an attachment (multipart): %v\n%s", err, b)
	}
	if content := psql("rt5", "SELECT content FROM attachments WHERE filename = 'e2e.txt'"); content != "attached through REST2" {
		t.Errorf("the uploaded attachment in the database: %q", content)
	}

	// Files that are neither text nor images go to the attachments' volume
	// (RT's ExternalStorage) when the externalizing job runs: run it now,
	// as a Job made from its CronJob.
	c.run(t, "create", "job", "-n", rtNamespace, "--from=cronjob/rt-externalize", "rt-externalize-now")
	waitFor(t, 3*time.Minute, func() error {
		if out := c.run(t, "get", "job", "-n", rtNamespace, "rt-externalize-now", "-o", "jsonpath={.status.succeeded}"); out != "1" {
			return fmt.Errorf("rt-externalize-now: succeeded %q", out)
		}
		return nil
	})
	stored := strings.Split(psql("rt5", "SELECT id || ' ' || contentencoding || ' ' || content FROM attachments WHERE filename = 'e2e.bin'"), " ")
	if len(stored) != 3 || stored[1] != "external" || len(stored[2]) != 64 {
		t.Fatalf("the binary attachment after rt-externalize-attachments: %q, want its id, external and a SHA-256 key", stored)
	}
	key := stored[2]
	file := resources.RTAttachmentsPath + "/" + key[:3] + "/" + key[3:6] + "/" + key[6:]
	if sum := c.run(t, "exec", "-n", rtNamespace, "deploy/rt-web", "--", "sha256sum", file); !strings.HasPrefix(sum, key) {
		t.Errorf("the attachment's file %s on the volume: %q, want SHA-256 %s", file, sum, key)
	}
	if want := fmt.Sprintf("%x", sha256.Sum256([]byte(binaryAttachment))); key != want {
		t.Errorf("the attachment's key %s is not the SHA-256 of what was uploaded (%s)", key, want)
	}
	if out, err := rest(rootPassword, "/attachment/"+stored[0], ""); err != nil || !strings.Contains(out, base64.StdEncoding.EncodeToString([]byte(binaryAttachment))) {
		t.Errorf("RT does not serve the externalized attachment %s from its file: %v\n%s", stored[0], err, out)
	}

	helpDeskRelay(t, c, rest, rootPassword)
	helpDeskConnections(t, c)
	helpDeskMail(t, c, psql)
	helpDeskExternal(t, c, restAt)

	// A database that exists without tables (POSTGRES_DB, a CloudNativePG
	// bootstrap) is set up without creating it: the schema Job on the
	// help desk's PostgreSQL, with its administrator's credentials.
	precreated := resources.RTSite{
		Name: "supportstack-e2e", Organization: "e2e.supportstack.test", WebDomain: "rt-web." + rtNamespace + ".svc", TimeZone: "Europe/Berlin",
		DatabaseHost: "rt-db." + rtNamespace + ".svc", DatabasePort: 5432, DatabaseName: "rt5_precreated", DatabaseUser: "rt_user_precreated",
	}
	precreatedConfig, err := resources.RTSiteConfig(precreated)
	if err != nil {
		t.Fatal(err)
	}
	c.apply(t, rtSecret(t, "rt-site-precreated", map[string]string{resources.RTSiteConfigFile: precreatedConfig}))
	psql("postgres", "CREATE DATABASE rt5_precreated")
	desk := resources.HelpDeskNames{HelpDesk: "rt"}
	objects := resources.RTObjects{
		Name: "rt-schema-precreated", Namespace: rtNamespace,
		// The help desk's schema labels: its NetworkPolicies let these
		// pods reach the database.
		Labels: resources.HelpDeskLabels("rt", "schema"), Image: resources.DefaultRTImage, ConfigSecret: "rt-site-precreated",
		DatabasePassword: desk.DatabasePassword(),
	}
	if logs := runSchemaJob(t, c, resources.RTSchemaJob(objects, resources.ManagedDatabaseConn(rtNamespace, desk), desk.RootPassword(), desk.OperatorPassword())); !strings.Contains(logs, "the database exists without tables") || !strings.Contains(logs, "rt-schema: done") {
		t.Errorf("schema run on a database without tables:\n%s", logs)
	}
	if n := psql("rt5_precreated", "SELECT count(*) FROM queues WHERE name = 'General'"); n != "1" {
		t.Errorf("the pre-created database has %s General queues, want 1", n)
	}

	// Every pod ran under restricted (the namespace enforces it; a pod it
	// refused would be missing here) and none is failing.
	pods := c.run(t, "get", "pods", "-n", rtNamespace, "-o", `jsonpath={range .items[*]}{.metadata.name} {.status.phase}{"\n"}{end}`)
	for _, want := range []string{"rt-db-0", "rt-schema-5-", "rt-schema-precreated-", "rt-web-", "rt-client"} {
		if !strings.Contains(pods, want) {
			t.Errorf("no pod %s* in:\n%s", want, pods)
		}
	}
	if strings.Contains(pods, " Failed") || strings.Contains(pods, " Pending") {
		t.Errorf("pods:\n%s", pods)
	}
	// The pre-created database's Job has the help desk's labels but is the
	// test's: it goes before the HelpDesk does. rt-externalize-now belongs
	// to its CronJob, which keeps one successful Job: a scheduled run at a
	// quarter hour may have deleted it already.
	c.run(t, "delete", "job", "-n", rtNamespace, "rt-schema-precreated", "rt-externalize-now", "--wait", "--ignore-not-found")

	// deletionPolicy Retain: the HelpDesk and what it owns go, the volume
	// and the credentials stay; created again, it finds its tickets.
	fingerprint := psql("rt5", rtDatabaseFingerprint)
	c.run(t, "delete", "hd", "-n", rtNamespace, "rt", "--timeout", "2m")
	waitFor(t, 2*time.Minute, func() error {
		left := c.run(t, "get", "statefulsets,deployments,services,jobs,cronjobs,networkpolicies", "-n", rtNamespace, "-l", "ops.supportstack.io/helpdesk=rt", "-o", "name")
		if strings.TrimSpace(left) != "" {
			return fmt.Errorf("still there after the HelpDesk was deleted:\n%s", left)
		}
		return nil
	})
	kept := c.run(t, "get", "pvc/rt-db-data", "pvc/rt-attachments", "secret/rt-credentials", "-n", rtNamespace, "-o", "name")
	t.Logf("kept under Retain:\n%s", kept)
	applyHelpDesk()
	if got := secret("root-password"); got != rootPassword {
		t.Errorf("the re-created help desk has new credentials")
	}
	if logs := c.jobLogs(t, rtNamespace, "rt-schema-5"); !strings.Contains(logs, "RT's schema and root user are there already") {
		t.Errorf("the schema Job on the retained database:\n%s", logs)
	}
	if again := psql("rt5", rtDatabaseFingerprint); again != fingerprint {
		t.Errorf("the data changed across delete and re-create under Retain:\nbefore %s\nafter  %s", fingerprint, again)
	}
	if out, err := rest(rootPassword, "/ticket/"+created.ID.String(), ""); err != nil || !strings.Contains(out, "e2e: created through REST2") {
		t.Errorf("GET /REST/2.0/ticket/%s after re-creating the help desk: %v\n%s", created.ID, err, out)
	}
	if out, err := rest(rootPassword, "/attachment/"+stored[0], ""); err != nil || !strings.Contains(out, base64.StdEncoding.EncodeToString([]byte(binaryAttachment))) {
		t.Errorf("the externalized attachment after re-creating the help desk: %v\n%s", err, out)
	}

	protectHelpDesk(t, c, file)
	helpDeskTeam(t, c, psql)
	helpDeskUpgrade(t, c, psql, rest, rootPassword, created.ID.String())

	// deletionPolicy Delete: the volume and the credentials go too.
	c.run(t, "patch", "hd", "-n", rtNamespace, "rt", "--type=merge", "-p", `{"spec":{"deletionPolicy":"Delete"}}`)
	c.run(t, "delete", "hd", "-n", rtNamespace, "rt", "--timeout", "2m")
	waitFor(t, 2*time.Minute, func() error {
		if left := c.run(t, "get", "pvc,secrets", "-n", rtNamespace, "-l", "ops.supportstack.io/helpdesk=rt", "-o", "name"); strings.TrimSpace(left) != "" {
			return fmt.Errorf("still there after the HelpDesk was deleted with Delete:\n%s", left)
		}
		return nil
	})
	noRBACRefusal(t, c, "supportstack-system", "supportstack-controller-manager")
	t.Logf("the help desk from the namespace to deletion: %s", time.Since(start).Round(time.Second))
}

// protectHelpDesk gives the HelpDesk spec.protection with the demo's S3
// repository (config/demo/store.yaml): one backup run on demand takes the
// database and the attachments' volume in one recovery set, and the owned
// drill restores both and passes; Protected turns True. Then one
// attachment's file (path, on the volume) is removed, a second backup
// taken, and its drill fails, saying that file is missing.
func protectHelpDesk(t *testing.T, c cluster, path string) {
	t.Helper()
	began := time.Now()
	mailBefore := mailSink(t, c)
	store, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "config", "demo", "store.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	c.apply(t, string(store))
	c.run(t, "rollout", "status", "-n", "backup-store", "deployment/s3", "--timeout", "120s")
	c.apply(t, rtSecret(t, "restic", map[string]string{"password": "restic-e2e-repository-password"}))
	c.apply(t, rtSecret(t, "s3-credentials", map[string]string{"AWS_ACCESS_KEY_ID": "AKIDSUPPORTSTACKDEMO", "AWS_SECRET_ACCESS_KEY": "supportstack-demo-s3-secret"}))
	c.run(t, "patch", "hd", "-n", rtNamespace, "rt", "--type=merge", "-p", `{"spec":{"protection":{
		"schedule":"0 2 * * *",
		"repository":{"url":"s3:http://s3.backup-store.svc.cluster.local:8080/rt-backups","passwordSecretRef":{"name":"restic","key":"password"},"credentialsSecretRef":{"name":"s3-credentials"}},
		"retention":{"keepLast":5},
		"drill":{"schedule":"0 6 * * 1","objectives":{"rto":"30m"}}}}}`)
	conditions := func(kind, name string) string {
		out, _ := c.try("get", kind, "-n", rtNamespace, name, "-o", `jsonpath={range .status.conditions[*]}{.type}={.status} {.reason}: {.message}{"\n"}{end}`)
		return out
	}
	// kubectl wait fails at once on an object that is not there yet: the
	// operator makes the BackupPolicy on its next pass after the patch.
	waitFor(t, time.Minute, func() error {
		_, err := c.try("get", "bkp", "-n", rtNamespace, "rt")
		return err
	})
	if out, err := c.try("wait", "-n", rtNamespace, "bkp/rt", "--for", "condition=Ready", "--timeout", "2m"); err != nil {
		t.Fatalf("the HelpDesk's BackupPolicy is not Ready: %v\n%s\n%s", err, out, conditions("bkp", "rt"))
	}
	backup := func(token string) {
		t.Helper()
		before := c.run(t, "get", "bkp", "-n", rtNamespace, "rt", "-o", "jsonpath={.status.lastBackup.jobName}")
		c.run(t, "annotate", "-n", rtNamespace, "bkp", "rt", "ops.supportstack.io/backup-now="+token, "--overwrite")
		waitFor(t, 5*time.Minute, func() error {
			job := c.run(t, "get", "bkp", "-n", rtNamespace, "rt", "-o", "jsonpath={.status.lastBackup.jobName} {.status.lastBackup.result}")
			if strings.HasPrefix(job, before+" ") || !strings.Contains(job, " ") || strings.HasSuffix(job, " ") {
				return fmt.Errorf("backup %s: last backup %q", token, job)
			}
			if !strings.HasSuffix(job, " Succeeded") {
				pods, _ := c.try("get", "pods", "-n", rtNamespace, "-o", "wide")
				t.Fatalf("backup %s: %s\n%s\n%s", token, job, conditions("bkp", "rt"), pods)
			}
			return nil
		})
	}
	drill := func(token string) (run, phase, checks string) {
		t.Helper()
		runs := func() []string {
			return strings.Fields(c.run(t, "get", "drdrillruns", "-n", rtNamespace, "-l", "ops.supportstack.io/drill=rt", "-o", "jsonpath={.items[*].metadata.name}"))
		}
		earlier := runs()
		c.run(t, "annotate", "-n", rtNamespace, "drdrill", "rt", "ops.supportstack.io/run-now="+token, "--overwrite")
		waitFor(t, 6*time.Minute, func() error {
			for _, r := range runs() {
				if !slices.Contains(earlier, r) {
					run = r
				}
			}
			if run == "" {
				return fmt.Errorf("no new run of drill rt yet (earlier: %v)", earlier)
			}
			if ev, err := c.try("get", "drdrillrun", "-n", rtNamespace, run, "-o", "jsonpath={.status.evidence.sha256}"); err != nil || ev == "" {
				return fmt.Errorf("run %s has no evidence yet: %s", run, conditions("drdrillrun", run))
			}
			return nil
		})
		phase = c.run(t, "get", "drdrillrun", "-n", rtNamespace, run, "-o", "jsonpath={.status.phase}")
		checks = c.run(t, "get", "drdrillrun", "-n", rtNamespace, run, "-o", `jsonpath={range .status.checks[*]}{.name}: {.passed} {.expected} {.observed} {.message}{"\n"}{end}`)
		t.Logf("drill run %s (%s): %s\n%s", run, token, phase, checks)
		return run, phase, checks
	}

	backup("e2e-1")
	sources := c.run(t, "get", "bkp", "-n", rtNamespace, "rt", "-o", "jsonpath={.status.lastBackup.recoverySet} {range .status.lastBackup.snapshots[*]}{.source} {end}")
	if !strings.Contains(sources, " database ") || !strings.Contains(sources, " attachments ") {
		t.Errorf("the backup's recovery set does not hold the database and the attachments: %s", sources)
	}
	passed, phase, checks := drill("e2e-1")
	if phase != "Passed" {
		t.Errorf("the HelpDesk's drill of a whole backup: %s, want Passed\n%s", phase, checks)
	}
	// RT itself, started on the restored copy, shows the backup's queues
	// and tickets, its latest ticket update the one the agent recorded at
	// the dump (so the recovery point is the dump's snapshot), and reads
	// the attachments back with their SHA-256.
	if !strings.Contains(checks, "request-tracker: true") || !strings.Contains(checks, "; latest update ticket #") ||
		!strings.Contains(checks, "; recovery point ") ||
		!regexp.MustCompile(`attachments [1-9][0-9]* of [1-9][0-9]* read back with their SHA-256, 0 missing`).MatchString(checks) {
		t.Errorf("the requestTracker check of a whole backup: want passed, with the latest-updated ticket, the recovery point and attachments read back\n%s", checks)
	}
	if out, err := c.try("wait", "-n", rtNamespace, "hd/rt", "--for", "condition=Protected", "--timeout", "2m"); err != nil {
		t.Errorf("the HelpDesk is not Protected after a passed drill: %v\n%s\n%s", err, out, conditions("hd", "rt"))
	}
	if last := c.run(t, "get", "hd", "-n", rtNamespace, "rt", "-o", "jsonpath={.status.lastVerifiedRestore.drillRun}"); last != passed {
		t.Errorf("the HelpDesk's last verified restore is %q, want the passed run %s", last, passed)
	}
	t.Logf("kubectl get hd:\n%s", c.run(t, "get", "hd", "-n", rtNamespace, "rt"))

	// One attachment's file lost from the volume: the next backup has the
	// row without the file, and the drill says so.
	c.run(t, "exec", "-n", rtNamespace, "deploy/rt-web", "--", "rm", path)
	backup("e2e-2")
	_, phase, checks = drill("e2e-2")
	if phase != "Failed" || !strings.Contains(checks, "attachments-referenced: false") || !strings.Contains(checks, "missing 1,") {
		t.Errorf("the drill of a backup missing one attachment's file: %s, want Failed with attachments-referenced naming 1 missing\n%s", phase, checks)
	}
	if !strings.Contains(checks, "request-tracker: false") || !strings.Contains(checks, "1 of ") || !strings.Contains(checks, "sampled attachments have no file in the restored volume") {
		t.Errorf("the requestTracker check of a backup missing one attachment's file: want failed, naming it\n%s", checks)
	}
	if after := mailSink(t, c); after != mailBefore {
		t.Errorf("the mail sink took %d connections while the help desk's drills ran, want none", after-mailBefore)
	}
	t.Logf("backups and drills of the help desk: %s", time.Since(began).Round(time.Second))
}

// smtpSinkManifest is an SMTP server named name in the namespace
// rt-mail-sink, on port of its Service (Perl from the RT image, which the
// cluster has; one connection at a time, each given 30 s). It takes every
// message and logs "connection" for each connection and "message:
// <subject>" for each message. With tls it also offers STARTTLS with the
// certificate of the Secret name (tls.crt, tls.key) and AUTH PLAIN, which
// takes that Secret's username and password only over TLS and logs "login
// over tls: <user>" or "login refused".
func smtpSinkManifest(name string, port int, tls bool) string {
	secrets := ""
	if tls {
		secrets = fmt.Sprintf(`
    env:
    - {name: SINK_TLS, value: "1"}
    - {name: SINK_USER, valueFrom: {secretKeyRef: {name: %[1]s, key: username}}}
    - {name: SINK_PASSWORD, valueFrom: {secretKeyRef: {name: %[1]s, key: password}}}
    volumeMounts: [{name: tls, mountPath: /tls, readOnly: true}]
  volumes: [{name: tls, secret: {secretName: %[1]s}}]`, name)
	}
	return fmt.Sprintf(`
apiVersion: v1
kind: Pod
metadata: {name: %[1]s, namespace: rt-mail-sink, labels: {app: %[1]s}}
spec:
  automountServiceAccountToken: false
  securityContext: {runAsNonRoot: true, runAsUser: 65532, seccompProfile: {type: RuntimeDefault}}
  containers:
  - name: smtp
    image: %[2]s
    imagePullPolicy: Never
    command: [perl, -e]
    args:
    - |
      use strict; use warnings; use IO::Socket::INET; use IO::Socket::SSL; use MIME::Base64;
      $| = 1;
      my $offer = $ENV{SINK_TLS};
      my $s = IO::Socket::INET->new(LocalPort => 2525, Listen => 16, ReuseAddr => 1) or die "listen: $!";
      print "listening\n";
      while (my $c = $s->accept) {
        print "connection\n";
        $c->autoflush(1);
        eval {
          local $SIG{ALRM} = sub { die "timeout\n" };
          alarm 30;
          print $c "220 sink ESMTP\r\n";
          my ($data, $tls) = (0, 0);
          while (my $l = <$c>) {
            if ($data) {
              if ($l =~ /^\.\r?$/) { $data = 0; print $c "250 queued\r\n" }
              elsif ($l =~ /^Subject: (.*?)\r?$/) { print "message: $1\n" }
              next;
            }
            if ($offer && $l =~ /^EHLO/i) { print $c "250-sink\r\n", ($tls ? "" : "250-STARTTLS\r\n"), "250 AUTH PLAIN\r\n" }
            elsif ($offer && $l =~ /^STARTTLS/i && !$tls) {
              print $c "220 go ahead\r\n";
              IO::Socket::SSL->start_SSL($c, SSL_server => 1, SSL_cert_file => "/tls/tls.crt", SSL_key_file => "/tls/tls.key")
                or die "TLS: $IO::Socket::SSL::SSL_ERROR\n";
              $tls = 1;
            }
            elsif ($offer && $l =~ /^AUTH PLAIN ?(\S*)/i) {
              my $b64 = $1;
              if ($b64 eq "") { print $c "334 \r\n"; $b64 = <$c>; $b64 =~ s/\s+$//; }
              my (undef, $u, $p) = split /\0/, decode_base64($b64);
              if ($tls && defined $p && $u eq $ENV{SINK_USER} && $p eq $ENV{SINK_PASSWORD}) { print "login over tls: $u\n"; print $c "235 welcome\r\n" }
              else { print "login refused (tls $tls)\n"; print $c "535 no\r\n" }
            }
            elsif ($l =~ /^DATA/i) { $data = 1; print $c "354 go on\r\n" }
            elsif ($l =~ /^QUIT/i) { print $c "221 bye\r\n"; last }
            else { print $c "250 ok\r\n" }
          }
          alarm 0;
        };
        print "error: $@" if $@;
        close $c;
      }
    ports: [{containerPort: 2525}]
    securityContext: {allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: {drop: [ALL]}}
    resources: {requests: {cpu: 10m, memory: 32Mi}, limits: {cpu: 100m, memory: 64Mi}}%[3]s
---
apiVersion: v1
kind: Service
metadata: {name: %[1]s, namespace: rt-mail-sink}
spec:
  selector: {app: %[1]s}
  ports: [{name: smtp, port: %[4]d, targetPort: 2525}]
`, name, resources.DefaultRTImage, secrets, port)
}

func mailSink(t *testing.T, c cluster) int {
	t.Helper()
	count := func() int { return strings.Count(c.run(t, "logs", "-n", "rt-mail-sink", "smtp"), "connection\n") }
	if _, err := c.try("get", "pod", "-n", "rt-mail-sink", "smtp"); err == nil {
		return count()
	}
	c.apply(t, `{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"rt-mail-sink"}}`)
	c.apply(t, smtpSinkManifest("smtp", 25, false))
	waitFor(t, 2*time.Minute, func() error {
		// kubectl logs fails while the container is being created.
		if out, err := c.try("logs", "-n", "rt-mail-sink", "smtp"); err != nil || !strings.Contains(out, "listening") {
			return fmt.Errorf("the SMTP sink is not listening yet: %v %q", err, out)
		}
		return nil
	})
	c.apply(t, `{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"rt-outside"}}`)
	if got := probe(t, c, "rt-outside", "probe-smtp", "app: probe", []target{{"smtp", "smtp.rt-mail-sink.svc.cluster.local", "25"}}); got["smtp"] != "open" {
		t.Fatalf("the SMTP sink is not reachable from an unrestricted pod: %v", got)
	}
	n := count()
	if n < 1 {
		t.Fatalf("the SMTP sink logged no connection from the control probe")
	}
	return n
}

// helpDeskRelay gives the help desk the SMTP sink as its relay
// (spec.mail.relay): the web pods roll, and a ticket created through REST2
// with a requestor makes RT send its autoreply through the relay.
func helpDeskRelay(t *testing.T, c cluster, rest func(password, path, post string) (string, error), rootPassword string) {
	t.Helper()
	mailSink(t, c)
	generation := c.run(t, "get", "deploy", "-n", rtNamespace, "rt-web", "-o", "jsonpath={.metadata.generation}")
	c.run(t, "patch", "hd", "-n", rtNamespace, "rt", "--type=merge", "-p", `{"spec":{"mail":{"relay":{"host":"smtp.rt-mail-sink.svc.cluster.local"}}}}`)
	waitFor(t, time.Minute, func() error {
		if now := c.run(t, "get", "deploy", "-n", rtNamespace, "rt-web", "-o", "jsonpath={.metadata.generation}"); now == generation {
			return fmt.Errorf("the web Deployment has not rolled for the relay (generation %s)", now)
		}
		return nil
	})
	c.run(t, "rollout", "status", "-n", rtNamespace, "deploy/rt-web", "--timeout", "3m")
	const subject = "e2e: mail through the relay"
	// The Service's endpoints follow the rollout a moment later: a refused
	// connection made no ticket and is tried again.
	waitFor(t, time.Minute, func() error {
		out, err := rest(rootPassword, "/ticket", `{"Queue":"General","Subject":"`+subject+`","Requestor":"customer@example.com"}`)
		switch {
		case err != nil && strings.Contains(out, "can't connect"):
			return fmt.Errorf("POST /REST/2.0/ticket: %s", out)
		case err != nil || !strings.Contains(out, `"type":"ticket"`):
			t.Fatalf("POST /REST/2.0/ticket with a requestor: %v\n%s", err, out)
		}
		return nil
	})
	waitFor(t, time.Minute, func() error {
		if logs := c.run(t, "logs", "-n", "rt-mail-sink", "smtp"); !regexp.MustCompile(`message: .*` + subject).MatchString(logs) {
			return fmt.Errorf("the relay has no message about %q:\n%s", subject, logs)
		}
		return nil
	})
}

// binaryAttachment is a file that RT keeps on the attachments' volume: not
// text, not an image.
const binaryAttachment = "supportstack e2e binary attachment \x01\x02\x03"

// runSchemaJob runs a schema Job to its end and returns its log.
func runSchemaJob(t *testing.T, c cluster, job *batchv1.Job) string {
	t.Helper()
	began := time.Now()
	c.apply(t, manifest(t, "batch/v1", "Job", job))
	// A pod may fail and be retried (the database's Service a moment
	// late): the Job has failed only once its backoff limit is spent.
	waitFor(t, 4*time.Minute, func() error {
		out := c.run(t, "get", "job", "-n", job.Namespace, job.Name, "-o", `jsonpath={.status.succeeded}/{.status.failed}/{.status.conditions[?(@.type=="Failed")].status}`)
		if strings.HasPrefix(out, "1/") {
			return nil
		}
		if strings.HasSuffix(out, "/True") {
			logs, _ := c.try("logs", "-n", job.Namespace, "job/"+job.Name)
			t.Fatalf("schema Job %s failed (succeeded/failed/Failed %s):\n%s", job.Name, out, logs)
		}
		return fmt.Errorf("schema Job %s: succeeded/failed/Failed %s", job.Name, out)
	})
	t.Logf("schema Job %s completed in %s", job.Name, time.Since(began).Round(time.Second))
	return c.run(t, "logs", "-n", job.Namespace, "job/"+job.Name)
}

// helpDeskConnections tries every cell of the help desk's connection
// matrix with probe pods (isolation_test.go), by Service address so that
// "closed" never means "not resolved": from a pod of the namespace, from
// another namespace, as one of RT's pods and as the database's pod. The
// open cells are the controls: the same targets answer where allowed.
func helpDeskConnections(t *testing.T, c cluster) {
	t.Helper()
	ip := func(svc string) string {
		return strings.TrimSpace(c.run(t, "get", "svc", "-n", rtNamespace, svc, "-o", "jsonpath={.spec.clusterIP}"))
	}
	web, db, gateway := target{"web", ip("rt-web"), "80"}, target{"db", ip("rt-db"), "5432"}, target{"mailgate", ip("rt-mailgate"), "80"}
	relay := target{"relay", strings.TrimSpace(c.run(t, "get", "svc", "-n", "rt-mail-sink", "smtp", "-o", "jsonpath={.spec.clusterIP}")), "25"}
	c.apply(t, `{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"rt-outside"}}`)
	// RT's and the database's NetworkPolicies select on these two labels
	// (the Services on more, so these probes take no requests).
	as := func(component string) string {
		return "ops.supportstack.io/helpdesk: rt, app.kubernetes.io/component: " + component
	}
	for _, cell := range []struct {
		from, pod, namespace, labels string
		targets                      []target
		want                         map[string]string
	}{
		{"a pod of the help desk's namespace", "probe-neighbour", rtNamespace, "app: probe", []target{web, db, gateway}, map[string]string{"web": "open", "db": "closed", "mailgate": "closed"}},
		{"a pod of another namespace", "probe-outside", "rt-outside", "app: probe", []target{web, db, gateway}, map[string]string{"web": "closed", "db": "closed", "mailgate": "closed"}},
		{"one of RT's pods", "probe-as-rt", rtNamespace, as("web"), []target{db, web, gateway, relay}, map[string]string{"db": "open", "web": "closed", "mailgate": "closed", "relay": "open"}},
		{"the database's pod", "probe-as-db", rtNamespace, as("database"), []target{web, gateway, relay}, map[string]string{"web": "closed", "mailgate": "closed", "relay": "closed"}},
		{"the schema Job's pod", "probe-as-schema", rtNamespace, as("schema"), []target{db, relay}, map[string]string{"db": "open", "relay": "closed"}},
		{"a mail fetcher of the help desk", "probe-fetcher", rtNamespace, resources.LabelMailFetcher + ": rt", []target{gateway, db}, map[string]string{"mailgate": "open", "db": "closed"}},
		{"a mail fetcher of another help desk", "probe-other-fetcher", rtNamespace, resources.LabelMailFetcher + ": other", []target{gateway}, map[string]string{"mailgate": "closed"}},
	} {
		found := probe(t, c, cell.namespace, cell.pod, cell.labels, cell.targets)
		for k, want := range cell.want {
			if found[k] != want {
				t.Errorf("from %s to %s: %s, want %s", cell.from, k, found[k], want)
			}
		}
	}
}

// helpDeskMail sends a message the way a mail fetcher does, with
// rt-mailgate from a pod labelled as the help desk's mail fetcher to its
// mail gateway Service, and asserts it becomes a ticket; the same message
// posted to the mail gateway's path on the public web Service is refused
// (403) and makes none.
func helpDeskMail(t *testing.T, c cluster, psql func(db, query string) string) {
	t.Helper()
	c.apply(t, rtFetcher)
	waitFor(t, 2*time.Minute, func() error {
		if phase := strings.TrimSpace(c.run(t, "get", "pod", "-n", rtNamespace, "rt-fetcher", "-o", "jsonpath={.status.phase}")); phase != "Running" {
			return fmt.Errorf("rt-fetcher is %s", phase)
		}
		return nil
	})
	// From root's address: a fresh RT lets unknown senders create nothing.
	message := func(subject string) string {
		return "From: root@localhost\nTo: rt@" + rtNamespace + "\nSubject: " + subject + "\n\nsent by the e2e test\n"
	}
	cmd := exec.Command(c.kubectl, "--kubeconfig", c.kubeconfig, "exec", "-i", "-n", rtNamespace, "rt-fetcher", "--",
		"timeout", "60", "rt-mailgate", "--url", "http://rt-mailgate."+rtNamespace+".svc", "--queue", "General", "--action", "correspond")
	cmd.Stdin = strings.NewReader(message("e2e: through the mail gateway"))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("rt-mailgate from a mail fetcher: %v\n%s", err, out)
	}
	if n := psql("rt5", "SELECT count(*) FROM tickets WHERE subject = 'e2e: through the mail gateway'"); n != "1" {
		t.Errorf("tickets made by rt-mailgate through the mail gateway: %s, want 1", n)
	}
	form := "queue=General&action=correspond&message=" + url.QueryEscape(message("e2e: through the web port"))
	out, err := c.try("exec", "-n", rtNamespace, "rt-client", "--", "timeout", "30", "wget", "-q", "-O", "-", "--post-data", form,
		"http://rt-web."+rtNamespace+".svc"+resources.RTMailGatewayPath)
	if err == nil || !strings.Contains(out, "403") {
		t.Errorf("the mail gateway through the web Service answered (%v): %s, want 403", err, out)
	}
	if n := psql("rt5", "SELECT count(*) FROM tickets WHERE subject = 'e2e: through the web port'"); n != "0" {
		t.Errorf("tickets made through the web port's mail gateway path: %s, want 0", n)
	}
}

// rtFetcher is a restricted pod of RT's image labelled as the help desk's
// mail fetcher: it runs rt-mailgate.
const rtFetcher = `
apiVersion: v1
kind: Pod
metadata:
  name: rt-fetcher
  namespace: ` + rtNamespace + `
  labels: {` + resources.LabelMailFetcher + `: rt}
spec:
  automountServiceAccountToken: false
  securityContext: {runAsNonRoot: true, runAsUser: 65532, seccompProfile: {type: RuntimeDefault}}
  containers:
  - name: fetcher
    image: ` + resources.DefaultRTImage + `
    imagePullPolicy: Never
    command: [sleep, "3600"]
    securityContext: {allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: {drop: [ALL]}}
    volumeMounts: [{name: tmp, mountPath: /tmp}]
  volumes: [{name: tmp, emptyDir: {sizeLimit: 64Mi}}]
`

func metaName(name string) metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: name, Namespace: rtNamespace}
}

// rtClient is a restricted busybox pod the test sends REST2 requests from.
const rtClient = `
apiVersion: v1
kind: Pod
metadata: {name: rt-client, namespace: ` + rtNamespace + `}
spec:
  automountServiceAccountToken: false
  securityContext: {runAsNonRoot: true, runAsUser: 65534, seccompProfile: {type: RuntimeDefault}}
  containers:
  - name: client
    image: supportstack/busybox:dev
    imagePullPolicy: Never
    command: [sleep, "3600"]
    securityContext: {allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: {drop: [ALL]}}
`
