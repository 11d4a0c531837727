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
	"fmt"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	opsv1alpha1 "github.com/supportstack/operator/api/v1alpha1"
	"github.com/supportstack/operator/internal/resources"
)

// TestHelpDeskExternalDatabase: a HelpDesk on an external database (a
// CloudNativePG cluster's app Secret) waits for its Secret and says what
// it lacks; then runs no database of its own, sets RT's schema up as the
// Secret's role, lets RT's pods reach that server and no other, backs the
// database up with the Secret's URI, and never deletes the Secret.
func TestHelpDeskExternalDatabase(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t)
	dbNS := newNamespace(t)
	createPolicyInputs(t, ns)
	// The cluster's read-write Service, as CloudNativePG makes it.
	rw := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "rt-db-rw", Namespace: dbNS},
		Spec: corev1.ServiceSpec{
			Selector: map[string]string{"cnpg.io/cluster": "rt-db", "cnpg.io/instanceRole": "primary"},
			Ports:    []corev1.ServicePort{{Name: "postgres", Port: 5432}},
		},
	}
	if err := k8sClient.Create(ctx, rw); err != nil {
		t.Fatal(err)
	}
	hd := hdNew(ns, "ext")
	hd.Spec.Database.External = &opsv1alpha1.ExternalDatabase{SecretName: "rt-db-app"}
	hd.Spec.Protection = protection(true)
	hd.Spec.DeletionPolicy = opsv1alpha1.HelpDeskDelete
	hdCreate(t, hd)
	key := client.ObjectKeyFromObject(hd)

	hdWaitFor(t, key, func(h *opsv1alpha1.HelpDesk) error {
		if err := hdCondition(opsv1alpha1.ConditionDatabaseReady, metav1.ConditionFalse, opsv1alpha1.ReasonInvalidSpec)(h); err != nil {
			return err
		}
		return hdMessage(h, opsv1alpha1.ConditionReady, "Secret rt-db-app not found in namespace "+ns)
	})
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "rt-db-app", Namespace: ns},
		Data: map[string][]byte{
			"host": []byte("rt-db-rw." + dbNS), "port": []byte("5432"), "dbname": []byte("app"), "username": []byte("app"),
			"password": []byte("app-password-0123"),
		},
	}
	if err := k8sClient.Create(ctx, secret); err != nil {
		t.Fatal(err)
	}
	// spec.protection dumps with the uri key: its lack is said. (The
	// Secret is not watched: a spec change wakes the reconciler sooner.)
	hdTouch(t, key)
	hdWaitFor(t, key, func(h *opsv1alpha1.HelpDesk) error {
		return hdMessage(h, opsv1alpha1.ConditionDatabaseReady, "the external database's Secret rt-db-app has no key uri")
	})
	secret.Data["uri"] = []byte("postgresql://app:app-password-0123@rt-db-rw." + dbNS + ":5432/app")
	if err := k8sClient.Update(ctx, secret); err != nil {
		t.Fatal(err)
	}
	hdTouch(t, key)
	hdWaitFor(t, key, func(h *opsv1alpha1.HelpDesk) error {
		if err := hdCondition(opsv1alpha1.ConditionDatabaseReady, metav1.ConditionTrue, opsv1alpha1.ReasonAvailable)(h); err != nil {
			return err
		}
		return hdMessage(h, opsv1alpha1.ConditionDatabaseReady, "the external database app at rt-db-rw."+dbNS+":5432 as app (Secret rt-db-app)")
	})

	// No database of its own; the attachments' volume.
	hdAbsent(t, ns, "ext-db", &appsv1.StatefulSet{}, "with an external database")
	hdAbsent(t, ns, "ext-db", &corev1.Service{}, "with an external database")
	hdAbsent(t, ns, "ext-db-data", &corev1.PersistentVolumeClaim{}, "with an external database")
	hdGet(t, ns, "ext-attachments", &corev1.PersistentVolumeClaim{})
	var creds corev1.Secret
	hdGet(t, ns, "ext-credentials", &creds)
	if len(creds.Data) != 2 || len(creds.Data[resources.HelpDeskRootPasswordKey]) == 0 || len(creds.Data[resources.HelpDeskOperatorPasswordKey]) == 0 {
		t.Errorf("the generated credentials hold %d keys, want RT's root password and the operator's RT user's alone (the database's are the external Secret's)", len(creds.Data))
	}

	config := hdSiteConfig(t, ns, "ext")
	for _, want := range []string{"Set($DatabaseHost, 'rt-db-rw." + dbNS + "');", "Set($DatabaseName, 'app');", "Set($DatabaseUser, 'app');", "Set($DatabasePort, 5432);"} {
		if !strings.Contains(config, want) {
			t.Errorf("the site configuration lacks %s:\n%s", want, config)
		}
	}
	if strings.Contains(config, "app-password-0123") {
		t.Errorf("the site configuration holds the database password")
	}

	// The schema Job connects as the Secret's role and says the server is
	// not the operator's.
	job := hdSchemaJob(t, ns, "ext")
	env := map[string]string{}
	for _, e := range job.Spec.Template.Spec.Containers[0].Env {
		if e.ValueFrom != nil {
			env[e.Name] = e.ValueFrom.SecretKeyRef.Name + "/" + e.ValueFrom.SecretKeyRef.Key
		} else {
			env[e.Name] = e.Value
		}
	}
	for name, want := range map[string]string{
		"RT_DBA_USER": "rt-db-app/username", "RT_DBA_PASSWORD": "rt-db-app/password",
		resources.RTDatabasePasswordEnv: "rt-db-app/password", resources.RTExternalDatabaseEnv: "1",
	} {
		if env[name] != want {
			t.Errorf("the schema Job's %s is %q, want %q", name, env[name], want)
		}
	}
	completeJob(t, job, true, "rt-schema: done", fakeClock.Now())
	hdWaitFor(t, key, hdCondition(opsv1alpha1.ConditionSchemaReady, metav1.ConditionTrue, ""))
	var web appsv1.Deployment
	hdGet(t, ns, "ext-web", &web)
	// The attachments' claim is ReadWriteOnce (the default): the web pods
	// keep to the node of the pods that mount it.
	if a := web.Spec.Template.Spec.Affinity; web.Spec.Template.Labels[resources.LabelAttachments] != "ext" || a == nil || a.PodAffinity == nil ||
		len(a.PodAffinity.PreferredDuringSchedulingIgnoredDuringExecution) != 1 {
		t.Errorf("the web pods are not kept with the attachments' claim: labels %v, affinity %+v", web.Spec.Template.Labels, a)
	}
	for _, e := range web.Spec.Template.Spec.Containers[0].Env {
		if e.Name == resources.RTDatabasePasswordEnv && (e.ValueFrom == nil || e.ValueFrom.SecretKeyRef.Name != "rt-db-app" || e.ValueFrom.SecretKeyRef.Key != "password") {
			t.Errorf("the web pods' database password comes from %+v, want rt-db-app/password", e.ValueFrom)
		}
	}

	// RT's pods reach the cluster's primary, in its namespace, and no
	// database pod of their own.
	var egress networkingv1.NetworkPolicy
	hdGet(t, ns, "ext-rt-egress", &egress)
	if e := egress.Spec.Egress; len(e) != 2 || len(e[1].To) != 1 || e[1].To[0].NamespaceSelector == nil ||
		e[1].To[0].NamespaceSelector.MatchLabels[corev1.LabelMetadataName] != dbNS ||
		e[1].To[0].PodSelector.MatchLabels["cnpg.io/cluster"] != "rt-db" || e[1].Ports[0].Port.IntVal != 5432 {
		t.Errorf("RT's egress: %+v, want DNS and the external cluster's primary on 5432", e)
	}

	// The backups dump the external database with the Secret's URI.
	var policy opsv1alpha1.BackupPolicy
	hdGet(t, ns, "ext", &policy)
	if src := policy.Spec.Sources.Postgres; len(src) != 1 || src[0].ConnectionSecretRef != (opsv1alpha1.SecretKeyRef{Name: "rt-db-app", Key: "uri"}) ||
		fmt.Sprint(src[0].Databases) != "[app]" {
		t.Errorf("the policy's database source: %+v", src)
	}
	var drill opsv1alpha1.DRDrill
	hdGet(t, ns, "ext", &drill)
	for _, c := range drill.Spec.Checks {
		if c.Database != "" && c.Database != "app" {
			t.Errorf("the drill's check %s reads database %s, want app", c.Name, c.Database)
		}
	}

	// The schema is in the database the Secret named: if the Secret later
	// names another, the operator stops there and leaves RT's
	// configuration as it was; put back, it goes on.
	setUp := "app at rt-db-rw." + dbNS + ":5432 as app"
	hdWaitFor(t, key, func(h *opsv1alpha1.HelpDesk) error {
		if h.Status.Database != setUp {
			return fmt.Errorf("status.database %q, want %q", h.Status.Database, setUp)
		}
		return nil
	})
	secret.Data["dbname"] = []byte("other")
	if err := k8sClient.Update(ctx, secret); err != nil {
		t.Fatal(err)
	}
	hdTouch(t, key)
	hdWaitFor(t, key, func(h *opsv1alpha1.HelpDesk) error {
		return hdMessage(h, opsv1alpha1.ConditionDatabaseReady, "the Secret rt-db-app now names the database other at rt-db-rw."+dbNS+":5432 as app, but RT's schema was set up in "+setUp)
	})
	if config := hdSiteConfig(t, ns, "ext"); !strings.Contains(config, "Set($DatabaseName, 'app');") {
		t.Errorf("the site configuration follows a Secret that names another database:\n%s", config)
	}
	secret.Data["dbname"] = []byte("app")
	if err := k8sClient.Update(ctx, secret); err != nil {
		t.Fatal(err)
	}
	hdTouch(t, key)
	hdWaitFor(t, key, hdCondition(opsv1alpha1.ConditionDatabaseReady, metav1.ConditionTrue, opsv1alpha1.ReasonAvailable))

	// It stays external, on that Secret: switching to the managed
	// database or to another Secret is refused.
	latest := &opsv1alpha1.HelpDesk{}
	if err := k8sClient.Get(ctx, key, latest); err != nil {
		t.Fatal(err)
	}
	other := latest.DeepCopy()
	other.Spec.Database.External.SecretName = "rt-db2-app"
	if err := k8sClient.Update(ctx, other); err == nil || !strings.Contains(err.Error(), "secretName cannot change") {
		t.Errorf("naming another Secret: %v, want refused", err)
	}
	latest.Spec.Database = opsv1alpha1.HelpDeskDatabase{Managed: &opsv1alpha1.ManagedDatabase{}}
	if err := k8sClient.Update(ctx, latest); err == nil || !strings.Contains(err.Error(), "spec.database cannot change between managed and external") {
		t.Errorf("switching to the managed database: %v, want refused", err)
	}

	// deletionPolicy Delete removes the help desk's own data, never the
	// external database's Secret.
	if err := k8sClient.Delete(ctx, latest); err != nil {
		t.Fatal(err)
	}
	eventually(t, hdWait, func() error { return hdGone(ns, "ext", &opsv1alpha1.HelpDesk{}) })
	eventually(t, hdWait, func() error { return hdGone(ns, "ext-attachments", &corev1.PersistentVolumeClaim{}) })
	if err := k8sClient.Get(ctx, client.ObjectKeyFromObject(secret), &corev1.Secret{}); err != nil {
		t.Errorf("the external database's Secret after the HelpDesk's deletion: %v, want it kept", err)
	}
}

// hdMessage checks that condition condType's message contains want.
func hdMessage(hd *opsv1alpha1.HelpDesk, condType, want string) error {
	for _, c := range hd.Status.Conditions {
		if c.Type == condType {
			if !strings.Contains(c.Message, want) {
				return fmt.Errorf("%s says %q, want %q in it", condType, c.Message, want)
			}
			return nil
		}
	}
	return fmt.Errorf("no %s condition", condType)
}

// hdTouch changes the HelpDesk's annotations so that it is reconciled now.
func hdTouch(t *testing.T, key client.ObjectKey) {
	t.Helper()
	eventually(t, hdWait, func() error {
		hd := &opsv1alpha1.HelpDesk{}
		if err := k8sClient.Get(context.Background(), key, hd); err != nil {
			return err
		}
		if hd.Annotations == nil {
			hd.Annotations = map[string]string{}
		}
		hd.Annotations["test/touched"] = time.Now().Format(time.RFC3339Nano)
		if err := k8sClient.Update(context.Background(), hd); apierrors.IsConflict(err) {
			return err
		} else if err != nil {
			t.Fatal(err)
		}
		return nil
	})
}

// TestHelpDeskRelayLogin: a relay with STARTTLS, a private CA and a login
// waits for its Secrets and says which is missing; then RT's configuration
// switches to TLS, verifies against the mounted CA and logs in with the
// environment's user and password (never in the configuration), which
// the web and mail gateway pods get from the Secret, and the schema Job
// and the periodic jobs, which send no mail, do not.
func TestHelpDeskRelayLogin(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t)
	hd := hdNew(ns, "mail")
	hd.Spec.Mail.Relay = &opsv1alpha1.SMTPRelay{Host: "smtp.example.com", Port: 587, StartTLS: true,
		CASecretRef: &opsv1alpha1.SecretKeyRef{Name: "relay-ca", Key: "ca.crt"}, CredentialsSecretRef: &opsv1alpha1.SecretRef{Name: "relay-login"}}
	hdCreate(t, hd)
	key := client.ObjectKeyFromObject(hd)
	hdWaitFor(t, key, func(h *opsv1alpha1.HelpDesk) error {
		return hdMessage(h, opsv1alpha1.ConditionReady, "spec.mail.relay.credentialsSecretRef: Secret relay-login not found")
	})
	login := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "relay-login", Namespace: ns}, Data: map[string][]byte{"username": []byte("rt@example.com")}}
	if err := k8sClient.Create(ctx, login); err != nil {
		t.Fatal(err)
	}
	hdTouch(t, key)
	hdWaitFor(t, key, func(h *opsv1alpha1.HelpDesk) error {
		return hdMessage(h, opsv1alpha1.ConditionReady, "spec.mail.relay.credentialsSecretRef: Secret relay-login has no key password")
	})
	login.Data["password"] = []byte("relay-password-0123")
	if err := k8sClient.Update(ctx, login); err != nil {
		t.Fatal(err)
	}
	if err := k8sClient.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "relay-ca", Namespace: ns}, Data: map[string][]byte{"ca.crt": []byte("-----BEGIN CERTIFICATE-----")}}); err != nil {
		t.Fatal(err)
	}
	hdTouch(t, key)
	hdReadyDatabase(t, ns, "mail")
	hdWaitFor(t, key, hdCondition(opsv1alpha1.ConditionDatabaseReady, metav1.ConditionTrue, opsv1alpha1.ReasonAvailable))

	config := hdSiteConfig(t, ns, "mail")
	for _, want := range []string{"Server => 'smtp.example.com', Port => 587, StartTLS => 1, SSL_verify_mode => 1, SSL_ca_file => '" + resources.RTSMTPCAFile + "'",
		"Auth => [$ENV{'" + resources.RTSMTPUsernameEnv + "'}, $ENV{'" + resources.RTSMTPPasswordEnv + "'}]"} {
		if !strings.Contains(config, want) {
			t.Errorf("the site configuration lacks %s:\n%s", want, config)
		}
	}
	if strings.Contains(config, "relay-password-0123") || strings.Contains(config, "rt@example.com") {
		t.Errorf("the site configuration holds the relay's login:\n%s", config)
	}
	job := hdSchemaJob(t, ns, "mail")
	if got := hdSMTPEnv(job.Spec.Template.Spec); got != "" {
		t.Errorf("the schema Job, which sends no mail, gets the relay's login: %s", got)
	}
	completeJob(t, job, true, "rt-schema: done", fakeClock.Now())
	var web, gateway appsv1.Deployment
	hdGet(t, ns, "mail-web", &web)
	hdGet(t, ns, "mail-mailgate", &gateway)
	want := resources.RTSMTPUsernameEnv + "=relay-login/username " + resources.RTSMTPPasswordEnv + "=relay-login/password ca=relay-ca/ca.crt"
	for what, spec := range map[string]corev1.PodSpec{"web": web.Spec.Template.Spec, "mail gateway": gateway.Spec.Template.Spec} {
		if got := hdSMTPEnv(spec); got != want {
			t.Errorf("the %s pods get %q of the relay, want %q", what, got, want)
		}
	}
	// The CronJobs come after the web Deployment, in a later step.
	var cron batchv1.CronJob
	hdGet(t, ns, "mail-externalize", &cron)
	if got := hdSMTPEnv(cron.Spec.JobTemplate.Spec.Template.Spec); got != "" {
		t.Errorf("the externalizing job's pods, which send no mail, get %q of the relay", got)
	}
}

// hdSMTPEnv is what a pod gets of the relay's Secrets: its SMTP variables
// (name=Secret/key) and the CA volume.
func hdSMTPEnv(spec corev1.PodSpec) string {
	var got []string
	for _, e := range spec.Containers[0].Env {
		if strings.HasPrefix(e.Name, "SUPPORTSTACK_SMTP") && e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil {
			got = append(got, e.Name+"="+e.ValueFrom.SecretKeyRef.Name+"/"+e.ValueFrom.SecretKeyRef.Key)
		}
	}
	for _, v := range spec.Volumes {
		if v.Name == "smtp-ca" && v.Secret != nil && len(v.Secret.Items) == 1 {
			got = append(got, "ca="+v.Secret.SecretName+"/"+v.Secret.Items[0].Key)
		}
	}
	return strings.Join(got, " ")
}

// TestHelpDeskAttachmentsNodeFollowsTheClaim: whether RT's pods keep to
// the attachments' node follows the claim's own access modes: a retained
// ReadWriteOnce claim keeps them together even when the spec now asks for
// ReadWriteMany, and a claim made ReadWriteMany leaves them free.
func TestHelpDeskAttachmentsNodeFollowsTheClaim(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t)
	retained := resources.HelpDeskClaim(ns, "kept-attachments", "kept", "attachments", resource.MustParse("1Gi"), nil, nil)
	if err := k8sClient.Create(ctx, retained); err != nil {
		t.Fatal(err)
	}
	rwx := func(h *opsv1alpha1.HelpDesk) {
		h.Spec.Attachments.AccessModes = []corev1.PersistentVolumeAccessMode{corev1.ReadWriteMany}
	}
	for _, tc := range []struct {
		name      string
		colocated bool
	}{{"kept", true}, {"many", false}} {
		hdReady(t, ns, tc.name, rwx)
		var web appsv1.Deployment
		hdGet(t, ns, tc.name+"-web", &web)
		var cron batchv1.CronJob
		if err := k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: tc.name + "-externalize"}, &cron); err != nil {
			t.Fatal(err)
		}
		for what, spec := range map[string]corev1.PodSpec{"web": web.Spec.Template.Spec, "externalize": cron.Spec.JobTemplate.Spec.Template.Spec} {
			if got := spec.Affinity != nil; got != tc.colocated {
				t.Errorf("%s: the %s pods keep to the attachments' node: %v, want %v (affinity %+v)", tc.name, what, got, tc.colocated, spec.Affinity)
			}
		}
	}
}
