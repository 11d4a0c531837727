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
	"slices"
	"strings"
	"time"

	admissionv1 "k8s.io/api/admissionregistration/v1"
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
	if run.Status.SandboxNamespaceUID == "" {
		if msg, err := r.noNodeHolds(ctx, s); err != nil || msg != "" {
			if msg != "" {
				r.endRunWith(run, opsv1alpha1.DrillRunError, opsv1alpha1.ReasonInsufficientEphemeralStorage, now, msg)
			}
			return 0, err
		}
		return r.createSandboxNamespace(ctx, run, now)
	}
	name := run.Status.SandboxNamespace
	if msg, err := r.sandboxGone(ctx, run); err != nil || msg != "" {
		if msg != "" {
			r.endRun(run, opsv1alpha1.DrillRunError, now, msg)
		}
		return 0, err
	}
	if err := r.createSandboxObjects(ctx, run, policy, plan); err != nil {
		if isUserError(err) {
			r.endRun(run, opsv1alpha1.DrillRunError, now, err.Error())
			return 0, nil
		}
		return 0, err // a refusal says why in the run's message (Reconcile)
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

// noNodeHolds says why no node can run the scratch server or the restore
// pod, the two pods of a run that need the most ephemeral storage (the
// restored data; the dump file beside restic's cache), or "" if some node
// can or the cluster does not say (resources.NodeRoom). It is asked once,
// before the sandbox exists, so a drill that can never be placed fails at
// once instead of waiting Pending until the stuck-pod timeout. Nodes are
// read from the API server: once per run does not justify a cache of
// every Node.
func (r *DRDrillRunReconciler) noNodeHolds(ctx context.Context, s *drillRunScope) (string, error) {
	var nodes corev1.NodeList
	switch err := r.APIReader.List(ctx, &nodes); {
	case apierrors.IsForbidden(err):
		// An installation whose role predates this check: the drill
		// goes on and the stuck-pod diagnosis reports a pod no node takes.
		return "", nil
	case err != nil:
		return "", fmt.Errorf("listing nodes: %w", err)
	}
	scratch, _ := resources.ScratchPostgres(s.run, resources.ScratchBytes(s.policy))
	restore := resources.DrillJob(s.run, s.policy, r.AgentImage, s.plan.Restore, 0, s.plan.HasVolumes, resources.WithAgentCache(r.AgentCacheBytes))
	for _, pod := range []struct {
		what string
		spec *corev1.PodSpec
	}{{"the scratch PostgreSQL server", &scratch.Spec}, {"the restore Job's pod", &restore.Spec.Template.Spec}} {
		need := resources.PodEphemeralRequest(pod.spec)
		if ok, largest := resources.NodeRoom(need, nodes.Items); !ok {
			return fmt.Sprintf("%s needs %s of ephemeral storage; the largest node allocates %s: no node can hold this drill "+
				"(its scratch space is twice the newest backup's size, at least 1Gi, plus %s of WAL room; the restore pod holds a dump of that size beside restic's cache, the manager's --agent-cache-size)",
				pod.what, resources.FormatBytes(need), resources.FormatBytes(largest), resources.FormatBytes(resources.ScratchWALBytes)), nil
		}
	}
	return "", nil
}

// createSandboxNamespace creates the run's sandbox namespace and records its
// UID. A namespace of that name that already exists is taken over only when
// the API server proves the operator created it for this run; labels and
// annotations alone prove nothing (anyone who can label a namespace can copy
// them), and a namespace someone else made may hold their RoleBindings, so
// the repository Secrets copied into it and the restored data would be
// theirs to read. The rule: the run trusts the UID the API server returned
// to its own Create, and otherwise only a namespace that carries its name
// and UID while the sandbox-namespace admission policy, which lets no one
// but the operator write that label and annotation, was in force since
// before the namespace was created (sandboxProvenByPolicy).
//
// The UID is persisted (the status patch at the end of this reconcile)
// before anything is put in the namespace. Should the operator stop between
// the Create and that patch, the next reconcile finds a namespace whose UID
// it never recorded: proven by the policy, it is adopted and its UID
// recorded; not proven (no policy, one of another shape, or one not in force
// long enough before the namespace), the run ends in Error, leaving the
// empty namespace alone: that is safe, and the message says what to do.
func (r *DRDrillRunReconciler) createSandboxNamespace(ctx context.Context, run *opsv1alpha1.DRDrillRun, now time.Time) (time.Duration, error) {
	name := resources.SandboxNamespaceName(run)
	var ns corev1.Namespace
	err := r.APIReader.Get(ctx, types.NamespacedName{Name: name}, &ns)
	switch {
	case apierrors.IsNotFound(err):
		desired := resources.SandboxNamespace(run)
		if err := r.Create(ctx, desired); apierrors.IsAlreadyExists(err) {
			return time.Second, nil // made by someone else a moment ago: look at it again
		} else if err != nil {
			return 0, fmt.Errorf("creating sandbox namespace %s: %w", name, err)
		}
		run.Status.SandboxNamespace, run.Status.SandboxNamespaceUID = name, desired.UID
		run.Status.Message = "sandbox namespace " + name + " created"
		r.Recorder.Eventf(run, nil, corev1.EventTypeNormal, opsv1alpha1.ReasonSandboxCreated, "Provision", "created sandbox namespace %s", name)
		// The status update brings the run back, the UID recorded.
		return time.Second, nil
	case err != nil:
		return 0, err
	}
	// The cache may hand us a run older than the status that recorded the
	// namespace's UID: ask the API server before calling the namespace taken.
	var fresh opsv1alpha1.DRDrillRun
	if err := r.APIReader.Get(ctx, client.ObjectKeyFromObject(run), &fresh); err != nil {
		return 0, client.IgnoreNotFound(err)
	}
	if fresh.Status.SandboxNamespaceUID != "" {
		run.Status = *fresh.Status.DeepCopy()
		return time.Second, nil
	}
	if !ns.DeletionTimestamp.IsZero() {
		run.Status.Message = fmt.Sprintf("waiting for namespace %s, left by an earlier run, to be deleted", name)
		return 5 * time.Second, nil
	}
	switch proven, err := r.sandboxProvenByPolicy(ctx, run, &ns); {
	case err != nil:
		return 0, err
	case proven:
		run.Status.SandboxNamespace, run.Status.SandboxNamespaceUID = name, ns.UID
		run.Status.Message = "sandbox namespace " + name + " adopted: the operator stopped before recording it, and the sandbox-namespace admission policy proves it was created by the operator for this run"
		r.Recorder.Eventf(run, nil, corev1.EventTypeNormal, opsv1alpha1.ReasonSandboxCreated, "Provision", "%s", run.Status.Message)
		return time.Second, nil // provisioning goes on once the UID is recorded
	}
	msg := fmt.Sprintf("namespace %s already exists and was not created by this run: the operator never restores into a namespace it did not create; delete it or choose another spec.sandbox.namespace", name)
	if ns.Annotations[resources.AnnotationDrillRunUID] == string(run.UID) {
		msg += " (it carries this run's UID: if the operator stopped right after creating it, delete it and start the drill again)"
	}
	r.endRunWith(run, opsv1alpha1.DrillRunError, opsv1alpha1.ReasonSandboxNamespaceTaken, now, msg)
	return 0, nil
}

// The policy proving an unrecorded sandbox the operator's is read, by name:
// +kubebuilder:rbac:groups=admissionregistration.k8s.io,resources=validatingadmissionpolicies;validatingadmissionpolicybindings,verbs=get

// SandboxNamespacePolicy names the ValidatingAdmissionPolicy, and its
// binding, of config/admission/sandbox_namespace_policy.yaml as
// config/default renders them; the chart renders <release>-sandbox-namespace
// and passes it as --sandbox-namespace-policy.
const SandboxNamespacePolicy = "supportstack-sandbox-namespace"

// SandboxPolicyMargin is how long before a namespace was created the
// sandbox-namespace policy and its binding must have been created, and last
// changed, for the policy to prove the namespace the operator's. An object's
// timestamps say when it was stored, not when admission applied it: each API
// server applies a policy, or a change to it, only once its own watch has
// delivered it and the CEL is compiled, and with several API servers each
// stamps times by its own clock. Seconds are the timestamps' granularity and
// usually what that takes; 30s covers a slow watch and clocks some seconds
// apart, and costs only this: a sandbox left unrecorded within 30s of
// installing (or changing) the policy is left to a person, as without it.
const SandboxPolicyMargin = 30 * time.Second

// sandboxPolicyResources are what the sandbox-namespace policy must match,
// on CREATE and UPDATE: a PUT to either subresource saves labels and
// annotations as one to the namespace does.
var sandboxPolicyResources = []string{"namespaces", "namespaces/status", "namespaces/finalize"}

// sandboxProvenByPolicy says whether ns, which carries this run's sandbox
// name but whose UID the run never recorded, is proven the sandbox the
// operator created for this run by the API server itself: the namespace
// carries the run's name (label) and UID (annotation), which the
// sandbox-namespace policy lets only the operator set, and that policy was
// in force when the namespace was created. That is: the policy and its
// binding exist, are not being deleted, and have the shape
// config/admission/sandbox_namespace_policy.yaml ships (sandboxPolicyInForce:
// an older install or one edited to match less proves nothing), and both
// were created and last changed at least SandboxPolicyMargin before the
// namespace. The policy's CEL is not compared: the operator's exemption
// differs per install, and who may edit admission policies may do anything
// anyway. Without the rights to read them (an installation whose role
// predates this), or without the policy, nothing is proven.
func (r *DRDrillRunReconciler) sandboxProvenByPolicy(ctx context.Context, run *opsv1alpha1.DRDrillRun, ns *corev1.Namespace) (bool, error) {
	if ns.Labels[resources.LabelDrillRun] != run.Name || ns.Annotations[resources.AnnotationDrillRunUID] != string(run.UID) || run.UID == "" {
		return false, nil
	}
	var policy admissionv1.ValidatingAdmissionPolicy
	var binding admissionv1.ValidatingAdmissionPolicyBinding
	for _, o := range []client.Object{&policy, &binding} {
		switch err := r.APIReader.Get(ctx, types.NamespacedName{Name: r.sandboxPolicy()}, o); {
		case apierrors.IsNotFound(err) || apierrors.IsForbidden(err):
			return false, nil
		case err != nil:
			return false, fmt.Errorf("reading the sandbox-namespace admission policy: %w", err)
		}
		if !o.GetDeletionTimestamp().IsZero() || lastWritten(o).Add(SandboxPolicyMargin).After(ns.CreationTimestamp.Time) {
			return false, nil
		}
	}
	return sandboxPolicyInForce(&policy, &binding), nil
}

// sandboxPolicyInForce says whether policy and binding have the shape
// config/admission/sandbox_namespace_policy.yaml ships: the policy fails
// closed and matches CREATE and UPDATE of namespaces and their status and
// finalize subresources, without selectors or exclusions; the binding binds
// it with Deny, to every namespace, without parameters.
func sandboxPolicyInForce(policy *admissionv1.ValidatingAdmissionPolicy, binding *admissionv1.ValidatingAdmissionPolicyBinding) bool {
	b := binding.Spec
	if b.PolicyName != policy.Name || !slices.Contains(b.ValidationActions, admissionv1.Deny) || b.ParamRef != nil || b.MatchResources != nil {
		return false
	}
	p := policy.Spec
	if (p.FailurePolicy != nil && *p.FailurePolicy != admissionv1.Fail) || p.ParamKind != nil {
		return false
	}
	m := p.MatchConstraints
	if m == nil || len(m.ExcludeResourceRules) > 0 || !emptySelector(m.NamespaceSelector) || !emptySelector(m.ObjectSelector) {
		return false
	}
	for _, res := range sandboxPolicyResources {
		for _, op := range []admissionv1.OperationType{admissionv1.Create, admissionv1.Update} {
			if !slices.ContainsFunc(m.ResourceRules, func(rule admissionv1.NamedRuleWithOperations) bool { return ruleCovers(rule, op, res) }) {
				return false
			}
		}
	}
	return true
}

// ruleCovers says whether rule matches op on the core v1 resource res (a
// resource or resource/subresource) of every namespace, with the API
// server's wildcards.
func ruleCovers(rule admissionv1.NamedRuleWithOperations, op admissionv1.OperationType, res string) bool {
	if len(rule.ResourceNames) > 0 || (rule.Scope != nil && *rule.Scope != admissionv1.AllScopes && *rule.Scope != admissionv1.ClusterScope) {
		return false
	}
	resource, sub, _ := strings.Cut(res, "/")
	resourceOK := slices.ContainsFunc(rule.Resources, func(r string) bool {
		if r == "*/*" || r == res {
			return true
		}
		rr, rs, hasSub := strings.Cut(r, "/")
		if sub == "" {
			return !hasSub && (rr == "*" || rr == resource)
		}
		return hasSub && (rr == "*" || rr == resource) && (rs == "*" || rs == sub)
	})
	return resourceOK &&
		(slices.Contains(rule.APIGroups, "") || slices.Contains(rule.APIGroups, "*")) &&
		(slices.Contains(rule.APIVersions, "v1") || slices.Contains(rule.APIVersions, "*")) &&
		(slices.Contains(rule.Operations, op) || slices.Contains(rule.Operations, admissionv1.OperationAll))
}

// emptySelector says whether s selects everything.
func emptySelector(s *metav1.LabelSelector) bool {
	return s == nil || (len(s.MatchLabels) == 0 && len(s.MatchExpressions) == 0)
}

// lastWritten is when o was last changed, as far as its metadata says: the
// latest time of its managed fields, or its creation when it has none.
func lastWritten(o client.Object) time.Time {
	last := o.GetCreationTimestamp().Time
	for _, f := range o.GetManagedFields() {
		if f.Time != nil && f.Time.After(last) {
			last = f.Time.Time
		}
	}
	return last
}

// sandboxPolicy is the name of the sandbox-namespace policy and its binding.
func (r *DRDrillRunReconciler) sandboxPolicy() string {
	if r.SandboxNamespacePolicy != "" {
		return r.SandboxNamespacePolicy
	}
	return SandboxNamespacePolicy
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
		resources.SandboxQuota(run, scratch, r.AgentCacheBytes),
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

// sandboxGone says why the run's sandbox cannot be used any more: it
// vanished, is being deleted, or its name is now held by a namespace this
// run did not create (its UID is not the recorded one). Every step that
// acts in the sandbox asks it first.
func (r *DRDrillRunReconciler) sandboxGone(ctx context.Context, run *opsv1alpha1.DRDrillRun) (string, error) {
	name, uid := run.Status.SandboxNamespace, run.Status.SandboxNamespaceUID
	if uid == "" {
		return fmt.Sprintf("the run recorded no sandbox namespace it created (it reached %s without one, perhaps under an older operator): it acts in no namespace it did not create", run.Status.Phase), nil
	}
	var ns corev1.Namespace
	err := r.APIReader.Get(ctx, types.NamespacedName{Name: name}, &ns)
	switch {
	case apierrors.IsNotFound(err):
		return fmt.Sprintf("the sandbox namespace %s vanished during %s", name, run.Status.Phase), nil
	case err != nil:
		return "", err
	case ns.UID != uid:
		return fmt.Sprintf("the sandbox namespace %s was replaced during %s by a namespace this run did not create (UID %s, not %s): nothing more is done in it", name, run.Status.Phase, ns.UID, uid), nil
	case !ns.DeletionTimestamp.IsZero():
		return fmt.Sprintf("the sandbox namespace %s was deleted during %s", name, run.Status.Phase), nil
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
// what it holds) and lets the run go once the deletion is under way. It
// deletes only the namespace this run created, by its recorded UID (a
// delete precondition, so a namespace re-created under the same name in
// between is left alone too), or one the sandbox-namespace admission policy
// proves it created (sandboxProvenByPolicy), by the UID it read. A sandbox
// named by a run that recorded no UID (one made by an operator version
// before UIDs were recorded), or one left unrecorded and unproven, is not
// deleted either, but it is not let go silently: SandboxDeleted=False
// (SandboxNotVerified) and a Warning event tell a person to check and
// delete it.
func (r *DRDrillRunReconciler) teardown(ctx context.Context, run *opsv1alpha1.DRDrillRun, why string) error {
	if !controllerutil.ContainsFinalizer(run, FinalizerSandbox) {
		return nil
	}
	status, reason, msg, err := r.deleteSandbox(ctx, run, why)
	if err != nil {
		return err
	}
	if reason == opsv1alpha1.ReasonSandboxNotVerified {
		r.Recorder.Eventf(run, nil, corev1.EventTypeWarning, reason, "Teardown", "%s", msg)
	}
	if run.DeletionTimestamp.IsZero() {
		setCondition(run, opsv1alpha1.ConditionSandboxDeleted, status, reason, msg)
		// Persist the status before the finalizer goes.
		if err := r.Status().Update(ctx, run); err != nil {
			return err
		}
	}
	controllerutil.RemoveFinalizer(run, FinalizerSandbox)
	return client.IgnoreNotFound(r.Update(ctx, run))
}

// deleteSandbox deletes the namespace this run created, if it is still
// there, and says what became of the sandbox as the SandboxDeleted
// condition's status, reason and message.
func (r *DRDrillRunReconciler) deleteSandbox(ctx context.Context, run *opsv1alpha1.DRDrillRun, why string) (metav1.ConditionStatus, string, string, error) {
	name, uid := run.Status.SandboxNamespace, run.Status.SandboxNamespaceUID
	deleted := func(msg string) (metav1.ConditionStatus, string, string, error) {
		return metav1.ConditionTrue, opsv1alpha1.ReasonSandboxDeleted, msg + ": " + why, nil
	}
	// Not the namespace this run created: never delete it.
	notOurs := fmt.Sprintf("sandbox %s is gone; a namespace of that name that this run did not create is left alone", name)
	var ns corev1.Namespace
	if name == "" {
		// The operator may have stopped between creating the namespace and
		// recording it. One that carries this run's UID is deleted if the
		// sandbox-namespace policy proves it the run's, else named, not
		// deleted: without that proof or the recorded UID it is not.
		leftover := resources.SandboxNamespaceName(run)
		err := r.APIReader.Get(ctx, types.NamespacedName{Name: leftover}, &ns)
		if err != nil && !apierrors.IsNotFound(err) {
			return "", "", "", err
		}
		if err == nil && ns.DeletionTimestamp.IsZero() && ns.Annotations[resources.AnnotationDrillRunUID] == string(run.UID) {
			proven, err := r.sandboxProvenByPolicy(ctx, run, &ns)
			if err != nil {
				return "", "", "", err
			}
			if proven {
				// Deleted as a recorded sandbox is, by the UID just read.
				return r.deleteSandboxByUID(ctx, run, &ns, leftover, ns.UID, why)
			}
			return metav1.ConditionFalse, opsv1alpha1.ReasonSandboxNotVerified, fmt.Sprintf(
				"namespace %s carries this run's UID but the run recorded none for it (the operator may have stopped between creating it and recording it): "+
					"the operator deletes only a namespace it can prove it created, so check it is this run's sandbox and delete it with kubectl delete namespace %s", leftover, leftover), nil
		}
		return deleted("this run created no sandbox namespace, so deleted none")
	}
	err := r.APIReader.Get(ctx, types.NamespacedName{Name: name}, &ns)
	switch {
	case apierrors.IsNotFound(err) && uid == "":
		return deleted(fmt.Sprintf("sandbox %s no longer exists", name))
	case apierrors.IsNotFound(err):
		return deleted(fmt.Sprintf("sandbox %s deleted", name))
	case err != nil:
		return "", "", "", err
	case uid == "":
		if !ns.DeletionTimestamp.IsZero() {
			return deleted(fmt.Sprintf("sandbox %s is being deleted", name))
		}
		return metav1.ConditionFalse, opsv1alpha1.ReasonSandboxNotVerified, fmt.Sprintf(
			"sandbox namespace %s was created before this operator recorded sandbox UIDs, so it is not deleted automatically: check it is this run's sandbox and delete it with kubectl delete namespace %s", name, name), nil
	case ns.UID != uid:
		return deleted(notOurs)
	case !ns.DeletionTimestamp.IsZero():
		return deleted(fmt.Sprintf("sandbox %s deleted", name))
	}
	return r.deleteSandboxByUID(ctx, run, &ns, name, uid, why)
}

// deleteSandboxByUID deletes the sandbox ns, which this run created (uid),
// with a UID precondition.
func (r *DRDrillRunReconciler) deleteSandboxByUID(ctx context.Context, run *opsv1alpha1.DRDrillRun, ns *corev1.Namespace, name string, uid types.UID, why string) (metav1.ConditionStatus, string, string, error) {
	// A failed UID precondition (Conflict) means the name now holds another
	// namespace: left alone, like a namespace of another UID.
	switch err := r.Delete(ctx, ns, client.Preconditions{UID: &uid}); {
	case err == nil:
		r.Recorder.Eventf(run, nil, corev1.EventTypeNormal, opsv1alpha1.ReasonSandboxDeleted, "Teardown", "deleted sandbox namespace %s: %s", name, why)
	case apierrors.IsConflict(err):
		return metav1.ConditionTrue, opsv1alpha1.ReasonSandboxDeleted, fmt.Sprintf("sandbox %s is gone; a namespace of that name that this run did not create is left alone: %s", name, why), nil
	case !apierrors.IsNotFound(err):
		return "", "", "", err
	}
	return metav1.ConditionTrue, opsv1alpha1.ReasonSandboxDeleted, fmt.Sprintf("sandbox %s deleted: %s", name, why), nil
}
