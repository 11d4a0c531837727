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
	"math"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	opsv1alpha1 "github.com/supportstack/operator/api/v1alpha1"
)

// The watches between kinds pass only the changes the watching reconciler
// reads. A drill run rewrites its status at every step (message,
// conditions, Job names); with 1,000 drills (make bench-scale) each such
// write used to reconcile the run's drill and its BackupPolicy too, and a
// policy reconcile reads Secrets, a PVC and a Service from the API server.

// runOutcomeChanged passes a run's updates that change what its drill
// records of it (reconcileHistory, lastRun, evidence, pruning): the phase,
// the times and measurements, the evidence reference, and its deletion.
var runOutcomeChanged = predicate.Funcs{
	UpdateFunc: func(e event.UpdateEvent) bool {
		old, oldOK := e.ObjectOld.(*opsv1alpha1.DRDrillRun)
		run, newOK := e.ObjectNew.(*opsv1alpha1.DRDrillRun)
		if !oldOK || !newOK {
			return true
		}
		o, n := &old.Status, &run.Status
		return old.Generation != run.Generation || !old.DeletionTimestamp.Equal(run.DeletionTimestamp) ||
			o.Phase != n.Phase || !o.CompletionTime.Equal(n.CompletionTime) ||
			!equality.Semantic.DeepEqual(o.Evidence, n.Evidence) ||
			!equality.Semantic.DeepEqual(o.MeasuredRTO, n.MeasuredRTO) || !equality.Semantic.DeepEqual(o.MeasuredRPO, n.MeasuredRPO)
	},
}

// anyAge lets verifiedBy answer for any snapshot age: the policy applies
// its own maxAge when it reconciles.
const anyAge = time.Duration(math.MaxInt64)

// runVerifiesPolicy passes a run's updates that change what it proves of
// a BackupPolicy (verifiedBy): it passed, with a completion time and a
// snapshot. A run is created before it passes, and a policy keeps its
// lastVerifiedRestore when the run that proved it is pruned: creations
// pass only for a run that has passed, deletions not at all.
var runVerifiesPolicy = predicate.Funcs{
	// A run seen first when it has passed already (created and passed
	// while the watch was down, then relisted) does prove something.
	CreateFunc: func(e event.CreateEvent) bool {
		run, ok := e.Object.(*opsv1alpha1.DRDrillRun)
		return !ok || verifiedBy(run, run.Spec.BackupPolicyName, anyAge) != nil
	},
	DeleteFunc: func(event.DeleteEvent) bool { return false },
	UpdateFunc: func(e event.UpdateEvent) bool {
		old, oldOK := e.ObjectOld.(*opsv1alpha1.DRDrillRun)
		run, newOK := e.ObjectNew.(*opsv1alpha1.DRDrillRun)
		if !oldOK || !newOK {
			return true
		}
		proved := verifiedBy(run, run.Spec.BackupPolicyName, anyAge)
		return proved != nil && !equality.Semantic.DeepEqual(proved, verifiedBy(old, old.Spec.BackupPolicyName, anyAge))
	},
}

// drillNamesPolicy passes a drill's creation and deletion and the updates
// that change which BackupPolicy it names: a policy reads only which
// drills name it (RestoreVerified's NoDrill).
var drillNamesPolicy = predicate.Funcs{
	UpdateFunc: func(e event.UpdateEvent) bool {
		return policyNamed(e.ObjectOld) != policyNamed(e.ObjectNew)
	},
}

func policyNamed(o client.Object) string {
	if d, ok := o.(*opsv1alpha1.DRDrill); ok {
		return d.Spec.BackupPolicyName
	}
	return ""
}
