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

// ReasonAgentVersionMismatch (LastBackupSucceeded=False, and the Warning
// event of the failed backup): the agent refused the Job's configuration
// because it was written for another version of the manager-agent contract
// (the manager and agent images come from different builds); the message
// names both versions. Deploy both images of one version (make deploy sets
// both from VERSION); nothing was read or written in the repository.
const ReasonAgentVersionMismatch = "AgentVersionMismatch"
