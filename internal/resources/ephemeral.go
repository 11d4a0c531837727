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

package resources

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

// Ephemeral storage (issue #19, "Disk"). Every pod the operator creates
// requests and is limited to the ephemeral storage it may write: each
// emptyDir has a sizeLimit, and the container's request and limit are the
// sum of those limits plus WritableLayerBytes. The request equals the
// limit: the scheduler reserves on the node all the pod may write, so a
// node is never promised more disk than it has, and the kubelet, which
// under disk pressure evicts first the pods using more than they
// requested, passes ours over while they stay within their limits.
const (
	// DefaultAgentCacheBytes bounds an agent pod's /tmp, where restic
	// keeps its cache (RESTIC_CACHE_DIR; restic check's temporary cache
	// too): the repository's index, tree packs and snapshot files, never
	// file contents. Measured with restic 0.14: a 1 GiB dump leaves
	// 108 KiB of cache, 65,439 files (601 MiB) leave 8.5 MiB, about
	// 130 bytes a file. 2 GiB holds the cache of several TiB of dumps or
	// some ten million files with room to spare; a larger repository
	// needs --agent-cache-size, since a cache that outgrows its volume
	// gets the pod evicted (the failed Job says so).
	DefaultAgentCacheBytes int64 = 2 << 30
	// DefaultAgentCacheSize is DefaultAgentCacheBytes as the manager's
	// --agent-cache-size flag writes it.
	DefaultAgentCacheSize = "2Gi"
	// MinAgentCacheBytes is the smallest cache --agent-cache-size accepts:
	// below it even a small repository's index and restic's temporary
	// files during a prune do not fit.
	MinAgentCacheBytes int64 = 256 << 20
	// WritableLayerBytes is what a container may write outside its
	// volumes: its root filesystem is read-only, so this is its log (the
	// kubelet counts container logs as ephemeral storage and rotates them
	// at 10 MiB by default, keeping 5) and the runtime's own files.
	WritableLayerBytes int64 = 256 << 20
	// ScratchWALBytes is room in the scratch server's data directory
	// beside the restored data: pg_wal holds up to max_wal_size (1 GB by
	// default) between checkpoints.
	ScratchWALBytes int64 = 1 << 30
	// scratchRunBytes and scratchTmpBytes bound the scratch server's
	// /var/run/postgresql (the socket and lock file) and /tmp (PostgreSQL
	// writes its temporary files under the data directory, not there).
	scratchRunBytes int64 = 16 << 20
	scratchTmpBytes int64 = 256 << 20
)

// ParseAgentCacheSize reads --agent-cache-size, a Kubernetes quantity
// ("2Gi", "512Mi"), and refuses a size under MinAgentCacheBytes.
func ParseAgentCacheSize(s string) (int64, error) {
	q, err := resource.ParseQuantity(s)
	if err != nil {
		return 0, fmt.Errorf("--agent-cache-size %q is not a quantity such as 2Gi or 512Mi: %w", s, err)
	}
	if q.Value() < MinAgentCacheBytes {
		return 0, fmt.Errorf("--agent-cache-size %s is under the 256Mi restic's cache needs for even a small repository", s)
	}
	return q.Value(), nil
}

// AgentPodOption adjusts the agent pods a builder renders.
type AgentPodOption func(*agentPodSettings)

type agentPodSettings struct {
	cacheBytes int64
	rtImage    string
}

// WithRTImage is the Request Tracker image a drill's requestTracker check
// runs beside the verify agent (DefaultRTImage when empty).
func WithRTImage(image string) AgentPodOption {
	return func(s *agentPodSettings) {
		if image != "" {
			s.rtImage = image
		}
	}
}

// WithAgentCache bounds the agent pods' cache volume (/tmp) to bytes;
// DefaultAgentCacheBytes when bytes is not positive.
func WithAgentCache(bytes int64) AgentPodOption {
	return func(s *agentPodSettings) {
		if bytes > 0 {
			s.cacheBytes = bytes
		}
	}
}

func agentSettings(opts []AgentPodOption) agentPodSettings {
	s := agentPodSettings{cacheBytes: DefaultAgentCacheBytes, rtImage: DefaultRTImage}
	for _, o := range opts {
		o(&s)
	}
	return s
}

// boundedEmptyDir is an emptyDir volume of at most bytes.
func boundedEmptyDir(name string, bytes int64) corev1.Volume {
	return corev1.Volume{Name: name, VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{
		SizeLimit: resource.NewQuantity(bytes, resource.BinarySI)}}}
}

// setEphemeralStorage makes every container of spec request and be
// limited to WritableLayerBytes, the first container also to the sum of
// the pod's emptyDir size limits (the kubelet evicts a pod whose volumes
// and containers together write more than its containers' limits).
func setEphemeralStorage(spec *corev1.PodSpec) {
	volumes := int64(0)
	for _, v := range spec.Volumes {
		if v.EmptyDir != nil && v.EmptyDir.SizeLimit != nil {
			volumes += v.EmptyDir.SizeLimit.Value()
		}
	}
	for i := range spec.Containers {
		bytes := WritableLayerBytes
		if i == 0 {
			bytes += volumes
		}
		r := &spec.Containers[i].Resources
		if r.Requests == nil {
			r.Requests = corev1.ResourceList{}
		}
		if r.Limits == nil {
			r.Limits = corev1.ResourceList{}
		}
		r.Requests[corev1.ResourceEphemeralStorage] = *resource.NewQuantity(bytes, resource.BinarySI)
		r.Limits[corev1.ResourceEphemeralStorage] = *resource.NewQuantity(bytes, resource.BinarySI)
	}
}

// PodEphemeralRequest is the ephemeral storage the scheduler reserves for
// a pod: the sum of its containers' and sidecars' requests, or the
// largest other init container's if that is more (those run one at a
// time, before the others).
func PodEphemeralRequest(spec *corev1.PodSpec) int64 {
	sum, init := int64(0), int64(0)
	for _, c := range spec.Containers {
		sum += c.Resources.Requests.StorageEphemeral().Value()
	}
	for _, c := range spec.InitContainers {
		if c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways {
			// A sidecar runs beside the containers, for as long as they do.
			sum += c.Resources.Requests.StorageEphemeral().Value()
			continue
		}
		init = max(init, c.Resources.Requests.StorageEphemeral().Value())
	}
	return max(sum, init)
}

// NodeRoom says whether a pod needing need bytes of ephemeral storage can
// run on some node: ok unless every node the pod could be scheduled on
// (Ready, schedulable, without a NoSchedule or NoExecute taint: the
// operator's pods tolerate none) reports allocatable ephemeral storage
// under need. A node that reports none (some test clusters) counts as
// unknown and so as room, as does a cluster with no such node (one may
// join; the stuck-pod diagnosis reports a pod that never schedules).
// largest is the most any eligible node allocates.
func NodeRoom(need int64, nodes []corev1.Node) (ok bool, largest int64) {
	eligible := 0
	for i := range nodes {
		n := &nodes[i]
		if !nodeSchedulable(n) {
			continue
		}
		eligible++
		q, reported := n.Status.Allocatable[corev1.ResourceEphemeralStorage]
		if !reported {
			return true, largest
		}
		largest = max(largest, q.Value())
	}
	return eligible == 0 || largest >= need, largest
}

func nodeSchedulable(n *corev1.Node) bool {
	if n.Spec.Unschedulable || !n.DeletionTimestamp.IsZero() {
		return false
	}
	for _, t := range n.Spec.Taints {
		if t.Effect == corev1.TaintEffectNoSchedule || t.Effect == corev1.TaintEffectNoExecute {
			return false
		}
	}
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// FormatBytes writes a size for people: whole GiB or MiB where exact, else
// GiB with one decimal ("12Gi", "512Mi", "8.5Gi").
func FormatBytes(b int64) string {
	const mi, gi = 1 << 20, 1 << 30
	switch {
	case b%gi == 0:
		return fmt.Sprintf("%dGi", b/gi)
	case b < gi && b%mi == 0:
		return fmt.Sprintf("%dMi", b/mi)
	case b < gi:
		return fmt.Sprintf("%.1fMi", float64(b)/mi)
	}
	return fmt.Sprintf("%.1fGi", float64(b)/gi)
}
