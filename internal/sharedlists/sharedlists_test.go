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

package sharedlists

import (
	"encoding/json"
	"math"
	"reflect"
	"runtime"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	opsv1alpha1 "github.com/supportstack/operator/api/v1alpha1"
	"github.com/supportstack/operator/internal/agentapi"
	"github.com/supportstack/operator/internal/resources"
)

func list(pairs ...string) corev1.ResourceList {
	l := corev1.ResourceList{}
	for i := 0; i < len(pairs); i += 2 {
		l[corev1.ResourceName(pairs[i])] = resource.MustParse(pairs[i+1])
	}
	return l
}

func same(a, b corev1.ResourceList) bool {
	return reflect.ValueOf(a).UnsafePointer() == reflect.ValueOf(b).UnsafePointer()
}

func TestShare(t *testing.T) {
	for _, tc := range []struct {
		name  string
		a, b  corev1.ResourceList
		share bool
	}{
		{"equal lists", list("cpu", "100m", "memory", "128Mi"), list("memory", "128Mi", "cpu", "100m"), true},
		{"equal quantities written differently", list("memory", "1Gi"), list("memory", "1024Mi"), true},
		{"another quantity", list("cpu", "100m", "memory", "128Mi"), list("cpu", "100m", "memory", "256Mi"), false},
		{"another resource", list("memory", "1Gi"), list("ephemeral-storage", "1Gi"), false},
		{"one more resource", list("memory", "1Gi"), list("memory", "1Gi", "cpu", "1"), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			table := New(8)
			a, b := table.Share(tc.a), table.Share(tc.b)
			if !equality.Semantic.DeepEqual(a, tc.a) || !equality.Semantic.DeepEqual(b, tc.b) {
				t.Errorf("Share changed a list: %v %v from %v %v", a, b, tc.a, tc.b)
			}
			if same(a, b) != tc.share {
				t.Errorf("shared %v, want %v", same(a, b), tc.share)
			}
		})
	}

	t.Run("empty lists stay as they are", func(t *testing.T) {
		table := New(8)
		if l := table.Share(nil); l != nil {
			t.Errorf("Share(nil) = %v", l)
		}
		if table.Len() != 0 {
			t.Errorf("the table holds %d lists after an empty one", table.Len())
		}
	})

	t.Run("a full table shares what it holds and keeps nothing new", func(t *testing.T) {
		table := New(2)
		first := table.Share(list("cpu", "1"))
		table.Share(list("cpu", "2"))
		third := list("cpu", "3")
		if got := table.Share(third); !same(got, third) || table.Len() != 2 {
			t.Errorf("a third list was kept (%d lists) or changed", table.Len())
		}
		if got := table.Share(list("cpu", "1")); !same(got, first) {
			t.Error("a list the full table holds was not shared")
		}
	})

	t.Run("every container of a pod spec", func(t *testing.T) {
		table := New(8)
		req, lim := list("cpu", "100m"), list("cpu", "1")
		spec := func() *corev1.PodSpec {
			r := corev1.ResourceRequirements{Requests: list("cpu", "100m"), Limits: list("cpu", "1")}
			return &corev1.PodSpec{InitContainers: []corev1.Container{{Resources: r}}, Containers: []corev1.Container{{Resources: r}, {Resources: r}},
				EphemeralContainers: []corev1.EphemeralContainer{{EphemeralContainerCommon: corev1.EphemeralContainerCommon{Resources: r}}},
				Resources:           &corev1.ResourceRequirements{Requests: list("cpu", "100m")}}
		}
		table.Share(req)
		table.Share(lim)
		s := spec()
		table.PodSpec(s)
		for _, r := range []corev1.ResourceRequirements{s.InitContainers[0].Resources, s.Containers[0].Resources, s.Containers[1].Resources,
			s.EphemeralContainers[0].Resources} {
			if !same(r.Requests, req) || !same(r.Limits, lim) {
				t.Errorf("a container's lists are not the shared ones")
			}
		}
		if !same(s.Resources.Requests, req) {
			t.Error("the pod's own requests are not the shared ones")
		}
	})
}

// TestSharingHoldsLess measures what the pod templates of 1,000 backup
// policies' CronJobs (backup and prune, as the operator writes them)
// hold, decoded each with its own resource lists and sharing them.
func TestSharingHoldsLess(t *testing.T) {
	const policies = 1000
	policy := &opsv1alpha1.BackupPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: "helpdesk", Namespace: "support"},
		Spec: opsv1alpha1.BackupPolicySpec{
			Sources:    opsv1alpha1.BackupSources{Postgres: []opsv1alpha1.PostgresSource{{Name: "tickets"}}},
			Repository: opsv1alpha1.Repository{URL: "s3:https://s3.example.com/b"},
		},
	}
	raws := make([][]byte, 0, 2)
	for _, op := range []string{agentapi.OperationBackup, agentapi.OperationPrune} {
		raw, err := json.Marshal(resources.BackupCronJob(policy, op, "supportstack/agent:dev").Spec.JobTemplate.Spec.Template.Spec)
		if err != nil {
			t.Fatal(err)
		}
		raws = append(raws, raw)
	}
	templates := policies * len(raws)
	// The least of three measurements, in a package of its own so that
	// nothing else allocates beside it.
	held := func(share bool) int64 {
		least := int64(math.MaxInt64)
		for range 3 {
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			table := New(256)
			specs := make([]corev1.PodSpec, templates)
			for i := range specs {
				if err := json.Unmarshal(raws[i%len(raws)], &specs[i]); err != nil {
					t.Fatal(err)
				}
				if share {
					table.PodSpec(&specs[i])
				}
			}
			runtime.GC()
			runtime.ReadMemStats(&after)
			runtime.KeepAlive(specs)
			runtime.KeepAlive(table)
			least = min(least, int64(after.HeapAlloc)-int64(before.HeapAlloc))
		}
		return least
	}
	own, shared := held(false), held(true)
	t.Logf("%d CronJob pod templates: %.1f MB with their own resource lists, %.1f MB sharing them (%d vs %d bytes a template)",
		templates, float64(own)/1e6, float64(shared)/1e6, own/int64(templates), shared/int64(templates))
	// A shared list saves its two maps' buckets: about 1.4 KB a template
	// as the operator writes them (two lists of two resources).
	if own <= 0 || shared <= 0 || own-shared < 1000*int64(templates) {
		t.Errorf("sharing holds %d bytes, own lists %d: want at least 1,000 bytes a template less", shared, own)
	}
}
