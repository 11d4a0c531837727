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

// Reading the outcome of the agent Jobs, shared by the BackupPolicy and
// DRDrillRun reconcilers.

package controller

import (
	"context"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/supportstack/operator/internal/podhealth"
)

const (
	// resultRecheck is how soon a finished Job whose pod the cache does not
	// show terminated yet is looked at again (the Job and Pod informers
	// are not in step); resultPatience is how long a finished Job may lack
	// a terminated pod before its own condition is taken as the result.
	resultRecheck  = 10 * time.Second
	resultPatience = 2 * time.Minute
)

// jobState is how far a Job's result can be read.
type jobState int

const (
	jobRunning jobState = iota
	// jobResultPending: the Job finished but its pod's termination is not
	// in the cache yet.
	jobResultPending
	jobFinished
)

// readJob reads a Job's outcome: its finished condition and its pod's
// termination message. A finished Job whose pod's termination the cache does
// not show yet is jobResultPending for up to resultPatience (then the Job's
// condition alone decides).
func readJob(ctx context.Context, c client.Reader, job *batchv1.Job) (string, *batchv1.JobCondition, jobState, error) {
	done := finishedCondition(job)
	if done == nil {
		return "", nil, jobRunning, nil
	}
	var pods corev1.PodList
	if err := c.List(ctx, &pods, client.InNamespace(job.Namespace), client.MatchingLabels{batchv1.JobNameLabel: job.Name}); err != nil {
		return "", done, jobRunning, err
	}
	message, terminated := terminationMessage(pods.Items)
	// Cache lag, measured in real time: it is about informers, not about
	// the business clock.
	if !terminated && time.Since(done.LastTransitionTime.Time) < resultPatience {
		return "", done, jobResultPending, nil
	}
	return message, done, jobFinished, nil
}

// finishedCondition is a Job's Complete or Failed condition, nil while it runs.
func finishedCondition(job *batchv1.Job) *batchv1.JobCondition {
	for i, c := range job.Status.Conditions {
		if (c.Type == batchv1.JobComplete || c.Type == batchv1.JobFailed) && c.Status == corev1.ConditionTrue {
			return &job.Status.Conditions[i]
		}
	}
	return nil
}

// terminationMessage is the message of the newest terminated container of
// the pods (a retried Job has several), or the reason it was terminated;
// terminated is false when no container has terminated.
func terminationMessage(pods []corev1.Pod) (message string, terminated bool) {
	var newest time.Time
	for _, p := range pods {
		for _, cs := range p.Status.ContainerStatuses {
			if t := cs.State.Terminated; t != nil && (!terminated || t.FinishedAt.After(newest)) {
				newest, message, terminated = t.FinishedAt.Time, t.Message, true
				if message == "" && t.Reason != "" {
					message = "agent exited with " + t.Reason
				}
			}
		}
	}
	return message, terminated
}

// diagnoseJobPods returns the first stuck pod of a running Job, reading the
// claims its pods mount from the API server (claims are not cached).
func diagnoseJobPods(ctx context.Context, c client.Reader, apiReader client.Reader, job *batchv1.Job) (*podhealth.Problem, error) {
	var pods corev1.PodList
	if err := c.List(ctx, &pods, client.InNamespace(job.Namespace), client.MatchingLabels{batchv1.JobNameLabel: job.Name}); err != nil {
		return nil, err
	}
	return diagnosePods(ctx, apiReader, job.Namespace, pods.Items)
}

// The attach/detach controller and the kubelet say why a volume does not
// attach only in events.
// +kubebuilder:rbac:groups="",resources=events,verbs=list

// diagnosePods returns the first stuck pod among pods of one namespace.
func diagnosePods(ctx context.Context, apiReader client.Reader, namespace string, pods []corev1.Pod) (*podhealth.Problem, error) {
	claims := map[string]*corev1.PersistentVolumeClaim{}
	for _, name := range podhealth.Claims(pods) {
		claim := &corev1.PersistentVolumeClaim{}
		err := apiReader.Get(ctx, types.NamespacedName{Namespace: namespace, Name: name}, claim)
		switch {
		case apierrors.IsNotFound(err):
		case err != nil:
			return nil, err
		default:
			claims[name] = claim
		}
	}
	if p := podhealth.Diagnose(pods, claims); p != nil {
		return p, nil
	}
	return volumeProblem(ctx, apiReader, pods)
}

// volumeProblem reads the events of the pods that wait for their volumes
// (only those: a pod that runs costs no request) for one that cannot be
// attached.
func volumeProblem(ctx context.Context, apiReader client.Reader, pods []corev1.Pod) (*podhealth.Problem, error) {
	for i := range pods {
		pod := &pods[i]
		if !podhealth.AwaitsVolumes(pod) {
			continue
		}
		var list corev1.EventList
		if err := apiReader.List(ctx, &list, client.InNamespace(pod.Namespace), client.MatchingFields{
			"involvedObject.kind": "Pod", "involvedObject.name": pod.Name, "involvedObject.uid": string(pod.UID),
		}); err != nil {
			return nil, err
		}
		notes := make([]podhealth.Note, 0, len(list.Items))
		for _, e := range list.Items {
			at := e.LastTimestamp.Time
			if at.IsZero() {
				at = e.EventTime.Time
			}
			notes = append(notes, podhealth.Note{Reason: e.Reason, Message: e.Message, Time: at})
		}
		if p := podhealth.VolumeProblem(pod, notes); p != nil {
			return p, nil
		}
	}
	return nil, nil
}
