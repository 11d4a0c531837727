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

package placement

import (
	"reflect"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
)

func TestFor(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	rwo := []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce}
	claims := map[string]Claim{
		"a":    {Name: "a", AccessModes: rwo},
		"b":    {Name: "b", AccessModes: rwo},
		"c":    {Name: "c", AccessModes: rwo},
		"rwx":  {Name: "rwx", AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteMany}},
		"rox":  {Name: "rox", AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadOnlyMany}},
		"rwop": {Name: "rwop", AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOncePod}},
		// RWX listed with RWO: the claim allows several nodes.
		"both": {Name: "both", AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce, corev1.ReadWriteMany}},
	}
	running := func(name, node string, created time.Time, claims ...string) Pod {
		return Pod{Name: name, Node: node, Phase: corev1.PodRunning, Created: created, Claims: claims}
	}
	vols := func(claims ...string) []Volume {
		out := make([]Volume, 0, len(claims))
		for _, c := range claims {
			out = append(out, Volume{Name: "v-" + c, Claim: c})
		}
		return out
	}
	cases := []struct {
		name      string
		volumes   []Volume
		pods      []Pod
		databases bool
		want      []Part
		refused   []string
	}{
		{"only databases: one part anywhere", nil, nil, true,
			[]Part{{Databases: true}}, nil},
		{"RWO mounted on B: the part runs on B, databases with it", vols("a"), []Pod{running("app", "node-b", t0, "a")}, true,
			[]Part{{Node: "node-b", Volumes: []string{"v-a"}, Databases: true}}, nil},
		{"RWO not mounted: anywhere (the volume's own affinity applies)", vols("a"), nil, true,
			[]Part{{Volumes: []string{"v-a"}, Databases: true}}, nil},
		{"RWX mounted on B: no node", vols("rwx"), []Pod{running("app", "node-b", t0, "rwx")}, false,
			[]Part{{Volumes: []string{"v-rwx"}}}, nil},
		{"ROX and RWO+RWX: no node", vols("rox", "both"), []Pod{running("app", "node-b", t0, "rox", "both")}, false,
			[]Part{{Volumes: []string{"v-rox", "v-both"}}}, nil},
		{"two RWO on two nodes: two parts, ordered by node", vols("b", "a"),
			[]Pod{running("x", "node-c", t0, "b"), running("y", "node-b", t0, "a")}, true,
			[]Part{{Node: "node-b", Volumes: []string{"v-a"}, Databases: true}, {Node: "node-c", Volumes: []string{"v-b"}}}, nil},
		{"two RWO on one node: one part", vols("a", "b"),
			[]Pod{running("x", "node-b", t0, "a"), running("y", "node-b", t0, "b")}, false,
			[]Part{{Node: "node-b", Volumes: []string{"v-a", "v-b"}}}, nil},
		{"RWX joins the first node's part", vols("rwx", "a"), []Pod{running("x", "node-b", t0, "a")}, false,
			[]Part{{Node: "node-b", Volumes: []string{"v-a", "v-rwx"}}}, nil},
		{"unmounted RWO keeps a free part; databases and RWX go there", vols("a", "b", "rwx"), []Pod{running("x", "node-b", t0, "a")}, true,
			[]Part{{Volumes: []string{"v-b", "v-rwx"}, Databases: true}, {Node: "node-b", Volumes: []string{"v-a"}}}, nil},
		{"RWOP is refused, the rest still placed", vols("rwop", "a"), []Pod{running("x", "node-b", t0, "a", "rwop")}, false,
			[]Part{{Node: "node-b", Volumes: []string{"v-a"}}}, []string{"v-rwop"}},
		{"a moving app: the live pod's node, not the terminating one's", vols("a"),
			[]Pod{{Name: "old", Node: "node-b", Phase: corev1.PodRunning, Deleting: true, Created: t0.Add(time.Hour), Claims: []string{"a"}},
				{Name: "new", Node: "node-c", Phase: corev1.PodPending, Created: t0, Claims: []string{"a"}}}, false,
			[]Part{{Node: "node-c", Volumes: []string{"v-a"}}}, nil},
		{"running before pending, then the newest", vols("a"),
			[]Pod{{Name: "p", Node: "node-d", Phase: corev1.PodPending, Created: t0.Add(2 * time.Hour), Claims: []string{"a"}},
				running("old", "node-b", t0, "a"), running("new", "node-c", t0.Add(time.Hour), "a")}, false,
			[]Part{{Node: "node-c", Volumes: []string{"v-a"}}}, nil},
		{"unscheduled and finished pods hold nothing", vols("a"),
			[]Pod{{Name: "u", Phase: corev1.PodPending, Claims: []string{"a"}},
				{Name: "done", Node: "node-b", Phase: corev1.PodSucceeded, Claims: []string{"a"}},
				{Name: "failed", Node: "node-c", Phase: corev1.PodFailed, Claims: []string{"a"}}}, false,
			[]Part{{Volumes: []string{"v-a"}}}, nil},
		{"a pod mounting another claim does not count", vols("a"), []Pod{running("x", "node-b", t0, "b")}, false,
			[]Part{{Volumes: []string{"v-a"}}}, nil},
		{"a claim not found: anywhere (reported by the reference check)", []Volume{{Name: "gone", Claim: "missing"}}, nil, false,
			[]Part{{Volumes: []string{"gone"}}}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			plan := For(tc.volumes, claims, tc.pods, tc.databases, "")
			if !reflect.DeepEqual(plan.Parts, tc.want) {
				t.Errorf("parts\n got %+v\nwant %+v", plan.Parts, tc.want)
			}
			if len(plan.Refused) != len(tc.refused) {
				t.Errorf("refused %v, want %v", plan.Refused, tc.refused)
			}
			for _, v := range tc.refused {
				if msg := plan.Refused[v]; !strings.Contains(msg, "ReadWriteOncePod") || !strings.Contains(msg, "ReadWriteOnce (") {
					t.Errorf("refusal of %s does not say why and what to do: %q", v, msg)
				}
			}
		})
	}
}

func TestDescribe(t *testing.T) {
	p := Plan{Parts: []Part{{Volumes: []string{"x"}, Databases: true}, {Node: "n2", Volumes: []string{"a", "b"}}}}
	if got, want := p.Describe(), "the databases, x on any node; a, b on node n2"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

// TestForRepositoryClaim: a repository on a ReadWriteOnce claim is mounted
// by every backup pod of the run (and by prune and check).
func TestForRepositoryClaim(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	rwo := []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce}
	claims := map[string]Claim{
		"a": {Name: "a", AccessModes: rwo}, "b": {Name: "b", AccessModes: rwo},
		"repo":     {Name: "repo", AccessModes: rwo},
		"repo-rwx": {Name: "repo-rwx", AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteMany}},
		"repo-pod": {Name: "repo-pod", AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOncePod}},
	}
	run := func(name, node string, claims ...string) Pod {
		return Pod{Name: name, Node: node, Phase: corev1.PodRunning, Created: t0, Claims: claims}
	}
	vols := []Volume{{Name: "va", Claim: "a"}, {Name: "vb", Claim: "b"}}
	cases := []struct {
		name       string
		repository string
		pods       []Pod
		want       []Part
		repoNode   string
		refused    string
	}{
		{"RWX repository: no constraint", "repo-rwx", []Pod{run("x", "n1", "a"), run("y", "n2", "b"), run("s3", "n3", "repo-rwx")},
			[]Part{{Node: "n1", Volumes: []string{"va"}, Databases: true}, {Node: "n2", Volumes: []string{"vb"}}}, "", ""},
		{"RWO repository mounted where the sources are: one part there", "repo", []Pod{run("x", "n1", "a", "b"), run("s3", "n1", "repo")},
			[]Part{{Node: "n1", Volumes: []string{"va", "vb"}, Databases: true}}, "n1", ""},
		{"RWO repository mounted, sources free: everything on its node", "repo", []Pod{run("s3", "n3", "repo")},
			[]Part{{Node: "n3", Volumes: []string{"va", "vb"}, Databases: true}}, "n3", ""},
		{"RWO repository on another node than a source: refused", "repo", []Pod{run("x", "n1", "a"), run("s3", "n3", "repo")},
			nil, "", "mounted on node n3, but sources are mounted on node n1"},
		{"RWO repository unmounted, sources on two nodes: refused", "repo", []Pod{run("x", "n1", "a"), run("y", "n2", "b")},
			nil, "", "sources are mounted on 2 nodes"},
		{"RWO repository unmounted, one part: fine", "repo", []Pod{run("x", "n1", "a", "b")},
			[]Part{{Node: "n1", Volumes: []string{"va", "vb"}, Databases: true}}, "", ""},
		{"RWOP repository: refused", "repo-pod", nil, nil, "", "ReadWriteOncePod"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			plan := For(vols, claims, tc.pods, true, tc.repository)
			if tc.refused != "" {
				if !strings.Contains(plan.Refused[Repository], tc.refused) {
					t.Fatalf("refusal %q, want one saying %q", plan.Refused[Repository], tc.refused)
				}
				return
			}
			if len(plan.Refused) != 0 || !reflect.DeepEqual(plan.Parts, tc.want) || plan.RepositoryNode != tc.repoNode {
				t.Errorf("plan %+v, want parts %+v on repository node %q", plan, tc.want, tc.repoNode)
			}
		})
	}
}
