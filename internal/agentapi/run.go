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

package agentapi

import "strings"

// RecoverySetPrefixEnv names, in a backup pod, the first part of its
// recovery set's name: the policy's backup CronJob. When a policy's
// volumes are mounted on different nodes the run is split into one Job per
// node, each from its own CronJob; the Jobs of one run share the last part
// of their names (the scheduled minute, or the backup-now token's hash),
// and so, with this prefix, one recovery set.
const RecoverySetPrefixEnv = "SUPPORTSTACK_RECOVERY_SET_PREFIX"

// JobNameLabel is the label the Job controller puts on its pods: the Job's
// name. Backup pods read it through the downward API into RecoverySetEnv.
const JobNameLabel = "batch.kubernetes.io/job-name"

// LegacyJobNameLabel is the same label as Kubernetes before 1.27 names it
// (and later versions still set), read into LegacyJobNameEnv: the agent
// uses it when RecoverySetEnv is empty, so the parts of a run still share
// a set there.
const (
	LegacyJobNameLabel = "job-name"
	LegacyJobNameEnv   = "SUPPORTSTACK_JOB_NAME"
)

// RecoverySetOf is the recovery set a backup Job's pod writes into: prefix
// and the last "-" field of the Job's name; the Job's name alone without a
// prefix (pods of CronJobs made before runs could be split).
func RecoverySetOf(prefix, job string) string {
	if prefix == "" || job == "" {
		return job
	}
	return prefix + "-" + job[strings.LastIndex(job, "-")+1:]
}
