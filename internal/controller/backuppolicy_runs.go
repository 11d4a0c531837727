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
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	batchv1 "k8s.io/api/batch/v1"

	opsv1alpha1 "github.com/supportstack/operator/api/v1alpha1"
	"github.com/supportstack/operator/internal/resources"
)

// A backup run whose volumes are mounted on different nodes runs as one
// Job per node (resources.BackupCronJobs); status records the run once,
// when every part has finished: it succeeded only if every part did.

// missingPartGrace is how long after a run's last finished part a part
// that never started (its CronJob was made after the scheduled minute, or
// missed it) is waited for before the run is recorded without it.
const missingPartGrace = 10 * time.Minute

// runKey is the run a backup Job belongs to: the last field of its name,
// the scheduled minute or the backup-now token's hash, which every part's
// Job shares (as agentapi.RecoverySetOf names the set).
func runKey(job *batchv1.Job) string {
	return job.Name[strings.LastIndex(job.Name, "-")+1:]
}

// jobPart is a Job's part number and the run's number of parts (1 of 1
// for Jobs made before runs could be split).
func jobPart(job *batchv1.Job) (part, parts int) {
	part, _ = strconv.Atoi(job.Labels[resources.LabelBackupPart])
	parts, _ = strconv.Atoi(job.Labels[resources.LabelBackupParts])
	return max(part, 1), max(parts, 1)
}

// partResult is one finished part's result.
type partResult struct {
	part int
	res  opsv1alpha1.BackupResult
}

// backupRun gathers the Jobs of one run.
type backupRun struct {
	parts    int
	finished []partResult
	busy     bool // a part is running or its result is not readable yet
	// unread is set when a finished part's result is not readable yet.
	unread bool
}

// waiting reports whether the run needs a look again soon without an event
// to bring it: a result not readable yet, or parts that never started.
func (b *backupRun) waiting() bool {
	return b.unread || !b.busy && len(b.finished) > 0 && len(b.finished) < b.parts
}

// ready reports whether the run can be recorded now: every part finished,
// or the parts that never started have been waited for.
func (b *backupRun) ready(now time.Time) bool {
	if b.busy || len(b.finished) == 0 {
		return false
	}
	if len(b.finished) >= b.parts {
		return true
	}
	return now.Sub(completion(b.merge())) >= missingPartGrace
}

// merge is the run's result: the first part's Job names it, the others are
// its partJobs; it succeeded only if every part did and none is missing.
func (b *backupRun) merge() opsv1alpha1.BackupResult {
	sort.Slice(b.finished, func(i, j int) bool { return b.finished[i].part < b.finished[j].part })
	out := b.finished[0].res
	out.Snapshots = append([]opsv1alpha1.SourceSnapshot(nil), out.Snapshots...)
	var failures []string
	if out.Result != opsv1alpha1.BackupSucceeded {
		failures = append(failures, out.Message)
	}
	for _, p := range b.finished[1:] {
		r := p.res
		out.PartJobs = append(out.PartJobs, r.JobName)
		if out.RecoverySet == "" {
			out.RecoverySet = r.RecoverySet
		}
		for _, s := range r.Snapshots {
			if len(out.Snapshots) < maxSetSnapshots {
				out.Snapshots = append(out.Snapshots, s)
			}
		}
		if out.SnapshotID == "" {
			out.SnapshotID = r.SnapshotID
		}
		out.BytesAdded += r.BytesAdded
		out.TotalBytes += r.TotalBytes
		if r.StartTime != nil && (out.StartTime == nil || r.StartTime.Before(out.StartTime)) {
			out.StartTime = r.StartTime
		}
		if r.CompletionTime != nil && (out.CompletionTime == nil || out.CompletionTime.Before(r.CompletionTime)) {
			out.CompletionTime = r.CompletionTime
		}
		if r.Result != opsv1alpha1.BackupSucceeded {
			out.Result = opsv1alpha1.BackupFailed
			failures = append(failures, fmt.Sprintf("part %d (Job %s): %s", p.part, r.JobName, r.Message))
		}
	}
	if missing := b.parts - len(b.finished); missing > 0 {
		out.Result = opsv1alpha1.BackupFailed
		failures = append(failures, fmt.Sprintf("%d of the run's %d parts never ran (their CronJob missed the scheduled time): the recovery set is incomplete", missing, b.parts))
	}
	out.Message = strings.Join(failures, "; ")
	if len(out.Message) > 1024 {
		out.Message = out.Message[:1024]
	}
	return out
}

// backupRuns groups backup Jobs not yet recorded by run. result reads a
// finished Job; it reports the Job's state.
func backupRuns(jobs []batchv1.Job, recorded map[string]bool, result func(*batchv1.Job) (opsv1alpha1.BackupResult, jobState, error)) (map[string]*backupRun, []*batchv1.Job, error) {
	runs := map[string]*backupRun{}
	var running []*batchv1.Job
	for i := range jobs {
		job := &jobs[i]
		if recorded[job.Name] {
			continue
		}
		part, parts := jobPart(job)
		run := runs[runKey(job)]
		if run == nil {
			run = &backupRun{}
			runs[runKey(job)] = run
		}
		run.parts = max(run.parts, parts)
		res, state, err := result(job)
		if err != nil {
			return nil, nil, err
		}
		switch state {
		case jobRunning:
			running = append(running, job)
			run.busy = true
		case jobResultPending:
			run.busy, run.unread = true, true
		default:
			run.finished = append(run.finished, partResult{part: part, res: res})
		}
	}
	return runs, running, nil
}

// partJobNames lists a result's Jobs, for events.
func partJobNames(res opsv1alpha1.BackupResult) string {
	return strings.Join(append([]string{res.JobName}, res.PartJobs...), ", ")
}
