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

// Package controller holds one reconciler per SupportStack kind, each in
// <kind>_controller.go and split by concern when long (the DRDrillRun
// reconciler: drdrillrun_sandbox.go, drdrillrun_jobs.go,
// drdrillrun_evidence.go). What they share lives in files of its own:
// status.go (conditions, the one status patch), children.go (createOrPatch),
// jobs.go (reading agent Job results), secrets.go.
//
// It reads the agent's results through package agentapi and must not
// import package agent (the manager would link a database driver); the
// objects it creates come from package resources.
package controller

import (
	"net/http"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"
	toolscache "k8s.io/client-go/tools/cache"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	opsv1alpha1 "github.com/supportstack/operator/api/v1alpha1"
	"github.com/supportstack/operator/internal/resources"
	"github.com/supportstack/operator/internal/sharedlists"
)

// CacheOptions makes the manager cache only the children the operator owns
// (labelled app.kubernetes.io/managed-by=supportstack-operator), not every
// ConfigMap, Role or RoleBinding of the cluster. Evidence ConfigMaps are
// left out although the operator makes them: they only grow (one per run,
// kept for audits) and are read once per run, through the API reader.
// Secrets are never cached (ClientOptions).
func CacheOptions() cache.Options {
	owned := cache.ByObject{Label: labels.SelectorFromSet(labels.Set{
		opsv1alpha1.LabelManagedBy: opsv1alpha1.ManagedByValue,
	})}
	notEvidence, err := labels.NewRequirement(resources.LabelEvidence, selection.DoesNotExist, nil)
	if err != nil {
		panic(err) // a constant label key
	}
	ownedNotEvidence := cache.ByObject{Label: owned.Label.DeepCopySelector().Add(*notEvidence)}
	// Pods share their resource lists (sharedlists); of a Job's or a
	// CronJob's pod template only the affinity is cached (slimTemplate).
	ownedPods := owned
	ownedPods.Transform = sharePodResources(sharedlists.New(256))
	return cache.Options{
		// managedFields are about half of what a cached team or CronJob
		// weighs (make bench-scale: 8 of 15 MB for 1,000 teams) and only
		// a drill's run-now entries are read (runNowTrigger): drop them
		// from everything else.
		DefaultTransform: cache.TransformStripManagedFields(),
		ByObject: map[client.Object]cache.ByObject{
			&opsv1alpha1.DRDrill{}:        {Transform: keepRunNowFields},
			&corev1.ConfigMap{}:           ownedNotEvidence,
			&corev1.Namespace{}:           owned,
			&rbacv1.Role{}:                owned,
			&rbacv1.RoleBinding{}:         owned,
			&corev1.ServiceAccount{}:      owned,
			&corev1.Pod{}:                 ownedPods,
			&batchv1.CronJob{}:            {Label: owned.Label, Transform: cachedCronJob},
			&batchv1.Job{}:                {Label: owned.Label, Transform: cachedJob},
			&networkingv1.NetworkPolicy{}: owned,
			&corev1.Service{}:             owned,
			&appsv1.StatefulSet{}:         owned,
			&appsv1.Deployment{}:          owned,
		},
	}
}

// cachedCronJob and cachedJob are how the cache holds CronJobs and Jobs:
// without managedFields, and of their pod template only the affinity
// (placement reads it). A template is most of what they weigh, and the
// operator reads the rest of it only from the API server (applyCronJob; a
// Job is created once and never put back in shape).
func cachedCronJob(obj any) (any, error) {
	if cj, ok := obj.(*batchv1.CronJob); ok {
		cj.ManagedFields = nil
		slimTemplate(&cj.Spec.JobTemplate.Spec.Template.Spec)
	}
	return obj, nil
}

func cachedJob(obj any) (any, error) {
	if job, ok := obj.(*batchv1.Job); ok {
		job.ManagedFields = nil
		slimTemplate(&job.Spec.Template.Spec)
	}
	return obj, nil
}

func slimTemplate(pod *corev1.PodSpec) { *pod = corev1.PodSpec{Affinity: pod.Affinity} }

// sharePodResources strips a cached Pod of its managedFields (as
// DefaultTransform does everything else) and lets it share its resource
// lists with the other cached Pods.
func sharePodResources(table *sharedlists.Table) toolscache.TransformFunc {
	strip := cache.TransformStripManagedFields()
	return func(obj any) (any, error) {
		obj, err := strip(obj)
		if err != nil {
			return obj, err
		}
		if pod, ok := obj.(*corev1.Pod); ok {
			table.PodSpec(&pod.Spec)
		}
		return obj, nil
	}
}

// keepRunNowFields keeps, of a cached drill's managedFields, only the
// entries that set the run-now annotation (who set it, when, how), each
// reduced to that one field: runNowTrigger reads nothing else, and the
// entries of the operator's own status writes, which list every status
// field, are most of what a drill's managedFields weigh.
func keepRunNowFields(obj any) (any, error) {
	drill, ok := obj.(*opsv1alpha1.DRDrill)
	if !ok {
		return obj, nil
	}
	var kept []metav1.ManagedFieldsEntry
	for _, mf := range drill.ManagedFields {
		if mf.FieldsV1 == nil || !strings.Contains(mf.FieldsV1.GetRawString(), runNowField) {
			continue
		}
		mf.FieldsV1 = metav1.NewFieldsV1(`{"f:metadata":{"f:annotations":{` + runNowField + `:{}}}}`)
		kept = append(kept, mf)
	}
	drill.ManagedFields = kept
	return drill, nil
}

// ClientOptions make the manager's client read Secrets from the API server
// every time: a Get through a caching client would otherwise start an
// informer holding every Secret of the cluster in the operator's memory.
// Reconcilers read Secrets through their APIReader; this holds even for a
// read that forgets to.
func ClientOptions() client.Options {
	return client.Options{Cache: &client.CacheOptions{DisableFor: []client.Object{&corev1.Secret{}}}}
}

// Every reconciler records Kubernetes Events that say what changed.
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// SetupWithManager registers every reconciler that exists with the manager.
// Each capability (SupportTeam staffing, BackupPolicy, DRDrill/DRDrillRun)
// adds its reconciler here as it lands.
func SetupWithManager(mgr ctrl.Manager, opts Options) error {
	if opts.Clock == nil {
		opts.Clock = clock.RealClock{}
	}
	if err := (&SupportTeamReconciler{
		Client:    mgr.GetClient(),
		APIReader: mgr.GetAPIReader(),
		Recorder:  mgr.GetEventRecorder("supportstack-supportteam"),
		HTTP:      &http.Client{Timeout: 30 * time.Second},
		Clock:     opts.Clock,
		RTImage:   opts.RTImage,
		// nil outside tests: the help desk's web Service.
		HelpDeskWebURL: opts.HelpDeskWebURL,
	}).SetupWithManager(mgr); err != nil {
		return err
	}
	if err := (&BackupPolicyReconciler{
		Client:          mgr.GetClient(),
		APIReader:       mgr.GetAPIReader(),
		Recorder:        mgr.GetEventRecorder("supportstack-backuppolicy"),
		Clock:           opts.Clock,
		AgentImage:      opts.AgentImage,
		AgentCacheBytes: opts.AgentCacheBytes,
	}).SetupWithManager(mgr); err != nil {
		return err
	}
	if err := (&DRDrillReconciler{
		Client:    mgr.GetClient(),
		APIReader: mgr.GetAPIReader(),
		Recorder:  mgr.GetEventRecorder("supportstack-drdrill"),
		Clock:     opts.Clock,
	}).SetupWithManager(mgr); err != nil {
		return err
	}
	if err := (&HelpDeskReconciler{
		Client:            mgr.GetClient(),
		APIReader:         mgr.GetAPIReader(),
		Recorder:          mgr.GetEventRecorder("supportstack-helpdesk"),
		RTImage:           opts.RTImage,
		PostgresImage:     opts.PostgresImage,
		OperatorNamespace: opts.OperatorNamespace,
		Clock:             opts.Clock,
	}).SetupWithManager(mgr); err != nil {
		return err
	}
	timeouts := opts.DrillTimeouts
	if timeouts == (DrillTimeouts{}) {
		timeouts = DefaultDrillTimeouts
	}
	if timeouts.StuckPod == 0 {
		timeouts.StuckPod = DefaultDrillTimeouts.StuckPod
	}
	return (&DRDrillRunReconciler{
		Client:                        mgr.GetClient(),
		APIReader:                     mgr.GetAPIReader(),
		Recorder:                      mgr.GetEventRecorder("supportstack-drdrillrun"),
		Clock:                         opts.Clock,
		AgentImage:                    opts.AgentImage,
		AgentCacheBytes:               opts.AgentCacheBytes,
		RTImage:                       opts.RTImage,
		Version:                       opts.Version,
		Timeouts:                      timeouts,
		MaxConcurrentRunsPerNamespace: opts.MaxConcurrentDrillRunsPerNamespace,
		SandboxNamespacePolicy:        opts.SandboxNamespacePolicy,
	}).SetupWithManager(mgr)
}

// DefaultMaxConcurrentReconciles is each controller's number of workers
// (the manager's --max-concurrent-reconciles).
const DefaultMaxConcurrentReconciles = 4

// Options configure the reconcilers.
type Options struct {
	// AgentImage runs in the backup, prune and check Jobs.
	AgentImage string
	// RTImage and PostgresImage run a HelpDesk's Request Tracker and its
	// managed database; the resources package's defaults when empty.
	RTImage, PostgresImage string
	// AgentCacheBytes bounds the agent pods' cache volume (restic's cache,
	// /tmp); resources.DefaultAgentCacheBytes when zero.
	AgentCacheBytes int64
	// Clock is injected by tests; the real clock when nil.
	Clock clock.PassiveClock
	// Version is the operator's version, recorded in drill evidence.
	Version string
	// DrillTimeouts bound drill phases; DefaultDrillTimeouts when zero.
	DrillTimeouts DrillTimeouts
	// MaxConcurrentDrillRunsPerNamespace is how many drill runs of one
	// namespace run at once; more wait, Pending, for their turn.
	// DefaultMaxConcurrentDrillRuns when zero.
	MaxConcurrentDrillRunsPerNamespace int
	// SandboxNamespacePolicy names the ValidatingAdmissionPolicy and its
	// binding that let only the operator label a namespace as a sandbox;
	// the constant SandboxNamespacePolicy when empty.
	SandboxNamespacePolicy string
	// OperatorNamespace is where the operator's pods run (POD_NAMESPACE):
	// a HelpDesk's web port admits them, for the REST2 sync of the teams
	// that use it. Empty outside a cluster (the web port then admits only
	// the HelpDesk's ingress peers).
	OperatorNamespace string
	// HelpDeskWebURL is a help desk's REST2 root for the teams that use
	// it; its web Service (resources.HelpDeskWebURL) when nil. Tests point
	// it at a local RT.
	HelpDeskWebURL func(namespace string, names resources.HelpDeskNames) string
}
