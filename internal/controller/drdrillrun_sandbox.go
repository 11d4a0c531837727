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
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	opsv1alpha1 "github.com/supportstack/operator/api/v1alpha1"
	"github.com/supportstack/operator/internal/resources"
)

// reconcileProvisioning builds the sandbox and, once the scratch server is ready,
// starts the restore.
func (r *DRDrillRunReconciler) reconcileProvisioning(ctx context.Context, s *drillRunScope) (time.Duration, error) {
	run, policy, plan, now := s.run, s.policy, s.plan, s.now
	if policy == nil {
		r.endRun(run, opsv1alpha1.DrillRunError, now, fmt.Sprintf("BackupPolicy %s not found in %s", run.Spec.BackupPolicyName, run.Namespace))
		return 0, nil
	}
	if s.planErr != nil {
		r.endRun(run, opsv1alpha1.DrillRunError, now, "the drill cannot run: "+s.planErr.Error())
		return 0, nil
	}
	name := resources.SandboxNamespaceName(run)
	run.Status.SandboxNamespace = name
	var ns corev1.Namespace
	err := r.APIReader.Get(ctx, types.NamespacedName{Name: name}, &ns)
	switch {
	case apierrors.IsNotFound(err):
		if err := r.createOnce(ctx, resources.SandboxNamespace(run)); err != nil {
			return 0, err
		}
		r.Recorder.Eventf(run, nil, corev1.EventTypeNormal, opsv1alpha1.ReasonSandboxCreated, "Provision", "created sandbox namespace %s", name)
	case err != nil:
		return 0, err
	case ns.Labels[resources.LabelDrillRun] != run.Name || ns.Labels[resources.LabelDrillRunNamespace] != run.Namespace:
		if !ns.DeletionTimestamp.IsZero() {
			run.Status.Message = fmt.Sprintf("waiting for namespace %s, left by an earlier run, to be deleted", name)
			return 5 * time.Second, nil
		}
		r.endRun(run, opsv1alpha1.DrillRunError, now, fmt.Sprintf("namespace %s already exists and is not this run's sandbox: set spec.sandbox.namespace to a name no one uses", name))
		return 0, nil
	case !ns.DeletionTimestamp.IsZero():
		msg, _ := r.sandboxGone(ctx, run)
		r.endRun(run, opsv1alpha1.DrillRunError, now, msg)
		return 0, nil
	}
	if err := r.createSandboxObjects(ctx, run, policy, plan); err != nil {
		if isUserError(err) {
			r.endRun(run, opsv1alpha1.DrillRunError, now, err.Error())
			return 0, nil
		}
		return 0, err
	}
	var pod corev1.Pod
	if err := r.Get(ctx, types.NamespacedName{Namespace: name, Name: resources.ScratchPostgresName}, &pod); apierrors.IsNotFound(err) {
		return 2 * time.Second, nil // just created: the cache has not seen it yet
	} else if err != nil {
		return 0, err
	}
	if !podReady(&pod) {
		problem, err := diagnosePods(ctx, r.APIReader, name, []corev1.Pod{pod})
		if err != nil || problem != nil {
			return r.reportStuck(run, now, "the scratch PostgreSQL server", problem), err
		}
		run.Status.Message = "waiting for the scratch PostgreSQL server to be ready"
		return 0, nil // the pod watch brings us back
	}
	return 0, r.startRestore(ctx, s)
}

// createSandboxObjects creates what the sandbox holds. Everything is created
// once (the sandbox is new and lives for one run); NetworkPolicies are
// kept in shape on every pass since they are what isolates it.
func (r *DRDrillRunReconciler) createSandboxObjects(ctx context.Context, run *opsv1alpha1.DRDrillRun, policy *opsv1alpha1.BackupPolicy, plan resources.DrillPlan) error {
	name := resources.SandboxNamespaceName(run)
	scratch := resources.ScratchBytes(policy)
	var peer *resources.EgressPeer
	if host, port, ok := resources.RepositoryEndpoint(policy.Spec.Repository.URL); ok {
		p, err := resolvePeer(ctx, r.APIReader, policy.Namespace, host, port)
		if err != nil {
			return err
		}
		peer = &p
	}
	for _, np := range resources.SandboxNetworkPolicies(run, peer) {
		if err := createOrPatch(ctx, r.Client, r.Recorder, run, np, func(existing *networkingv1.NetworkPolicy) {
			existing.Labels = mergeLabels(existing.Labels, np.Labels)
			setSpec(&existing.Spec, np.Spec)
		}); err != nil {
			return err
		}
	}
	// Copy the repository's secrets into the sandbox: pods can only use
	// Secrets of their own namespace. They go when the sandbox goes.
	repo := policy.Spec.Repository
	password, err := readSecret(ctx, r.APIReader, policy.Namespace, "repository.passwordSecretRef", repo.PasswordSecretRef.Name, repo.PasswordSecretRef.Key)
	if err != nil {
		return err
	}
	objects := []client.Object{
		resources.SandboxQuota(run, scratch),
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: resources.RepositorySecretName, Namespace: name, Labels: resources.SandboxLabels(run)},
			Data: map[string][]byte{"password": password.Data[repo.PasswordSecretRef.Key]}},
	}
	if c := repo.CredentialsSecretRef; c != nil {
		creds, err := readSecret(ctx, r.APIReader, policy.Namespace, "repository.credentialsSecretRef", c.Name, "")
		if err != nil {
			return err
		}
		objects = append(objects, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: resources.RepositoryCredentials, Namespace: name, Labels: resources.SandboxLabels(run)}, Data: creds.Data})
	}
	// A password generated again after a restart is refused as
	// AlreadyExists: the first one stays, the one the server started with.
	objects = append(objects, resources.ScratchSecret(run, randomPassword(), randomPassword()))
	if plan.HasVolumes {
		objects = append(objects, resources.RestoreClaim(run, scratch))
	}
	pod, svc := resources.ScratchPostgres(run, scratch)
	objects = append(objects, svc, pod)
	for _, o := range objects {
		if err := r.createOnce(ctx, o); err != nil {
			return err
		}
	}
	return nil
}

// sandboxGone reports a sandbox namespace that vanished under a running run.
func (r *DRDrillRunReconciler) sandboxGone(ctx context.Context, run *opsv1alpha1.DRDrillRun) (string, error) {
	var ns corev1.Namespace
	err := r.APIReader.Get(ctx, types.NamespacedName{Name: run.Status.SandboxNamespace}, &ns)
	switch {
	case apierrors.IsNotFound(err):
		return fmt.Sprintf("the sandbox namespace %s vanished during %s", run.Status.SandboxNamespace, run.Status.Phase), nil
	case err != nil:
		return "", err
	case !ns.DeletionTimestamp.IsZero():
		return fmt.Sprintf("the sandbox namespace %s was deleted during %s", run.Status.SandboxNamespace, run.Status.Phase), nil
	}
	return "", nil
}

func randomPassword() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func podReady(pod *corev1.Pod) bool {
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// teardown deletes the sandbox namespace (the namespace controller removes
// what it holds) and lets the run go once the deletion is under way.
func (r *DRDrillRunReconciler) teardown(ctx context.Context, run *opsv1alpha1.DRDrillRun, why string) error {
	if !controllerutil.ContainsFinalizer(run, FinalizerSandbox) {
		return nil
	}
	name := resources.SandboxNamespaceName(run)
	var ns corev1.Namespace
	err := r.APIReader.Get(ctx, types.NamespacedName{Name: name}, &ns)
	switch {
	case apierrors.IsNotFound(err):
	case err != nil:
		return err
	case ns.Labels[resources.LabelDrillRun] != run.Name || ns.Labels[resources.LabelDrillRunNamespace] != run.Namespace:
		// Not ours (a fixed name another run or someone else holds): never delete it.
	case ns.DeletionTimestamp.IsZero():
		if err := r.Delete(ctx, &ns, client.Preconditions{UID: &ns.UID}); err != nil && !apierrors.IsNotFound(err) {
			return err
		}
		r.Recorder.Eventf(run, nil, corev1.EventTypeNormal, opsv1alpha1.ReasonSandboxDeleted, "Teardown", "deleted sandbox namespace %s: %s", name, why)
	}
	if run.DeletionTimestamp.IsZero() {
		setCondition(run, opsv1alpha1.ConditionSandboxDeleted, metav1.ConditionTrue, opsv1alpha1.ReasonSandboxDeleted,
			fmt.Sprintf("sandbox %s deleted: %s", name, why))
		// Persist the status before the finalizer goes.
		if err := r.Status().Update(ctx, run); err != nil {
			return err
		}
	}
	controllerutil.RemoveFinalizer(run, FinalizerSandbox)
	return client.IgnoreNotFound(r.Update(ctx, run))
}
