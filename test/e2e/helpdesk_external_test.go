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
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	opsv1alpha1 "github.com/supportstack/operator/api/v1alpha1"
	"github.com/supportstack/operator/internal/resources"
	"github.com/supportstack/operator/internal/testenv"
)

// extDBNamespace runs the PostgreSQL that helpDeskExternal's HelpDesk
// uses as a server the operator does not run.
const extDBNamespace = "rt-extdb"

// helpDeskExternal: a HelpDesk on an external PostgreSQL (the project's
// PostgreSQL in a namespace of its own, standing in for a CloudNativePG
// cluster: a role that owns its database and is no superuser, and a Secret
// with CloudNativePG's app keys) becomes Ready and answers REST2; RT's
// tables are that role's; its RT pods reach that server and not the
// managed help desk's database. Deleting it (deletionPolicy Delete) leaves
// the external database and its Secret.
func helpDeskExternal(t *testing.T, c cluster, rest func(host, password, path, post string) (string, error)) {
	t.Helper()
	began := time.Now()
	server := resources.HelpDeskNames{HelpDesk: "pg"}
	c.apply(t, `{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"`+extDBNamespace+`"}}`)
	for _, m := range []string{
		manifest(t, "v1", "Secret", corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Name: server.Credentials(), Namespace: extDBNamespace},
			StringData: map[string]string{resources.HelpDeskAdminPasswordKey: "ext-admin-pw-0123"},
		}),
		manifest(t, "v1", "PersistentVolumeClaim", resources.HelpDeskClaim(extDBNamespace, server.DatabaseClaim(), "pg", "database", resource.MustParse("1Gi"), nil, nil)),
		manifest(t, "v1", "Service", resources.HelpDeskDatabaseService(extDBNamespace, server)),
		manifest(t, "apps/v1", "StatefulSet", resources.HelpDeskDatabase(extDBNamespace, server, resources.DefaultPostgresImage)),
	} {
		c.apply(t, m)
	}
	c.run(t, "rollout", "status", "-n", extDBNamespace, "statefulset/pg-db", "--timeout", "180s")
	psql := func(db, query string) string {
		t.Helper()
		return strings.TrimSpace(c.run(t, "exec", "-n", extDBNamespace, "statefulset/pg-db", "--", "psql", "-tA", "-U", "postgres", "-d", db, "-c", query))
	}
	psql("postgres", "CREATE ROLE app LOGIN PASSWORD 'ext-app-pw-0123' NOSUPERUSER NOCREATEDB NOCREATEROLE")
	psql("postgres", "CREATE DATABASE app OWNER app")
	c.apply(t, rtSecret(t, "rt-db-app", map[string]string{
		"host": "pg-db." + extDBNamespace + ".svc", "port": "5432", "dbname": "app", "username": "app", "password": "ext-app-pw-0123",
	}))
	// Its mail goes to a submission server that wants a login over TLS,
	// with a certificate of the test's CA.
	relayHost := "smtp-tls.rt-mail-sink.svc.cluster.local"
	caPEM, certPEM, keyPEM, err := testenv.TestCA(relayHost)
	if err != nil {
		t.Fatal(err)
	}
	c.apply(t, manifest(t, "v1", "Secret", corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "smtp-tls", Namespace: "rt-mail-sink"},
		Data: map[string][]byte{"tls.crt": certPEM, "tls.key": keyPEM, "username": []byte("rt-ext@example.com"), "password": []byte("relay pw 0123")}}))
	c.apply(t, smtpSinkManifest("smtp-tls", 587, true))
	c.apply(t, rtSecret(t, "relay-login", map[string]string{"username": "rt-ext@example.com", "password": "relay pw 0123"}))
	c.apply(t, manifest(t, "v1", "Secret", corev1.Secret{ObjectMeta: metaName("relay-ca"), Data: map[string][]byte{"ca.crt": caPEM}}))
	hd := opsv1alpha1.HelpDesk{
		ObjectMeta: metaName("ext"),
		Spec: opsv1alpha1.HelpDeskSpec{
			Site:     opsv1alpha1.HelpDeskSite{Name: "external", Organization: "ext.supportstack.test"},
			Web:      opsv1alpha1.HelpDeskWeb{Replicas: ptr.To[int32](1), Workers: 1},
			Database: opsv1alpha1.HelpDeskDatabase{External: &opsv1alpha1.ExternalDatabase{SecretName: "rt-db-app"}},
			Mail: opsv1alpha1.HelpDeskMail{Relay: &opsv1alpha1.SMTPRelay{Host: relayHost, Port: 587, StartTLS: true,
				CASecretRef: &opsv1alpha1.SecretKeyRef{Name: "relay-ca", Key: "ca.crt"}, CredentialsSecretRef: &opsv1alpha1.SecretRef{Name: "relay-login"}}},
			DeletionPolicy: opsv1alpha1.HelpDeskDelete,
		},
	}
	c.apply(t, manifest(t, opsv1alpha1.GroupVersion.String(), "HelpDesk", hd))
	if out, err := c.try("wait", "-n", rtNamespace, "hd/ext", "--for", "condition=Ready", "--timeout", "8m"); err != nil {
		conditions, _ := c.try("get", "hd", "-n", rtNamespace, "ext", "-o", `jsonpath={range .status.conditions[*]}{.type}={.status} {.reason}: {.message}{"\n"}{end}`)
		logs, _ := c.try("logs", "-n", rtNamespace, "job/ext-schema-5")
		t.Fatalf("the HelpDesk on an external database did not become Ready: %v\n%s\n%s\nschema log:\n%s", err, out, conditions, logs)
	}
	t.Logf("HelpDesk ext on an external database Ready in %s", time.Since(began).Round(time.Second))
	if out := c.run(t, "get", "statefulset,pvc", "-n", rtNamespace, "-l", resources.LabelHelpDesk+"=ext", "-o", "name"); strings.Contains(out, "ext-db") {
		t.Errorf("a HelpDesk on an external database made a database of its own:\n%s", out)
	}
	b64 := c.run(t, "get", "secret", "-n", rtNamespace, "ext-credentials", "-o", "jsonpath={.data.root-password}")
	root, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		t.Fatal(err)
	}
	if out, err := rest("ext-web", string(root), "/queues/all?fields=Name", ""); err != nil || !strings.Contains(out, `"General"`) {
		t.Errorf("REST2 of the help desk on the external database: %v\n%s", err, out)
	}
	if out, err := rest("ext-web", string(root), "/ticket", `{"Queue":"General","Subject":"e2e: on the external database"}`); err != nil || !strings.Contains(out, `"type":"ticket"`) {
		t.Errorf("POST /ticket on the external database: %v\n%s", err, out)
	}
	if n := psql("app", "SELECT count(*) FROM tickets WHERE subject = 'e2e: on the external database'"); n != "1" {
		t.Errorf("the external database holds %s tickets made through RT, want 1", n)
	}
	// A ticket with a requestor: its autoreply goes to the submission
	// server over STARTTLS, verified against the CA, after a login with
	// the Secret's user and password.
	const subject = "e2e: mail through a relay that wants a login"
	if out, err := rest("ext-web", string(root), "/ticket", `{"Queue":"General","Subject":"`+subject+`","Requestor":"customer@example.com"}`); err != nil || !strings.Contains(out, `"type":"ticket"`) {
		t.Errorf("POST /ticket with a requestor: %v\n%s", err, out)
	}
	waitFor(t, time.Minute, func() error {
		logs := c.run(t, "logs", "-n", "rt-mail-sink", "smtp-tls")
		if !strings.Contains(logs, "login over tls: rt-ext@example.com\n") || !strings.Contains(logs, subject) {
			return fmt.Errorf("the submission server has no login over TLS and message about %q:\n%s", subject, logs)
		}
		if strings.Contains(logs, "login refused") {
			t.Fatalf("the submission server refused a login:\n%s", logs)
		}
		return nil
	})
	if n := psql("app", "SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tableowner <> 'app'"); n != "0" {
		t.Errorf("%s of RT's tables on the external server are not the app role's", n)
	}

	// RT's pods of this help desk reach the external server and no other
	// port 5432: not another listener beside it (no policy guards it: a
	// pod of another namespace reaches it, the control), nor the managed
	// help desk's database.
	c.apply(t, otherListener)
	ip := func(ns, svc string) string {
		return strings.TrimSpace(c.run(t, "get", "svc", "-n", ns, svc, "-o", "jsonpath={.spec.clusterIP}"))
	}
	external, other, managed := target{"external", ip(extDBNamespace, "pg-db"), "5432"}, target{"other", ip(extDBNamespace, "other-db"), "5432"}, target{"managed", ip(rtNamespace, "rt-db"), "5432"}
	for _, cell := range []struct {
		from, pod, namespace, labels string
		want                         map[string]string
	}{
		{"an RT pod of the external help desk", "probe-as-ext-rt", rtNamespace, "ops.supportstack.io/helpdesk: ext, app.kubernetes.io/component: web",
			map[string]string{"external": "open", "other": "closed", "managed": "closed"}},
		{"a pod of another namespace (the control)", "probe-ext-control", "rt-outside", "app: probe", map[string]string{"external": "open", "other": "open"}},
	} {
		found := probe(t, c, cell.namespace, cell.pod, cell.labels, []target{external, other, managed})
		for k, want := range cell.want {
			if found[k] != want {
				t.Errorf("from %s to the %s database port: %s, want %s", cell.from, k, found[k], want)
			}
		}
	}

	c.run(t, "delete", "hd", "-n", rtNamespace, "ext", "--timeout", "120s")
	if _, err := c.try("get", "secret", "-n", rtNamespace, "rt-db-app"); err != nil {
		t.Errorf("the external database's Secret went with the HelpDesk (deletionPolicy Delete): %v", err)
	}
	if n := psql("app", "SELECT count(*) FROM tickets"); n == "0" {
		t.Errorf("the external database was emptied with the HelpDesk")
	}
	t.Logf("the help desk on an external database: %s", time.Since(began).Round(time.Second))
}

// otherListener answers on port 5432 beside the external database, in
// its namespace, with no NetworkPolicy: a database RT's pods must not
// reach.
var otherListener = listener(extDBNamespace, "other-db", 5432)
