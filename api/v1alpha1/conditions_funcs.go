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

package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// GetConditions returns the SupportTeam's status conditions.
func (o *SupportTeam) GetConditions() []metav1.Condition { return o.Status.Conditions }

// SetConditions replaces the SupportTeam's status conditions.
func (o *SupportTeam) SetConditions(c []metav1.Condition) { o.Status.Conditions = c }

// GetConditions returns the BackupPolicy's status conditions.
func (o *BackupPolicy) GetConditions() []metav1.Condition { return o.Status.Conditions }

// SetConditions replaces the BackupPolicy's status conditions.
func (o *BackupPolicy) SetConditions(c []metav1.Condition) { o.Status.Conditions = c }

// GetConditions returns the DRDrill's status conditions.
func (o *DRDrill) GetConditions() []metav1.Condition { return o.Status.Conditions }

// SetConditions replaces the DRDrill's status conditions.
func (o *DRDrill) SetConditions(c []metav1.Condition) { o.Status.Conditions = c }

// GetConditions returns the DRDrillRun's status conditions.
func (o *DRDrillRun) GetConditions() []metav1.Condition { return o.Status.Conditions }

// SetConditions replaces the DRDrillRun's status conditions.
func (o *DRDrillRun) SetConditions(c []metav1.Condition) { o.Status.Conditions = c }

// GetConditions returns the HelpDesk's conditions.
func (o *HelpDesk) GetConditions() []metav1.Condition { return o.Status.Conditions }

// SetConditions replaces the HelpDesk's conditions.
func (o *HelpDesk) SetConditions(c []metav1.Condition) { o.Status.Conditions = c }
