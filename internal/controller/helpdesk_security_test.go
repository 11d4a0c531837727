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
	"maps"
	"slices"
	"strings"
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	opsv1alpha1 "github.com/supportstack/operator/api/v1alpha1"
	"github.com/supportstack/operator/internal/resources"
)

// TestHelpDeskNetworkPolicies: the NetworkPolicies select the help desk's
// pods by its label, the database admits only RT's pods, and the web port
// admits ingressFrom (the namespace by default), narrowed when it changes.
// Secured says whether the namespace enforces PodSecurity restricted.
func TestHelpDeskNetworkPolicies(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t)
	hd := hdNew(ns, "guarded")
	hdCreate(t, hd)
	key := client.ObjectKeyFromObject(hd)
	hdWaitFor(t, key, hdCondition(opsv1alpha1.ConditionSecured, metav1.ConditionFalse, opsv1alpha1.ReasonPodSecurityNotEnforced))

	var policies networkingv1.NetworkPolicyList
	if err := k8sClient.List(ctx, &policies, client.InNamespace(ns), client.MatchingLabels{resources.LabelHelpDesk: "guarded"}); err != nil {
		t.Fatal(err)
	}
	current := hdWaitFor(t, key, func(*opsv1alpha1.HelpDesk) error { return nil })
	byName := map[string]networkingv1.NetworkPolicy{}
	for _, np := range policies.Items {
		byName[np.Name] = np
		hdCheckOwned(t, &np, current)
	}
	for _, name := range []string{"guarded-deny-all", "guarded-rt-egress", "guarded-db-ingress", "guarded-web-ingress", "guarded-mailgate-ingress", "guarded-smtp-egress"} {
		if _, ok := byName[name]; !ok {
			t.Errorf("no NetworkPolicy %s (have %v)", name, policies.Items)
		}
	}
	deny := byName["guarded-deny-all"]
	if deny.Spec.PodSelector.MatchLabels[resources.LabelHelpDesk] != "guarded" || len(deny.Spec.Ingress)+len(deny.Spec.Egress) != 0 || len(deny.Spec.PolicyTypes) != 2 {
		t.Errorf("deny-all: %+v", deny.Spec)
	}
	web := byName["guarded-web-ingress"]
	if len(web.Spec.Ingress) != 1 || len(web.Spec.Ingress[0].From) != 1 || web.Spec.Ingress[0].From[0].PodSelector == nil ||
		len(web.Spec.Ingress[0].From[0].PodSelector.MatchLabels) != 0 || web.Spec.Ingress[0].From[0].NamespaceSelector != nil {
		t.Errorf("web ingress by default: %+v, want every pod of the namespace", web.Spec.Ingress)
	}
	db := byName["guarded-db-ingress"]
	if len(db.Spec.Ingress) != 1 || db.Spec.Ingress[0].From[0].PodSelector == nil ||
		!slices.Equal(db.Spec.Ingress[0].From[0].PodSelector.MatchExpressions[0].Values, []string{"web", "mailgate", "schema", "cron", "rights"}) {
		t.Errorf("database ingress: %+v, want only RT's web, mail gateway, schema and cron pods and the teams' rights Jobs", db.Spec.Ingress)
	}
	// The mail gateway: only the namespace's pods labelled as this help
	// desk's mail fetchers, only on the gateway's port.
	mail := byName["guarded-mailgate-ingress"]
	if len(mail.Spec.Ingress) != 1 || len(mail.Spec.Ingress[0].From) != 1 || mail.Spec.Ingress[0].From[0].NamespaceSelector != nil ||
		mail.Spec.Ingress[0].From[0].PodSelector == nil ||
		!maps.Equal(mail.Spec.Ingress[0].From[0].PodSelector.MatchLabels, map[string]string{resources.LabelMailFetcher: "guarded"}) ||
		len(mail.Spec.Ingress[0].Ports) != 1 || mail.Spec.Ingress[0].Ports[0].Port.IntVal != resources.RTMailGatewayPort ||
		mail.Spec.PodSelector.MatchExpressions[0].Values[0] != "mailgate" {
		t.Errorf("mail gateway ingress: %+v, want only pods labelled %s=guarded on port %d", mail.Spec, resources.LabelMailFetcher, resources.RTMailGatewayPort)
	}
	secured := meta.FindStatusCondition(current.Status.Conditions, opsv1alpha1.ConditionSecured)
	if secured == nil || !strings.Contains(secured.Message, "guarded-deny-all") || !strings.Contains(secured.Message, "pod-security.kubernetes.io/enforce=restricted") {
		t.Errorf("Secured: %+v, want the policies named and what label the namespace lacks", secured)
	}

	// Labelled restricted (a namespace is not watched: a spec change wakes
	// the reconciler), Secured turns True.
	if err := update(t, k8sClient, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, func(n *corev1.Namespace) {
		n.Labels = mergeLabels(n.Labels, map[string]string{"pod-security.kubernetes.io/enforce": "restricted"})
	}); err != nil {
		t.Fatal(err)
	}
	peers := []networkingv1.NetworkPolicyPeer{{NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"kubernetes.io/metadata.name": "ingress"}}}}
	if err := update(t, k8sClient, &opsv1alpha1.HelpDesk{ObjectMeta: metav1.ObjectMeta{Name: "guarded", Namespace: ns}}, func(h *opsv1alpha1.HelpDesk) {
		h.Spec.Web.IngressFrom = peers
	}); err != nil {
		t.Fatal(err)
	}
	hdWaitFor(t, key, hdCondition(opsv1alpha1.ConditionSecured, metav1.ConditionTrue, opsv1alpha1.ReasonControlsInForce))
	eventually(t, hdWait, func() error {
		var np networkingv1.NetworkPolicy
		if err := k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "guarded-web-ingress"}, &np); err != nil {
			return err
		}
		if from := np.Spec.Ingress[0].From; len(from) != 1 || from[0].NamespaceSelector == nil || from[0].PodSelector != nil {
			return fmt.Errorf("web ingress from %+v, want only the ingress namespace", from)
		}
		return nil
	})
	if smtp := byName["guarded-smtp-egress"]; len(smtp.Spec.Egress) != 0 {
		t.Errorf("smtp egress without a relay: %+v, want none", smtp.Spec.Egress)
	}

	// An SMTP relay: an in-cluster Service is reached at its pods, on the
	// port it maps to; RT sends through it (the site configuration says
	// so); taken away, the way out goes with it.
	mailNS := newNamespace(t)
	relaySvc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "postfix", Namespace: mailNS}, Spec: corev1.ServiceSpec{
		Selector: map[string]string{"app": "postfix"}, Ports: []corev1.ServicePort{{Name: "smtp", Port: 25, TargetPort: intstr.FromInt32(2525)}}}}
	if err := k8sClient.Create(ctx, relaySvc); err != nil {
		t.Fatal(err)
	}
	setRelay := func(relay *opsv1alpha1.SMTPRelay) {
		t.Helper()
		if err := update(t, k8sClient, &opsv1alpha1.HelpDesk{ObjectMeta: metav1.ObjectMeta{Name: "guarded", Namespace: ns}}, func(h *opsv1alpha1.HelpDesk) {
			h.Spec.Mail.Relay = relay
		}); err != nil {
			t.Fatal(err)
		}
	}
	smtpEgress := func(want string) {
		t.Helper()
		eventually(t, hdWait, func() error {
			var np networkingv1.NetworkPolicy
			if err := k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "guarded-smtp-egress"}, &np); err != nil {
				return err
			}
			got := ""
			for _, e := range np.Spec.Egress {
				for _, to := range e.To {
					switch {
					case to.IPBlock != nil:
						got += to.IPBlock.CIDR
					case to.PodSelector != nil && to.NamespaceSelector != nil:
						got += to.NamespaceSelector.MatchLabels[corev1.LabelMetadataName] + "/" + to.PodSelector.MatchLabels["app"]
					}
				}
				for _, p := range e.Ports {
					got += fmt.Sprintf(":%d", p.Port.IntVal)
				}
			}
			if got != want {
				return fmt.Errorf("smtp egress to %q, want %q", got, want)
			}
			return nil
		})
	}
	siteConfig := func(want string) {
		t.Helper()
		eventually(t, hdWait, func() error {
			var secret corev1.Secret
			if err := k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "guarded-site-config"}, &secret); err != nil {
				return err
			}
			if config := string(secret.Data[resources.RTSiteConfigFile]); !strings.Contains(config, want) {
				return fmt.Errorf("the site configuration lacks %q:\n%s", want, config)
			}
			return nil
		})
	}
	setRelay(&opsv1alpha1.SMTPRelay{Host: "postfix." + mailNS + ".svc", Port: 25})
	smtpEgress(mailNS + "/postfix:2525")
	siteConfig("send('smtp', Server => 'postfix." + mailNS + ".svc', Port => 25)")
	setRelay(&opsv1alpha1.SMTPRelay{Host: "192.0.2.25", Port: 587})
	smtpEgress("192.0.2.25/32:587")
	siteConfig("send('smtp', Server => '192.0.2.25', Port => 587)")
	setRelay(nil)
	smtpEgress("")
}

// TestHelpDeskMaintenanceCronJobs: RT's periodic work runs as CronJobs that
// never overlap, in the site's time zone, as RT's pods run (the attachments'
// volume mounted), and a new schedule is applied.
func TestHelpDeskMaintenanceCronJobs(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t)
	hdReady(t, ns, "cron", func(h *opsv1alpha1.HelpDesk) { h.Spec.Site.TimeZone = "Europe/Berlin" })
	db := resources.ManagedDatabaseConn(ns, resources.HelpDeskNames{HelpDesk: "cron"})
	for _, want := range []struct {
		name, schedule string
		command        []string
	}{
		{"cron-externalize", "*/15 * * * *", []string{"/usr/sbin/rt-externalize-attachments-5"}},
		{"cron-sessions", "30 3 * * *", []string{"/usr/sbin/rt-clean-sessions-5", "--older", "7D"}},
	} {
		var cj batchv1.CronJob
		hdGet(t, ns, want.name, &cj)
		hdCheckLabels(t, &cj, "cron", "cron")
		pod := cj.Spec.JobTemplate.Spec.Template.Spec
		if cj.Spec.Schedule != want.schedule || cj.Spec.ConcurrencyPolicy != batchv1.ForbidConcurrent || cj.Spec.TimeZone == nil || *cj.Spec.TimeZone != "Europe/Berlin" {
			t.Errorf("%s: schedule %q, concurrency %s, zone %v", want.name, cj.Spec.Schedule, cj.Spec.ConcurrencyPolicy, cj.Spec.TimeZone)
		}
		// The command waits for the database first: a new pod's first
		// connections may be refused until the NetworkPolicies know it.
		if len(pod.Containers) != 1 || !slices.Equal(pod.Containers[0].Command, resources.AwaitDatabase(db, want.command...)) {
			t.Errorf("%s runs %v, want %v once %s:%d accepts a connection", want.name, pod.Containers, want.command, db.Host, db.Port)
		}
		mounted := false
		for _, v := range pod.Volumes {
			mounted = mounted || (v.PersistentVolumeClaim != nil && v.PersistentVolumeClaim.ClaimName == "cron-attachments")
		}
		if !mounted || pod.AutomountServiceAccountToken == nil || *pod.AutomountServiceAccountToken {
			t.Errorf("%s: attachments mounted %v, token %v", want.name, mounted, pod.AutomountServiceAccountToken)
		}
	}
	if err := update(t, k8sClient, &opsv1alpha1.HelpDesk{ObjectMeta: metav1.ObjectMeta{Name: "cron", Namespace: ns}}, func(h *opsv1alpha1.HelpDesk) {
		h.Spec.Maintenance.ExternalizeAttachments = "5 * * * *"
	}); err != nil {
		t.Fatal(err)
	}
	eventually(t, hdWait, func() error {
		var cj batchv1.CronJob
		if err := k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "cron-externalize"}, &cj); err != nil {
			return err
		}
		if cj.Spec.Schedule != "5 * * * *" {
			return fmt.Errorf("schedule %q", cj.Spec.Schedule)
		}
		return nil
	})
}
