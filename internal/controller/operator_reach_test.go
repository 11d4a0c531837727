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
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/yaml"

	opsv1alpha1 "github.com/supportstack/operator/api/v1alpha1"
	"github.com/supportstack/operator/internal/agentapi"
	"github.com/supportstack/operator/internal/resources"
	"github.com/supportstack/operator/internal/testenv"
)

// operatorIdentity is the operator's ServiceAccount as config/default
// deploys it (test/generated keeps the admission policies in step).
const operatorIdentity = "system:serviceaccount:supportstack-system:supportstack-controller-manager"

// operatorRole is the generated manager ClusterRole as the tests install it.
const operatorRole = "test-operator-reach-manager"

// asOperator is a client with exactly the operator's rights: the generated
// manager ClusterRole bound to its ServiceAccount, used through
// impersonation, so the admission policies see the operator's identity.
func asOperator(t *testing.T) client.Client {
	t.Helper()
	ctx := context.Background()
	raw, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "config", "rbac", "role.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var role rbacv1.ClusterRole
	if err := yaml.Unmarshal(raw, &role); err != nil {
		t.Fatal(err)
	}
	role.ObjectMeta = metav1.ObjectMeta{Name: operatorRole}
	binding := &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: role.Name},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role.Name},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: "supportstack-controller-manager", Namespace: "supportstack-system"}},
	}
	for _, obj := range []client.Object{&role, binding} {
		if err := k8sClient.Create(ctx, obj); err != nil && !apierrors.IsAlreadyExists(err) {
			t.Fatal(err)
		}
	}
	cfg := rest.CopyConfig(env.Config)
	cfg.Impersonate = rest.ImpersonationConfig{
		UserName: operatorIdentity,
		Groups:   []string{"system:serviceaccounts", "system:serviceaccounts:supportstack-system", "system:authenticated"},
	}
	c, err := client.New(cfg, client.Options{Scheme: testenv.Scheme()})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestOperatorReach acts as the operator's ServiceAccount would after a
// bug: its ClusterRole allows pods, Secrets and Jobs anywhere and namespace
// deletion, and the operator-reach admission policy refuses each outside
// the drill sandboxes, while what the operator really does still passes.
func TestOperatorReach(t *testing.T) {
	ctx := context.Background()
	op := asOperator(t)
	plain, other := newNamespace(t), newNamespace(t)
	sandbox := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "drill-", Labels: map[string]string{resources.LabelDrillRun: "nightly-1", resources.LabelDrillRunNamespace: plain}}}
	if err := k8sClient.Create(ctx, sandbox); err != nil {
		t.Fatal(err)
	}

	pod := func(ns string) *corev1.Pod {
		return &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{GenerateName: "reach-", Namespace: ns},
			Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "supportstack/busybox:dev"}}},
		}
	}
	secret := func(ns string) *corev1.Secret {
		return &corev1.Secret{ObjectMeta: metav1.ObjectMeta{GenerateName: "reach-", Namespace: ns}, StringData: map[string]string{"k": "v"}}
	}
	job := func(ns string, mutate func(*batchv1.Job)) *batchv1.Job {
		j := &batchv1.Job{
			ObjectMeta: metav1.ObjectMeta{GenerateName: "reach-", Namespace: ns},
			Spec: batchv1.JobSpec{Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{
				RestartPolicy: corev1.RestartPolicyNever,
				Containers:    []corev1.Container{{Name: "c", Image: "supportstack/agent:dev"}},
			}}},
		}
		if mutate != nil {
			mutate(j)
		}
		return j
	}
	// A backup run on demand, as BackupNowJob and the reconciler make it.
	backupNow := func(j *batchv1.Job) {
		j.Labels = map[string]string{resources.LabelBackupPolicy: "helpdesk"}
		j.OwnerReferences = []metav1.OwnerReference{{APIVersion: "batch/v1", Kind: "CronJob", Name: "helpdesk-backup", UID: types.UID("0c4a4c0e-0000-4000-8000-000000000001"), Controller: ptr.To(true)}}
		j.Spec.Template.Spec.ServiceAccountName = "helpdesk-backup-agent"
	}

	// The API server loads new policies and bindings asynchronously: wait
	// (with a dry run, which persists nothing) until the policy answers.
	eventually(t, 20*time.Second, func() error {
		err := op.Create(ctx, secret(plain), client.DryRunAll)
		if err == nil || !strings.Contains(err.Error(), "only in its drill sandboxes") {
			return fmt.Errorf("operator-reach policy not in force yet: %v", err)
		}
		return nil
	})

	policyIn := func(ns string) *opsv1alpha1.BackupPolicy {
		return sample(t, ns, "BackupPolicy", &opsv1alpha1.BackupPolicy{})
	}
	team := sampleTeam(t, plain)

	// A help desk's objects, as the HelpDesk reconciler makes them, for a
	// HelpDesk "desk" (the owner reference is all admission sees of it).
	desk := resources.HelpDeskNames{HelpDesk: "desk"}
	ownedByDesk := func(o client.Object) client.Object {
		o.SetOwnerReferences([]metav1.OwnerReference{{APIVersion: opsv1alpha1.GroupVersion.String(), Kind: "HelpDesk", Name: "desk",
			UID: types.UID("0c4a4c0e-0000-4000-8000-000000000002"), Controller: ptr.To(true), BlockOwnerDeletion: ptr.To(true)}})
		return o
	}
	deskCronJob := func(ns string) *batchv1.CronJob {
		o := resources.RTObjects{Name: desk.Externalize(), Namespace: ns, Labels: resources.HelpDeskLabels("desk", "cron"), Image: resources.DefaultRTImage,
			ConfigSecret: desk.SiteConfig(), DatabasePassword: desk.DatabasePassword(), AttachmentsClaim: desk.AttachmentsClaim()}
		cj := resources.RTCronJob(o, "*/15 * * * *", "UTC", "/usr/sbin/rt-externalize-attachments-5")
		ownedByDesk(cj)
		return cj
	}
	deskObjects := func(ns string) (rt resources.RTObjects, db *appsv1.StatefulSet, web *appsv1.Deployment, schema *batchv1.Job) {
		rt = resources.RTObjects{Name: desk.Web(), Namespace: ns, Labels: resources.HelpDeskLabels("desk", "web"), Image: resources.DefaultRTImage,
			ConfigSecret: desk.SiteConfig(), DatabasePassword: desk.DatabasePassword()}
		db = resources.HelpDeskDatabase(ns, desk, resources.DefaultPostgresImage)
		web = resources.RTWebDeployment(rt, 1, 2)
		schemaObjects := rt
		schemaObjects.Name, schemaObjects.Labels = desk.Schema("5"), resources.HelpDeskLabels("desk", "schema")
		schema = resources.RTSchemaJob(schemaObjects, resources.ManagedDatabaseConn(ns, desk), desk.RootPassword(), desk.OperatorPassword())
		for _, o := range []client.Object{db, web, schema} {
			ownedByDesk(o)
		}
		return rt, db, web, schema
	}
	// A team's rights Job on the help desk, as the SupportTeam reconciler
	// makes it (helpDeskBackend.rights).
	rightsJob := func(ns string) *batchv1.Job {
		o := helpDeskRTObjects(&opsv1alpha1.HelpDesk{ObjectMeta: metav1.ObjectMeta{Name: "desk", Namespace: ns}}, "", desk.DatabasePassword(), desk.Rights("0123456789"), "rights")
		o.Labels[resources.LabelSupportTeam] = team.Name
		job := resources.RTRightsJob(o, resources.RTRights{Group: "g", QueueIDs: []string{"3"}, Rights: []string{"SeeQueue"}})
		job.SetOwnerReferences([]metav1.OwnerReference{{APIVersion: opsv1alpha1.GroupVersion.String(), Kind: "SupportTeam", Name: team.Name,
			UID: types.UID("0c4a4c0e-0000-4000-8000-000000000003"), Controller: ptr.To(true), BlockOwnerDeletion: ptr.To(true)}})
		return job
	}
	deskSecret := func(ns, name string) *corev1.Secret {
		return &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: resources.HelpDeskLabels("desk", "database")}, StringData: map[string]string{"k": "v"}}
	}
	// Someone's Secret in the namespace that the operator must not delete.
	users := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "restic", Namespace: plain}, StringData: map[string]string{"password": "x"}}
	// And one whose name is a help desk's credentials', made by someone.
	lookalike := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "other-credentials", Namespace: plain}, StringData: map[string]string{"password": "x"}}
	for _, s := range []*corev1.Secret{users, lookalike} {
		if err := k8sClient.Create(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	// The leads' Role first: RBAC checks a binding against the Role it names.
	if err := op.Create(ctx, resources.TeamAccessRole(team, true)); err != nil {
		t.Fatalf("team leads' Role: %v", err)
	}

	refused := []struct {
		name, want string
		do         func() error
	}{
		{"pod in kube-system", "writes nothing in kube-system", func() error { return op.Create(ctx, pod("kube-system")) }},
		{"pod in a team namespace", "creates pods only in its drill sandboxes", func() error { return op.Create(ctx, pod(plain)) }},
		{"Secret in a team namespace", "creates secrets only in its drill sandboxes", func() error { return op.Create(ctx, secret(plain)) }},
		{"Secret in kube-system", "writes nothing in kube-system", func() error { return op.Create(ctx, secret("kube-system")) }},
		{"Job in kube-system", "writes nothing in kube-system", func() error { return op.Create(ctx, job("kube-system", nil)) }},
		{"Job posing as a backup run with another identity", "creates Jobs only in its drill sandboxes, as a backup run on demand", func() error {
			return op.Create(ctx, job(plain, func(j *batchv1.Job) { backupNow(j); j.Spec.Template.Spec.ServiceAccountName = "default" }))
		}},
		{"Job of another CronJob", "creates Jobs only in its drill sandboxes, as a backup run on demand", func() error {
			return op.Create(ctx, job(plain, func(j *batchv1.Job) { backupNow(j); j.OwnerReferences[0].Name = "someone-elses" }))
		}},
		{"deleting a team namespace", "deletes only its drill sandboxes", func() error {
			return op.Delete(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: plain}})
		}},
		{"CronJob in kube-system", "writes nothing in kube-system", func() error {
			return op.Create(ctx, resources.BackupCronJob(policyIn("kube-system"), agentapi.OperationBackup, testAgentImage))
		}},
		{"ConfigMap in kube-system", "writes nothing in kube-system", func() error {
			return op.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{GenerateName: "reach-", Namespace: "kube-system"}})
		}},
		{"CronJob that is not a backup CronJob", "writes only backup CronJobs", func() error {
			cj := resources.BackupCronJob(policyIn(plain), agentapi.OperationBackup, testAgentImage)
			cj.Spec.JobTemplate.Spec.Template.Spec.ServiceAccountName = "default"
			return op.Create(ctx, cj)
		}},
		{"ServiceAccount with a token", "writes only backup agent ServiceAccounts", func() error {
			sa := resources.BackupServiceAccount(policyIn(plain))
			sa.AutomountServiceAccountToken = nil
			return op.Create(ctx, sa)
		}},
		{"Role granting Secrets", "writes only team leads' Roles", func() error {
			role := resources.TeamAccessRole(team, true)
			role.Rules = append(role.Rules, rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"secrets"}, Verbs: []string{"get"}, ResourceNames: []string{"restic"}})
			return op.Create(ctx, role)
		}},
		{"RoleBinding to the operator's ClusterRole", "writes only team leads' RoleBindings", func() error {
			binding := resources.TeamAccessRoleBinding(team)
			// RBAC itself refuses a binding to rights the operator lacks
			// (cluster-admin); its own ClusterRole passes RBAC, not the policy.
			binding.RoleRef = rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: operatorRole}
			return op.Create(ctx, binding)
		}},
		{"RoleBinding to a ServiceAccount", "writes only team leads' RoleBindings", func() error {
			binding := resources.TeamAccessRoleBinding(team)
			binding.Subjects = append(binding.Subjects, rbacv1.Subject{Kind: rbacv1.ServiceAccountKind, Name: "default", Namespace: plain})
			return op.Create(ctx, binding)
		}},
		{"Secret labelled as a help desk's under another name", "creates secrets only in its drill sandboxes", func() error {
			return op.Create(ctx, deskSecret(plain, "restic-copy"))
		}},
		{"help desk's site configuration not controlled by it", "creates secrets only in its drill sandboxes", func() error {
			return op.Create(ctx, deskSecret(plain, desk.SiteConfig()))
		}},
		{"deleting a Secret that is no help desk's", "deletes secrets only of a HelpDesk", func() error { return op.Delete(ctx, users) }},
		{"StatefulSet that is no help desk's", "writes only a HelpDesk's own statefulsets", func() error {
			_, db, _, _ := deskObjects(plain)
			db.OwnerReferences = nil
			return op.Create(ctx, db)
		}},
		{"help desk web Deployment with a ServiceAccount token", "writes only a HelpDesk's own deployments", func() error {
			_, _, web, _ := deskObjects(plain)
			web.Spec.Template.Spec.AutomountServiceAccountToken = nil
			return op.Create(ctx, web)
		}},
		{"help desk web Deployment mounting a host path", "writes only a HelpDesk's own deployments", func() error {
			_, _, web, _ := deskObjects(plain)
			web.Spec.Template.Spec.Volumes = append(web.Spec.Template.Spec.Volumes, corev1.Volume{Name: "host", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/"}}})
			return op.Create(ctx, web)
		}},
		{"help desk CronJob with a ServiceAccount token", "writes only backup CronJobs", func() error {
			cj := deskCronJob(plain)
			cj.Spec.JobTemplate.Spec.Template.Spec.AutomountServiceAccountToken = ptr.To(true)
			return op.Create(ctx, cj)
		}},
		{"help desk CronJob under another name", "writes only backup CronJobs", func() error {
			cj := deskCronJob(plain)
			cj.Name = "desk-miner"
			return op.Create(ctx, cj)
		}},
		{"help desk web Deployment mounting a projected ServiceAccount token", "writes only a HelpDesk's own deployments", func() error {
			_, _, web, _ := deskObjects(plain)
			web.Spec.Template.Spec.Volumes = append(web.Spec.Template.Spec.Volumes, corev1.Volume{Name: "token", VolumeSource: corev1.VolumeSource{
				Projected: &corev1.ProjectedVolumeSource{Sources: []corev1.VolumeProjection{{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{Path: "token"}}}}}})
			return op.Create(ctx, web)
		}},
		{"help desk database StatefulSet with volume claim templates", "writes only a HelpDesk's own statefulsets", func() error {
			_, db, _, _ := deskObjects(plain)
			db.Spec.VolumeClaimTemplates = []corev1.PersistentVolumeClaim{*resources.HelpDeskClaim(plain, "anything", "desk", "database", resource.MustParse("1Gi"), nil, nil)}
			return op.Create(ctx, db)
		}},
		{"taking over a user's Secret by labelling it as a help desk's", "creates secrets only in its drill sandboxes", func() error {
			s := &corev1.Secret{}
			if err := k8sClient.Get(ctx, client.ObjectKey{Namespace: plain, Name: "other-credentials"}, s); err != nil {
				return err
			}
			patch := client.MergeFrom(s.DeepCopy())
			s.Labels = resources.HelpDeskLabels("other", "database")
			return op.Patch(ctx, s, patch)
		}},
		{"help desk schema Job in another ServiceAccount", "creates Jobs only in its drill sandboxes", func() error {
			_, _, _, schema := deskObjects(plain)
			schema.Spec.Template.Spec.ServiceAccountName = "admin"
			return op.Create(ctx, schema)
		}},
		{"a team's rights Job that mounts the help desk's attachments", "or as a team's rights Job", func() error {
			job := rightsJob(plain)
			job.Spec.Template.Spec.Volumes = append(job.Spec.Template.Spec.Volumes, corev1.Volume{Name: "attachments", VolumeSource: corev1.VolumeSource{
				PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: desk.AttachmentsClaim()}}})
			return op.Create(ctx, job)
		}},
		{"a team's rights Job that mounts another Secret", "or as a team's rights Job", func() error {
			job := rightsJob(plain)
			job.Spec.Template.Spec.Volumes[0].Secret.SecretName = "restic"
			return op.Create(ctx, job)
		}},
		{"a team's rights Job with RT's root password in its environment", "or as a team's rights Job", func() error {
			job := rightsJob(plain)
			c := &job.Spec.Template.Spec.Containers[0]
			c.Env = append(c.Env, corev1.EnvVar{Name: "ROOT", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: ptr.To(desk.RootPassword())}})
			return op.Create(ctx, job)
		}},
		{"a team's rights Job with a whole Secret in its environment", "or as a team's rights Job", func() error {
			job := rightsJob(plain)
			job.Spec.Template.Spec.Containers[0].EnvFrom = []corev1.EnvFromSource{{SecretRef: &corev1.SecretEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "restic"}}}}
			return op.Create(ctx, job)
		}},
		{"a team's rights Job with an init container", "or as a team's rights Job", func() error {
			job := rightsJob(plain)
			job.Spec.Template.Spec.InitContainers = []corev1.Container{{Name: "first", Image: "busybox"}}
			return op.Create(ctx, job)
		}},
		{"a rights Job no SupportTeam controls", "or as a team's rights Job", func() error {
			job := rightsJob(plain)
			job.OwnerReferences[0].Kind = "BackupPolicy"
			return op.Create(ctx, job)
		}},
		{"deleting another namespace", "deletes only its drill sandboxes", func() error {
			return op.Delete(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: other}})
		}},
	}
	for _, tc := range refused {
		err := tc.do()
		if !apierrors.IsForbidden(err) && !apierrors.IsInvalid(err) {
			t.Errorf("%s: %v, want refused at admission", tc.name, err)
			continue
		}
		if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want the message to say %q", tc.name, err, tc.want)
		}
	}
	for _, ns := range []string{plain, other, "kube-system"} {
		var pods corev1.PodList
		if err := k8sClient.List(ctx, &pods, client.InNamespace(ns)); err != nil {
			t.Fatal(err)
		}
		var jobs batchv1.JobList
		if err := k8sClient.List(ctx, &jobs, client.InNamespace(ns)); err != nil {
			t.Fatal(err)
		}
		var sets appsv1.StatefulSetList
		if err := k8sClient.List(ctx, &sets, client.InNamespace(ns)); err != nil {
			t.Fatal(err)
		}
		var deployments appsv1.DeploymentList
		if err := k8sClient.List(ctx, &deployments, client.InNamespace(ns)); err != nil {
			t.Fatal(err)
		}
		if len(pods.Items)+len(jobs.Items)+len(sets.Items)+len(deployments.Items) != 0 {
			t.Errorf("%s holds %d pods, %d Jobs, %d StatefulSets and %d Deployments after the refusals", ns, len(pods.Items), len(jobs.Items), len(sets.Items), len(deployments.Items))
		}
		var n corev1.Namespace
		if err := k8sClient.Get(ctx, client.ObjectKey{Name: ns}, &n); err != nil || n.DeletionTimestamp != nil {
			t.Errorf("namespace %s: %v, deleting %v", ns, err, n.DeletionTimestamp)
		}
	}

	if err := k8sClient.Get(ctx, client.ObjectKeyFromObject(users), &corev1.Secret{}); err != nil {
		t.Errorf("the user's Secret after the operator tried to delete it: %v", err)
	}

	// What the operator does by design still passes: the objects its
	// reconcilers make, from the same functions.
	cronJob := resources.BackupCronJob(policyIn(plain), agentapi.OperationBackup, testAgentImage)
	allowed := []struct {
		name string
		do   func() error
	}{
		{"pod in a sandbox", func() error { return op.Create(ctx, pod(sandbox.Name)) }},
		{"Secret in a sandbox", func() error { return op.Create(ctx, secret(sandbox.Name)) }},
		{"Job in a sandbox", func() error { return op.Create(ctx, job(sandbox.Name, nil)) }},
		{"backup CronJobs", func() error {
			for _, operation := range []string{agentapi.OperationPrune, agentapi.OperationCheck} {
				if err := op.Create(ctx, resources.BackupCronJob(policyIn(plain), operation, testAgentImage)); err != nil {
					return err
				}
			}
			return op.Create(ctx, cronJob)
		}},
		{"backup agent ServiceAccount", func() error { return op.Create(ctx, resources.BackupServiceAccount(policyIn(plain))) }},
		{"backup run on demand", func() error {
			now := resources.BackupNowJob(cronJob, "reach")
			if err := controllerutil.SetControllerReference(cronJob, now, k8sClient.Scheme()); err != nil {
				return err
			}
			return op.Create(ctx, now)
		}},
		// A backup in parts (ReadWriteOnce volumes on several nodes): the
		// CronJob of the second part, a run of it on demand, and that Job
		// ended by the operator (endMisplacedJob patches its deadline).
		{"the CronJob of a backup's second part, its run on demand, the run ended", func() error {
			part := resources.BackupCronJob(policyIn(plain), agentapi.OperationBackup, testAgentImage)
			part.Name = resources.BackupPartName(policyIn(plain), 2)
			if err := op.Create(ctx, part); err != nil {
				return err
			}
			now := resources.BackupNowJob(part, "reach-part")
			if err := controllerutil.SetControllerReference(part, now, k8sClient.Scheme()); err != nil {
				return err
			}
			if err := op.Create(ctx, now); err != nil {
				return err
			}
			patch := client.MergeFrom(now.DeepCopy())
			now.Spec.ActiveDeadlineSeconds = ptr.To[int64](1)
			return op.Patch(ctx, now, patch)
		}},
		{"team leads' RoleBinding", func() error { return op.Create(ctx, resources.TeamAccessRoleBinding(team)) }},
		{"a help desk's objects, and its data deleted", func() error {
			rt, db, web, schema := deskObjects(plain)
			gateway := rt
			gateway.Name, gateway.Labels = desk.MailGateway(), resources.HelpDeskLabels("desk", "mailgate")
			claim := resources.HelpDeskClaim(plain, desk.DatabaseClaim(), "desk", "database", resource.MustParse("1Gi"), nil, nil)
			attachments := resources.HelpDeskClaim(plain, desk.AttachmentsClaim(), "desk", "attachments", resource.MustParse("1Gi"), nil, nil)
			for _, o := range []client.Object{
				deskSecret(plain, desk.Credentials()), ownedByDesk(deskSecret(plain, desk.SiteConfig())), claim, attachments,
				ownedByDesk(resources.HelpDeskDatabaseService(plain, desk)), db, schema, web, ownedByDesk(resources.RTService(rt)), deskCronJob(plain),
				ownedByDesk(resources.RTMailGatewayDeployment(gateway, 1)), ownedByDesk(resources.RTService(gateway)),
			} {
				if err := op.Create(ctx, o); err != nil {
					return fmt.Errorf("%T %s: %w", o, o.GetName(), err)
				}
			}
			patch := client.MergeFrom(web.DeepCopy())
			web.Spec.Replicas = ptr.To[int32](2)
			if err := op.Patch(ctx, web, patch); err != nil {
				return fmt.Errorf("scaling the web Deployment: %w", err)
			}
			for _, c := range []client.Object{claim, attachments} {
				if err := op.Delete(ctx, c); err != nil {
					return fmt.Errorf("deleting the claim %s: %w", c.GetName(), err)
				}
			}
			return op.Delete(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: desk.Credentials(), Namespace: plain}})
		}},
		{"a team's rights Job on a help desk", func() error { return op.Create(ctx, rightsJob(plain)) }},
		{"a help desk's upgrade Job", func() error {
			o := helpDeskRTObjects(&opsv1alpha1.HelpDesk{ObjectMeta: metav1.ObjectMeta{Name: "desk", Namespace: plain}}, "rt:new", desk.DatabasePassword(), desk.Upgrade("rt:old", "rt:new"), "schema")
			return op.Create(ctx, ownedByDesk(resources.RTUpgradeJob(o, resources.ManagedDatabaseConn(plain, desk))))
		}},
		{"deleting a sandbox", func() error { return op.Delete(ctx, sandbox) }},
	}
	for _, tc := range allowed {
		if err := tc.do(); err != nil {
			t.Errorf("%s: %v", tc.name, err)
		}
	}

	// The policy binds the operator only: an admin is not narrowed by it.
	if err := k8sClient.Create(ctx, secret(plain)); err != nil {
		t.Errorf("admin creating a Secret: %v", err)
	}
}
