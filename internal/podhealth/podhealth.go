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

// Package podhealth tells why a pod cannot make progress, from what the
// scheduler and the kubelet wrote in its status: unschedulable, waiting for
// a claim no volume will bind, an image the node does not have or cannot
// pull, a container that cannot be created or keeps crashing. Reconcilers
// report the first problem in their owner's status instead of waiting for a
// phase timeout. It is pure: the caller reads the pods and their claims; it
// must not import a Kubernetes client or package controller.
package podhealth

import (
	"fmt"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"

	opsv1alpha1 "github.com/supportstack/operator/api/v1alpha1"
)

// Problem is why one pod cannot make progress.
type Problem struct {
	Pod string
	// Reason is one of the opsv1alpha1 pod reasons (ReasonUnschedulable, ...).
	Reason string
	// Message says the cause in a user's words, naming the image, claim or
	// container.
	Message string
	// Since is when the pod was seen in this state at the latest (stamped by
	// the scheduler or the kubelet, in real time).
	Since time.Time
}

// String is "pod NAME: MESSAGE".
func (p Problem) String() string { return "pod " + p.Pod + ": " + p.Message }

// Diagnose returns the first problem among pods (by name), or nil when every
// pod is running, starting normally or finished. claims holds the
// PersistentVolumeClaims the pods mount, by name; a claim missing from it was
// not found.
func Diagnose(pods []corev1.Pod, claims map[string]*corev1.PersistentVolumeClaim) *Problem {
	sorted := make([]*corev1.Pod, 0, len(pods))
	for i := range pods {
		sorted = append(sorted, &pods[i])
	}
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Name < sorted[j].Name })
	for _, pod := range sorted {
		if p := diagnose(pod, claims); p != nil {
			return p
		}
	}
	return nil
}

func diagnose(pod *corev1.Pod, claims map[string]*corev1.PersistentVolumeClaim) *Problem {
	if !pod.DeletionTimestamp.IsZero() || pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed {
		return nil
	}
	if p := containerProblem(pod); p != nil {
		return p
	}
	return schedulingProblem(pod, claims)
}

// containerProblem is a container the kubelet cannot start or keep running.
func containerProblem(pod *corev1.Pod) *Problem {
	since := pod.CreationTimestamp.Time
	if s := pod.Status.StartTime; s != nil {
		since = s.Time
	}
	images := map[string]string{}
	for _, c := range append(append([]corev1.Container{}, pod.Spec.InitContainers...), pod.Spec.Containers...) {
		images[c.Name] = c.Image
	}
	statuses := append(append([]corev1.ContainerStatus{}, pod.Status.InitContainerStatuses...), pod.Status.ContainerStatuses...)
	for _, cs := range statuses {
		w := cs.State.Waiting
		if w == nil {
			continue
		}
		image := images[cs.Name]
		if image == "" {
			image = cs.Image
		}
		problem := &Problem{Pod: pod.Name, Since: since}
		switch w.Reason {
		case "ErrImageNeverPull":
			problem.Reason, problem.Message = opsv1alpha1.ReasonImageNotPresent, fmt.Sprintf("image %s not present on the node (imagePullPolicy Never)", image)
		case "ErrImagePull", "ImagePullBackOff", "InvalidImageName":
			problem.Reason, problem.Message = opsv1alpha1.ReasonImagePullFailed, fmt.Sprintf("cannot pull image %s: %s", image, oneLine(w.Message))
		case "CreateContainerConfigError", "CreateContainerError":
			problem.Reason, problem.Message = opsv1alpha1.ReasonContainerConfigError, fmt.Sprintf("container %s cannot be created: %s", cs.Name, oneLine(w.Message))
		case "CrashLoopBackOff":
			problem.Reason, problem.Message = opsv1alpha1.ReasonCrashLoop, fmt.Sprintf("container %s keeps crashing (%d restarts)%s", cs.Name, cs.RestartCount, lastExit(cs))
		default:
			continue
		}
		return problem
	}
	return nil
}

// schedulingProblem is a pod the scheduler cannot place: for want of a
// bound claim, or of a node.
func schedulingProblem(pod *corev1.Pod, claims map[string]*corev1.PersistentVolumeClaim) *Problem {
	if !isUnschedulable(pod) {
		return nil
	}
	for _, c := range pod.Status.Conditions {
		if c.Type != corev1.PodScheduled || c.Status != corev1.ConditionFalse || c.Reason != corev1.PodReasonUnschedulable {
			continue
		}
		since := c.LastTransitionTime.Time
		if since.IsZero() {
			since = pod.CreationTimestamp.Time
		}
		for _, v := range pod.Spec.Volumes {
			if v.PersistentVolumeClaim == nil {
				continue
			}
			name := v.PersistentVolumeClaim.ClaimName
			claim, ok := claims[name]
			switch {
			case !ok || claim == nil:
				return &Problem{Pod: pod.Name, Reason: opsv1alpha1.ReasonVolumeUnbound, Message: fmt.Sprintf("PVC %s not found", name), Since: since}
			case claim.Status.Phase != corev1.ClaimBound:
				return &Problem{Pod: pod.Name, Reason: opsv1alpha1.ReasonVolumeUnbound, Message: unbound(claim), Since: since}
			}
		}
		return &Problem{Pod: pod.Name, Reason: opsv1alpha1.ReasonUnschedulable, Message: "unschedulable: " + oneLine(c.Message), Since: since}
	}
	return nil
}

// unbound says why a claim waits: no class at all (the cluster has no
// default StorageClass and the claim names none) or the class it names.
func unbound(claim *corev1.PersistentVolumeClaim) string {
	class := ""
	if claim.Spec.StorageClassName != nil {
		class = *claim.Spec.StorageClassName
	}
	if class == "" {
		return fmt.Sprintf("PVC %s unbound: no StorageClass (the claim names none and the cluster has no default)", claim.Name)
	}
	return fmt.Sprintf("PVC %s unbound: StorageClass %s has not provided a volume", claim.Name, class)
}

func lastExit(cs corev1.ContainerStatus) string {
	t := cs.LastTerminationState.Terminated
	if t == nil {
		return ""
	}
	s := fmt.Sprintf("; last exit code %d", t.ExitCode)
	if msg := oneLine(t.Message); msg != "" {
		s += ": " + msg
	} else if t.Reason != "" {
		s += " (" + t.Reason + ")"
	}
	return s
}

// oneLine keeps the first line of a kubelet or scheduler message, at most
// 300 characters, so a status message stays readable.
func oneLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}

// Claims names the PersistentVolumeClaims that Diagnose needs to see: those
// mounted by pods the scheduler could not place. Other pods' claims do not
// matter, so a reconcile reads none while every pod is scheduled.
func Claims(pods []corev1.Pod) []string {
	seen := map[string]bool{}
	var names []string
	for _, p := range pods {
		if !isUnschedulable(&p) {
			continue
		}
		for _, v := range p.Spec.Volumes {
			if c := v.PersistentVolumeClaim; c != nil && !seen[c.ClaimName] {
				seen[c.ClaimName] = true
				names = append(names, c.ClaimName)
			}
		}
	}
	sort.Strings(names)
	return names
}

// isUnschedulable is true when the scheduler could not place the pod.
func isUnschedulable(pod *corev1.Pod) bool {
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.PodScheduled && c.Status == corev1.ConditionFalse && c.Reason == corev1.PodReasonUnschedulable {
			return true
		}
	}
	return false
}

// Note is an Event recorded about a pod: by the attach/detach controller
// or the kubelet, which say there (not in the pod's status) why a
// scheduled pod's volumes are not ready.
type Note struct {
	Reason, Message string
	Time            time.Time
}

// AwaitsVolumes reports whether a pod is on a node but no container of it
// has been created: its volumes are being attached and mounted, and the
// reason it may never be is in its events.
func AwaitsVolumes(pod *corev1.Pod) bool {
	if pod.Spec.NodeName == "" || pod.Status.Phase != corev1.PodPending || !pod.DeletionTimestamp.IsZero() {
		return false
	}
	for _, cs := range append(append([]corev1.ContainerStatus{}, pod.Status.InitContainerStatuses...), pod.Status.ContainerStatuses...) {
		if cs.State.Waiting == nil || cs.State.Waiting.Reason != "ContainerCreating" && cs.State.Waiting.Reason != "PodInitializing" {
			return false
		}
	}
	return true
}

// VolumeProblem is a pod awaiting its volumes that cannot attach one, from
// the newest of its notes: a ReadWriteOnce volume attached to another node
// (Multi-Attach). nil for anything else.
func VolumeProblem(pod *corev1.Pod, notes []Note) *Problem {
	var newest *Note
	for i, n := range notes {
		if n.Reason == "FailedAttachVolume" && strings.Contains(n.Message, "Multi-Attach") && (newest == nil || n.Time.After(newest.Time)) {
			newest = &notes[i]
		}
	}
	if newest == nil || !AwaitsVolumes(pod) {
		return nil
	}
	return &Problem{Pod: pod.Name, Reason: opsv1alpha1.ReasonMultiAttach, Since: newest.Time,
		Message: "a ReadWriteOnce volume is attached to another node (" + oneLine(newest.Message) +
			"): the pod that has it mounted moved after this run was placed; the next run is placed on its node"}
}
