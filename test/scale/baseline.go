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

package main

import (
	"context"
	"fmt"
	"net/http"
	"sync/atomic"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	opsv1alpha1 "github.com/supportstack/operator/api/v1alpha1"
	"github.com/supportstack/operator/internal/agentapi"
	"github.com/supportstack/operator/internal/placement"
	"github.com/supportstack/operator/internal/queues"
	"github.com/supportstack/operator/internal/resources"
)

// agentImage is the manager's default (a dev build's).
const agentImage = "supportstack/agent:dev"

// counter counts a client's requests by HTTP method.
type counter struct{ get, post, put, patch, del atomic.Int64 }

func (c *counter) writes() int64 {
	return c.post.Load() + c.put.Load() + c.patch.Load() + c.del.Load()
}

func (c *counter) reset() {
	for _, v := range []*atomic.Int64{&c.get, &c.post, &c.put, &c.patch, &c.del} {
		v.Store(0)
	}
}

type countingTransport struct {
	next http.RoundTripper
	c    *counter
}

func (t countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	switch r.Method {
	case http.MethodGet:
		t.c.get.Add(1)
	case http.MethodPost:
		t.c.post.Add(1)
	case http.MethodPut:
		t.c.put.Add(1)
	case http.MethodPatch:
		t.c.patch.Add(1)
	case http.MethodDelete:
		t.c.del.Add(1)
	}
	return t.next.RoundTrip(r)
}

// countingClient is a plain controller-runtime client (no cache) whose
// requests are counted.
func countingClient(cfg *rest.Config, scheme *runtime.Scheme) (client.Client, *counter, error) {
	cfg = rest.CopyConfig(cfg)
	cnt := &counter{}
	cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper { return countingTransport{next: rt, c: cnt} })
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	return c, cnt, err
}

// baseline does what the operator does with the API server, and nothing
// else: the same children, built by the same pure functions
// (internal/resources), created directly, and one status write per object
// saying Ready. It reads nothing and computes no coverage.
type baseline struct {
	c      client.Client
	scheme *runtime.Scheme
}

func (b *baseline) owned(ctx context.Context, owner client.Object, objs ...client.Object) error {
	for _, o := range objs {
		if err := controllerutil.SetControllerReference(owner, o, b.scheme); err != nil {
			return err
		}
		if err := b.c.Create(ctx, o); err != nil {
			return fmt.Errorf("creating %s: %w", o.GetName(), err)
		}
	}
	return nil
}

func noTeams(string) (*opsv1alpha1.SupportTeam, bool, error) { return nil, false, nil }

func teamChildren(team *opsv1alpha1.SupportTeam) ([]client.Object, error) {
	table, err := queues.Build(team, noTeams)
	if err != nil {
		return nil, err
	}
	return []client.Object{resources.RoutingConfigMap(team, table), resources.TeamAccessRole(team, true), resources.TeamAccessRoleBinding(team)}, nil
}

func ready(conds *[]metav1.Condition, gen int64) {
	meta.SetStatusCondition(conds, metav1.Condition{Type: opsv1alpha1.ConditionReady, Status: metav1.ConditionTrue,
		Reason: opsv1alpha1.ReasonReconciled, Message: "children in place", ObservedGeneration: gen})
}

func (b *baseline) team(ctx context.Context, team *opsv1alpha1.SupportTeam) error {
	if err := b.c.Create(ctx, team); err != nil {
		return err
	}
	children, err := teamChildren(team)
	if err != nil {
		return err
	}
	if err := b.owned(ctx, team, children...); err != nil {
		return err
	}
	return b.teamStatus(ctx, team)
}

func (b *baseline) teamStatus(ctx context.Context, team *opsv1alpha1.SupportTeam) error {
	before := team.DeepCopy()
	team.Status.Headcount = int32(len(team.Spec.Members))
	team.Status.ObservedGeneration = team.Generation
	ready(&team.Status.Conditions, team.Generation)
	return b.c.Status().Patch(ctx, team, client.MergeFrom(before))
}

func (b *baseline) policy(ctx context.Context, p *opsv1alpha1.BackupPolicy) error {
	if err := b.c.Create(ctx, p); err != nil {
		return err
	}
	var volumes []placement.Volume
	claims := map[string]placement.Claim{}
	for _, v := range p.Spec.Sources.Volumes {
		volumes = append(volumes, placement.Volume{Name: v.Name, Claim: v.ClaimName})
		claims[v.ClaimName] = placement.Claim{Name: v.ClaimName, AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce}}
	}
	plan := placement.For(volumes, claims, nil, true, "")
	cache := resources.WithAgentCache(resources.DefaultAgentCacheBytes)
	children := []client.Object{resources.BackupServiceAccount(p)}
	for _, cj := range resources.BackupCronJobs(p, agentImage, plan, cache) {
		children = append(children, cj)
	}
	for _, op := range []string{agentapi.OperationPrune, agentapi.OperationCheck} {
		children = append(children, resources.BackupCronJob(p, op, agentImage, cache))
	}
	children = append(children, resources.BackupNetworkPolicy(p, []resources.EgressPeer{
		{Namespace: p.Namespace, PodSelector: map[string]string{"app": postgresService}, Port: 5432},
		{CIDR: "0.0.0.0/0", Port: 443},
	}))
	if err := b.owned(ctx, p, children...); err != nil {
		return err
	}
	before := p.DeepCopy()
	p.Status.ObservedGeneration = p.Generation
	ready(&p.Status.Conditions, p.Generation)
	return b.c.Status().Patch(ctx, p, client.MergeFrom(before))
}

func (b *baseline) drill(ctx context.Context, d *opsv1alpha1.DRDrill) error {
	if err := b.c.Create(ctx, d); err != nil {
		return err
	}
	before := d.DeepCopy()
	d.Status.ObservedGeneration = d.Generation
	ready(&d.Status.Conditions, d.Generation)
	return b.c.Status().Patch(ctx, d, client.MergeFrom(before))
}

// rosterChange applies a changed roster to a team and then, as a plain
// client would, patches the children that differ and writes the status.
func (b *baseline) rosterChange(ctx context.Context, team *opsv1alpha1.SupportTeam, changed *opsv1alpha1.SupportTeam) error {
	before := team.DeepCopy()
	team.Spec.Members = changed.Spec.Members
	if err := b.c.Patch(ctx, team, client.MergeFrom(before)); err != nil {
		return err
	}
	children, err := teamChildren(team)
	if err != nil {
		return err
	}
	for _, want := range children {
		got := want.DeepCopyObject().(client.Object)
		if err := b.c.Get(ctx, client.ObjectKeyFromObject(want), got); err != nil {
			return err
		}
		if same(want, got) {
			continue
		}
		patch := client.MergeFrom(got.DeepCopyObject().(client.Object))
		copySpec(want, got)
		if err := b.c.Patch(ctx, got, patch); err != nil {
			return err
		}
	}
	return b.teamStatus(ctx, team)
}

func same(want, got client.Object) bool {
	switch w := want.(type) {
	case *corev1.ConfigMap:
		return equality.Semantic.DeepEqual(w.Data, got.(*corev1.ConfigMap).Data)
	default:
		g := got.DeepCopyObject().(client.Object)
		copySpec(want, g)
		return equality.Semantic.DeepEqual(g, got)
	}
}

// copySpec copies want's content (not metadata) onto got.
func copySpec(want, got client.Object) {
	switch w := want.(type) {
	case *corev1.ConfigMap:
		got.(*corev1.ConfigMap).Data = w.Data
	default:
		u, err := runtime.DefaultUnstructuredConverter.ToUnstructured(want)
		if err != nil {
			return
		}
		g, err := runtime.DefaultUnstructuredConverter.ToUnstructured(got)
		if err != nil {
			return
		}
		for k, v := range u {
			if k != "metadata" && k != "status" && k != "apiVersion" && k != "kind" {
				g[k] = v
			}
		}
		_ = runtime.DefaultUnstructuredConverter.FromUnstructured(g, got)
	}
}
