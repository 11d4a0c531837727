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

package generated

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	// The controller package registers controller-runtime's reconcile,
	// work-queue, process and Go metrics on metrics.Registry, as in the
	// manager: the dashboard may read those.
	_ "sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
	"sigs.k8s.io/yaml"

	"github.com/supportstack/operator/internal/testenv"
)

const dashboardFile = "config/grafana/supportstack.json"

// controllerRuntimeMetrics are the controller-runtime metrics the
// dashboard reads (TestDashboardMetricsExported checks each one is
// registered on controller-runtime's metrics.Registry), true for a
// histogram, read by its _bucket, _sum and _count series.
var controllerRuntimeMetrics = map[string]bool{
	"controller_runtime_reconcile_errors_total": false,
	"controller_runtime_reconcile_total":        false,
	"controller_runtime_reconcile_time_seconds": true,
	"workqueue_depth":                           false,
}

// dashboard is the part of a Grafana dashboard that holds PromQL.
type dashboard struct {
	Annotations struct {
		List []struct {
			Name string `json:"name"`
			Expr string `json:"expr"`
		} `json:"list"`
	} `json:"annotations"`
	Templating struct {
		List []struct {
			Name  string          `json:"name"`
			Type  string          `json:"type"`
			Query json.RawMessage `json:"query"`
		} `json:"list"`
	} `json:"templating"`
	Panels []dashboardPanel `json:"panels"`
}

type dashboardPanel struct {
	ID         int    `json:"id"`
	Type       string `json:"type"`
	Title      string `json:"title"`
	Datasource *struct {
		UID string `json:"uid"`
	} `json:"datasource"`
	Targets []struct {
		RefID string `json:"refId"`
		Expr  string `json:"expr"`
	} `json:"targets"`
	Panels []dashboardPanel `json:"panels"` // a collapsed row's
}

// promQL is one expression of the dashboard: where it is, as written, and
// with Grafana's variables replaced so Prometheus can parse it.
type promQL struct {
	where, expr, parsed string
}

// readDashboard returns the dashboard and every PromQL expression in it:
// the panels' targets, the annotations' queries, and the selectors of the
// variables' label_values(...) queries.
func readDashboard(t *testing.T) (dashboard, []promQL) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), dashboardFile))
	if err != nil {
		t.Fatal(err)
	}
	var d dashboard
	if err := json.Unmarshal(raw, &d); err != nil {
		t.Fatalf("%s: %v", dashboardFile, err)
	}
	vars := map[string]string{}
	var exprs []promQL
	labelValues := regexp.MustCompile(`^label_values\((.*),\s*[a-zA-Z_][a-zA-Z0-9_]*\)$`)
	for _, v := range d.Templating.List {
		var query string
		if err := json.Unmarshal(v.Query, &query); err != nil {
			var q struct {
				Query string `json:"query"`
			}
			if err := json.Unmarshal(v.Query, &q); err != nil {
				t.Fatalf("%s: variable %s: query: %v", dashboardFile, v.Name, err)
			}
			query = q.Query
		}
		switch v.Type {
		case "custom", "constant":
			vars[v.Name] = query
		case "query":
			m := labelValues.FindStringSubmatch(query)
			if m == nil {
				t.Fatalf("%s: variable %s: query %q is not label_values(SELECTOR, LABEL)", dashboardFile, v.Name, query)
			}
			exprs = append(exprs, promQL{where: "variable " + v.Name, expr: m[1]})
		}
	}
	for _, a := range d.Annotations.List {
		if a.Expr != "" {
			exprs = append(exprs, promQL{where: "annotation " + a.Name, expr: a.Expr})
		}
	}
	var walk func([]dashboardPanel)
	walk = func(panels []dashboardPanel) {
		for _, p := range panels {
			for _, tg := range p.Targets {
				exprs = append(exprs, promQL{where: fmt.Sprintf("panel %d %q query %s", p.ID, p.Title, tg.RefID), expr: tg.Expr})
			}
			walk(p.Panels)
		}
	}
	walk(d.Panels)

	// Grafana's interval variables become a duration, a custom variable its
	// value, any other (a multi-value regex such as $namespace) ".*".
	interval := regexp.MustCompile(`\$(__rate_interval|__interval|__range)\b|\$\{(__rate_interval|__interval|__range)\}`)
	variable := regexp.MustCompile(`\$\{?([a-zA-Z_][a-zA-Z0-9_]*)\}?`)
	for i := range exprs {
		e := interval.ReplaceAllString(exprs[i].expr, "5m")
		exprs[i].parsed = variable.ReplaceAllStringFunc(e, func(m string) string {
			if v, ok := vars[strings.Trim(m, "${}")]; ok {
				return v
			}
			return ".*"
		})
	}
	return d, exprs
}

// TestDashboardQueries: every PromQL expression of the dashboard parses, as
// promtool (the Prometheus v3 parser) reads it: each becomes a recording
// rule of one file that `promtool check rules` checks.
func TestDashboardQueries(t *testing.T) {
	promtool := os.Getenv("PROMTOOL")
	if promtool == "" {
		t.Fatal("PROMTOOL is not set: run this test with \"make test-dashboard\" or \"make test\"")
	}
	_, exprs := readDashboard(t)
	if len(exprs) < 10 {
		t.Fatalf("%s: only %d PromQL expressions found: the walk is broken", dashboardFile, len(exprs))
	}
	type rule struct {
		Record string `json:"record"`
		Expr   string `json:"expr"`
	}
	rules := make([]rule, 0, len(exprs))
	var index strings.Builder
	for i, e := range exprs {
		rules = append(rules, rule{Record: fmt.Sprintf("dashboard:expr_%d", i+1), Expr: e.parsed})
		fmt.Fprintf(&index, "  rule %d: %s: %s\n", i+1, e.where, e.parsed)
	}
	file := map[string]any{"groups": []any{map[string]any{"name": "dashboard", "rules": rules}}}
	out, err := yaml.Marshal(file)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "dashboard.rules.yaml")
	if err := os.WriteFile(path, out, 0o644); err != nil {
		t.Fatal(err)
	}
	check, err := exec.Command(promtool, "check", "rules", path).CombinedOutput()
	if err != nil {
		t.Fatalf("promtool check rules: %v\n%s\nthe rules are:\n%s", err, check, index.String())
	}
	t.Logf("promtool check rules:\n%s", check)
}

// promQLKeywords are the words of PromQL that are no metric names.
var promQLKeywords = map[string]bool{
	"and": true, "or": true, "unless": true, "by": true, "without": true, "on": true, "ignoring": true,
	"group_left": true, "group_right": true, "offset": true, "bool": true, "inf": true, "nan": true, "atan2": true,
}

// metricNames returns the metric names an expression reads, and the
// values of its __name__ matchers. It drops strings, label matchers,
// ranges and grouping clauses, then every word that is neither a function
// call nor a keyword is a metric name.
func metricNames(expr string) (names, nameMatchers []string) {
	for _, m := range regexp.MustCompile(`__name__\s*(?:=~|!~|!=|=)\s*"([^"]*)"`).FindAllStringSubmatch(expr, -1) {
		nameMatchers = append(nameMatchers, m[1])
	}
	e := regexp.MustCompile(`"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'`).ReplaceAllString(expr, `""`)
	e = regexp.MustCompile(`\{[^}]*\}|\[[^\]]*\]`).ReplaceAllString(e, " ")
	e = regexp.MustCompile(`\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)`).ReplaceAllString(e, " ")
	word := regexp.MustCompile(`\b[a-zA-Z_:][a-zA-Z0-9_:]*\b(\s*\()?`)
	for _, m := range word.FindAllStringSubmatch(e, -1) {
		name := strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(m[0]), "("))
		if m[1] != "" || promQLKeywords[strings.ToLower(name)] || slices.Contains(names, name) {
			continue
		}
		names = append(names, name)
	}
	return names, nameMatchers
}

func TestMetricNames(t *testing.T) {
	for _, tc := range []struct {
		expr          string
		names, byName []string
	}{
		{`time() - supportstack_backup_last_success_timestamp_seconds{namespace=~".*"}`, []string{"supportstack_backup_last_success_timestamp_seconds"}, nil},
		{`sum by (controller, le) (rate(workqueue_depth{job="x by (y)"}[5m])) / on (controller) group_left(name) up offset 1h`, []string{"workqueue_depth", "up"}, nil},
		{`histogram_quantile(0.99, sum without (pod) (rate(a_bucket[5m]))) > bool 1e3 and b`, []string{"a_bucket", "b"}, nil},
		{`{__name__=~"supportstack_.+"}`, nil, []string{"supportstack_.+"}},
	} {
		names, byName := metricNames(tc.expr)
		if !slices.Equal(names, tc.names) || !slices.Equal(byName, tc.byName) {
			t.Errorf("metricNames(%q) = %q, %q; want %q, %q", tc.expr, names, byName, tc.names, tc.byName)
		}
	}
}

// registeredOnControllerRuntime reports whether a metric of that name is
// registered on controller-runtime's registry: registering another one
// under the name fails if it is (different help and labels).
func registeredOnControllerRuntime(name string) bool {
	probe := prometheus.NewGauge(prometheus.GaugeOpts{Name: name, Help: "probe of the dashboard test"})
	if err := metrics.Registry.Register(probe); err != nil {
		return true
	}
	metrics.Registry.Unregister(probe)
	return false
}

// TestDashboardMetricsExported: a panel on a metric the operator does not
// export shows "No data", and nothing says why. Every metric the dashboard
// reads must be registered on the registry the manager serves on /metrics
// (servedMetric: the operator's own, registered by internal/controller, and
// controller-runtime's; a histogram by its _bucket, _sum and _count
// series); a __name__ matcher may only pick supportstack_ metrics. And the dashboard shows what it promises: the
// metrics of backup freshness and size, RPO, drill results, RTO against
// its objective, staffing, reconcile errors and queue depth each appear.
func TestDashboardMetricsExported(t *testing.T) {
	for name := range controllerRuntimeMetrics {
		if !registeredOnControllerRuntime(name) {
			t.Errorf("%s is not registered on controller-runtime's metrics.Registry: fix controllerRuntimeMetrics", name)
		}
	}
	_, exprs := readDashboard(t)
	used := map[string][]string{}
	for _, e := range exprs {
		names, byName := metricNames(e.parsed)
		for _, m := range byName {
			if !strings.HasPrefix(m, "supportstack_") {
				t.Errorf("%s: __name__ matcher %q may pick metrics the operator does not export", e.where, m)
			}
		}
		if len(names) == 0 && len(byName) == 0 {
			t.Errorf("%s: %q reads no metric", e.where, e.expr)
		}
		for _, n := range names {
			used[n] = append(used[n], e.where)
		}
	}
	for name, where := range used {
		// A histogram is read by its series, not by its own name.
		if !servedMetric(name) || controllerRuntimeMetrics[name] {
			t.Errorf("the operator does not export %s (read by %s)", name, strings.Join(where, "; "))
		}
	}
	for _, want := range []string{
		"supportstack_backup_last_success_timestamp_seconds", "supportstack_backup_last_bytes_added", "supportstack_backup_rpo_met",
		"supportstack_drill_last_run_passed", "supportstack_drill_measured_rto_seconds", "supportstack_drill_rto_objective_seconds", "supportstack_drill_objectives_met",
		"supportstack_team_queue_required_staff", "supportstack_team_queue_scheduled_staff",
		"controller_runtime_reconcile_errors_total", "workqueue_depth",
	} {
		if _, ok := used[want]; !ok {
			t.Errorf("%s has no panel on %s", dashboardFile, want)
		}
	}
}

// TestServedMetric: the probe behind the dashboard's and the alerts'
// metric checks tells a registered metric from an unregistered name, and a
// histogram's series from a gauge's name with a series suffix.
func TestServedMetric(t *testing.T) {
	for name, want := range map[string]bool{
		"supportstack_backup_rpo_met":                      true,
		"supportstack_drill_rto_objective_seconds":         true,
		"supportstack_no_such_metric":                      false,
		"supportstack_backup_rpo_met_bucket":               false,
		"controller_runtime_reconcile_time_seconds_bucket": true,
		"controller_runtime_reconcile_total":               true,
		"controller_runtime_no_such_total":                 false,
	} {
		if got := servedMetric(name); got != want {
			t.Errorf("servedMetric(%q) = %v, want %v", name, got, want)
		}
	}
}

// TestDashboardShape: panels Grafana can place and query: unique ids, the
// dashboard's data source variable, unique refIds; and the operator's
// series selected by the job the ServiceMonitor gives them.
func TestDashboardShape(t *testing.T) {
	d, exprs := readDashboard(t)
	ids := map[int]bool{}
	var walk func([]dashboardPanel)
	walk = func(panels []dashboardPanel) {
		for _, p := range panels {
			if ids[p.ID] {
				t.Errorf("panel id %d used twice", p.ID)
			}
			ids[p.ID] = true
			if p.Type != "row" && (p.Datasource == nil || p.Datasource.UID != "${datasource}") {
				t.Errorf("panel %d %q: datasource is not the ${datasource} variable", p.ID, p.Title)
			}
			if p.Type != "row" && len(p.Targets) == 0 {
				t.Errorf("panel %d %q has no query", p.ID, p.Title)
			}
			refs := map[string]bool{}
			for _, tg := range p.Targets {
				if tg.RefID == "" || refs[tg.RefID] {
					t.Errorf("panel %d %q: refId %q empty or repeated", p.ID, p.Title, tg.RefID)
				}
				refs[tg.RefID] = true
			}
			walk(p.Panels)
		}
	}
	walk(d.Panels)

	job := metricsJob(t)
	jobMatcher := regexp.MustCompile(`\bjob\s*=~?\s*"([^"]*)"`)
	found := 0
	for _, e := range exprs {
		for _, m := range jobMatcher.FindAllStringSubmatch(e.parsed, -1) {
			found++
			if m[1] != job {
				t.Errorf("%s selects job %q; the ServiceMonitor's targets are job %q", e.where, m[1], job)
			}
		}
	}
	if found == 0 {
		t.Errorf("no query selects the operator's job %q", job)
	}
}

// TestMonitoringKustomization renders config/grafana with kubectl's
// kustomize: the ServiceMonitor and PrometheusRule of config/prometheus and
// the dashboard ConfigMap, in config/default's namespace and name prefix;
// the ServiceMonitor selects the metrics Service config/default renders,
// by a port it has; the ConfigMap carries the sidecar's label and the
// dashboard file as it is.
func TestMonitoringKustomization(t *testing.T) {
	assets := os.Getenv("K8S_ASSETS")
	if assets == "" {
		t.Fatal("K8S_ASSETS is not set: run this test with \"make test\" or \"make test-dashboard\", which set it (this test renders config/grafana with its kubectl)")
	}
	root := testenv.RepoRoot()
	out, err := exec.Command(filepath.Join(assets, "kubectl"), "kustomize", filepath.Join(root, "config", "grafana")).Output()
	if err != nil {
		t.Fatalf("kubectl kustomize config/grafana: %v", err)
	}
	type object struct {
		Kind     string `json:"kind"`
		Metadata struct {
			Name      string            `json:"name"`
			Namespace string            `json:"namespace"`
			Labels    map[string]string `json:"labels"`
		} `json:"metadata"`
		Data map[string]string `json:"data"`
		Spec struct {
			Selector struct {
				MatchLabels map[string]string `json:"matchLabels"`
			} `json:"selector"`
			Endpoints []struct {
				Port string `json:"port"`
			} `json:"endpoints"`
		} `json:"spec"`
	}
	byKind := map[string]object{}
	docs := strings.Split(string(out), "\n---\n")
	kinds := make([]string, 0, len(docs))
	for _, doc := range docs {
		var o object
		if err := yaml.Unmarshal([]byte(doc), &o); err != nil {
			t.Fatal(err)
		}
		byKind[o.Kind] = o
		kinds = append(kinds, o.Kind)
	}
	sort.Strings(kinds)
	if !slices.Equal(kinds, []string{"ConfigMap", "PrometheusRule", "ServiceMonitor"}) {
		t.Fatalf("config/grafana renders %v, want a ConfigMap, a PrometheusRule and a ServiceMonitor", kinds)
	}

	var kustomization struct {
		Namespace  string `json:"namespace"`
		NamePrefix string `json:"namePrefix"`
	}
	readYAML(t, filepath.Join(root, "config", "default", "kustomization.yaml"), &kustomization)
	for _, o := range byKind {
		if o.Metadata.Namespace != kustomization.Namespace || !strings.HasPrefix(o.Metadata.Name, kustomization.NamePrefix) {
			t.Errorf("%s %s/%s: not in config/default's namespace %s with its prefix %s", o.Kind, o.Metadata.Namespace, o.Metadata.Name, kustomization.Namespace, kustomization.NamePrefix)
		}
	}

	var service struct {
		Metadata struct {
			Labels map[string]string `json:"labels"`
		} `json:"metadata"`
		Spec struct {
			Ports []struct {
				Name string `json:"name"`
			} `json:"ports"`
		} `json:"spec"`
	}
	readYAML(t, filepath.Join(root, "config", "default", "metrics_service.yaml"), &service)
	monitor := byKind["ServiceMonitor"]
	if len(monitor.Spec.Selector.MatchLabels) == 0 {
		t.Error("the ServiceMonitor selects every Service")
	}
	for k, v := range monitor.Spec.Selector.MatchLabels {
		if service.Metadata.Labels[k] != v {
			t.Errorf("the ServiceMonitor selects %s=%s, which the metrics Service does not carry", k, v)
		}
	}
	for _, e := range monitor.Spec.Endpoints {
		if !slices.ContainsFunc(service.Spec.Ports, func(p struct {
			Name string `json:"name"`
		}) bool {
			return p.Name == e.Port
		}) {
			t.Errorf("the ServiceMonitor scrapes port %q, which the metrics Service does not name", e.Port)
		}
	}

	cm := byKind["ConfigMap"]
	if cm.Metadata.Labels["grafana_dashboard"] != "1" {
		t.Errorf("ConfigMap %s: label grafana_dashboard is %q, want \"1\" (the Grafana sidecar's)", cm.Metadata.Name, cm.Metadata.Labels["grafana_dashboard"])
	}
	want, err := os.ReadFile(filepath.Join(root, dashboardFile))
	if err != nil {
		t.Fatal(err)
	}
	if cm.Data["supportstack.json"] != string(want) {
		t.Errorf("ConfigMap %s: supportstack.json is not %s as it is", cm.Metadata.Name, dashboardFile)
	}
}
