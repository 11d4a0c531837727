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
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"

	batchv1 "k8s.io/api/batch/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// The backup CronJobs are cached without their pod templates (cachedCronJob):
// a template is most of what a CronJob weighs, and 1,000 policies have
// 2,000 to 3,000 of them. Whether a CronJob is in shape is then told from
// two annotations the operator writes with it: the hash of the spec it
// applied, and the generation that write gave the CronJob. The API server
// raises the generation on every change of the spec, by anyone, so a
// CronJob whose generation is still the one written, and whose spec hash
// is the desired one, is as the operator left it; anything else is read
// from the API server whole and put back in shape as before (shapeCronJob).
const (
	annotationSpecHash          = "ops.supportstack.io/spec-hash"
	annotationAppliedGeneration = "ops.supportstack.io/applied-generation"
)

// applyCronJob creates or puts in shape a CronJob of owner. In the steady
// state it reads only the cache and writes nothing.
func (r *BackupPolicyReconciler) applyCronJob(ctx context.Context, owner client.Object, desired *batchv1.CronJob) error {
	hash, err := specHash(desired.Spec)
	if err != nil {
		return err
	}
	var cached batchv1.CronJob
	switch err := r.Get(ctx, client.ObjectKeyFromObject(desired), &cached); {
	case err == nil && cronJobInShape(&cached, desired, owner, hash):
		return nil
	case err != nil && !apierrors.IsNotFound(err):
		return err
	}
	shape := shapeCronJob(desired)
	// The cache's copy has no pod template: read and patch the API
	// server's, whose defaults the patch leaves alone.
	return createOrPatch(ctx, readThrough{Client: r.Client, reader: r.APIReader}, r.Recorder, owner, desired, func(existing *batchv1.CronJob) {
		before := existing.Spec.DeepCopy()
		shape(existing)
		generation := existing.Generation
		switch {
		case existing.CreationTimestamp.IsZero():
			generation = 1 // a new object
		case !equality.Semantic.DeepEqual(before, &existing.Spec):
			generation++ // the API server raises it for a changed spec
		}
		// Should the API server not raise it (a change it defaults away),
		// the next reconcile finds the annotation off by one and writes it
		// once more.
		existing.Annotations = mergeLabels(existing.Annotations, map[string]string{
			annotationSpecHash:          hash,
			annotationAppliedGeneration: strconv.FormatInt(generation, 10),
		})
	})
}

// cronJobInShape says whether the cached CronJob is the one the operator
// last wrote for this desired spec, labels and owner.
func cronJobInShape(cached, desired *batchv1.CronJob, owner client.Object, hash string) bool {
	if cached.Annotations[annotationSpecHash] != hash ||
		cached.Annotations[annotationAppliedGeneration] != strconv.FormatInt(cached.Generation, 10) ||
		!metav1.IsControlledBy(cached, owner) {
		return false
	}
	for k, v := range desired.Labels {
		if cached.Labels[k] != v {
			return false
		}
	}
	return true
}

// specHash names a desired spec: JSON is deterministic here (struct fields
// in order, map keys sorted).
func specHash(spec batchv1.CronJobSpec) (string, error) {
	raw, err := json.Marshal(spec)
	if err != nil {
		return "", fmt.Errorf("hashing a CronJob spec: %w", err)
	}
	sum := sha256.Sum256(raw)
	return hex.EncodeToString(sum[:16]), nil
}

// readThrough is a client whose reads go to the API server.
type readThrough struct {
	client.Client
	reader client.Reader
}

func (c readThrough) Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	return c.reader.Get(ctx, key, obj, opts...)
}
