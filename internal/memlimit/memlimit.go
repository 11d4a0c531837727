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

// Package memlimit tells Go's garbage collector about the container's
// memory limit. The runtime does not read cgroups: left alone it lets the
// heap grow to twice what is live (GOGC=100) and meets the limit only
// through the kernel's OOM killer. At a thousand teams the manager's live
// heap is about 100 MB and its RSS reached 290 MiB, over the Deployment's
// 256 MiB limit (make bench-scale). A soft limit below the hard one
// (runtime/debug.SetMemoryLimit, what GOMEMLIMIT sets) makes the collector
// work harder near it instead.
package memlimit

import (
	"bufio"
	"errors"
	"fmt"
	"math"
	"os"
	"path"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
)

// unlimitedV1 is what cgroup v1 reports for "no limit": the largest
// page-aligned int64 (9223372036854771712 with 4 KiB pages); anything this
// large is no limit.
const unlimitedV1 = math.MaxInt64 / 2

// FromCgroup is the memory limit, in bytes, of the cgroup this process runs
// in (the smallest along its path: a pod's limit may sit on the pod's
// cgroup rather than the container's), with ok false when there is none.
// root is the file system root the /proc and /sys files are read under:
// "/" except in tests. cgroup v1 (memory.limit_in_bytes) and v2
// (memory.max) are both read.
func FromCgroup(root string) (limit int64, ok bool, err error) {
	dir, file, err := cgroupDir(root)
	if err != nil {
		return 0, false, err
	}
	mount := dir.mount
	for p := dir.path; ; p = path.Dir(p) {
		b, err := os.ReadFile(filepath.Join(root, mount, p, file))
		if err == nil {
			if v, has := parseLimit(strings.TrimSpace(string(b))); has && (!ok || v < limit) {
				limit, ok = v, true
			}
		} else if !errors.Is(err, os.ErrNotExist) {
			return 0, false, err
		}
		if p == "/" || p == "." {
			return limit, ok, nil
		}
	}
}

// parseLimit reads a limit file's value: "max" (v2) and v1's huge number
// mean no limit.
func parseLimit(s string) (int64, bool) {
	if s == "max" {
		return 0, false
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil || v <= 0 || v >= unlimitedV1 {
		return 0, false
	}
	return v, true
}

// location is a cgroup: the mount point of its hierarchy and its path
// below that mount.
type location struct{ mount, path string }

// cgroupDir finds the process's memory cgroup from /proc/self/cgroup and
// /proc/self/mountinfo, and the name of its limit file.
func cgroupDir(root string) (location, string, error) {
	v1, v2, err := ownCgroups(filepath.Join(root, "proc/self/cgroup"))
	if err != nil {
		return location{}, "", err
	}
	mounts, err := cgroupMounts(filepath.Join(root, "proc/self/mountinfo"))
	if err != nil {
		return location{}, "", err
	}
	if m, found := pick(mounts["memory"], v1); found {
		return location{m.point, below(v1, m.root)}, "memory.limit_in_bytes", nil
	}
	if m, found := pick(mounts["cgroup2"], v2); found {
		return location{m.point, below(v2, m.root)}, "memory.max", nil
	}
	if strings.Contains(v1+v2, "/..") {
		return location{}, "", fmt.Errorf("the process's cgroup (%s) is outside its cgroup namespace", strings.TrimSpace(v1+" "+v2))
	}
	return location{}, "", errors.New("no memory cgroup found in /proc/self/cgroup and /proc/self/mountinfo")
}

// pick is the mount of a hierarchy that holds cgroup path p: the one with
// the longest root that is p or one of its parents, the first listed among
// equals (a host's cgroup file system mounted again elsewhere comes later).
// A path with ".." (a cgroup outside the process's cgroup namespace) has
// none.
func pick(mounts []mountPoint, p string) (mountPoint, bool) {
	var best mountPoint
	found := false
	if p == "" || strings.Contains(p, "/..") {
		return best, false
	}
	for _, m := range mounts {
		holds := m.root == "/" || p == m.root || strings.HasPrefix(p, m.root+"/")
		if holds && (!found || len(m.root) > len(best.root)) {
			best, found = m, true
		}
	}
	return best, found
}

// below is cgroup path p relative to a mount of its hierarchy whose root is
// mountRoot (a container without its own cgroup namespace sees the host's
// paths, with its own cgroup mounted as the root).
func below(p, mountRoot string) string {
	if mountRoot == "/" {
		return p
	}
	return "/" + strings.TrimPrefix(strings.TrimPrefix(p, mountRoot), "/")
}

// ownCgroups reads /proc/self/cgroup: the v1 memory controller's path, and
// the v2 (unified) path.
func ownCgroups(file string) (v1, v2 string, err error) {
	f, err := os.Open(file)
	if err != nil {
		return "", "", err
	}
	defer func() { _ = f.Close() }()
	s := bufio.NewScanner(f)
	for s.Scan() {
		// hierarchy-ID:controller-list:cgroup-path
		parts := strings.SplitN(s.Text(), ":", 3)
		if len(parts) != 3 {
			continue
		}
		if parts[0] == "0" && parts[1] == "" {
			v2 = parts[2]
		}
		for _, c := range strings.Split(parts[1], ",") {
			if c == "memory" {
				v1 = parts[2]
			}
		}
	}
	return v1, v2, s.Err()
}

type mountPoint struct{ root, point string }

// cgroupMounts reads /proc/self/mountinfo: the mounts of the v1 memory
// hierarchy ("memory") and of the v2 one ("cgroup2"), in order.
func cgroupMounts(file string) (map[string][]mountPoint, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer func() { _ = f.Close() }()
	found := map[string][]mountPoint{}
	s := bufio.NewScanner(f)
	for s.Scan() {
		// ID parent major:minor root mount-point options [optional...] - fstype source super-options
		fields := strings.Fields(s.Text())
		sep := -1
		for i, f := range fields {
			if f == "-" {
				sep = i
				break
			}
		}
		if sep < 5 || sep+3 > len(fields) {
			continue
		}
		m := mountPoint{root: fields[3], point: fields[4]}
		switch fields[sep+1] {
		case "cgroup2":
			found["cgroup2"] = append(found["cgroup2"], m)
		case "cgroup":
			for _, o := range strings.Split(fields[len(fields)-1], ",") {
				if o == "memory" {
					found["memory"] = append(found["memory"], m)
				}
			}
		}
	}
	return found, s.Err()
}

// DefaultPercent is the manager's --memory-limit-percent: the share of the
// container's limit given to the runtime. 55%, not more: the binary's own
// pages (about 50 MiB resident, file-backed) count in the container's
// memory but are outside the runtime's limit, and with 55% the manager
// handling 1,000 teams, policies and drills stays under 200 MiB of RSS
// (make bench-scale; README, Scale).
const DefaultPercent = 55

// Set gives the Go runtime a soft memory limit of percent of the
// cgroup's, unless GOMEMLIMIT (getenv's) already set one or percent is 0.
// It returns the soft limit it set and the cgroup's limit, both 0 when it
// set none, and why not as an error only when reading the cgroup failed.
func Set(root string, percent int, getenv func(string) string) (soft, limit int64, err error) {
	if percent <= 0 || getenv("GOMEMLIMIT") != "" {
		return 0, 0, nil
	}
	if percent > 100 {
		return 0, 0, fmt.Errorf("a memory limit percentage of %d: at most 100", percent)
	}
	limit, ok, err := FromCgroup(root)
	if err != nil || !ok {
		return 0, 0, err
	}
	soft = limit / 100 * int64(percent)
	debug.SetMemoryLimit(soft)
	return soft, limit, nil
}
