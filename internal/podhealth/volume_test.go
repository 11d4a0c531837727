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
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	opsv1alpha1 "github.com/supportstack/operator/api/v1alpha1"
)

func TestVolumeProblem(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	creating := func(mutate func(*corev1.Pod)) *corev1.Pod {
		p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "backup-1"}, Spec: corev1.PodSpec{NodeName: "node-b"},
			Status: corev1.PodStatus{Phase: corev1.PodPending, ContainerStatuses: []corev1.ContainerStatus{{Name: "agent",
				State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "ContainerCreating"}}}}}}
		if mutate != nil {
			mutate(p)
		}
		return p
	}
	multi := Note{Reason: "FailedAttachVolume", Time: t0,
		Message: `Multi-Attach error for volume "pvc-1" Volume is already used by pod(s) helpdesk-1`}
	cases := []struct {
		name  string
		pod   *corev1.Pod
		notes []Note
		want  bool
	}{
		{"Multi-Attach while creating", creating(nil), []Note{{Reason: "Scheduled", Time: t0.Add(-time.Minute)}, multi}, true},
		{"no containers reported yet", creating(func(p *corev1.Pod) { p.Status.ContainerStatuses = nil }), []Note{multi}, true},
		{"another attach failure is not Multi-Attach", creating(nil), []Note{{Reason: "FailedAttachVolume", Message: "timed out"}}, false},
		{"no events", creating(nil), nil, false},
		{"unscheduled", creating(func(p *corev1.Pod) { p.Spec.NodeName = "" }), []Note{multi}, false},
		{"running: the volume attached in the end", creating(func(p *corev1.Pod) {
			p.Status.Phase = corev1.PodRunning
			p.Status.ContainerStatuses[0].State = corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}
		}), []Note{multi}, false},
		{"a container created: not a volume wait", creating(func(p *corev1.Pod) {
			p.Status.ContainerStatuses[0].State.Waiting.Reason = "CrashLoopBackOff"
		}), []Note{multi}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := VolumeProblem(tc.pod, tc.notes)
			if (got != nil) != tc.want {
				t.Fatalf("VolumeProblem = %+v, want problem: %v", got, tc.want)
			}
			if got != nil && (got.Reason != opsv1alpha1.ReasonMultiAttach || !strings.Contains(got.Message, "helpdesk-1") || !got.Since.Equal(t0)) {
				t.Errorf("problem %+v", got)
			}
		})
	}
}
