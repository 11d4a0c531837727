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
	"fmt"
	"reflect"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	opsv1alpha1 "github.com/supportstack/operator/api/v1alpha1"
	"github.com/supportstack/operator/internal/sharedlists"
)

// TestCachedDrillKeepsWhoAskedForARun: the cache's copy of a drill keeps
// only its run-now entries of managedFields, and runNowTrigger reads the
// same trigger from it as from the drill the API server sent.
func TestCachedDrillKeepsWhoAskedForARun(t *testing.T) {
	at := func(min int) *metav1.Time {
		t := metav1.NewTime(time.Date(2026, 12, 2, 9, min, 0, 0, time.UTC))
		return &t
	}
	fields := func(raw string) *metav1.FieldsV1 { return metav1.NewFieldsV1(raw) }
	// What the operator's status writes and a client-side apply leave.
	status := metav1.ManagedFieldsEntry{Manager: "supportstack-operator", Operation: metav1.ManagedFieldsOperationUpdate, Subresource: "status", Time: at(30),
		FieldsV1: fields(`{"f:status":{".":{},"f:conditions":{".":{},"k:{\"type\":\"Ready\"}":{".":{},"f:lastTransitionTime":{},"f:message":{},"f:observedGeneration":{},"f:reason":{},"f:status":{},"f:type":{}}},"f:lastRun":{},"f:nextScheduleTime":{},"f:observedGeneration":{}}}`)}
	apply := metav1.ManagedFieldsEntry{Manager: "kubectl-client-side-apply", Operation: metav1.ManagedFieldsOperationUpdate, Time: at(1),
		FieldsV1: fields(`{"f:metadata":{"f:annotations":{".":{},"f:kubectl.kubernetes.io/last-applied-configuration":{}}},"f:spec":{".":{},"f:backupPolicyRef":{},"f:schedule":{}}}`)}
	annotate := func(manager string, min int) metav1.ManagedFieldsEntry {
		return metav1.ManagedFieldsEntry{Manager: manager, Operation: metav1.ManagedFieldsOperationUpdate, Time: at(min),
			FieldsV1: fields(`{"f:metadata":{"f:annotations":{"f:ops.supportstack.io/run-now":{}}}}`)}
	}
	undated := annotate("kubectl-annotate", 0)
	undated.Time = nil
	for _, tc := range []struct {
		name    string
		entries []metav1.ManagedFieldsEntry
		kept    int
		manager string
	}{
		{"no managed fields", nil, 0, ""},
		{"nobody asked for a run", []metav1.ManagedFieldsEntry{apply, status}, 0, ""},
		{"one annotation among the operator's writes", []metav1.ManagedFieldsEntry{apply, annotate("kubectl-annotate", 10), status}, 1, "kubectl-annotate"},
		{"the later of two who set it", []metav1.ManagedFieldsEntry{annotate("alice-tool", 20), status, annotate("kubectl-annotate", 10)}, 2, "alice-tool"},
		{"an entry without a time", []metav1.ManagedFieldsEntry{undated, status}, 1, "kubectl-annotate"},
		{"the annotation in a wider entry", []metav1.ManagedFieldsEntry{{Manager: "gitops", Operation: metav1.ManagedFieldsOperationApply, Time: at(5),
			FieldsV1: fields(`{"f:metadata":{"f:annotations":{"f:ops.supportstack.io/run-now":{},"f:team":{}}},"f:spec":{"f:schedule":{}}}`)}, status}, 1, "gitops"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			drill := &opsv1alpha1.DRDrill{ObjectMeta: metav1.ObjectMeta{Name: "d", Namespace: "n", ManagedFields: tc.entries}}
			want := runNowTrigger(drill.DeepCopy(), "token")
			out, err := keepRunNowFields(drill.DeepCopy())
			if err != nil {
				t.Fatal(err)
			}
			cached := out.(*opsv1alpha1.DRDrill)
			if len(cached.ManagedFields) != tc.kept {
				t.Errorf("kept %d entries, want %d: %+v", len(cached.ManagedFields), tc.kept, cached.ManagedFields)
			}
			if got := runNowTrigger(cached, "token"); !equality.Semantic.DeepEqual(got, want) || got.FieldManager != tc.manager {
				t.Errorf("trigger from the cache %+v, from the API server %+v, want field manager %q", got, want, tc.manager)
			}
			for _, mf := range cached.ManagedFields {
				if got, only := mf.FieldsV1.GetRawString(), `{"f:metadata":{"f:annotations":{"f:ops.supportstack.io/run-now":{}}}}`; got != only {
					t.Errorf("a kept entry holds the fields %s, want only %s", got, only)
				}
			}
		})
	}
	// Objects of other kinds pass through untouched.
	if out, err := keepRunNowFields("not a drill"); err != nil || out != "not a drill" {
		t.Errorf("keepRunNowFields(string) = %v, %v", out, err)
	}
}

// TestCachedPodTemplates: cached Pods lose their managedFields and share
// equal resource lists; cached Jobs and CronJobs lose their managedFields
// and all of their pod template but its affinity.
func TestCachedPodTemplates(t *testing.T) {
	resourcesOf := func() corev1.ResourceRequirements {
		return corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m")},
			Limits: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("1Gi")}}
	}
	affinity := &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{
		NodeSelectorTerms: []corev1.NodeSelectorTerm{{MatchFields: []corev1.NodeSelectorRequirement{{Key: "metadata.name", Operator: corev1.NodeSelectorOpIn, Values: []string{"node-a"}}}}}}}}
	spec := func() corev1.PodSpec {
		return corev1.PodSpec{Affinity: affinity.DeepCopy(), Containers: []corev1.Container{{Name: "agent", Image: "agent", Resources: resourcesOf()}}}
	}
	meta := func() metav1.ObjectMeta {
		return metav1.ObjectMeta{Name: "x", ManagedFields: []metav1.ManagedFieldsEntry{{Manager: "supportstack-operator"}}}
	}

	t.Run("pods share their resource lists", func(t *testing.T) {
		transform := sharePodResources(sharedlists.New(8))
		requests := make([]corev1.ResourceList, 0, 2)
		for range 2 {
			out, err := transform(&corev1.Pod{ObjectMeta: meta(), Spec: spec()})
			if err != nil {
				t.Fatal(err)
			}
			pod := out.(*corev1.Pod)
			if pod.ManagedFields != nil || !equality.Semantic.DeepEqual(pod.Spec, spec()) {
				t.Errorf("cached pod: managedFields %v, spec %+v", pod.ManagedFields, pod.Spec)
			}
			requests = append(requests, pod.Spec.Containers[0].Resources.Requests)
		}
		if reflect.ValueOf(requests[0]).UnsafePointer() != reflect.ValueOf(requests[1]).UnsafePointer() {
			t.Error("two pods with equal requests do not share them")
		}
	})

	for _, tc := range []struct {
		obj      any
		template func(any) *corev1.PodSpec
		cached   func(any) (any, error)
	}{
		{&batchv1.Job{ObjectMeta: meta(), Spec: batchv1.JobSpec{Template: corev1.PodTemplateSpec{Spec: spec()}}},
			func(o any) *corev1.PodSpec { return &o.(*batchv1.Job).Spec.Template.Spec }, cachedJob},
		{&batchv1.CronJob{ObjectMeta: meta(), Spec: batchv1.CronJobSpec{Schedule: "0 2 * * *", JobTemplate: batchv1.JobTemplateSpec{Spec: batchv1.JobSpec{Template: corev1.PodTemplateSpec{Spec: spec()}}}}},
			func(o any) *corev1.PodSpec { return &o.(*batchv1.CronJob).Spec.JobTemplate.Spec.Template.Spec }, cachedCronJob},
	} {
		t.Run(fmt.Sprintf("%T keeps only the affinity of its template", tc.obj), func(t *testing.T) {
			out, err := tc.cached(tc.obj)
			if err != nil {
				t.Fatal(err)
			}
			if mf := out.(metav1.Object).GetManagedFields(); mf != nil {
				t.Errorf("keeps managedFields %v", mf)
			}
			if got, want := *tc.template(out), (corev1.PodSpec{Affinity: affinity}); !equality.Semantic.DeepEqual(got, want) {
				t.Errorf("cached template %+v, want only the affinity", got)
			}
		})
	}
	if cj, _ := cachedCronJob(&batchv1.CronJob{Spec: batchv1.CronJobSpec{Schedule: "0 2 * * *"}}); cj.(*batchv1.CronJob).Spec.Schedule != "0 2 * * *" {
		t.Error("a cached CronJob lost its schedule")
	}
}
