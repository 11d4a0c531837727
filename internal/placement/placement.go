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

// Package placement decides where the pods of one backup run must run so
// that every volume source can be mounted: a ReadWriteOnce volume can be
// attached to one node at a time, so while an application pod has it
// mounted, the backup pod that reads it must run on that pod's node. Sources
// that must run on different nodes are split into parts, one pod each,
// whose snapshots form one recovery set.
package placement

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// Claim is what placement needs of a volume source's PersistentVolumeClaim.
type Claim struct {
	Name        string
	AccessModes []corev1.PersistentVolumeAccessMode
}

// Pod is what placement needs of a pod that mounts claims.
type Pod struct {
	Name     string
	Node     string // "" while unscheduled
	Phase    corev1.PodPhase
	Deleting bool
	Created  time.Time
	Claims   []string
}

// Volume is a volume source: its name in the policy and its claim.
type Volume struct {
	Name  string
	Claim string
}

// Part is one backup pod of a run. Node is the node it must run on, ""
// for anywhere (the scheduler still honours a volume's own node affinity).
// Databases is true for the part that also dumps the policy's databases.
type Part struct {
	Node      string
	Volumes   []string
	Databases bool
}

// Plan is where one run's pods go, or why a volume can never be backed up.
type Plan struct {
	Parts []Part
	// Refused names, per volume source (or Repository), why no backup pod
	// can mount it.
	Refused map[string]string
	// RepositoryNode is where every pod that mounts the repository's
	// claim must run (prune and check too): the node of the pod that has
	// a ReadWriteOnce repository claim mounted; "" for anywhere.
	RepositoryNode string
}

// Repository is the key of Plan.Refused for the repository's claim.
const Repository = "repository"

// For places the volume sources of a policy (and its databases, when it
// has any) given their claims and the pods that mount those claims:
//
//   - a ReadWriteMany or ReadOnlyMany claim, or a ReadWriteOnce claim no
//     running pod mounts: anywhere;
//   - a ReadWriteOnce claim mounted by a scheduled pod: that pod's node
//     (a pod being deleted counts only when no other pod mounts it; among
//     several, the newest running pod wins: it is the one that stays);
//   - a ReadWriteOncePod claim: refused, no second pod can ever mount it.
//
// Volumes of one node share a part; parts are ordered with the part
// without a node first, then by node name, so a part keeps its place (and
// its CronJob) while nothing moves. Volumes that may run anywhere and the
// databases join the first node's part when no volume needs a free part
// of its own: a ReadWriteOnce claim that no pod mounts may be bound to a
// volume with its own node affinity (local disks), which a required node
// could contradict, so such claims keep a part without a node.
//
// repository is the claim holding a repository on a volume ("" for none):
// every backup pod mounts it, so a ReadWriteOnce one puts every part on
// the node that has it mounted, and a run that would need two nodes is
// refused.
func For(volumes []Volume, claims map[string]Claim, pods []Pod, databases bool, repository string) Plan {
	plan := parts(volumes, claims, pods, databases)
	c, ok := claims[repository]
	if repository == "" || !ok || slices.Contains(c.AccessModes, corev1.ReadWriteMany) || slices.Contains(c.AccessModes, corev1.ReadOnlyMany) {
		return plan
	}
	if plan.Refused == nil {
		plan.Refused = map[string]string{}
	}
	if slices.Contains(c.AccessModes, corev1.ReadWriteOncePod) {
		plan.Refused[Repository] = fmt.Sprintf("PersistentVolumeClaim %s is ReadWriteOncePod: no backup, prune or check pod can ever mount it; "+
			"give the claim the access mode ReadWriteOnce or ReadWriteMany, or use an S3 or REST repository", repository)
		return plan
	}
	node := mountedOn(repository, pods)
	var elsewhere []string
	for _, p := range plan.Parts {
		if p.Node != "" && p.Node != node {
			elsewhere = append(elsewhere, p.Node)
		}
	}
	switch {
	case len(elsewhere) > 0 && node != "":
		plan.Refused[Repository] = fmt.Sprintf("PersistentVolumeClaim %s is ReadWriteOnce and mounted on node %s, but sources are mounted on node %s: "+
			"no backup pod can mount both; give the repository's claim ReadWriteMany, or use an S3 or REST repository", repository, node, strings.Join(elsewhere, ", "))
	case node != "":
		// Every pod of the run goes where the repository is mounted: one part.
		one := Part{Node: node}
		for _, p := range plan.Parts {
			one.Volumes = append(one.Volumes, p.Volumes...)
			one.Databases = one.Databases || p.Databases
		}
		plan.Parts, plan.RepositoryNode = []Part{one}, node
	case len(plan.Parts) > 1:
		plan.Refused[Repository] = fmt.Sprintf("PersistentVolumeClaim %s is ReadWriteOnce, and the sources are mounted on %d nodes: "+
			"the backup pods of one run cannot all mount it; give the repository's claim ReadWriteMany, or use an S3 or REST repository", repository, len(plan.Parts))
	}
	if len(plan.Refused) == 0 {
		plan.Refused = nil
	}
	return plan
}

// parts places the volume sources and the databases.
func parts(volumes []Volume, claims map[string]Claim, pods []Pod, databases bool) Plan {
	plan := Plan{Refused: map[string]string{}}
	byNode := map[string][]string{}
	var free []string
	needFree := false
	for _, v := range volumes {
		c, ok := claims[v.Claim]
		switch {
		case !ok:
			free = append(free, v.Name) // not found: reported elsewhere
		case slices.Contains(c.AccessModes, corev1.ReadWriteOncePod):
			plan.Refused[v.Name] = fmt.Sprintf("PersistentVolumeClaim %s is ReadWriteOncePod: only the one pod that mounts it may read it, so no backup pod ever can; "+
				"give the claim the access mode ReadWriteOnce (a backup pod then runs on the node of the pod that mounts it) or ReadWriteMany", v.Claim)
		case slices.Contains(c.AccessModes, corev1.ReadWriteMany) || slices.Contains(c.AccessModes, corev1.ReadOnlyMany):
			free = append(free, v.Name)
		default:
			if node := mountedOn(v.Claim, pods); node != "" {
				byNode[node] = append(byNode[node], v.Name)
			} else {
				free = append(free, v.Name)
				needFree = true
			}
		}
	}
	nodes := make([]string, 0, len(byNode))
	for n := range byNode {
		nodes = append(nodes, n)
	}
	sort.Strings(nodes)
	if needFree || len(nodes) == 0 {
		plan.Parts = append(plan.Parts, Part{Volumes: free, Databases: databases})
		free, databases = nil, false
	}
	for i, n := range nodes {
		p := Part{Node: n, Volumes: byNode[n]}
		if i == 0 {
			p.Volumes = append(p.Volumes, free...)
			p.Databases = databases
		}
		plan.Parts = append(plan.Parts, p)
	}
	if len(plan.Refused) == 0 {
		plan.Refused = nil
	}
	return plan
}

// mountedOn is the node of the pod that holds claim: running pods before
// pending ones, live pods before those being deleted, newest first; "" when
// no scheduled pod mounts it.
func mountedOn(claim string, pods []Pod) string {
	var best *Pod
	better := func(a, b *Pod) bool {
		if a.Deleting != b.Deleting {
			return !a.Deleting
		}
		if (a.Phase == corev1.PodRunning) != (b.Phase == corev1.PodRunning) {
			return a.Phase == corev1.PodRunning
		}
		if !a.Created.Equal(b.Created) {
			return a.Created.After(b.Created)
		}
		return a.Name < b.Name
	}
	for i := range pods {
		p := &pods[i]
		if p.Node == "" || p.Phase == corev1.PodSucceeded || p.Phase == corev1.PodFailed || !slices.Contains(p.Claims, claim) {
			continue
		}
		if best == nil || better(p, best) {
			best = p
		}
	}
	if best == nil {
		return ""
	}
	return best.Node
}

// Describe is one line on a plan with more than one part, for status.
func (p Plan) Describe() string {
	parts := make([]string, 0, len(p.Parts))
	for _, part := range p.Parts {
		where := "any node"
		if part.Node != "" {
			where = "node " + part.Node
		}
		what := slices.Clone(part.Volumes)
		if part.Databases {
			what = append([]string{"the databases"}, what...)
		}
		parts = append(parts, fmt.Sprintf("%s on %s", strings.Join(what, ", "), where))
	}
	return strings.Join(parts, "; ")
}
