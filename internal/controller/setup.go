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

// Package controller holds one reconciler per SupportStack kind.
package controller

import (
	ctrl "sigs.k8s.io/controller-runtime"
)

// Every reconciler records Kubernetes Events that say what changed.
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// SetupWithManager registers every reconciler that exists with the manager.
// Each capability (SupportTeam staffing, BackupPolicy, DRDrill/DRDrillRun)
// adds its reconciler here as it lands.
func SetupWithManager(mgr ctrl.Manager) error {
	_ = mgr
	return nil
}
