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
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	// Registers the operator's metrics on controller-runtime's registry,
	// as the manager does: the tests read what /metrics would serve.
	_ "github.com/supportstack/operator/internal/controller"
	"github.com/supportstack/operator/internal/testenv"
)

// The alerts live once, as a PrometheusRule; promtool reads plain rule
// groups, which are that object's spec.
const (
	alertsFile     = "config/prometheus/alerts.yaml"
	alertTestsFile = "config/prometheus/alerts_test.yaml"
	// The name alertTestsFile's rule_files gives the extracted groups.
	extractedRulesFile = "alerts.rules.yaml"
)

type ruleGroups struct {
	Groups []struct {
		Name  string `json:"name"`
		Rules []struct {
			Alert string `json:"alert"`
			Expr  string `json:"expr"`
		} `json:"rules"`
	} `json:"groups"`
}

func (g ruleGroups) alerts() map[string]string {
	exprs := map[string]string{}
	for _, group := range g.Groups {
		for _, r := range group.Rules {
			if r.Alert != "" {
				exprs[r.Alert] = r.Expr
			}
		}
	}
	return exprs
}

// readAlerts returns the PrometheusRule's spec as written and parsed.
func readAlerts(t *testing.T) (json.RawMessage, ruleGroups) {
	t.Helper()
	var rule struct {
		APIVersion string          `json:"apiVersion"`
		Kind       string          `json:"kind"`
		Spec       json.RawMessage `json:"spec"`
	}
	readYAML(t, filepath.Join(testenv.RepoRoot(), alertsFile), &rule)
	if rule.APIVersion != "monitoring.coreos.com/v1" || rule.Kind != "PrometheusRule" {
		t.Fatalf("%s is a %s %s, not a monitoring.coreos.com/v1 PrometheusRule", alertsFile, rule.APIVersion, rule.Kind)
	}
	var groups ruleGroups
	if err := json.Unmarshal(rule.Spec, &groups); err != nil {
		t.Fatalf("%s: spec: %v", alertsFile, err)
	}
	if len(groups.alerts()) == 0 {
		t.Fatalf("%s has no alerts", alertsFile)
	}
	return rule.Spec, groups
}

// TestAlertRules runs promtool on the PrometheusRule's groups: the syntax
// and lint check, then the unit tests in alerts_test.yaml. It also holds
// those tests to covering every alert both firing and quiet, since promtool
// passes a case that names a misspelt alert and expects nothing.
func TestAlertRules(t *testing.T) {
	promtool := os.Getenv("PROMTOOL")
	if promtool == "" {
		t.Fatal("PROMTOOL is not set: run this test with \"make test-alerts\" or \"make test\"")
	}
	spec, groups := readAlerts(t)
	root := testenv.RepoRoot()

	var tests struct {
		RuleFiles []string `json:"rule_files"`
		Tests     []struct {
			Name          string `json:"name"`
			AlertRuleTest []struct {
				Alertname string            `json:"alertname"`
				ExpAlerts []json.RawMessage `json:"exp_alerts"`
			} `json:"alert_rule_test"`
		} `json:"tests"`
	}
	readYAML(t, filepath.Join(root, alertTestsFile), &tests)
	if !slices.Equal(tests.RuleFiles, []string{extractedRulesFile}) {
		t.Fatalf("%s: rule_files is %v; it must be [%s], the groups this test extracts from %s", alertTestsFile, tests.RuleFiles, extractedRulesFile, alertsFile)
	}
	alerts := groups.alerts()
	firing, quiet := map[string]bool{}, map[string]bool{}
	for _, tc := range tests.Tests {
		for _, c := range tc.AlertRuleTest {
			if _, ok := alerts[c.Alertname]; !ok {
				t.Errorf("%s: test %q checks alert %q, which %s does not define", alertTestsFile, tc.Name, c.Alertname, alertsFile)
			}
			if len(c.ExpAlerts) > 0 {
				firing[c.Alertname] = true
			} else {
				quiet[c.Alertname] = true
			}
		}
	}
	for name := range alerts {
		if !firing[name] {
			t.Errorf("%s: no case where %s fires", alertTestsFile, name)
		}
		if !quiet[name] {
			t.Errorf("%s: no case where %s stays quiet", alertTestsFile, name)
		}
	}

	work := t.TempDir()
	rules, err := yaml.JSONToYAML(spec)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(work, extractedRulesFile), rules, 0o644); err != nil {
		t.Fatal(err)
	}
	copyTree(t, filepath.Join(root, filepath.Dir(alertTestsFile)), work, filepath.Base(alertTestsFile))
	for _, args := range [][]string{
		{"check", "rules", extractedRulesFile},
		{"test", "rules", filepath.Base(alertTestsFile)},
	} {
		cmd := exec.Command(promtool, args...)
		cmd.Dir = work
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		t.Logf("promtool %s:\n%s", strings.Join(args, " "), out)
	}
}

// TestAlertMetricsRegistered: an alert on a metric the operator does not
// export never fires, and nothing says so. Every metric an alert reads must
// be registered on the registry the manager serves on /metrics (the
// operator's supportstack_* metrics, registered by internal/controller's
// init as in the manager, and controller-runtime's), or be Prometheus' own
// up.
func TestAlertMetricsRegistered(t *testing.T) {
	_, groups := readAlerts(t)
	used := map[string][]string{}
	for alert, expr := range groups.alerts() {
		names, byName := metricNames(expr)
		for _, name := range append(names, byName...) {
			if !slices.Contains(used[name], alert) {
				used[name] = append(used[name], alert)
			}
		}
	}
	if !slices.ContainsFunc(slices.Collect(maps.Keys(used)), func(n string) bool { return strings.HasPrefix(n, "supportstack_") }) {
		t.Fatalf("no alert in %s reads a supportstack_* metric", alertsFile)
	}
	var missing []string
	for name, alerts := range used {
		if name != "up" && !servedMetric(name) {
			sort.Strings(alerts)
			missing = append(missing, name+" (read by "+strings.Join(alerts, ", ")+")")
		}
	}
	sort.Strings(missing)
	for _, m := range missing {
		t.Errorf("the operator does not export %s", m)
	}
}

// servedMetric reports whether the manager's /metrics serves a metric of
// that name: it is registered on controller-runtime's registry, where
// internal/controller's init registers the operator's metrics, or it is a
// series (_bucket, _sum, _count) of a histogram registered there.
func servedMetric(name string) bool {
	if registeredOnControllerRuntime(name) {
		return true
	}
	base := regexp.MustCompile(`_(bucket|sum|count)$`).ReplaceAllString(name, "")
	return base != name && controllerRuntimeMetrics[base] && registeredOnControllerRuntime(base)
}

// metricsJob is the Prometheus job of the operator's metrics: the
// ServiceMonitor's targets are named after the metrics Service, as
// config/default renders it.
func metricsJob(t *testing.T) string {
	t.Helper()
	root := testenv.RepoRoot()
	var kustomization struct {
		NamePrefix string `json:"namePrefix"`
	}
	readYAML(t, filepath.Join(root, "config", "default", "kustomization.yaml"), &kustomization)
	var service struct {
		Metadata struct {
			Name string `json:"name"`
		} `json:"metadata"`
	}
	readYAML(t, filepath.Join(root, "config", "default", "metrics_service.yaml"), &service)
	return kustomization.NamePrefix + service.Metadata.Name
}

// TestAlertsScrapeTheMetricsService: the Prometheus Operator names a
// ServiceMonitor's targets' job after the Service, which is the metrics
// Service as config/default renders it; and the rules read namespace as the
// object's, which only honorLabels keeps. If either changes, the operator
// alerts would watch nothing or mislabel everything: this fails instead.
func TestAlertsScrapeTheMetricsService(t *testing.T) {
	root := testenv.RepoRoot()
	want := metricsJob(t)

	_, groups := readAlerts(t)
	jobMatcher := regexp.MustCompile(`\bjob\s*=~?\s*"([^"]*)"`)
	found := 0
	for alert, expr := range groups.alerts() {
		for _, m := range jobMatcher.FindAllStringSubmatch(expr, -1) {
			found++
			if m[1] != want {
				t.Errorf("%s selects job %q; the ServiceMonitor's targets are job %q", alert, m[1], want)
			}
		}
	}
	if found == 0 {
		t.Errorf("no alert selects the operator's job %q", want)
	}

	var monitor struct {
		Spec struct {
			JobLabel  string `json:"jobLabel"`
			Endpoints []struct {
				HonorLabels bool `json:"honorLabels"`
			} `json:"endpoints"`
		} `json:"spec"`
	}
	readYAML(t, filepath.Join(root, "config", "prometheus", "monitor.yaml"), &monitor)
	if monitor.Spec.JobLabel != "" {
		t.Errorf("monitor.yaml sets jobLabel %q: job would no longer be the Service's name", monitor.Spec.JobLabel)
	}
	if len(monitor.Spec.Endpoints) == 0 {
		t.Error("monitor.yaml scrapes no endpoint")
	}
	for i, e := range monitor.Spec.Endpoints {
		if !e.HonorLabels {
			t.Errorf("monitor.yaml endpoint %d: honorLabels is off, so the objects' namespace label arrives as exported_namespace", i)
		}
	}
}
