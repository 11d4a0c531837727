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
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/supportstack/operator/internal/resources"
	"github.com/supportstack/operator/internal/testenv"
)

// rtNamespace runs the Request Tracker of TestRequestTracker.
const rtNamespace = "rt"

// rtDatabaseFingerprint is every RT table a set-up writes, each as its row
// count and an md5 over its rows in id order (users carries the root
// password's hash, so a second insert would show).
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
  UNION ALL SELECT 'attributes', count(*), md5(coalesce(string_agg(x::text, '|' ORDER BY id), '')) FROM attributes x
  UNION ALL SELECT 'tickets', count(*), md5(coalesce(string_agg(x::text, '|' ORDER BY id), '')) FROM tickets x) f`

// rtPassword is a random password of letters and digits (RT's acl step
// writes the RT role's password into SQL unescaped: no quotes).
func rtPassword(t *testing.T) string {
	t.Helper()
	b := make([]byte, 18)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return strings.NewReplacer("+", "x", "/", "y").Replace(base64.StdEncoding.EncodeToString(b))
}

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

// TestRequestTracker runs Debian's Request Tracker 5 (hack/images.sh rt)
// locked down on its own real-pod cluster, from the objects
// internal/resources builds for a help desk: in a namespace enforcing
// PodSecurity restricted, the project's PostgreSQL, the schema Job (twice:
// the second run changes no data; and once on a database that exists
// without tables), the web Deployment (Starman, read-only root) and its
// Service, which answers REST2 as RT's root with the password the Job set:
// the General queue is listed and a ticket is created.
func TestRequestTracker(t *testing.T) {
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
	script := func(name string, args ...string) {
		t.Helper()
		start := time.Now()
		cmd := exec.Command(filepath.Join(root, "hack", name), args...)
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("hack/%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
		}
		t.Logf("hack/%s %s: %s", name, strings.Join(args, " "), time.Since(start).Round(time.Second))
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
	script("images.sh", "pause", "busybox", "postgres", "rt")
	c := cluster{dir: dir, kubectl: filepath.Join(assets, "kubectl"), kubeconfig: filepath.Join(dir, "kubeconfig", "admin.kubeconfig")}
	start := time.Now()

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

	adminPassword, rtDBPassword, rootPassword := rtPassword(t), rtPassword(t), rtPassword(t)
	site := resources.RTSite{
		Name: "supportstack-e2e", Organization: "e2e.supportstack.test", WebDomain: "rt-web." + rtNamespace + ".svc", TimeZone: "Europe/Berlin",
		DatabaseHost: "rt-db." + rtNamespace + ".svc", DatabasePort: 5432, DatabaseName: "rt5", DatabaseUser: "rt_user",
	}
	siteConfig, err := resources.RTSiteConfig(site)
	if err != nil {
		t.Fatal(err)
	}
	precreated := site
	precreated.DatabaseName, precreated.DatabaseUser = "rt5_precreated", "rt_user_precreated"
	precreatedConfig, err := resources.RTSiteConfig(precreated)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{
		rtSecret(t, "pg-admin", map[string]string{"user": "postgres", "password": adminPassword}),
		rtSecret(t, "rt-db", map[string]string{"password": rtDBPassword}),
		rtSecret(t, "rt-root", map[string]string{"password": rootPassword}),
		rtSecret(t, "rt-site", map[string]string{resources.RTSiteConfigFile: siteConfig}),
		rtSecret(t, "rt-site-precreated", map[string]string{resources.RTSiteConfigFile: precreatedConfig}),
	} {
		c.apply(t, s)
	}
	if strings.Contains(siteConfig, rtDBPassword) || strings.Contains(siteConfig, adminPassword) {
		t.Fatalf("the site configuration holds a password:\n%s", siteConfig)
	}

	c.apply(t, rtPostgres)
	waitFor(t, 2*time.Minute, func() error {
		_, err := c.try("exec", "-n", rtNamespace, "deploy/rt-db", "--", "pg_isready", "-h", "127.0.0.1", "-U", "postgres")
		return err
	})
	psql := func(db, query string) string {
		t.Helper()
		return strings.TrimSpace(c.run(t, "exec", "-n", rtNamespace, "deploy/rt-db", "--", "psql", "-tA", "-U", "postgres", "-d", db, "-c", query))
	}

	objects := func(name, config string) resources.RTObjects {
		return resources.RTObjects{
			Name: name, Namespace: rtNamespace, Labels: map[string]string{"app.kubernetes.io/name": "rt", "app.kubernetes.io/component": name},
			Image: "docker.io/supportstack/rt:5", ConfigSecret: config,
			DatabasePassword: corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "rt-db"}, Key: "password"},
		}
	}
	ref := func(name, key string) corev1.SecretKeySelector {
		return corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: name}, Key: key}
	}
	runSchema := func(name, config string) string {
		t.Helper()
		began := time.Now()
		job := resources.RTSchemaJob(objects(name, config), ref("pg-admin", "user"), ref("pg-admin", "password"), ref("rt-root", "password"))
		c.apply(t, manifest(t, "batch/v1", "Job", job))
		// A pod may fail and be retried (the database's Service a moment
		// late): the Job has failed only once its backoff limit is spent.
		waitFor(t, 4*time.Minute, func() error {
			out := c.run(t, "get", "job", "-n", rtNamespace, name, "-o", `jsonpath={.status.succeeded}/{.status.failed}/{.status.conditions[?(@.type=="Failed")].status}`)
			if strings.HasPrefix(out, "1/") {
				return nil
			}
			if strings.HasSuffix(out, "/True") {
				logs, _ := c.try("logs", "-n", rtNamespace, "job/"+name)
				t.Fatalf("schema Job %s failed (succeeded/failed/Failed %s):\n%s", name, out, logs)
			}
			return fmt.Errorf("schema Job %s: succeeded/failed/Failed %s", name, out)
		})
		logs := c.run(t, "logs", "-n", rtNamespace, "job/"+name)
		t.Logf("schema Job %s completed in %s", name, time.Since(began).Round(time.Second))
		return logs
	}

	// The first run creates the database; the second finds it set up and
	// changes no data.
	if logs := runSchema("rt-schema", "rt-site"); !strings.Contains(logs, "rt-schema: no database yet") || !strings.Contains(logs, "rt-schema: done") {
		t.Errorf("first schema run:\n%s", logs)
	}
	first := psql("rt5", rtDatabaseFingerprint)
	if !strings.Contains(first, "queues:") || strings.Contains(first, "users:0:") {
		t.Fatalf("after the first schema run: %s", first)
	}
	if logs := runSchema("rt-schema-again", "rt-site"); !strings.Contains(logs, "RT's schema and root user are there already") || !strings.Contains(logs, "rt-schema: done") {
		t.Errorf("second schema run:\n%s", logs)
	}
	if again := psql("rt5", rtDatabaseFingerprint); again != first {
		t.Errorf("the second schema run changed the data:\nbefore %s\nafter  %s", first, again)
	}
	// A database that exists without tables (POSTGRES_DB, a CloudNativePG
	// bootstrap) is set up without creating it.
	psql("postgres", "CREATE DATABASE rt5_precreated")
	if logs := runSchema("rt-schema-precreated", "rt-site-precreated"); !strings.Contains(logs, "the database exists without tables") || !strings.Contains(logs, "rt-schema: done") {
		t.Errorf("schema run on a database without tables:\n%s", logs)
	}
	if n := psql("rt5_precreated", "SELECT count(*) FROM queues WHERE name = 'General'"); n != "1" {
		t.Errorf("the pre-created database has %s General queues, want 1", n)
	}

	web := objects("rt-web", "rt-site")
	began := time.Now()
	c.apply(t, manifest(t, "apps/v1", "Deployment", resources.RTWebDeployment(web, 1, 2)))
	c.apply(t, manifest(t, "v1", "Service", resources.RTWebService(web)))
	if out, err := c.try("rollout", "status", "-n", rtNamespace, "deploy/rt-web", "--timeout=4m"); err != nil {
		logs, _ := c.try("logs", "-n", rtNamespace, "deploy/rt-web", "--tail=50")
		t.Fatalf("the RT web Deployment did not become ready: %v\n%s\n%s", err, out, logs)
	}
	t.Logf("RT web ready in %s", time.Since(began).Round(time.Second))

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
	rest := func(password, path, post string) (string, error) {
		args := []string{"exec", "-n", rtNamespace, "rt-client", "--", "timeout", "30", "wget", "-q", "-O", "-",
			"--header", "Authorization: Basic " + base64.StdEncoding.EncodeToString([]byte("root:"+password))}
		if post != "" {
			args = append(args, "--header", "Content-Type: application/json", "--post-data", post)
		}
		return c.try(append(args, "http://rt-web."+rtNamespace+".svc/REST/2.0"+path)...)
	}
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
		"\r\nContent-Disposition: form-data; name=\"Attachments\"; filename=\"e2e.txt\"\r\nContent-Type: text/plain\r\n\r\nattached through REST2\r\n--" + boundary + "--\r\n"
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

	// Every pod ran under restricted (the namespace enforces it; a pod it
	// refused would be missing here) and none is failing.
	pods := c.run(t, "get", "pods", "-n", rtNamespace, "-o", `jsonpath={range .items[*]}{.metadata.name} {.status.phase}{"\n"}{end}`)
	for _, want := range []string{"rt-db-", "rt-schema-", "rt-schema-again-", "rt-schema-precreated-", "rt-web-", "rt-client"} {
		if !strings.Contains(pods, want) {
			t.Errorf("no pod %s* in:\n%s", want, pods)
		}
	}
	if strings.Contains(pods, " Failed") || strings.Contains(pods, " Pending") {
		t.Errorf("pods:\n%s", pods)
	}
	t.Logf("RT on the cluster, from the namespace to the REST2 ticket: %s", time.Since(start).Round(time.Second))
}

func metaName(name string) metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: name, Namespace: rtNamespace}
}

// rtPostgres is the project's PostgreSQL as the demo runs it, on an
// emptyDir: superuser postgres with the pg-admin password.
const rtPostgres = `
apiVersion: apps/v1
kind: Deployment
metadata: {name: rt-db, namespace: ` + rtNamespace + `}
spec:
  replicas: 1
  selector: {matchLabels: {app: rt-db}}
  template:
    metadata: {labels: {app: rt-db}}
    spec:
      automountServiceAccountToken: false
      securityContext: {runAsNonRoot: true, runAsUser: 999, runAsGroup: 999, fsGroup: 999, seccompProfile: {type: RuntimeDefault}}
      containers:
      - name: postgres
        image: supportstack/postgres:15
        imagePullPolicy: Never
        env:
        - {name: PGDATA, value: /var/lib/postgresql/data/pgdata}
        - name: POSTGRES_PASSWORD
          valueFrom: {secretKeyRef: {name: pg-admin, key: password}}
        ports:
        - {name: postgres, containerPort: 5432}
        readinessProbe:
          exec: {command: [pg_isready, -h, 127.0.0.1, -U, postgres]}
          periodSeconds: 2
        volumeMounts:
        - {name: data, mountPath: /var/lib/postgresql/data}
        - {name: run, mountPath: /var/run/postgresql}
        - {name: tmp, mountPath: /tmp}
        securityContext: {allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: {drop: [ALL]}}
      volumes:
      - {name: data, emptyDir: {}}
      - {name: run, emptyDir: {}}
      - {name: tmp, emptyDir: {}}
---
apiVersion: v1
kind: Service
metadata: {name: rt-db, namespace: ` + rtNamespace + `}
spec:
  selector: {app: rt-db}
  ports:
  - {name: postgres, port: 5432, targetPort: 5432}
`

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
