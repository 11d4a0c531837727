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

package podhealth

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	opsv1alpha1 "github.com/supportstack/operator/api/v1alpha1"
)

var (
	created = time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)
	started = created.Add(2 * time.Second)
	refused = created.Add(time.Second)
)

// pod is a backup pod mounting claim "attachments", with its agent container
// in the given state, as the kubelet leaves it.
func pod(name string, mutate func(*corev1.Pod)) corev1.Pod {
	p := corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, CreationTimestamp: metav1.Time{Time: created}},
		Spec: corev1.PodSpec{
			Containers: []corev1.Container{{Name: "agent", Image: "supportstack/agent:dev"}},
			Volumes: []corev1.Volume{{Name: "source-attachments", VolumeSource: corev1.VolumeSource{
				PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: "attachments"}}}},
		},
		Status: corev1.PodStatus{Phase: corev1.PodPending},
	}
	mutate(&p)
	return p
}

func waiting(reason, message string) func(*corev1.Pod) {
	return func(p *corev1.Pod) {
		p.Status.StartTime = &metav1.Time{Time: started}
		p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "agent", Image: "supportstack/agent:dev",
			State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: reason, Message: message}}}}
	}
}

func unschedulable(message string) func(*corev1.Pod) {
	return func(p *corev1.Pod) {
		p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodScheduled, Status: corev1.ConditionFalse,
			Reason: corev1.PodReasonUnschedulable, Message: message, LastTransitionTime: metav1.Time{Time: refused}}}
	}
}

func claim(phase corev1.PersistentVolumeClaimPhase, class *string) map[string]*corev1.PersistentVolumeClaim {
	return map[string]*corev1.PersistentVolumeClaim{"attachments": {
		ObjectMeta: metav1.ObjectMeta{Name: "attachments"},
		Spec:       corev1.PersistentVolumeClaimSpec{StorageClassName: class},
		Status:     corev1.PersistentVolumeClaimStatus{Phase: phase},
	}}
}

func TestDiagnose(t *testing.T) {
	bound := claim(corev1.ClaimBound, ptr.To("local-path"))
	cases := []struct {
		name   string
		pods   []corev1.Pod
		claims map[string]*corev1.PersistentVolumeClaim
		want   *Problem
	}{
		{"running", []corev1.Pod{pod("a", func(p *corev1.Pod) { p.Status.Phase = corev1.PodRunning })}, bound, nil},
		{"pending, not yet scheduled", []corev1.Pod{pod("a", func(*corev1.Pod) {})}, bound, nil},
		{"pulling normally", []corev1.Pod{pod("a", waiting("ContainerCreating", ""))}, bound, nil},
		{"image not on the node", []corev1.Pod{pod("a", waiting("ErrImageNeverPull", `Container image "supportstack/agent:dev" is not present with pull policy of Never`))}, bound,
			&Problem{Pod: "a", Reason: opsv1alpha1.ReasonImageNotPresent, Message: "image supportstack/agent:dev not present on the node (imagePullPolicy Never)", Since: started}},
		{"image pull backing off", []corev1.Pod{pod("a", waiting("ImagePullBackOff", "Back-off pulling image \"supportstack/agent:dev\"\nmore"))}, bound,
			&Problem{Pod: "a", Reason: opsv1alpha1.ReasonImagePullFailed, Message: `cannot pull image supportstack/agent:dev: Back-off pulling image "supportstack/agent:dev"`, Since: started}},
		{"missing secret key", []corev1.Pod{pod("a", waiting("CreateContainerConfigError", `couldn't find key uri in Secret helpdesk/db`))}, bound,
			&Problem{Pod: "a", Reason: opsv1alpha1.ReasonContainerConfigError, Message: "container agent cannot be created: couldn't find key uri in Secret helpdesk/db", Since: started}},
		{"crash loop", []corev1.Pod{pod("a", func(p *corev1.Pod) {
			waiting("CrashLoopBackOff", "back-off 40s restarting failed container")(p)
			p.Status.ContainerStatuses[0].RestartCount = 3
			p.Status.ContainerStatuses[0].LastTerminationState.Terminated = &corev1.ContainerStateTerminated{ExitCode: 1, Message: "initdb: permission denied"}
		})}, bound, &Problem{Pod: "a", Reason: opsv1alpha1.ReasonCrashLoop, Message: "container agent keeps crashing (3 restarts); last exit code 1: initdb: permission denied", Since: started}},
		{"unschedulable", []corev1.Pod{pod("a", unschedulable("0/1 nodes are available: 1 node(s) were unschedulable."))}, bound,
			&Problem{Pod: "a", Reason: opsv1alpha1.ReasonUnschedulable, Message: "unschedulable: 0/1 nodes are available: 1 node(s) were unschedulable.", Since: refused}},
		{"claim without a class", []corev1.Pod{pod("a", unschedulable("pod has unbound immediate PersistentVolumeClaims"))}, claim(corev1.ClaimPending, nil),
			&Problem{Pod: "a", Reason: opsv1alpha1.ReasonVolumeUnbound, Message: "PVC attachments unbound: no StorageClass (the claim names none and the cluster has no default)", Since: refused}},
		{"claim with a class that provides nothing", []corev1.Pod{pod("a", unschedulable("pod has unbound immediate PersistentVolumeClaims"))}, claim(corev1.ClaimPending, ptr.To("fast-ssd")),
			&Problem{Pod: "a", Reason: opsv1alpha1.ReasonVolumeUnbound, Message: "PVC attachments unbound: StorageClass fast-ssd has not provided a volume", Since: refused}},
		{"claim not found", []corev1.Pod{pod("a", unschedulable(`persistentvolumeclaim "attachments" not found`))}, nil,
			&Problem{Pod: "a", Reason: opsv1alpha1.ReasonVolumeUnbound, Message: "PVC attachments not found", Since: refused}},
		{"finished pods are not stuck", []corev1.Pod{pod("a", func(p *corev1.Pod) {
			waiting("ErrImageNeverPull", "")(p)
			p.Status.Phase = corev1.PodFailed
		})}, bound, nil},
		{"the first stuck pod by name", []corev1.Pod{
			pod("b", waiting("ErrImageNeverPull", "")),
			pod("a", func(p *corev1.Pod) { p.Status.Phase = corev1.PodRunning }),
			pod("c", unschedulable("no nodes")),
		}, bound, &Problem{Pod: "b", Reason: opsv1alpha1.ReasonImageNotPresent, Message: "image supportstack/agent:dev not present on the node (imagePullPolicy Never)", Since: started}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := Diagnose(tc.pods, tc.claims)
			switch {
			case got == nil && tc.want == nil:
			case got == nil || tc.want == nil || *got != *tc.want:
				t.Errorf("Diagnose = %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestClaims(t *testing.T) {
	withRestored := func(p *corev1.Pod) {
		p.Spec.Volumes = append(p.Spec.Volumes, corev1.Volume{Name: "r", VolumeSource: corev1.VolumeSource{
			PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: "restored"}}})
	}
	pods := []corev1.Pod{pod("a", unschedulable("no volume")), pod("b", func(p *corev1.Pod) {
		withRestored(p)
		unschedulable("no volume")(p)
	})}
	if got := Claims(pods); len(got) != 2 || got[0] != "attachments" || got[1] != "restored" {
		t.Errorf("Claims = %v", got)
	}
	// Scheduled pods need no claim read.
	if got := Claims([]corev1.Pod{pod("c", withRestored)}); len(got) != 0 {
		t.Errorf("Claims of a scheduled pod = %v, want none", got)
	}
}
