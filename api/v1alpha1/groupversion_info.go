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

// Package v1alpha1 contains the SupportStack API: SupportTeam, BackupPolicy,
// DRDrill and DRDrillRun in the ops.supportstack.io group.
//
// Validation happens at admission without a webhook: OpenAPI markers and CEL
// rules (x-kubernetes-validations) refuse bad input at `kubectl apply` with a
// message that says what to write instead. Rules that need another object
// (a referenced Secret, PVC, BackupPolicy or escalation team) cannot be
// expressed in CEL; the reconcilers report those as Ready=False with reason
// InvalidSpec. The README lists which rule lives where.
//
// Condition types and reasons are in conditions.go, with what Ready means
// for each kind; behaviour that belongs to a type sits in *_funcs.go. The
// package imports only Kubernetes API machinery, never the operator's
// internal packages, so clients can use it alone.
//
// +kubebuilder:object:generate=true
// +groupName=ops.supportstack.io
package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

var (
	// GroupVersion is group version used to register these objects.
	GroupVersion = schema.GroupVersion{Group: "ops.supportstack.io", Version: "v1alpha1"}

	// SchemeBuilder is used to add go types to the GroupVersionKind scheme.
	// It depends on apimachinery only, so the API package stays cheap to import.
	SchemeBuilder = runtime.NewSchemeBuilder(addKnownTypes)

	// AddToScheme adds the types in this group-version to the given scheme.
	AddToScheme = SchemeBuilder.AddToScheme

	// knownTypes is filled by each kind's file.
	knownTypes []runtime.Object
)

func addKnownTypes(s *runtime.Scheme) error {
	s.AddKnownTypes(GroupVersion, knownTypes...)
	metav1.AddToGroupVersion(s, GroupVersion)
	return nil
}
