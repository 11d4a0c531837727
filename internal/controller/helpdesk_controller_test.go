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
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	opsv1alpha1 "github.com/supportstack/operator/api/v1alpha1"
	"github.com/supportstack/operator/internal/resources"
)

// What the tests below hold the HelpDesk controller to (issue #20).
const (
	hdFinalizer          = "ops.supportstack.io/helpdesk-data"
	hdChecksumAnnotation = "ops.supportstack.io/config-checksum"
	hdComponentLabel     = "app.kubernetes.io/component"
	hdWait               = 30 * time.Second
)

// hdPassword is what every generated password is: letters and digits only
// (RT's acl step writes RT's database password into SQL unescaped), at
// least 24 of them (the controller makes 48 hex digits, 192 bits).
var hdPassword = regexp.MustCompile(`^[A-Za-z0-9]{24,}$`)

var hdPasswordKeys = []string{resources.HelpDeskAdminPasswordKey, resources.HelpDeskDatabasePasswordKey, resources.HelpDeskRootPasswordKey, resources.HelpDeskOperatorPasswordKey}

// hdNew is the smallest valid HelpDesk.
func hdNew(ns, name string) *opsv1alpha1.HelpDesk {
	return &opsv1alpha1.HelpDesk{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: opsv1alpha1.HelpDeskSpec{
			Site: opsv1alpha1.HelpDeskSite{Name: "Support", Organization: "example.com"},
		},
	}
}

func hdCreate(t *testing.T, hd *opsv1alpha1.HelpDesk) {
	t.Helper()
	if err := k8sClient.Create(context.Background(), hd); err != nil {
		t.Fatalf("creating HelpDesk %s: %v", hd.Name, err)
	}
}

// hdWaitFor waits until the HelpDesk satisfies check and returns it.
func hdWaitFor(t *testing.T, key client.ObjectKey, check func(*opsv1alpha1.HelpDesk) error) *opsv1alpha1.HelpDesk {
	t.Helper()
	hd := &opsv1alpha1.HelpDesk{}
	eventually(t, hdWait, func() error {
		if err := k8sClient.Get(context.Background(), key, hd); err != nil {
			return err
		}
		return check(hd)
	})
	return hd
}

// hdCondition checks that condition condType has status (and reason, when
// not empty) for the HelpDesk's current generation.
func hdCondition(condType string, status metav1.ConditionStatus, reason string) func(*opsv1alpha1.HelpDesk) error {
	return func(hd *opsv1alpha1.HelpDesk) error {
		c := meta.FindStatusCondition(hd.Status.Conditions, condType)
		if c == nil {
			return fmt.Errorf("no %s condition (conditions %+v)", condType, hd.Status.Conditions)
		}
		if c.Status != status || (reason != "" && c.Reason != reason) {
			return fmt.Errorf("%s=%s reason %s (%s), want %s reason %q", condType, c.Status, c.Reason, c.Message, status, reason)
		}
		if c.ObservedGeneration != 0 && c.ObservedGeneration != hd.Generation {
			return fmt.Errorf("%s describes generation %d, the HelpDesk is at %d", condType, c.ObservedGeneration, hd.Generation)
		}
		return nil
	}
}

// hdGet waits until the object exists and reads it into obj.
func hdGet(t *testing.T, ns, name string, obj client.Object) {
	t.Helper()
	eventually(t, hdWait, func() error {
		return k8sClient.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, obj)
	})
}

// hdAbsent fails the test when the object exists now.
func hdAbsent(t *testing.T, ns, name string, obj client.Object, when string) {
	t.Helper()
	err := k8sClient.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, obj)
	if err == nil {
		t.Errorf("%s: %T %s exists, want none", when, obj, name)
	} else if !apierrors.IsNotFound(err) {
		t.Fatal(err)
	}
}

// hdGone reports whether the object is deleted: not found, or in deletion
// (envtest has no controller that removes the PVC protection finalizer).
func hdGone(ns, name string, obj client.Object) error {
	err := k8sClient.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, obj)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if obj.GetDeletionTimestamp() != nil {
		return nil
	}
	return fmt.Errorf("%T %s still exists", obj, name)
}

// hdSettle waits until the manager stopped writing the HelpDesk.
func hdSettle(t *testing.T, key client.ObjectKey) {
	t.Helper()
	settle(t, func() string {
		var hd opsv1alpha1.HelpDesk
		if err := k8sClient.Get(context.Background(), key, &hd); err != nil {
			return err.Error()
		}
		return hd.ResourceVersion
	})
}

// hdCheckLabels checks an object's labels: managed by the operator, the
// HelpDesk's and the component's.
func hdCheckLabels(t *testing.T, obj client.Object, helpDesk, component string) {
	t.Helper()
	l := obj.GetLabels()
	if l[opsv1alpha1.LabelManagedBy] != opsv1alpha1.ManagedByValue || l[resources.LabelHelpDesk] != helpDesk || l[hdComponentLabel] != component {
		t.Errorf("%T %s has labels %v, want %s=%s, %s=%s, %s=%s", obj, obj.GetName(), l,
			opsv1alpha1.LabelManagedBy, opsv1alpha1.ManagedByValue, resources.LabelHelpDesk, helpDesk, hdComponentLabel, component)
	}
}

func hdCheckOwned(t *testing.T, obj client.Object, hd *opsv1alpha1.HelpDesk) {
	t.Helper()
	if !metav1.IsControlledBy(obj, hd) {
		t.Errorf("%T %s is not controlled by HelpDesk %s (owners %+v)", obj, obj.GetName(), hd.Name, obj.GetOwnerReferences())
	}
}

func hdCheckNotOwned(t *testing.T, obj client.Object) {
	t.Helper()
	if refs := obj.GetOwnerReferences(); len(refs) != 0 {
		t.Errorf("%T %s has owners %+v, want none: it must outlive the HelpDesk", obj, obj.GetName(), refs)
	}
}

// hdJobs lists the HelpDesk's Jobs.
func hdJobs(t *testing.T, ns, name string) []batchv1.Job {
	t.Helper()
	var jobs batchv1.JobList
	if err := k8sClient.List(context.Background(), &jobs, client.InNamespace(ns), client.MatchingLabels{resources.LabelHelpDesk: name}); err != nil {
		t.Fatal(err)
	}
	return jobs.Items
}

// hdReadyDatabase marks the database StatefulSet ready, as the StatefulSet
// controller and the kubelet would.
func hdReadyDatabase(t *testing.T, ns, name string) {
	t.Helper()
	eventually(t, hdWait, func() error {
		var sts appsv1.StatefulSet
		if err := k8sClient.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name + "-db"}, &sts); err != nil {
			return err
		}
		replicas := int32(1)
		if sts.Spec.Replicas != nil {
			replicas = *sts.Spec.Replicas
		}
		sts.Status.ObservedGeneration = sts.Generation
		sts.Status.Replicas = replicas
		sts.Status.ReadyReplicas = replicas
		sts.Status.AvailableReplicas = replicas
		sts.Status.CurrentReplicas = replicas
		sts.Status.UpdatedReplicas = replicas
		return k8sClient.Status().Update(context.Background(), &sts)
	})
}

// hdReadyWeb marks the web and mail gateway Deployments' current
// generations rolled out and ready, as the Deployment controller and the
// kubelet would.
func hdReadyWeb(t *testing.T, ns, name string) {
	t.Helper()
	hdReadyDeployment(t, ns, name+"-web")
	hdReadyDeployment(t, ns, name+"-mailgate")
}

// hdReadyDeployment marks one Deployment's current generation rolled out
// and ready.
func hdReadyDeployment(t *testing.T, ns, name string) {
	t.Helper()
	var dep appsv1.Deployment
	eventually(t, hdWait, func() error {
		if err := k8sClient.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, &dep); err != nil {
			return err
		}
		replicas := int32(1)
		if dep.Spec.Replicas != nil {
			replicas = *dep.Spec.Replicas
		}
		dep.Status.ObservedGeneration = dep.Generation
		dep.Status.Replicas = replicas
		dep.Status.UpdatedReplicas = replicas
		dep.Status.ReadyReplicas = replicas
		dep.Status.AvailableReplicas = replicas
		dep.Status.Conditions = []appsv1.DeploymentCondition{{Type: appsv1.DeploymentAvailable, Status: corev1.ConditionTrue,
			Reason: "MinimumReplicasAvailable", LastUpdateTime: metav1.Now(), LastTransitionTime: metav1.Now()}}
		return k8sClient.Status().Update(context.Background(), &dep)
	})
}

// hdSchemaJob waits for the schema Job and returns it as the API server
// holds it (the cache keeps no pod template, which completeJob copies).
func hdSchemaJob(t *testing.T, ns, name string) *batchv1.Job {
	t.Helper()
	job := &batchv1.Job{}
	hdGet(t, ns, name+"-schema-5", job)
	return job
}

// hdCountingReconciler is a HelpDesk reconciler reading through its own
// cache, built as the manager's, that counts its writes; it is returned
// once the cache holds the HelpDesk as the API server does.
func hdCountingReconciler(t *testing.T, key client.ObjectKey) (*HelpDeskReconciler, func() int64) {
	t.Helper()
	c, writes := countingCachedClient(t)
	waitCached(t, c, key, &opsv1alpha1.HelpDesk{})
	return &HelpDeskReconciler{Client: c, APIReader: k8sClient, Recorder: events.NewFakeRecorder(100)}, writes.Load
}

// hdReady creates the HelpDesk (after mutate) and carries it to Ready:
// database ready, schema Job complete, web ready.
func hdReady(t *testing.T, ns, name string, mutate func(*opsv1alpha1.HelpDesk)) *opsv1alpha1.HelpDesk {
	t.Helper()
	hd := hdNew(ns, name)
	if mutate != nil {
		mutate(hd)
	}
	hdCreate(t, hd)
	key := client.ObjectKeyFromObject(hd)
	if hd.Spec.Database.External == nil {
		hdReadyDatabase(t, ns, name)
	}
	hdWaitFor(t, key, hdCondition(opsv1alpha1.ConditionDatabaseReady, metav1.ConditionTrue, opsv1alpha1.ReasonAvailable))
	completeJob(t, hdSchemaJob(t, ns, name), true, "rt-schema: done", fakeClock.Now())
	hdWaitFor(t, key, hdCondition(opsv1alpha1.ConditionSchemaReady, metav1.ConditionTrue, ""))
	hdReadyWeb(t, ns, name)
	return hdWaitFor(t, key, hdCondition(opsv1alpha1.ConditionReady, metav1.ConditionTrue, opsv1alpha1.ReasonReconciled))
}

func hdSiteConfig(t *testing.T, ns, name string) string {
	t.Helper()
	var s corev1.Secret
	hdGet(t, ns, name+"-site-config", &s)
	return string(s.Data[resources.RTSiteConfigFile])
}

func hdInt(p *int32) string {
	if p == nil {
		return "unset"
	}
	return fmt.Sprint(*p)
}

func hdString(p *string) string {
	if p == nil {
		return "unset"
	}
	return fmt.Sprintf("%q", *p)
}

func hdSHA256(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// hdCollectGarbage deletes what the garbage collector would once the
// HelpDesk with uid is gone (envtest runs no garbage collector): every
// object of the namespace it controlled.
func hdCollectGarbage(t *testing.T, ns string, uid types.UID) {
	t.Helper()
	ctx := context.Background()
	lists := []client.ObjectList{&corev1.SecretList{}, &corev1.ServiceList{}, &corev1.PersistentVolumeClaimList{},
		&appsv1.StatefulSetList{}, &appsv1.DeploymentList{}, &batchv1.JobList{}, &corev1.ConfigMapList{}, &networkingv1.NetworkPolicyList{}}
	for _, list := range lists {
		if err := k8sClient.List(ctx, list, client.InNamespace(ns)); err != nil {
			t.Fatal(err)
		}
		if err := meta.EachListItem(list, func(o runtime.Object) error {
			obj := o.(client.Object)
			for _, ref := range obj.GetOwnerReferences() {
				if ref.UID == uid {
					return client.IgnoreNotFound(k8sClient.Delete(ctx, obj, client.PropagationPolicy(metav1.DeletePropagationBackground)))
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
}

// TestHelpDeskValidation: the API server refuses what RT's site
// configuration could not hold safely, and defaults the rest.
func TestHelpDeskValidation(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t)
	const perl = "must not contain a single quote"
	for _, tc := range []struct {
		name   string
		mutate func(*opsv1alpha1.HelpDesk)
		want   string // "" when accepted
	}{
		{"version 4", func(h *opsv1alpha1.HelpDesk) { h.Spec.Version = "4" }, `supported values: "5"`},
		{"site name with a quote", func(h *opsv1alpha1.HelpDesk) { h.Spec.Site.Name = "it's" }, perl},
		{"site name ending the string", func(h *opsv1alpha1.HelpDesk) { h.Spec.Site.Name = "x'); system('id" }, perl},
		{"organization with a backslash", func(h *opsv1alpha1.HelpDesk) { h.Spec.Site.Organization = `example\.com` }, perl},
		{"site name with a newline", func(h *opsv1alpha1.HelpDesk) { h.Spec.Site.Name = "Support\n1;" }, perl},
		{"site name with a tab", func(h *opsv1alpha1.HelpDesk) { h.Spec.Site.Name = "Sup\tport" }, perl},
		{"empty site name", func(h *opsv1alpha1.HelpDesk) { h.Spec.Site.Name = "" }, "spec.site.name"},
		{"upper-case webDomain", func(h *opsv1alpha1.HelpDesk) { h.Spec.Site.WebDomain = "RT.Example.com" }, "must be a lower-case DNS name"},
		{"webDomain with a path", func(h *opsv1alpha1.HelpDesk) { h.Spec.Site.WebDomain = "rt.example.com/x" }, "must be a lower-case DNS name"},
		{"name of 41 characters", func(h *opsv1alpha1.HelpDesk) { h.Name = "rt" + strings.Repeat("a", 39) }, "a lower-case DNS label of at most 40 characters"},
		{"name starting with a digit", func(h *opsv1alpha1.HelpDesk) { h.Name = "5rt" }, "a lower-case DNS label of at most 40 characters"},
		{"deletionPolicy Keep", func(h *opsv1alpha1.HelpDesk) { h.Spec.DeletionPolicy = "Keep" }, `supported values: "Retain", "Delete"`},
		{"negative replicas", func(h *opsv1alpha1.HelpDesk) { h.Spec.Web.Replicas = ptrTo[int32](-1) }, "spec.web.replicas"},
		{"relay host ending RT's string", func(h *opsv1alpha1.HelpDesk) {
			h.Spec.Mail.Relay = &opsv1alpha1.SMTPRelay{Host: "smtp'); system('id"}
		}, "must be a lower-case DNS name such as smtp.example.com or an IPv4 address"},
		{"relay host with a port", func(h *opsv1alpha1.HelpDesk) { h.Spec.Mail.Relay = &opsv1alpha1.SMTPRelay{Host: "smtp.example.com:25"} }, "must be a lower-case DNS name such as smtp.example.com"},
		{"relay port over 65535", func(h *opsv1alpha1.HelpDesk) {
			h.Spec.Mail.Relay = &opsv1alpha1.SMTPRelay{Host: "smtp.example.com", Port: 70000}
		}, "spec.mail.relay.port"},
		{"relay login without STARTTLS", func(h *opsv1alpha1.HelpDesk) {
			h.Spec.Mail.Relay = &opsv1alpha1.SMTPRelay{Host: "smtp.example.com", Port: 587, CredentialsSecretRef: &opsv1alpha1.SecretRef{Name: "relay-login"}}
		}, "credentialsSecretRef needs startTLS: true"},
		{"relay CA without STARTTLS", func(h *opsv1alpha1.HelpDesk) {
			h.Spec.Mail.Relay = &opsv1alpha1.SMTPRelay{Host: "smtp.example.com", CASecretRef: &opsv1alpha1.SecretKeyRef{Name: "relay-ca", Key: "ca.crt"}}
		}, "caSecretRef needs startTLS: true"},
		{"relay login over STARTTLS", func(h *opsv1alpha1.HelpDesk) {
			h.Spec.Mail.Relay = &opsv1alpha1.SMTPRelay{Host: "smtp.example.com", Port: 587, StartTLS: true, CredentialsSecretRef: &opsv1alpha1.SecretRef{Name: "relay-login"}}
		}, ""},
		{"relay by address", func(h *opsv1alpha1.HelpDesk) {
			h.Spec.Mail.Relay = &opsv1alpha1.SMTPRelay{Host: "192.0.2.25", Port: 587}
		}, ""},
		{"managed and external database", func(h *opsv1alpha1.HelpDesk) {
			h.Spec.Database = opsv1alpha1.HelpDeskDatabase{Managed: &opsv1alpha1.ManagedDatabase{}, External: &opsv1alpha1.ExternalDatabase{SecretName: "rt-db-app"}}
		}, "set database.managed or database.external, not both"},
		{"external database Secret not a name", func(h *opsv1alpha1.HelpDesk) {
			h.Spec.Database.External = &opsv1alpha1.ExternalDatabase{SecretName: "rt-db-app/uri"}
		}, "must be a Secret's name"},
		{"external database", func(h *opsv1alpha1.HelpDesk) {
			h.Spec.Database.External = &opsv1alpha1.ExternalDatabase{SecretName: "rt-db-app"}
		}, ""},
		{"name of 40 characters", func(h *opsv1alpha1.HelpDesk) { h.Name = "rt" + strings.Repeat("a", 38) }, ""},
		{"site text with Perl specials but no quote", func(h *opsv1alpha1.HelpDesk) { h.Spec.Site.Name = `Support $x @y "z" ); #` }, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hd := hdNew(ns, fmt.Sprintf("v%d", time.Now().UnixNano()%1e9))
			tc.mutate(hd)
			err := k8sClient.Create(ctx, hd)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("accepted, want refused with %q", tc.want)
			}
			if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("refused with %v, want an Invalid error containing %q", err, tc.want)
			}
		})
	}

	t.Run("defaults", func(t *testing.T) {
		hd := hdNew(ns, "defaults")
		if err := k8sClient.Create(ctx, hd); err != nil {
			t.Fatal(err)
		}
		var got opsv1alpha1.HelpDesk
		if err := k8sClient.Get(ctx, client.ObjectKeyFromObject(hd), &got); err != nil {
			t.Fatal(err)
		}
		s := got.Spec
		if s.Version != "5" || s.DeletionPolicy != opsv1alpha1.HelpDeskRetain || s.Site.TimeZone != "UTC" ||
			s.Web.Replicas == nil || *s.Web.Replicas != 1 || s.Web.Workers != 2 {
			t.Errorf("defaults: version %q, deletionPolicy %q, timeZone %q, web %+v (replicas %v); want 5, Retain, UTC, 1 replica, 2 workers",
				s.Version, s.DeletionPolicy, s.Site.TimeZone, s.Web, s.Web.Replicas)
		}
		// The managed database stays managed.
		got.Spec.Database.External = &opsv1alpha1.ExternalDatabase{SecretName: "rt-db-app"}
		if err := k8sClient.Update(ctx, &got); !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), "spec.database cannot change between managed and external") {
			t.Errorf("switching a managed HelpDesk to an external database: %v, want refused", err)
		}
	})
}

// TestHelpDeskComesUpInOrder: credentials and volume first, the database,
// then the schema Job once the database is ready, then the web server once
// the schema is; a failed schema Job stops there.
func TestHelpDeskComesUpInOrder(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t)
	const name = "rt"
	hdCreate(t, hdNew(ns, name))
	key := client.ObjectKey{Namespace: ns, Name: name}

	hd := hdWaitFor(t, key, hdCondition(opsv1alpha1.ConditionDatabaseReady, metav1.ConditionFalse, opsv1alpha1.ReasonProgressing))
	if !slices.Contains(hd.Finalizers, hdFinalizer) {
		t.Errorf("finalizers %v, want %s", hd.Finalizers, hdFinalizer)
	}
	hdWaitFor(t, key, hdCondition(opsv1alpha1.ConditionReady, metav1.ConditionFalse, ""))

	// Credentials: generated once, letters and digits, all different, not
	// owned.
	var creds corev1.Secret
	hdGet(t, ns, name+"-credentials", &creds)
	hdCheckNotOwned(t, &creds)
	hdCheckLabels(t, &creds, name, "database")
	passwords := map[string]string{}
	for _, k := range hdPasswordKeys {
		v := string(creds.Data[k])
		if !hdPassword.MatchString(v) {
			t.Errorf("credentials key %s is %d characters %q, want at least 24 letters and digits", k, len(v), strings.Repeat("*", len(v)))
		}
		for other, w := range passwords {
			if v == w {
				t.Errorf("credentials keys %s and %s hold the same password", k, other)
			}
		}
		passwords[k] = v
	}

	// The site configuration: owned, RT's values, no password.
	var site corev1.Secret
	hdGet(t, ns, name+"-site-config", &site)
	hdCheckOwned(t, &site, hd)
	config := string(site.Data[resources.RTSiteConfigFile])
	if !strings.Contains(config, "Set($rtname, 'Support');") || !strings.Contains(config, "Set($Organization, 'example.com');") {
		t.Errorf("site configuration lacks the site's name or organization:\n%s", config)
	}
	if want := fmt.Sprintf("Set($WebDomain, '%s-web.%s.svc');", name, ns); !strings.Contains(config, want) {
		t.Errorf("site configuration lacks the default web domain (%s):\n%s", want, config)
	}
	for k, v := range passwords {
		if strings.Contains(config, v) {
			t.Errorf("the site configuration holds the %s", k)
		}
	}

	// The database: its volume (not owned, the default size), Service and
	// StatefulSet (owned).
	var pvc corev1.PersistentVolumeClaim
	hdGet(t, ns, name+"-db-data", &pvc)
	hdCheckNotOwned(t, &pvc)
	hdCheckLabels(t, &pvc, name, "database")
	if got := pvc.Spec.Resources.Requests[corev1.ResourceStorage]; got.Cmp(resource.MustParse("1Gi")) != 0 {
		t.Errorf("volume of %s, want 1Gi", got.String())
	}
	if pvc.Spec.StorageClassName != nil {
		t.Errorf("storageClassName %q, want the cluster's default (none)", *pvc.Spec.StorageClassName)
	}
	var dbService corev1.Service
	hdGet(t, ns, name+"-db", &dbService)
	hdCheckOwned(t, &dbService, hd)
	hdCheckLabels(t, &dbService, name, "database")
	if len(dbService.Spec.Ports) != 1 || dbService.Spec.Ports[0].Port != 5432 {
		t.Errorf("database Service ports %+v, want 5432", dbService.Spec.Ports)
	}
	var sts appsv1.StatefulSet
	hdGet(t, ns, name+"-db", &sts)
	hdCheckOwned(t, &sts, hd)
	hdCheckLabels(t, &sts, name, "database")
	if sts.Spec.Replicas == nil || *sts.Spec.Replicas != 1 {
		t.Errorf("StatefulSet replicas %s, want 1", hdInt(sts.Spec.Replicas))
	}
	if !slices.ContainsFunc(sts.Spec.Template.Spec.Volumes, func(v corev1.Volume) bool {
		return v.PersistentVolumeClaim != nil && v.PersistentVolumeClaim.ClaimName == name+"-db-data"
	}) {
		t.Errorf("the StatefulSet does not mount %s-db-data: volumes %+v", name, sts.Spec.Template.Spec.Volumes)
	}

	// Nothing of RT while the database is not ready.
	hdSettle(t, key)
	if jobs := hdJobs(t, ns, name); len(jobs) != 0 {
		t.Errorf("%d Jobs (%s ...) before the database is ready, want none", len(jobs), jobs[0].Name)
	}
	hdAbsent(t, ns, name+"-web", &appsv1.Deployment{}, "before the database is ready")
	hdAbsent(t, ns, name+"-web", &corev1.Service{}, "before the database is ready")

	// The database is ready: the schema Job, once, and still no web server.
	hdReadyDatabase(t, ns, name)
	hdWaitFor(t, key, hdCondition(opsv1alpha1.ConditionDatabaseReady, metav1.ConditionTrue, opsv1alpha1.ReasonAvailable))
	job := hdSchemaJob(t, ns, name)
	hdCheckOwned(t, job, hd)
	hdCheckLabels(t, job, name, "schema")
	hdWaitFor(t, key, hdCondition(opsv1alpha1.ConditionSchemaReady, metav1.ConditionFalse, ""))
	hdSettle(t, key)
	if jobs := hdJobs(t, ns, name); len(jobs) != 1 {
		t.Errorf("%d Jobs, want the schema Job alone", len(jobs))
	}
	hdAbsent(t, ns, name+"-web", &appsv1.Deployment{}, "before the schema is set up")
	hdAbsent(t, ns, name+"-web", &corev1.Service{}, "before the schema is set up")

	// The schema is set up: the web server.
	completeJob(t, job, true, "rt-schema: done", fakeClock.Now())
	hd = hdWaitFor(t, key, hdCondition(opsv1alpha1.ConditionSchemaReady, metav1.ConditionTrue, ""))
	if hd.Status.Version != "5" {
		t.Errorf("status.version %q once the schema Job completed, want 5", hd.Status.Version)
	}
	var dep appsv1.Deployment
	hdGet(t, ns, name+"-web", &dep)
	hdCheckOwned(t, &dep, hd)
	hdCheckLabels(t, &dep, name, "web")
	if dep.Spec.Replicas == nil || *dep.Spec.Replicas != 1 {
		t.Errorf("web replicas %s, want 1", hdInt(dep.Spec.Replicas))
	}
	if got, want := dep.Spec.Template.Annotations[hdChecksumAnnotation], hdSHA256(config); got != want {
		t.Errorf("the web pods' %s is %q, want the site configuration's sha256 %q", hdChecksumAnnotation, got, want)
	}
	var webService corev1.Service
	hdGet(t, ns, name+"-web", &webService)
	hdCheckOwned(t, &webService, hd)
	hdCheckLabels(t, &webService, name, "web")
	if len(webService.Spec.Ports) != 1 || webService.Spec.Ports[0].Port != 80 {
		t.Errorf("web Service ports %+v, want 80", webService.Spec.Ports)
	}
	hdWaitFor(t, key, hdCondition(opsv1alpha1.ConditionWebReady, metav1.ConditionFalse, ""))
	hdWaitFor(t, key, hdCondition(opsv1alpha1.ConditionReady, metav1.ConditionFalse, ""))

	// The mail gateway: RT's own pod on its own port and Service, one
	// while the web serves; the help desk is not ready without it.
	var gateway appsv1.Deployment
	hdGet(t, ns, name+"-mailgate", &gateway)
	hdCheckOwned(t, &gateway, hd)
	hdCheckLabels(t, &gateway, name, "mailgate")
	if gateway.Spec.Replicas == nil || *gateway.Spec.Replicas != 1 || gateway.Spec.Template.Spec.Containers[0].Ports[0].ContainerPort != resources.RTMailGatewayPort {
		t.Errorf("mail gateway replicas %s, ports %+v: want 1 on %d", hdInt(gateway.Spec.Replicas), gateway.Spec.Template.Spec.Containers[0].Ports, resources.RTMailGatewayPort)
	}
	var gatewayService corev1.Service
	hdGet(t, ns, name+"-mailgate", &gatewayService)
	hdCheckOwned(t, &gatewayService, hd)
	hdCheckLabels(t, &gatewayService, name, "mailgate")
	hdReadyDeployment(t, ns, name+"-web")
	hdWaitFor(t, key, func(hd *opsv1alpha1.HelpDesk) error {
		c := meta.FindStatusCondition(hd.Status.Conditions, opsv1alpha1.ConditionWebReady)
		if c == nil || c.Status != metav1.ConditionFalse || !strings.Contains(c.Message, "0 of 1 mail gateway pods ready") {
			return fmt.Errorf("WebReady %+v with the web ready and the mail gateway not, want False naming the mail gateway", c)
		}
		return nil
	})

	// The web server and the mail gateway are ready: the help desk is.
	hdReadyWeb(t, ns, name)
	hd = hdWaitFor(t, key, hdCondition(opsv1alpha1.ConditionReady, metav1.ConditionTrue, opsv1alpha1.ReasonReconciled))
	for _, c := range []string{opsv1alpha1.ConditionDatabaseReady, opsv1alpha1.ConditionSchemaReady, opsv1alpha1.ConditionWebReady} {
		if err := hdCondition(c, metav1.ConditionTrue, "")(hd); err != nil {
			t.Error(err)
		}
	}
	if want := fmt.Sprintf("http://%s-web.%s.svc", name, ns); hd.Status.URL != want {
		t.Errorf("status.url %q, want %q", hd.Status.URL, want)
	}
	if hd.Status.Version != "5" {
		t.Errorf("status.version %q, want 5", hd.Status.Version)
	}
	if hd.Status.CredentialsSecret != name+"-credentials" {
		t.Errorf("status.credentialsSecret %q, want %s-credentials", hd.Status.CredentialsSecret, name)
	}
	// The credentials were never written again.
	var again corev1.Secret
	if err := k8sClient.Get(ctx, client.ObjectKeyFromObject(&creds), &again); err != nil {
		t.Fatal(err)
	}
	if again.ResourceVersion != creds.ResourceVersion {
		t.Errorf("the credentials Secret was written again (resourceVersion %s, then %s)", creds.ResourceVersion, again.ResourceVersion)
	}

	t.Run("schema failed", func(t *testing.T) {
		const name = "broken"
		hd := hdNew(ns, name)
		hd.Spec.Database.Managed = &opsv1alpha1.ManagedDatabase{Storage: ptrTo(resource.MustParse("3Gi")), StorageClassName: ptrTo("fast")}
		hdCreate(t, hd)
		key := client.ObjectKeyFromObject(hd)
		var pvc corev1.PersistentVolumeClaim
		hdGet(t, ns, name+"-db-data", &pvc)
		if got := pvc.Spec.Resources.Requests[corev1.ResourceStorage]; got.Cmp(resource.MustParse("3Gi")) != 0 {
			t.Errorf("volume of %s, want spec.database.managed.storage, 3Gi", got.String())
		}
		if c := pvc.Spec.StorageClassName; c == nil || *c != "fast" {
			t.Errorf("storageClassName %s, want fast", hdString(c))
		}
		hdReadyDatabase(t, ns, name)
		completeJob(t, hdSchemaJob(t, ns, name), false, "rt-schema: the database has tables but no RT root user", fakeClock.Now())
		hdWaitFor(t, key, hdCondition(opsv1alpha1.ConditionSchemaReady, metav1.ConditionFalse, opsv1alpha1.ReasonSchemaFailed))
		got := hdWaitFor(t, key, hdCondition(opsv1alpha1.ConditionReady, metav1.ConditionFalse, ""))
		if got.Status.Version != "" {
			t.Errorf("status.version %q after a failed schema Job, want none", got.Status.Version)
		}
		hdSettle(t, key)
		hdAbsent(t, ns, name+"-web", &appsv1.Deployment{}, "after the schema Job failed")
		if jobs := hdJobs(t, ns, name); len(jobs) != 1 {
			t.Errorf("%d Jobs after the schema Job failed, want it alone (not retried by a new Job)", len(jobs))
		}
	})
}

// TestHelpDeskSteadyStateWritesNothing: a Ready help desk is reconciled
// without a single write, by the running reconciler and by one that starts
// afresh while the manager is down.
// TestHelpDeskConditionsNotStale: when the database's pod stops being
// ready, the parts after it are not looked at, and their conditions say so
// (Unknown, Waiting, naming the database) instead of telling of the past:
// WebReady does not stay True. Ready again, they are checked again.
func TestHelpDeskConditionsNotStale(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t)
	hd := hdReady(t, ns, "stale", nil)
	key := client.ObjectKeyFromObject(hd)
	eventually(t, hdWait, func() error {
		var sts appsv1.StatefulSet
		if err := k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "stale-db"}, &sts); err != nil {
			return err
		}
		sts.Status.ReadyReplicas, sts.Status.AvailableReplicas = 0, 0
		return k8sClient.Status().Update(ctx, &sts)
	})
	got := hdWaitFor(t, key, hdCondition(opsv1alpha1.ConditionWebReady, metav1.ConditionUnknown, opsv1alpha1.ReasonWaiting))
	for _, c := range []string{opsv1alpha1.ConditionSchemaReady, opsv1alpha1.ConditionProtected} {
		if cond := meta.FindStatusCondition(got.Status.Conditions, c); cond == nil || cond.Status != metav1.ConditionUnknown || cond.Message != "not checked while the database is not ready" {
			t.Errorf("%s with the database down: %+v", c, cond)
		}
	}
	if ready := meta.FindStatusCondition(got.Status.Conditions, opsv1alpha1.ConditionReady); ready == nil || ready.Status != metav1.ConditionFalse {
		t.Errorf("Ready with the database down: %+v", ready)
	}
	hdReadyDatabase(t, ns, "stale")
	hdWaitFor(t, key, hdCondition(opsv1alpha1.ConditionWebReady, metav1.ConditionTrue, opsv1alpha1.ReasonAvailable))
}

func TestHelpDeskSteadyStateWritesNothing(t *testing.T) {
	t.Run("managed", func(t *testing.T) { hdSteadyStateWritesNothing(t, newNamespace(t), nil) })
	// An external database and a relay with STARTTLS, a CA and a login:
	// the env from Secrets, the CA volume and the egress to an address
	// must equal what the API server stores, too.
	t.Run("external database and relay login", func(t *testing.T) {
		ns := newNamespace(t)
		for name, data := range map[string]map[string][]byte{
			"rt-db-app":   {"host": []byte("192.0.2.10"), "dbname": []byte("app"), "username": []byte("app"), "password": []byte("app-password-0123")},
			"relay-login": {"username": []byte("rt@example.com"), "password": []byte("relay-password-0123")},
			"relay-ca":    {"ca.crt": []byte("-----BEGIN CERTIFICATE-----")},
		} {
			if err := k8sClient.Create(context.Background(), &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}, Data: data}); err != nil {
				t.Fatal(err)
			}
		}
		hdSteadyStateWritesNothing(t, ns, func(h *opsv1alpha1.HelpDesk) {
			h.Spec.Database.External = &opsv1alpha1.ExternalDatabase{SecretName: "rt-db-app"}
			h.Spec.Mail.Relay = &opsv1alpha1.SMTPRelay{Host: "smtp.example.com", Port: 587, StartTLS: true,
				CASecretRef: &opsv1alpha1.SecretKeyRef{Name: "relay-ca", Key: "ca.crt"}, CredentialsSecretRef: &opsv1alpha1.SecretRef{Name: "relay-login"}}
		})
	})
}

// hdSteadyStateWritesNothing brings a HelpDesk (after mutate) to Ready and
// counts the write requests of reconciles in that state: none, also from a
// restarted reconciler.
func hdSteadyStateWritesNothing(t *testing.T, ns string, mutate func(*opsv1alpha1.HelpDesk)) {
	ctx := context.Background()
	hd := hdReady(t, ns, "rt", mutate)
	key := client.ObjectKeyFromObject(hd)
	hdSettle(t, key)
	req := ctrl.Request{NamespacedName: key}

	r, writes := hdCountingReconciler(t, key)
	for i := range 2 {
		if _, err := r.Reconcile(ctx, req); err != nil {
			t.Fatalf("reconcile %d: %v", i+1, err)
		}
	}
	if n := writes(); n != 0 {
		t.Errorf("2 steady-state reconciles sent %d write requests, want 0", n)
	}

	start := stopManagerFor(t)
	fresh, freshWrites := hdCountingReconciler(t, key)
	for i := range 2 {
		if _, err := fresh.Reconcile(ctx, req); err != nil {
			t.Fatalf("reconcile %d after a restart: %v", i+1, err)
		}
	}
	if n := freshWrites(); n != 0 {
		t.Errorf("a restarted reconciler sent %d write requests for a Ready help desk, want 0", n)
	}
	start()
	hdWaitFor(t, key, hdCondition(opsv1alpha1.ConditionReady, metav1.ConditionTrue, opsv1alpha1.ReasonReconciled))
}

// TestHelpDeskConfigChangeRolls: a new site name rewrites the site
// configuration and rolls the web pods; new replicas resize the
// Deployment.
func TestHelpDeskConfigChangeRolls(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t)
	const name = "rt"
	hd := hdReady(t, ns, name, nil)
	key := client.ObjectKeyFromObject(hd)
	before := hdSiteConfig(t, ns, name)
	var dep appsv1.Deployment
	hdGet(t, ns, name+"-web", &dep)
	checksum := dep.Spec.Template.Annotations[hdChecksumAnnotation]
	if checksum == "" {
		t.Fatalf("the web pods have no %s annotation", hdChecksumAnnotation)
	}

	if err := update(t, k8sClient, hd, func(h *opsv1alpha1.HelpDesk) { h.Spec.Site.Name = "Helpdesk" }); err != nil {
		t.Fatal(err)
	}
	var after string
	eventually(t, hdWait, func() error {
		after = hdSiteConfig(t, ns, name)
		if after == before {
			return errors.New("the site configuration is unchanged")
		}
		return nil
	})
	if !strings.Contains(after, "Set($rtname, 'Helpdesk');") {
		t.Errorf("the new site configuration lacks the new name:\n%s", after)
	}
	eventually(t, hdWait, func() error {
		if err := k8sClient.Get(ctx, client.ObjectKeyFromObject(&dep), &dep); err != nil {
			return err
		}
		if got := dep.Spec.Template.Annotations[hdChecksumAnnotation]; got == checksum {
			return fmt.Errorf("%s still %s", hdChecksumAnnotation, got)
		}
		return nil
	})
	if got, want := dep.Spec.Template.Annotations[hdChecksumAnnotation], hdSHA256(after); got != want {
		t.Errorf("%s %q after the change, want the new configuration's sha256 %q", hdChecksumAnnotation, got, want)
	}
	// A rollout the Deployment has not finished is not Ready.
	hdWaitFor(t, key, hdCondition(opsv1alpha1.ConditionWebReady, metav1.ConditionFalse, ""))
	hdReadyWeb(t, ns, name)
	hdWaitFor(t, key, hdCondition(opsv1alpha1.ConditionReady, metav1.ConditionTrue, opsv1alpha1.ReasonReconciled))

	// Replicas.
	if err := update(t, k8sClient, hd, func(h *opsv1alpha1.HelpDesk) { h.Spec.Web.Replicas = ptrTo[int32](3) }); err != nil {
		t.Fatal(err)
	}
	eventually(t, hdWait, func() error {
		if err := k8sClient.Get(ctx, client.ObjectKeyFromObject(&dep), &dep); err != nil {
			return err
		}
		if r := dep.Spec.Replicas; r == nil || *r != 3 {
			return fmt.Errorf("web replicas %s, want 3", hdInt(r))
		}
		return nil
	})
	hdWaitFor(t, key, hdCondition(opsv1alpha1.ConditionWebReady, metav1.ConditionFalse, ""))
	hdReadyWeb(t, ns, name)
	hdWaitFor(t, key, hdCondition(opsv1alpha1.ConditionReady, metav1.ConditionTrue, opsv1alpha1.ReasonReconciled))
}

// TestHelpDeskDeletionPolicy: deleting a HelpDesk keeps its volume and
// credentials under Retain (and a HelpDesk made again with its name
// reuses them) and removes them under Delete; either way the HelpDesk
// goes.
func TestHelpDeskDeletionPolicy(t *testing.T) {
	for _, policy := range []opsv1alpha1.HelpDeskDeletionPolicy{opsv1alpha1.HelpDeskRetain, opsv1alpha1.HelpDeskDelete} {
		t.Run(string(policy), func(t *testing.T) {
			ctx := context.Background()
			ns := newNamespace(t)
			const name = "rt"
			hd := hdReady(t, ns, name, func(h *opsv1alpha1.HelpDesk) { h.Spec.DeletionPolicy = policy })
			key := client.ObjectKeyFromObject(hd)
			if !slices.Contains(hd.Finalizers, hdFinalizer) {
				t.Fatalf("finalizers %v, want %s", hd.Finalizers, hdFinalizer)
			}
			var creds corev1.Secret
			hdGet(t, ns, name+"-credentials", &creds)
			var pvc corev1.PersistentVolumeClaim
			hdGet(t, ns, name+"-db-data", &pvc)

			if err := k8sClient.Delete(ctx, hd); err != nil {
				t.Fatal(err)
			}
			eventually(t, hdWait, func() error {
				var got opsv1alpha1.HelpDesk
				err := k8sClient.Get(ctx, key, &got)
				if apierrors.IsNotFound(err) {
					return nil
				}
				if err != nil {
					return err
				}
				return fmt.Errorf("the HelpDesk is still there, finalizers %v", got.Finalizers)
			})

			if policy == opsv1alpha1.HelpDeskDelete {
				eventually(t, hdWait, func() error { return hdGone(ns, name+"-db-data", &corev1.PersistentVolumeClaim{}) })
				eventually(t, hdWait, func() error { return hdGone(ns, name+"-attachments", &corev1.PersistentVolumeClaim{}) })
				eventually(t, hdWait, func() error { return hdGone(ns, name+"-credentials", &corev1.Secret{}) })
				return
			}

			// Retain: the volumes and the credentials are kept as they were.
			if err := k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: name + "-attachments"}, &corev1.PersistentVolumeClaim{}); err != nil {
				t.Errorf("the attachments' volume under Retain: %v", err)
			}
			var keptPVC corev1.PersistentVolumeClaim
			if err := k8sClient.Get(ctx, client.ObjectKeyFromObject(&pvc), &keptPVC); err != nil {
				t.Fatalf("the volume under Retain: %v", err)
			}
			if keptPVC.DeletionTimestamp != nil || keptPVC.UID != pvc.UID {
				t.Errorf("the volume under Retain: UID %s (was %s), deletionTimestamp %v; want it kept", keptPVC.UID, pvc.UID, keptPVC.DeletionTimestamp)
			}
			var keptCreds corev1.Secret
			if err := k8sClient.Get(ctx, client.ObjectKeyFromObject(&creds), &keptCreds); err != nil {
				t.Fatalf("the credentials under Retain: %v", err)
			}
			if keptCreds.DeletionTimestamp != nil || !maps.EqualFunc(keptCreds.Data, creds.Data, func(a, b []byte) bool { return string(a) == string(b) }) {
				t.Errorf("the credentials Secret changed under Retain")
			}

			// Created again with the same name: the same volume and passwords.
			hdCollectGarbage(t, ns, hd.UID)
			hdCreate(t, hdNew(ns, name))
			hdWaitFor(t, key, hdCondition(opsv1alpha1.ConditionDatabaseReady, metav1.ConditionFalse, opsv1alpha1.ReasonProgressing))
			hdReadyDatabase(t, ns, name)
			hdWaitFor(t, key, hdCondition(opsv1alpha1.ConditionDatabaseReady, metav1.ConditionTrue, opsv1alpha1.ReasonAvailable))
			hdSchemaJob(t, ns, name)
			var reused corev1.Secret
			hdGet(t, ns, name+"-credentials", &reused)
			for _, k := range hdPasswordKeys {
				if string(reused.Data[k]) != string(creds.Data[k]) {
					t.Errorf("the HelpDesk created again has another %s", k)
				}
			}
			var reusedPVC corev1.PersistentVolumeClaim
			hdGet(t, ns, name+"-db-data", &reusedPVC)
			if reusedPVC.UID != pvc.UID {
				t.Errorf("the HelpDesk created again has another volume (UID %s, was %s)", reusedPVC.UID, pvc.UID)
			}
		})
	}
}
