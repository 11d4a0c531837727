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

// Status plumbing every reconciler shares: one condition setter for all
// kinds and the one status write per reconcile.

package controller

import (
	"context"
	"fmt"

	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// conditioned is a SupportStack object with status conditions.
type conditioned interface {
	client.Object
	GetConditions() []metav1.Condition
	SetConditions([]metav1.Condition)
}

// setCondition sets one condition of obj, observed at its generation.
func setCondition(obj conditioned, condType string, status metav1.ConditionStatus, reason, msg string) {
	conditions := obj.GetConditions()
	meta.SetStatusCondition(&conditions, metav1.Condition{
		Type: condType, Status: status, Reason: reason, Message: msg, ObservedGeneration: obj.GetGeneration(),
	})
	obj.SetConditions(conditions)
}

// patchStatus is every reconciler's one status write: a merge patch of the
// status subresource, made only when the status changed during the
// reconcile, so a steady state writes nothing. With
// client.MergeFromWithOptimisticLock the patch is refused (a conflict, and
// the reconcile retried) unless before is the object as stored now.
func patchStatus(ctx context.Context, c client.Client, before, obj client.Object, beforeStatus, status any, opts ...client.MergeFromOption) error {
	if equality.Semantic.DeepEqual(beforeStatus, status) {
		return nil
	}
	if err := c.Status().Patch(ctx, obj, client.MergeFromWithOptions(before, opts...)); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("patching status: %w", err)
	}
	return nil
}
