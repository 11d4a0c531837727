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
	"sync"

	batchv1 "k8s.io/api/batch/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// The backup CronJobs are cached without their pod templates (cachedCronJob):
// a template is most of what a CronJob weighs, and 1,000 policies have
// 2,000 to 3,000 of them. Whether a CronJob is in shape is then told from
// what the reconciler last saw of it whole: its UID, the generation it had
// then and the hash of the desired spec it was compared with. The API
// server raises the generation on every change of the spec, by anyone, and
// a CronJob deleted and created again has another UID; so a cached CronJob
// with the UID and generation last seen whole, for the same desired spec, is
// still as it was then. Anything else (a hand edit, a new desired spec, the
// first look after the manager starts) is read whole from the API server and
// put back in shape as before (shapeCronJob), which writes only if it is out
// of shape.
type cronJobsSeen struct {
	mu   sync.Mutex
	seen map[types.NamespacedName]cronJobSeen
}

// cronJobSeen is a CronJob as last read or written whole.
type cronJobSeen struct {
	uid        types.UID
	generation int64
	hash       string
	policy     string // the owner's name, to forget it with its owner
}

func (c *cronJobsSeen) inShape(cached *batchv1.CronJob, hash string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	seen, ok := c.seen[client.ObjectKeyFromObject(cached)]
	return ok && seen.uid == cached.UID && seen.generation == cached.Generation && seen.hash == hash
}

func (c *cronJobsSeen) record(cj *batchv1.CronJob, hash, policy string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.seen == nil {
		c.seen = map[types.NamespacedName]cronJobSeen{}
	}
	c.seen[client.ObjectKeyFromObject(cj)] = cronJobSeen{uid: cj.UID, generation: cj.Generation, hash: hash, policy: policy}
}

func (c *cronJobsSeen) forget(key types.NamespacedName) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.seen, key)
}

// forgetPolicy forgets the CronJobs of a deleted policy.
func (c *cronJobsSeen) forgetPolicy(policy types.NamespacedName) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for key, seen := range c.seen {
		if key.Namespace == policy.Namespace && seen.policy == policy.Name {
			delete(c.seen, key)
		}
	}
}

// applyCronJob creates or puts in shape a CronJob of owner. In the steady
// state it reads only the cache and writes nothing.
func (r *BackupPolicyReconciler) applyCronJob(ctx context.Context, owner client.Object, desired *batchv1.CronJob) error {
	return r.cronJobs.apply(ctx, r.Client, r.APIReader, r.Recorder, owner, desired)
}

// apply creates or puts in shape a CronJob of owner (the BackupPolicy's or
// the HelpDesk's), through c's cache and, when the cached copy cannot tell,
// the API server (reader).
func (c *cronJobsSeen) apply(ctx context.Context, cl client.Client, reader client.Reader, rec events.EventRecorder, owner client.Object, desired *batchv1.CronJob) error {
	hash, err := specHash(desired.Spec)
	if err != nil {
		return err
	}
	var cached batchv1.CronJob
	switch err := cl.Get(ctx, client.ObjectKeyFromObject(desired), &cached); {
	case err == nil && c.inShape(&cached, hash) && cronJobLabelled(&cached, desired, owner):
		return nil
	case err != nil && !apierrors.IsNotFound(err):
		return err
	}
	// The cache's copy has no pod template: read and patch the API
	// server's, whose defaults the patch leaves alone.
	whole, err := createOrPatchObject(ctx, readThrough{Client: cl, reader: reader}, rec, owner, desired, shapeCronJob(desired))
	if err != nil {
		return err
	}
	c.record(whole, hash, owner.GetName())
	return nil
}

// cronJobLabelled says whether the cached CronJob has the desired labels
// and is controlled by owner (both are in the cache's copy).
func cronJobLabelled(cached, desired *batchv1.CronJob, owner client.Object) bool {
	for k, v := range desired.Labels {
		if cached.Labels[k] != v {
			return false
		}
	}
	return metav1.IsControlledBy(cached, owner)
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
