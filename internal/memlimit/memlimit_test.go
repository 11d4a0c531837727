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

package memlimit

import (
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"
)

// fakeRoot writes files (path -> content) under a temporary root.
func fakeRoot(t *testing.T, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for p, content := range files {
		full := filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// What a hybrid (v1 + unified) host shows, and a v2-only container's.
const (
	hybridMountinfo = `31 23 0:28 / /sys/fs/cgroup rw,relatime shared:9 - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/unified rw,nosuid shared:10 - cgroup2 cgroup2 rw,nsdelegate
40 31 0:37 / /sys/fs/cgroup/memory rw,nosuid shared:20 - cgroup cgroup rw,memory
41 31 0:38 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid shared:21 - cgroup cgroup rw,cpu,cpuacct
`
	v2Mountinfo = `600 500 0:40 / /sys/fs/cgroup ro,nosuid - cgroup2 cgroup ro,nsdelegate
`
)

func TestFromCgroup(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files map[string]string
		limit int64
		ok    bool
	}{
		{
			name: "v1: the container's own limit",
			files: map[string]string{
				"proc/self/cgroup":    "11:memory:/kubepods/pod1/c1\n4:cpu,cpuacct:/kubepods/pod1/c1\n0::/kubepods/pod1/c1\n",
				"proc/self/mountinfo": hybridMountinfo,
				"sys/fs/cgroup/memory/kubepods/pod1/c1/memory.limit_in_bytes": "268435456\n",
				"sys/fs/cgroup/memory/kubepods/pod1/memory.limit_in_bytes":    "9223372036854771712\n",
				"sys/fs/cgroup/memory/memory.limit_in_bytes":                  "9223372036854771712\n",
			},
			limit: 256 << 20, ok: true,
		},
		{
			name: "v1: a smaller limit on the pod's cgroup wins",
			files: map[string]string{
				"proc/self/cgroup":    "11:memory:/kubepods/pod1/c1\n",
				"proc/self/mountinfo": hybridMountinfo,
				"sys/fs/cgroup/memory/kubepods/pod1/c1/memory.limit_in_bytes": "9223372036854771712\n",
				"sys/fs/cgroup/memory/kubepods/pod1/memory.limit_in_bytes":    "134217728\n",
			},
			limit: 128 << 20, ok: true,
		},
		{
			name: "v1: no limit anywhere (the host's root cgroup)",
			files: map[string]string{
				"proc/self/cgroup":                           "11:memory:/\n",
				"proc/self/mountinfo":                        hybridMountinfo,
				"sys/fs/cgroup/memory/memory.limit_in_bytes": "9223372036854771712\n",
			},
		},
		{
			name: "v1 without a cgroup namespace: the own cgroup mounted as the hierarchy's root",
			files: map[string]string{
				"proc/self/cgroup":                           "11:memory:/kubepods/pod1/c1\n",
				"proc/self/mountinfo":                        "40 31 0:37 /kubepods/pod1/c1 /sys/fs/cgroup/memory ro,nosuid - cgroup cgroup rw,memory\n",
				"sys/fs/cgroup/memory/memory.limit_in_bytes": "201326592\n",
			},
			limit: 192 << 20, ok: true,
		},
		{
			name: "v1: the own cgroup's mount, not the host's cgroup file system mounted again later",
			files: map[string]string{
				"proc/self/cgroup": "11:memory:/kubepods/pod1/c1\n",
				"proc/self/mountinfo": "40 31 0:37 /kubepods/pod1/c1 /sys/fs/cgroup/memory ro,nosuid - cgroup cgroup rw,memory\n" +
					"90 31 0:37 / /host/cgroup/memory ro,nosuid - cgroup cgroup rw,memory\n",
				"sys/fs/cgroup/memory/memory.limit_in_bytes":                "201326592\n",
				"host/cgroup/memory/memory.limit_in_bytes":                  "9223372036854771712\n",
				"host/cgroup/memory/kubepods/pod1/c1/memory.limit_in_bytes": "1073741824\n",
			},
			limit: 192 << 20, ok: true,
		},
		{
			name: "v2 in a container: memory.max",
			files: map[string]string{
				"proc/self/cgroup":             "0::/\n",
				"proc/self/mountinfo":          v2Mountinfo,
				"sys/fs/cgroup/memory.max":     "268435456\n",
				"sys/fs/cgroup/memory.current": "1000\n",
			},
			limit: 256 << 20, ok: true,
		},
		{
			name: "v2: max is no limit, a parent's counts",
			files: map[string]string{
				"proc/self/cgroup":                      "0::/pod/c\n",
				"proc/self/mountinfo":                   v2Mountinfo,
				"sys/fs/cgroup/pod/c/memory.max":        "max\n",
				"sys/fs/cgroup/pod/memory.max":          "536870912\n",
				"sys/fs/cgroup/pod/memory.swap.current": "0\n",
			},
			limit: 512 << 20, ok: true,
		},
		{
			name: "v2: max all the way up",
			files: map[string]string{
				"proc/self/cgroup":               "0::/pod/c\n",
				"proc/self/mountinfo":            v2Mountinfo,
				"sys/fs/cgroup/pod/c/memory.max": "max\n",
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			limit, ok, err := FromCgroup(fakeRoot(t, tc.files))
			if err != nil || limit != tc.limit || ok != tc.ok {
				t.Errorf("FromCgroup = %d, %v, %v; want %d, %v", limit, ok, err, tc.limit, tc.ok)
			}
		})
	}
}

func TestFromCgroupWithoutCgroups(t *testing.T) {
	root := fakeRoot(t, map[string]string{"proc/self/cgroup": "", "proc/self/mountinfo": "1 0 8:1 / / rw - ext4 /dev/sda1 rw\n"})
	if _, ok, err := FromCgroup(root); err == nil || ok {
		t.Errorf("no cgroup mounted: ok %v, err %v; want an error", ok, err)
	}
	outside := fakeRoot(t, map[string]string{
		"proc/self/cgroup":         "0::/../../pod/c\n",
		"proc/self/mountinfo":      v2Mountinfo,
		"sys/fs/cgroup/memory.max": "268435456\n",
	})
	if _, ok, err := FromCgroup(outside); err == nil || ok || !strings.Contains(err.Error(), "outside its cgroup namespace") {
		t.Errorf("a cgroup outside the namespace: ok %v, err %v; want an error saying so", ok, err)
	}
	if _, ok, err := FromCgroup(t.TempDir()); err == nil || ok {
		t.Errorf("no /proc: ok %v, err %v; want an error", ok, err)
	}
}

func TestSet(t *testing.T) {
	before := debug.SetMemoryLimit(-1)
	t.Cleanup(func() { debug.SetMemoryLimit(before) })
	root := fakeRoot(t, map[string]string{
		"proc/self/cgroup":         "0::/\n",
		"proc/self/mountinfo":      v2Mountinfo,
		"sys/fs/cgroup/memory.max": "268435456\n",
	})
	noEnv := func(string) string { return "" }

	soft, limit, err := Set(root, 70, noEnv)
	if err != nil || limit != 256<<20 || soft != (256<<20)/100*70 {
		t.Fatalf("Set(70%%) = %d, %d, %v", soft, limit, err)
	}
	if got := debug.SetMemoryLimit(-1); got != soft {
		t.Errorf("the runtime's limit is %d, want %d", got, soft)
	}

	debug.SetMemoryLimit(before)
	given := func(k string) string {
		if k == "GOMEMLIMIT" {
			return "100MiB"
		}
		return ""
	}
	if soft, _, err := Set(root, 70, given); soft != 0 || err != nil || debug.SetMemoryLimit(-1) != before {
		t.Errorf("GOMEMLIMIT given: set %d (%v); the runtime's limit must stay as GOMEMLIMIT made it", soft, err)
	}
	if soft, _, err := Set(root, 0, noEnv); soft != 0 || err != nil || debug.SetMemoryLimit(-1) != before {
		t.Errorf("percent 0: set %d (%v), want nothing set", soft, err)
	}
	if _, _, err := Set(root, 150, noEnv); err == nil || !strings.Contains(err.Error(), "at most 100") {
		t.Errorf("percent 150: %v", err)
	}
}
