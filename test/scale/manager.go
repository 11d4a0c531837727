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
	"bufio"
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// manager is the operator's manager (cmd/main.go) run as a process
// against the cluster, its metrics served on 127.0.0.1 over HTTP.
type manager struct {
	cmd         *exec.Cmd
	metricsURL  string
	pprofURL    string
	done        chan struct{}
	mu          sync.Mutex
	maxDepth    map[string]float64
	peak        procStats // the largest RSS read since takePeak, with its parts
	stopSampler chan struct{}
	sampled     sync.WaitGroup
}

// deploymentMemoryLimit is the manager container's memory limit in
// config/manager/manager.yaml and the chart's values (256Mi).
const deploymentMemoryLimit = 256 << 20

func startManager(cfg config, kubeconfig, workDir string) (*manager, error) {
	ports, err := freePorts(3)
	if err != nil {
		return nil, err
	}
	logFile, err := os.Create(filepath.Join(workDir, "manager.log"))
	if err != nil {
		return nil, err
	}
	args := []string{
		"--metrics-bind-address", fmt.Sprintf("127.0.0.1:%d", ports[0]),
		"--metrics-secure=false",
		"--health-probe-bind-address", fmt.Sprintf("127.0.0.1:%d", ports[1]),
		"--kubeconfig", kubeconfig,
		"--pprof-bind-address", fmt.Sprintf("127.0.0.1:%d", ports[2]),
	}
	if cfg.workers > 0 {
		args = append(args, "--max-concurrent-reconciles", strconv.Itoa(cfg.workers))
	}
	cmd := exec.Command(cfg.bin, args...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	// In its Deployment the manager gives the Go runtime a share of the
	// container's memory limit (internal/memlimit); a process of the host has
	// no limit to read, so it gets the same soft limit here.
	cmd.Env = append(os.Environ(), fmt.Sprintf("GOMEMLIMIT=%d", deploymentMemoryLimit/100*cfg.memoryPercent))
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		_ = logFile.Close()
		return nil, err
	}
	m := &manager{cmd: cmd, metricsURL: fmt.Sprintf("http://127.0.0.1:%d/metrics", ports[0]), pprofURL: fmt.Sprintf("http://127.0.0.1:%d/debug/pprof", ports[2]),
		done: make(chan struct{}), maxDepth: map[string]float64{}, stopSampler: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		_ = logFile.Close()
		close(m.done)
	}()
	health := fmt.Sprintf("http://127.0.0.1:%d/readyz", ports[1])
	if err := waitFor(context.Background(), time.Minute, func() bool {
		resp, err := http.Get(health) //nolint:noctx // a local probe with the default client's timeouts is enough
		if err != nil {
			return false
		}
		_ = resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}); err != nil {
		m.stop()
		return nil, fmt.Errorf("manager not ready (see %s): %w", filepath.Join(workDir, "manager.log"), err)
	}
	m.sampled.Go(m.sampleDepth)
	m.sampled.Go(m.sampleRSS)
	return m, nil
}

// stop sends SIGTERM (the manager drains and exits), SIGKILL after 30s.
func (m *manager) stop() {
	select {
	case <-m.stopSampler:
	default:
		close(m.stopSampler)
	}
	m.sampled.Wait()
	_ = m.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-m.done:
	case <-time.After(30 * time.Second):
		_ = m.cmd.Process.Kill()
		<-m.done
	}
}

// sampleDepth records the largest work-queue depth of each controller,
// sampled every 5 seconds: a scrape of /metrics costs the manager real CPU
// at this scale (thousands of per-team series), so more often would skew
// its CPU figures.
func (m *manager) sampleDepth() {
	t := time.NewTicker(5 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-m.stopSampler:
			return
		case <-t.C:
		}
		s, err := m.scrape()
		if err != nil {
			continue
		}
		m.mu.Lock()
		for k, v := range s.byLabel("workqueue_depth", "name") {
			m.maxDepth[k] = math.Max(m.maxDepth[k], v)
		}
		m.mu.Unlock()
	}
}

// sampleRSS reads the manager's RSS every second and keeps the largest
// reading with its parts: the kernel's VmHWM gives the peak but not how
// much of it is the binary's mapped pages (RssFile), which the Go
// runtime's soft memory limit does not cover.
func (m *manager) sampleRSS() {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		if st, err := m.proc(); err == nil {
			m.mu.Lock()
			if st.rss > m.peak.rss {
				m.peak = st
			}
			m.mu.Unlock()
		}
		select {
		case <-m.stopSampler:
			return
		case <-t.C:
		}
	}
}

// takePeak returns the largest RSS reading since the last call and resets it.
func (m *manager) takePeak() procStats {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := m.peak
	m.peak = procStats{}
	return out
}

// takeMaxDepth returns the largest depths since the last call and resets them.
func (m *manager) takeMaxDepth() map[string]float64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := m.maxDepth
	m.maxDepth = map[string]float64{}
	return out
}

// sample is one scrape: every series by its full text (name{labels}).
type sample map[string]float64

func (m *manager) scrape() (sample, error) {
	client := &http.Client{Timeout: 10 * time.Second}
	resp, err := client.Get(m.metricsURL) //nolint:noctx // bounded by the client's timeout
	if err != nil {
		return nil, err
	}
	defer func() { _ = resp.Body.Close() }()
	return parseMetrics(resp.Body)
}

// parseMetrics reads the Prometheus text format: series and values only.
func parseMetrics(r io.Reader) (sample, error) {
	s := sample{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			continue
		}
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			continue
		}
		s[line[:i]] += v
	}
	return s, sc.Err()
}

// splitSeries splits `name{a="x",b="y"}` into name and labels.
func splitSeries(series string) (string, map[string]string) {
	name, rest, ok := strings.Cut(series, "{")
	out := map[string]string{}
	if !ok {
		return name, out
	}
	rest = strings.TrimSuffix(rest, "}")
	for rest != "" {
		k, after, ok := strings.Cut(rest, `="`)
		if !ok {
			break
		}
		v, after2, _ := strings.Cut(after, `"`)
		out[k] = v
		rest = strings.TrimPrefix(after2, ",")
	}
	return name, out
}

// byLabel sums metric name's series by the value of one label.
func (s sample) byLabel(name, label string) map[string]float64 {
	out := map[string]float64{}
	for series, v := range s {
		n, l := splitSeries(series)
		if n == name {
			out[l[label]] += v
		}
	}
	return out
}

// minus is s - base, series by series.
func (s sample) minus(base sample) sample {
	out := sample{}
	for k, v := range s {
		out[k] = v - base[k]
	}
	return out
}

// quantiles of a histogram metric per value of label, by linear
// interpolation within buckets (as PromQL's histogram_quantile).
func (s sample) quantiles(name, label string, qs ...float64) map[string][]float64 {
	type bucket struct{ le, count float64 }
	buckets := map[string][]bucket{}
	for series, v := range s {
		n, l := splitSeries(series)
		if n != name+"_bucket" {
			continue
		}
		le, err := strconv.ParseFloat(l["le"], 64)
		if err != nil {
			le = math.Inf(1)
		}
		buckets[l[label]] = append(buckets[l[label]], bucket{le, v})
	}
	out := map[string][]float64{}
	for k, bs := range buckets {
		sort.Slice(bs, func(i, j int) bool { return bs[i].le < bs[j].le })
		total := bs[len(bs)-1].count
		var res []float64
		for _, q := range qs {
			if total == 0 {
				res = append(res, math.NaN())
				continue
			}
			rank := q * total
			prevLe, prevCount := 0.0, 0.0
			val := math.NaN()
			for _, b := range bs {
				if b.count >= rank {
					if math.IsInf(b.le, 1) {
						val = prevLe
					} else {
						val = prevLe + (b.le-prevLe)*(rank-prevCount)/math.Max(b.count-prevCount, 1e-9)
					}
					break
				}
				prevLe, prevCount = b.le, b.count
			}
			res = append(res, val)
		}
		out[k] = res
	}
	return out
}

// procStats are the manager's peak and current RSS and CPU seconds, from /proc.
type procStats struct {
	peakRSS, rss int64 // bytes
	anon, file   int64 // the parts of rss: RssAnon (heap, stacks) and RssFile (the binary's pages)
	cpu          float64
}

func (m *manager) proc() (procStats, error) {
	pid := m.cmd.Process.Pid
	var st procStats
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return st, err
	}
	for line := range strings.SplitSeq(string(status), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		kb, _ := strconv.ParseInt(f[1], 10, 64)
		switch f[0] {
		case "VmHWM:":
			st.peakRSS = kb * 1024
		case "VmRSS:":
			st.rss = kb * 1024
		case "RssAnon:":
			st.anon = kb * 1024
		case "RssFile:":
			st.file = kb * 1024
		}
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return st, err
	}
	// Fields after the command (which may hold spaces) in parentheses.
	_, rest, _ := strings.Cut(string(stat), ") ")
	f := strings.Fields(rest)
	if len(f) > 12 {
		utime, _ := strconv.ParseFloat(f[11], 64)
		stime, _ := strconv.ParseFloat(f[12], 64)
		st.cpu = (utime + stime) / 100 // USER_HZ is 100 on Linux
	}
	return st, nil
}

// liveHeap is the manager's live heap: HeapAlloc right after a garbage
// collection, from its heap profile (--pprof-bind-address), in bytes.
func (m *manager) liveHeap() (int64, error) {
	resp, err := http.Get(m.pprofURL + "/heap?debug=1&gc=1") //nolint:noctx // a local read with the default client is enough
	if err != nil {
		return 0, err
	}
	defer func() { _ = resp.Body.Close() }()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "# HeapAlloc = "); ok {
			return strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		}
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	return 0, fmt.Errorf("no HeapAlloc in %s/heap?debug=1", m.pprofURL)
}

// heapFigure prints a liveHeap reading, or why there is none.
func heapFigure(b int64, err error) string {
	if err != nil {
		return "unread (" + err.Error() + ")"
	}
	return fmt.Sprintf("%.0f MiB", float64(b)/(1<<20))
}
