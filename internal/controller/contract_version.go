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
	opsv1alpha1 "github.com/supportstack/operator/api/v1alpha1"
	"github.com/supportstack/operator/internal/agentapi"
)

// backupFailureReason is the reason of a failed backup's condition and
// event: AgentVersionMismatch when the agent refused a configuration of
// another contract version (its message says so, whichever version the
// agent is), BackupFailed otherwise.
func backupFailureReason(message string) string {
	if agentapi.IsContractMismatch(message) {
		return opsv1alpha1.ReasonAgentVersionMismatch
	}
	return opsv1alpha1.ReasonBackupFailed
}
