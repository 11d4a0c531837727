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
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	opsv1alpha1 "github.com/supportstack/operator/api/v1alpha1"
	"github.com/supportstack/operator/internal/testenv"
)

// TestAppliedEventsBatched (issue #16): the children one reconcile
// creates or changes are told in one Applied event, recorded when the
// reconcile ends; a reconcile that changes nothing records none, and
// outside a batch each change is its own event.
func TestAppliedEventsBatched(t *testing.T) {
	team := &opsv1alpha1.SupportTeam{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "team", UID: "uid-team"}}
	c := fake.NewClientBuilder().WithScheme(testenv.Scheme()).WithObjects(team).Build()
	cm := func(name, value string) *corev1.ConfigMap {
		return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: name}, Data: map[string]string{"k": value}}
	}
	apply := func(ctx context.Context, rec events.EventRecorder, want *corev1.ConfigMap) {
		t.Helper()
		if err := createOrPatch(ctx, c, rec, team, want, func(existing *corev1.ConfigMap) { existing.Data = want.Data }); err != nil {
			t.Fatal(err)
		}
	}
	rec := events.NewFakeRecorder(10)
	ctx, flush := batchApplied(context.Background(), rec, team)
	apply(ctx, rec, cm("a", "1"))
	apply(ctx, rec, cm("b", "1"))
	if n := len(rec.Events); n != 0 {
		t.Fatalf("%d events before the reconcile ended, want 0", n)
	}
	flush()
	if got, want := nextEvent(t, rec), "Normal Applied created ConfigMap a, created ConfigMap b"; got != want {
		t.Errorf("event %q, want %q", got, want)
	}

	ctx, flush = batchApplied(context.Background(), rec, team)
	apply(ctx, rec, cm("a", "1"))
	flush()
	if n := len(rec.Events); n != 0 {
		t.Errorf("a reconcile that changed nothing recorded %d events: %q", n, nextEvent(t, rec))
	}

	apply(context.Background(), rec, cm("a", "2"))
	apply(context.Background(), rec, cm("c", "1"))
	for _, want := range []string{"Normal Applied updated ConfigMap a", "Normal Applied created ConfigMap c"} {
		if got := nextEvent(t, rec); got != want {
			t.Errorf("unbatched event %q, want %q", got, want)
		}
	}
}

// nextEvent returns the fake recorder's next event, failing the test when
// none comes.
func nextEvent(t *testing.T, rec *events.FakeRecorder) string {
	t.Helper()
	select {
	case e := <-rec.Events:
		return e
	case <-time.After(5 * time.Second):
		t.Fatal("no event")
		return ""
	}
}

// TestAppliedNoteFits: the batched note stays within what the API server
// accepts for an event, and says how many changes it left out.
func TestAppliedNoteFits(t *testing.T) {
	changes := make([]string, 0, 40)
	for i := range 40 {
		changes = append(changes, fmt.Sprintf("created CronJob policy-with-a-rather-long-name-backup-%d", i))
	}
	note := appliedNote(changes)
	if len(note) > maxEventNote {
		t.Errorf("note of %d bytes, the API server accepts %d", len(note), maxEventNote)
	}
	listed := strings.Count(note, "created CronJob")
	if want := fmt.Sprintf(" and %d more", len(changes)-listed); !strings.HasSuffix(note, want) || listed == 0 {
		t.Errorf("note %q lists %d changes, want it to end %q", note, listed, want)
	}
	if got := appliedNote(changes[:2]); got != changes[0]+", "+changes[1] {
		t.Errorf("two changes: %q", got)
	}
}
