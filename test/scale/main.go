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

// Command scale is `make bench-scale`: it starts a kwok control plane,
// runs the operator's manager (cmd/main.go, built by the Makefile) against
// it, creates N each of SupportTeam, BackupPolicy and DRDrill over 50
// namespaces, and prints each figure beside a baseline measured in the same
// run: the same child objects and status written by a plain client.
//
// Environment: SCALE_N (objects of each kind, default 1000),
// SCALE_NAMESPACES (50), SCALE_WINDOW (steady-state window, 10m),
// SCALE_RUNS (drills run in the drill-run phase, default SCALE_N; 0 skips
// it), SCALE_RUN_ROUNDS (runs of each drill, 2), SCALE_RUN_TIMEOUT (how
// long a round may take, 30m),
// SCALE_PROFILE=0 (no `perf record` of the manager while the objects
// become Ready), K8S_ASSETS (the kwok and Kubernetes
// binaries), SCALE_MANAGER (the manager binary), SCALE_KEEP=1 (keep the
// work directory: logs, profile), SCALE_WORKERS (the manager's
// --max-concurrent-reconciles; its default when unset),
// SCALE_MEMORY_PERCENT (the soft memory limit as a share of the
// Deployment's limit; the manager's --memory-limit-percent default).
package main

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/go-logr/logr"
	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/rest"
	ctrlcache "sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	opsv1alpha1 "github.com/supportstack/operator/api/v1alpha1"
	"github.com/supportstack/operator/internal/controller"
	"github.com/supportstack/operator/internal/memlimit"
	"github.com/supportstack/operator/internal/testenv"
)

type config struct {
	n, namespaces int
	window        time.Duration
	profile       bool
	assets, bin   string
	keep          bool
	drills        drillConfig
	workers       int // 0: the manager's default
	memoryPercent int
}

// drillsWith is the drill phase's configuration with the manager's workers.
func (c config) drillsWith() drillConfig {
	d := c.drills
	d.workers = c.managerWorkers()
	return d
}

// managerWorkers is the manager's number of workers per controller.
func (c config) managerWorkers() int {
	if c.workers > 0 {
		return c.workers
	}
	return controller.DefaultMaxConcurrentReconciles
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

func main() {
	cfg := config{
		n:          envInt("SCALE_N", 1000),
		namespaces: envInt("SCALE_NAMESPACES", 50),
		window:     10 * time.Minute,
		profile:    os.Getenv("SCALE_PROFILE") != "0",
		assets:     os.Getenv("K8S_ASSETS"),
		bin:        os.Getenv("SCALE_MANAGER"),
		keep:       os.Getenv("SCALE_KEEP") == "1",
		workers:    envInt("SCALE_WORKERS", 0),
		// What cmd/main.go gives the runtime in its Deployment.
		memoryPercent: envInt("SCALE_MEMORY_PERCENT", memlimit.DefaultPercent),
	}
	cfg.drills = drillConfig{runs: cfg.n, rounds: envInt("SCALE_RUN_ROUNDS", 2), timeout: 30 * time.Minute}
	if v := os.Getenv("SCALE_RUNS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > cfg.n {
			fmt.Fprintf(os.Stderr, "SCALE_RUNS: a number of drills from 0 to SCALE_N (%d)\n", cfg.n)
			os.Exit(2)
		}
		cfg.drills.runs = n
	}
	if v := os.Getenv("SCALE_RUN_TIMEOUT"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			fmt.Fprintln(os.Stderr, "SCALE_RUN_TIMEOUT:", err)
			os.Exit(2)
		}
		cfg.drills.timeout = d
	}
	if v := os.Getenv("SCALE_WINDOW"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			fmt.Fprintln(os.Stderr, "SCALE_WINDOW:", err)
			os.Exit(2)
		}
		cfg.window = d
	}
	if cfg.assets == "" || cfg.bin == "" {
		fmt.Fprintln(os.Stderr, "K8S_ASSETS and SCALE_MANAGER must be set: run `make bench-scale`")
		os.Exit(2)
	}
	// The harness's clients log nothing worth reading; controller-runtime
	// would otherwise complain that no logger was set.
	ctrllog.SetLogger(logr.Discard())
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, cfg)
	cancel()
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench-scale:", err)
		os.Exit(1)
	}
}

// report collects the figures and prints them at the end.
type report struct{ lines []string }

func (r *report) add(format string, args ...any) {
	line := fmt.Sprintf(format, args...)
	r.lines = append(r.lines, line)
	fmt.Println(line)
}

func ratio(a, b float64) string {
	if b == 0 {
		return "n/a (baseline 0)"
	}
	return fmt.Sprintf("%.2fx", a/b)
}

func run(ctx context.Context, cfg config) (reterr error) {
	workDir, err := os.MkdirTemp("", "bench-scale-")
	if err != nil {
		return err
	}
	defer func() {
		if cfg.keep || reterr != nil {
			fmt.Println("work directory kept:", workDir)
			return
		}
		_ = os.RemoveAll(workDir)
	}()
	fmt.Printf("bench-scale: N=%d of each kind over %d namespaces, steady window %s; work directory %s\n",
		cfg.n, cfg.namespaces, cfg.window, workDir)

	start := time.Now()
	cl, err := startCluster(ctx, cfg.assets, workDir)
	if err != nil {
		return err
	}
	defer func() {
		if err := cl.stop(); err != nil {
			fmt.Fprintln(os.Stderr, err)
		}
	}()
	rc, err := cl.restConfig()
	if err != nil {
		return err
	}
	scheme := testenv.Scheme()
	c, err := client.New(rc, client.Options{Scheme: scheme})
	if err != nil {
		return err
	}
	if err := install(ctx, c); err != nil {
		return err
	}
	fmt.Printf("kwok control plane up, CRDs and admission policies installed in %s\n", time.Since(start).Round(time.Second))

	op := set{name: "operator", prefix: "scale", n: cfg.n, ns: cfg.namespaces}
	base := set{name: "baseline", prefix: "base", n: cfg.n, ns: cfg.namespaces}
	for _, s := range []set{op, base} {
		objs, err := s.inputs()
		if err != nil {
			return err
		}
		if err := createAll(ctx, c, objs, 8); err != nil {
			return fmt.Errorf("creating the %s set's inputs: %w", s.name, err)
		}
	}
	fmt.Println("inputs (namespaces, Secrets, Services, PVCs) of both sets created")

	m, err := startManager(cfg, cl.kubeconfig, workDir)
	if err != nil {
		return err
	}
	defer m.stop()
	o, err := measureOperator(ctx, cfg, rc, c, m, op, workDir)
	if err != nil {
		return err
	}
	var d *drillPhase
	if cfg.drills.runs > 0 {
		fmt.Printf("drill-run phase: %d drills, %d rounds, from %s\n", cfg.drills.runs, cfg.drills.rounds, time.Now().UTC().Format(time.RFC3339))
		if d, err = runDrills(ctx, rc, c, m, op, cfg.drillsWith()); err != nil {
			return err
		}
		d.print(&report{}) // now as well: the baseline takes minutes more
	}
	m.stop()
	b, err := measureBaseline(ctx, rc, base)
	if err != nil {
		return err
	}
	printReport(cfg, o, b, d)
	return nil
}

// operatorRun is what the operator's phases measured.
type operatorRun struct {
	created, ready, roster   time.Duration
	rampWall                 time.Duration // from the first create to the scrape after Ready
	m0, m1, m2, m3, m4       sample
	p1, p2, p3, p4           procStats
	peak                     procStats // the largest RSS sampled, with its parts
	liveHeap                 string    // after the roster change
	rampDepth, steadyDepth   map[string]float64
	rampEvents, rosterEvents int
	profile                  string
}

// measureOperator creates the set with the manager running, waits until
// all is Ready, watches a steady window and changes every team's roster.
func measureOperator(ctx context.Context, cfg config, rc *rest.Config, c client.Client, m *manager, op set, workDir string) (*operatorRun, error) {
	o := &operatorRun{}
	w, err := watch(ctx, rc, op)
	if err != nil {
		return nil, err
	}
	defer w.cancel()
	if o.m0, err = m.scrape(); err != nil {
		return nil, err
	}
	var prof *exec.Cmd
	if cfg.profile {
		prof = startProfile(m, workDir)
	}
	t0 := time.Now()
	if err := createUserObjects(ctx, c, op, nil); err != nil {
		return nil, err
	}
	o.created = time.Since(t0)
	lastReady, err := w.waitReady(ctx, op, t0)
	if err != nil {
		return nil, err
	}
	o.ready = lastReady.Sub(t0)
	if o.m1, err = m.scrape(); err != nil {
		return nil, err
	}
	o.rampWall = time.Since(t0)
	o.p1, _ = m.proc()
	o.rampDepth = m.takeMaxDepth()
	o.rampEvents = operatorEvents(ctx, c)
	if prof != nil {
		o.profile = finishProfile(prof, workDir)
	}

	// Steady state, after the last reconciles of the ramp have settled.
	time.Sleep(30 * time.Second)
	if o.m2, err = m.scrape(); err != nil {
		return nil, err
	}
	o.p2, _ = m.proc()
	fmt.Printf("steady-state window: %s from %s\n", cfg.window, time.Now().UTC().Format(time.RFC3339))
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-time.After(cfg.window):
	}
	if o.m3, err = m.scrape(); err != nil {
		return nil, err
	}
	o.p3, _ = m.proc()
	o.steadyDepth = m.takeMaxDepth()

	// A roster change of every team.
	tr := time.Now()
	if err := parallel(ctx, 3, teamsOf(op), func(t *opsv1alpha1.SupportTeam) error {
		cur := &opsv1alpha1.SupportTeam{}
		if err := c.Get(ctx, client.ObjectKeyFromObject(t), cur); err != nil {
			return err
		}
		before := cur.DeepCopy()
		cur.Spec.Members = op.team(teamIndex(t), 1).Spec.Members
		return c.Patch(ctx, cur, client.MergeFrom(before))
	}); err != nil {
		return nil, err
	}
	if _, err := w.waitReady(ctx, op, tr); err != nil {
		return nil, err
	}
	o.roster = time.Since(tr)
	time.Sleep(5 * time.Second)
	if o.m4, err = m.scrape(); err != nil {
		return nil, err
	}
	o.p4, _ = m.proc()
	o.peak = m.takePeak()
	o.liveHeap = heapFigure(m.liveHeap())
	o.rosterEvents = operatorEvents(ctx, c) - o.rampEvents
	return o, nil
}

// baselineRun is what the plain client measured.
type baselineRun struct {
	ready, roster        time.Duration
	writes, rosterWrites int64
}

// measureBaseline writes the same objects, children and status with a
// plain client, the manager stopped, and then the same roster change.
func measureBaseline(ctx context.Context, rc *rest.Config, base set) (*baselineRun, error) {
	scheme := testenv.Scheme()
	bc, cnt, err := countingClient(rc, scheme)
	if err != nil {
		return nil, err
	}
	b := &baseline{c: bc, scheme: scheme}
	out := &baselineRun{}
	tb := time.Now()
	if err := createUserObjects(ctx, bc, base, b); err != nil {
		return nil, err
	}
	out.ready = time.Since(tb)
	out.writes = cnt.writes() - 3*int64(base.n) // the user's creates are not the controller's
	cnt.reset()
	tbr := time.Now()
	if err := parallel(ctx, 3, teamsOf(base), func(t *opsv1alpha1.SupportTeam) error {
		cur := &opsv1alpha1.SupportTeam{}
		if err := bc.Get(ctx, client.ObjectKeyFromObject(t), cur); err != nil {
			return err
		}
		return b.rosterChange(ctx, cur, base.team(teamIndex(t), 1))
	}); err != nil {
		return nil, err
	}
	out.roster = time.Since(tbr)
	out.rosterWrites = cnt.writes() - int64(base.n) // the user's patches
	return out, nil
}

func printReport(cfg config, o *operatorRun, b *baselineRun, d *drillPhase) {
	r := &report{}
	n := float64(cfg.n)
	objects := 3 * n
	r.add("")
	r.add("== bench-scale results: N=%d each of SupportTeam, BackupPolicy, DRDrill (%d objects) over %d namespaces ==", cfg.n, 3*cfg.n, cfg.namespaces)
	r.add("machine: %d CPUs (%s), %s; the kwok control plane (%s) runs on the same machine; other sessions' work may run at the same time",
		runtime.NumCPU(), cpuModel(), memTotal(), filepath.Base(cfg.assets))
	r.add("manager: --max-concurrent-reconciles %d (workers per controller), GOMEMLIMIT %d%% of the Deployment's %d MiB (%.0f MiB)",
		cfg.managerWorkers(), cfg.memoryPercent, deploymentMemoryLimit>>20, float64(deploymentMemoryLimit/100*cfg.memoryPercent)/(1<<20))
	r.add("")
	r.add("(a) time until every object is Ready (the user's objects created by 3 clients, one per kind, in %s)", o.created.Round(time.Second))
	r.add("    operator %.0fs (+-1s)   baseline %.1fs (a plain client creates the same children, built by internal/resources, and writes Ready)   ratio %s   goal <= 1.5x",
		o.ready.Seconds(), b.ready.Seconds(), ratio(o.ready.Seconds(), b.ready.Seconds()))
	d1 := o.m1.minus(o.m0)
	opWrites := writesOf(d1)
	r.add("    API writes while reaching Ready: operator %.0f = %.2f per object (%s; %d of them Events)   baseline %d = %.2f per object   ratio %s",
		opWrites, opWrites/objects, verbs(d1), o.rampEvents, b.writes, float64(b.writes)/objects, ratio(opWrites, float64(b.writes)))
	gets := d1.byLabel("rest_client_requests_total", "method")["GET"]
	r.add("    API reads (GET, uncached: Secrets, PVCs, Services, status re-reads) while reaching Ready: operator %.0f = %.2f per object; baseline 0", gets, gets/objects)
	r.add("")
	d3 := o.m3.minus(o.m2)
	sw := writesOf(d3)
	r.add("(b) steady state, %s window: writes %.0f = %.4f per object (%s); goal 0, baseline 0", cfg.window, sw, sw/objects, verbs(d3))
	r.add("    reconciles in the window: %s; reads (GET) %.0f",
		perController(d3.byLabel("controller_runtime_reconcile_total", "controller")), d3.byLabel("rest_client_requests_total", "method")["GET"])
	d4 := o.m4.minus(o.m3)
	rw := writesOf(d4)
	r.add("    roster change of every team (one member replaced, one moved to the other shift):")
	r.add("      operator %.0f writes = %.2f per team (%s; %d of them Events), all observed in %.1fs",
		rw, rw/n, verbs(d4), o.rosterEvents, o.roster.Seconds())
	r.add("      baseline %d writes = %.2f per team (the children that differ + status), in %.1fs   ratio writes %s, time %s",
		b.rosterWrites, float64(b.rosterWrites)/n, b.roster.Seconds(), ratio(rw, float64(b.rosterWrites)), ratio(o.roster.Seconds(), b.roster.Seconds()))
	r.add("")
	peak := max(o.p1.peakRSS, o.p2.peakRSS, o.p3.peakRSS, o.p4.peakRSS)
	r.add("(c) manager peak RSS %.0f MiB (goal <= 200 MiB; %.0f MiB after the ramp, %.0f MiB at the end; largest reading sampled each second %s)",
		mib(peak), mib(o.p1.rss), mib(o.p4.rss), rssFigure(o.peak))
	r.add("    manager CPU: %.1fs reaching Ready, %.1fs in the %s steady window, %.1fs for the roster change",
		o.p1.cpu, o.p3.cpu-o.p2.cpu, cfg.window, o.p4.cpu-o.p3.cpu)
	r.add("    manager live heap after a forced GC, at the end: %s (its heap profile, --pprof-bind-address)", o.liveHeap)
	r.add("    reconcile latency per controller while reaching Ready (p50 / p90 / p99):")
	q := d1.quantiles("controller_runtime_reconcile_time_seconds", "controller", 0.5, 0.9, 0.99)
	counts := d1.byLabel("controller_runtime_reconcile_total", "controller")
	errs := errorsBy(d1)
	for _, ctrl := range sortedKeys(q) {
		if v := q[ctrl]; ours[ctrl] && counts[ctrl] > 0 {
			r.add("      %-12s %8s / %8s / %8s   %6.0f reconciles, %4.0f errors", ctrl, ms(v[0]), ms(v[1]), ms(v[2]), counts[ctrl], errs[ctrl])
		}
	}
	r.add("    largest work-queue depth: while reaching Ready %s; steady %s", perController(o.rampDepth), perController(o.steadyDepth))
	workerFigures(r, d1, o.rampWall, cfg.managerWorkers())
	r.add("")
	if d != nil {
		d.print(r)
	} else {
		r.add("(d) drill runs: not measured (SCALE_RUNS=0)")
	}
	if o.profile != "" {
		r.add("")
		r.add("profile of the manager while reaching Ready (perf record -F 199 -g; %s):", filepath.Join("<work directory>", "perf.data"))
		for l := range strings.SplitSeq(o.profile, "\n") {
			r.add("    %s", l)
		}
	}
}

// ours are the operator's controllers (the manager has other work queues).
var ours = map[string]bool{"supportteam": true, "backuppolicy": true, "drdrill": true, "drdrillrun": true}

// operatorEvents counts the Events the operator's recorders wrote.
func operatorEvents(ctx context.Context, c client.Client) int {
	var list eventsv1.EventList
	if err := c.List(ctx, &list); err != nil {
		return -1
	}
	n := 0
	for _, e := range list.Items {
		if strings.HasPrefix(e.ReportingController, "supportstack") {
			n++
		}
	}
	return n
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }

// rssFigure prints an RSS reading with its parts. The runtime's soft limit
// (GOMEMLIMIT) bounds the anonymous part only; the file part is the
// binary's own pages.
func rssFigure(st procStats) string {
	return fmt.Sprintf("%.0f MiB = %.0f MiB anonymous + %.0f MiB file-backed", mib(st.rss), mib(st.anon), mib(st.file))
}

// workerFigures prints what decides each controller's number of workers
// (MaxConcurrentReconciles): how busy its workers were (reconcile seconds
// per second of wall time: 1.0 is one worker never idle) and how long items
// waited in its work queue before a worker took them. More workers only
// shorten the wait, and only while the workers are busy most of the time.
func workerFigures(r *report, d sample, wall time.Duration, workers int) {
	busy := d.byLabel("controller_runtime_reconcile_time_seconds_sum", "controller")
	wait := d.quantiles("workqueue_queue_duration_seconds", "name", 0.5, 0.9, 0.99)
	r.add("    workers (%d per controller): reconcile seconds per second over %s (1.00 = one worker never idle), and the wait in the work queue before a reconcile (p50 / p90 / p99):", workers, wall.Round(time.Second))
	for _, ctrl := range sortedKeys(busy) {
		if !ours[ctrl] {
			continue
		}
		w := wait[ctrl]
		if len(w) < 3 {
			w = []float64{math.NaN(), math.NaN(), math.NaN()}
		}
		r.add("      %-12s busy %.2f   wait %8s / %8s / %8s", ctrl, busy[ctrl]/wall.Seconds(), ms(w[0]), ms(w[1]), ms(w[2]))
	}
}

func ms(s float64) string {
	if math.IsNaN(s) {
		return "-"
	}
	if s < 1 {
		return fmt.Sprintf("%.1fms", s*1000)
	}
	return fmt.Sprintf("%.2fs", s)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func perController(m map[string]float64) string {
	parts := make([]string, 0, len(m))
	for _, k := range sortedKeys(m) {
		if !ours[k] {
			continue
		}
		parts = append(parts, fmt.Sprintf("%s %.0f", k, m[k]))
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

func writesOf(s sample) float64 {
	by := s.byLabel("rest_client_requests_total", "method")
	return by["POST"] + by["PUT"] + by["PATCH"] + by["DELETE"]
}

func verbs(s sample) string {
	by := s.byLabel("rest_client_requests_total", "method")
	var parts []string
	for _, v := range []string{"POST", "PUT", "PATCH", "DELETE"} {
		if by[v] != 0 {
			parts = append(parts, fmt.Sprintf("%s %.0f", v, by[v]))
		}
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

func errorsBy(s sample) map[string]float64 {
	out := map[string]float64{}
	for series, v := range s {
		n, l := splitSeries(series)
		if n == "controller_runtime_reconcile_total" && l["result"] == "error" {
			out[l["controller"]] += v
		}
	}
	return out
}

func teamsOf(s set) []*opsv1alpha1.SupportTeam {
	out := make([]*opsv1alpha1.SupportTeam, 0, s.n)
	for i := range s.n {
		out = append(out, s.team(i, 0))
	}
	return out
}

func teamIndex(t *opsv1alpha1.SupportTeam) int {
	i, _ := strconv.Atoi(strings.TrimPrefix(t.Name, "team-"))
	return i
}

// createUserObjects creates the set's teams, policies and drills, one
// goroutine per kind. With b, each object's children and status are
// written right after it, as the baseline.
func createUserObjects(ctx context.Context, c client.Client, s set, b *baseline) error {
	errs := make(chan error, 3)
	kinds := []func(i int) error{
		func(i int) error {
			if b != nil {
				return b.team(ctx, s.team(i, 0))
			}
			return c.Create(ctx, s.team(i, 0))
		},
		func(i int) error {
			if b != nil {
				return b.policy(ctx, s.policy(i))
			}
			return c.Create(ctx, s.policy(i))
		},
		func(i int) error {
			if b != nil {
				return b.drill(ctx, s.drill(i))
			}
			return c.Create(ctx, s.drill(i))
		},
	}
	for _, create := range kinds {
		go func() {
			for i := range s.n {
				if err := create(i); err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	all := make([]error, 0, len(kinds))
	for range kinds {
		all = append(all, <-errs)
	}
	return errors.Join(all...)
}

// readiness of one object: Ready True for its current generation, and when.
func readiness(conds []metav1.Condition, gen, observed int64) (bool, time.Time) {
	c := meta.FindStatusCondition(conds, opsv1alpha1.ConditionReady)
	if c == nil || c.Status != metav1.ConditionTrue || observed != gen {
		return false, time.Time{}
	}
	return true, c.LastTransitionTime.Time
}

// watcher keeps the harness's view of the set's objects in an informer
// cache (one list and a watch per kind), so waiting costs the API server
// no repeated lists of thousands of objects.
type watcher struct {
	cache  ctrlcache.Cache
	cancel context.CancelFunc
}

func watch(ctx context.Context, rc *rest.Config, s set) (*watcher, error) {
	sel := labels.SelectorFromSet(labels.Set{labelRun: s.name})
	c, err := ctrlcache.New(rc, ctrlcache.Options{Scheme: testenv.Scheme(), ByObject: map[client.Object]ctrlcache.ByObject{
		&opsv1alpha1.SupportTeam{}:  {Label: sel},
		&opsv1alpha1.BackupPolicy{}: {Label: sel},
		&opsv1alpha1.DRDrill{}:      {Label: sel},
	}})
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	for _, o := range []client.Object{&opsv1alpha1.SupportTeam{}, &opsv1alpha1.BackupPolicy{}, &opsv1alpha1.DRDrill{}} {
		if _, err := c.GetInformer(ctx, o); err != nil {
			cancel()
			return nil, err
		}
	}
	go func() { _ = c.Start(ctx) }()
	if !c.WaitForCacheSync(ctx) {
		cancel()
		return nil, errors.New("harness cache did not sync")
	}
	return &watcher{cache: c, cancel: cancel}, nil
}

// waitReady waits until every object of the set is Ready and returns the
// latest Ready transition (the API server's second-resolution time).
func (w *watcher) waitReady(ctx context.Context, s set, t0 time.Time) (time.Time, error) {
	lastLog := time.Now()
	for {
		notReady, total, last, err := w.readiness(ctx)
		if err != nil {
			return last, err
		}
		if total == 3*s.n && notReady == 0 {
			return last, nil
		}
		if time.Since(lastLog) > 30*time.Second {
			fmt.Printf("  %s: %d of %d objects Ready\n", time.Since(t0).Round(time.Second), total-notReady, 3*s.n)
			lastLog = time.Now()
		}
		if time.Since(t0) > 45*time.Minute {
			return last, fmt.Errorf("%d of %d objects not Ready after 45 minutes", notReady+3*s.n-total, 3*s.n)
		}
		select {
		case <-ctx.Done():
			return last, ctx.Err()
		case <-time.After(time.Second):
		}
	}
}

func (w *watcher) readiness(ctx context.Context) (notReady, total int, last time.Time, err error) {
	note := func(ok bool, at time.Time) {
		total++
		if !ok {
			notReady++
		} else if at.After(last) {
			last = at
		}
	}
	var teams opsv1alpha1.SupportTeamList
	var policies opsv1alpha1.BackupPolicyList
	var drills opsv1alpha1.DRDrillList
	for _, l := range []client.ObjectList{&teams, &policies, &drills} {
		if err := w.cache.List(ctx, l, client.UnsafeDisableDeepCopy); err != nil {
			return 0, 0, last, err
		}
	}
	for _, t := range teams.Items {
		note(readiness(t.Status.Conditions, t.Generation, t.Status.ObservedGeneration))
	}
	for _, p := range policies.Items {
		note(readiness(p.Status.Conditions, p.Generation, p.Status.ObservedGeneration))
	}
	for _, d := range drills.Items {
		note(readiness(d.Status.Conditions, d.Generation, d.Status.ObservedGeneration))
	}
	return notReady, total, last, nil
}

func cpuModel() string {
	data, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown CPU"
	}
	for line := range strings.SplitSeq(string(data), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown CPU"
}

func memTotal() string {
	data, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return "unknown memory"
	}
	for line := range strings.SplitSeq(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) >= 2 && f[0] == "MemTotal:" {
			kb, _ := strconv.ParseFloat(f[1], 64)
			return fmt.Sprintf("%.0f GiB RAM", kb/(1<<20))
		}
	}
	return "unknown memory"
}

// startProfile samples the manager's stacks with perf until
// finishProfile, if perf is installed (Go binaries keep frame pointers, so
// call graphs work).
func startProfile(m *manager, workDir string) *exec.Cmd {
	perf, err := exec.LookPath("perf")
	if err != nil {
		fmt.Println("perf not found: no profile")
		return nil
	}
	cmd := exec.Command(perf, "record", "-F", "199", "-g", "-o", filepath.Join(workDir, "perf.data"),
		"-p", strconv.Itoa(m.cmd.Process.Pid))
	if err := cmd.Start(); err != nil {
		fmt.Println("perf record:", err)
		return nil
	}
	return cmd
}

// perfLine is one line of perf report: percentages, [.] or [k], symbol.
var perfLine = regexp.MustCompile(`^\s*([0-9.]+%)(?:\s+([0-9.]+%))?\s+\[(.)\]\s+(.*?)\s*(?:-\s+-)?\s*$`)

// finishProfile stops perf and lists the manager's functions that took
// the most CPU: by self time, and by time including their callees (the
// operator's own code and the libraries it calls, not the Go runtime).
func finishProfile(cmd *exec.Cmd, workDir string) string {
	_ = cmd.Process.Signal(os.Interrupt)
	_ = cmd.Wait()
	data := filepath.Join(workDir, "perf.data")
	var out []string
	for _, mode := range []string{"--no-children", "--children"} {
		rep, err := exec.Command("perf", "report", "-i", data, "--stdio", mode, "-g", "none",
			"--sort", "symbol", "--percent-limit", "1").Output()
		if err != nil {
			return "perf report: " + err.Error()
		}
		if mode == "--no-children" {
			out = append(out, "self time (user space):")
		} else {
			out = append(out, "including callees (operator and library code):")
		}
		n := 0
		for line := range strings.SplitSeq(string(rep), "\n") {
			f := perfLine.FindStringSubmatch(line)
			if f == nil || f[3] != "." {
				continue
			}
			sym := f[4]
			if mode == "--children" && (strings.HasPrefix(sym, "runtime.") || strings.HasPrefix(sym, "sigs.k8s.io/controller-runtime/pkg/internal/controller.") ||
				strings.HasPrefix(sym, "k8s.io/apimachinery/pkg/util/wait.")) {
				continue
			}
			if len(sym) > 120 {
				sym = sym[:117] + "..."
			}
			out = append(out, fmt.Sprintf("  %6s  %s", f[1], sym))
			if n++; n == 15 {
				break
			}
		}
	}
	return strings.Join(out, "\n")
}
