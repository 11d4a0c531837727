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

// Command manager runs the SupportStack operator: the controllers that
// reconcile SupportTeam, BackupPolicy, DRDrill and DRDrillRun resources.
// It reads the agent's results through internal/agentapi and must not link
// internal/agent or a database driver (test/layers checks it).
package main

import (
	"crypto/tls"
	"flag"
	"os"
	"path/filepath"
	"runtime/debug"

	// The distroless image has no zoneinfo: embed it so team and schedule
	// time zones resolve.
	_ "time/tzdata"

	// Import all Kubernetes client auth plugins (e.g. Azure, GCP, OIDC, etc.)
	// to ensure that exec-entrypoint and run can make use of them.
	_ "k8s.io/client-go/plugin/pkg/client/auth"

	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/certwatcher"
	"sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	"sigs.k8s.io/controller-runtime/pkg/metrics/filters"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	opsv1alpha1 "github.com/supportstack/operator/api/v1alpha1"
	"github.com/supportstack/operator/internal/controller"
	"github.com/supportstack/operator/internal/memlimit"
	"github.com/supportstack/operator/internal/resources"
)

var (
	scheme   = runtime.NewScheme()
	setupLog = ctrl.Log.WithName("setup")
	// version is set at build time (-ldflags "-X main.version=v0.1.0");
	// otherwise it is read from the build's VCS stamp.
	version = ""
)

// operatorVersion is what drill evidence records as the operator version.
func operatorVersion() string {
	if version != "" {
		return version
	}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	v := info.Main.Version
	for _, s := range info.Settings {
		if s.Key == "vcs.revision" {
			v += "+" + s.Value
		}
	}
	return v
}

func init() {
	utilruntime.Must(clientgoscheme.AddToScheme(scheme))
	utilruntime.Must(opsv1alpha1.AddToScheme(scheme))
}

func main() {
	var (
		metricsAddr          string
		metricsCertPath      string
		metricsCertName      string
		metricsCertKey       string
		probeAddr            string
		enableLeaderElection bool
		secureMetrics        bool
		enableHTTP2          bool
		agentImage           string
		pprofAddr            string
	)
	flag.StringVar(&agentImage, "agent-image", defaultAgentImage(version),
		"The image of the backup agent (agent + postgresql-client + restic) that the backup, prune, check and drill Jobs run. Default: the agent of this manager's version (supportstack/agent:dev for a build without -X main.version); set it only to pull that same version from elsewhere.")
	flag.StringVar(&metricsAddr, "metrics-bind-address", "0",
		"The address the metrics endpoint binds to. Use :8443 for HTTPS or :8080 for HTTP, or leave as 0 to disable it.")
	flag.StringVar(&probeAddr, "health-probe-bind-address", ":8081", "The address the probe endpoint binds to.")
	flag.BoolVar(&enableLeaderElection, "leader-elect", false,
		"Enable leader election for controller manager. Enabling this will ensure there is only one active controller manager.")
	flag.BoolVar(&secureMetrics, "metrics-secure", true,
		"If set, the metrics endpoint is served securely via HTTPS, behind Kubernetes authentication and authorization.")
	flag.StringVar(&metricsCertPath, "metrics-cert-path", "",
		"The directory that contains the metrics server certificate; a self-signed one is generated when empty.")
	flag.StringVar(&metricsCertName, "metrics-cert-name", "tls.crt", "The name of the metrics server certificate file.")
	flag.StringVar(&metricsCertKey, "metrics-cert-key", "tls.key", "The name of the metrics server key file.")
	drillTimeouts := controller.DefaultDrillTimeouts
	flag.DurationVar(&drillTimeouts.StuckPod, "stuck-pod-timeout", drillTimeouts.StuckPod,
		"How long a drill's pod may stay stuck (unschedulable, an unbound claim, a missing image, a crash loop) before the run ends in Error.")
	agentCacheSize := resources.DefaultAgentCacheSize
	flag.StringVar(&agentCacheSize, "agent-cache-size", agentCacheSize,
		"The size of the agent pods' cache volume (restic's cache of the repository's index and trees, as a quantity: 2Gi, 512Mi); "+
			"every agent pod requests and is limited to it plus its other scratch space. At least 256Mi.")
	maxDrillRuns := controller.DefaultMaxConcurrentDrillRuns
	flag.IntVar(&maxDrillRuns, "max-concurrent-drill-runs-per-namespace", maxDrillRuns,
		"How many drill runs of one namespace run at once (each holds a sandbox namespace, a scratch PostgreSQL server and a copy of the data); "+
			"more stay Pending, saying which runs they wait for, and start as those end. At least 1.")
	rtImage := resources.DefaultRTImage
	flag.StringVar(&rtImage, "rt-image", rtImage,
		"The Request Tracker image every HelpDesk runs, and a drill's requestTracker check beside its agent. When it changes, each HelpDesk "+
			"is backed up first (with spec.protection), its schema upgraded with the new image by a Job, and only then do its pods roll.")
	sandboxPolicy := controller.SandboxNamespacePolicy
	flag.StringVar(&sandboxPolicy, "sandbox-namespace-policy", sandboxPolicy,
		"The name of the ValidatingAdmissionPolicy (and its binding) that lets only the operator label a namespace as a drill sandbox. "+
			"While it is in force, a sandbox the operator created but did not get to record (it stopped in between) is proven its own and adopted or deleted; without it, such a namespace is left for a person.")
	workers := controller.DefaultMaxConcurrentReconciles
	flag.IntVar(&workers, "max-concurrent-reconciles", workers,
		"How many objects of one kind each controller reconciles at once (its workers). The waiting drill runs of one namespace still decide their turn one at a time. At least 1.")
	memoryLimitPercent := memlimit.DefaultPercent
	flag.IntVar(&memoryLimitPercent, "memory-limit-percent", memoryLimitPercent,
		"Unless GOMEMLIMIT is set: the share of the container's memory limit (its cgroup's) the Go runtime keeps the manager under, "+
			"collecting garbage harder near it instead of growing into the OOM killer. 0 leaves the runtime's default.")
	flag.StringVar(&pprofAddr, "pprof-bind-address", "",
		"The address Go's pprof profiles (heap, CPU, goroutines) are served on, e.g. 127.0.0.1:6060; empty (the default) serves none. "+
			"For measuring the manager (make bench-scale); never expose it beyond the pod.")
	flag.BoolVar(&enableHTTP2, "enable-http2", false,
		"If set, HTTP/2 will be enabled for the metrics server (off by default: CVE-2023-44487, CVE-2023-39325).")
	opts := zap.Options{Development: false}
	opts.BindFlags(flag.CommandLine)
	flag.Parse()

	ctrl.SetLogger(zap.New(zap.UseFlagOptions(&opts)))
	agentCacheBytes, err := resources.ParseAgentCacheSize(agentCacheSize)
	if err != nil {
		setupLog.Error(err, "invalid --agent-cache-size")
		os.Exit(1)
	}
	if memoryLimitPercent < 0 || memoryLimitPercent > 100 {
		setupLog.Error(nil, "--memory-limit-percent must be between 0 and 100", "value", memoryLimitPercent)
		os.Exit(1)
	}
	if soft, limit, err := memlimit.Set("/", memoryLimitPercent, os.Getenv); err != nil {
		setupLog.Error(err, "reading the container's memory limit; the Go runtime keeps its default")
	} else if soft > 0 {
		setupLog.Info("Go runtime memory limit set from the container's", "softLimitBytes", soft, "containerLimitBytes", limit, "percent", memoryLimitPercent)
	}
	if workers < 1 {
		setupLog.Error(nil, "--max-concurrent-reconciles must be at least 1", "value", workers)
		os.Exit(1)
	}
	if maxDrillRuns < 1 {
		setupLog.Error(nil, "--max-concurrent-drill-runs-per-namespace must be at least 1", "value", maxDrillRuns)
		os.Exit(1)
	}

	var tlsOpts []func(*tls.Config)
	if !enableHTTP2 {
		// HTTP/2 rapid-reset and stream-cancellation attacks: serve HTTP/1.1 only.
		tlsOpts = append(tlsOpts, func(c *tls.Config) { c.NextProtos = []string{"http/1.1"} })
	}

	metricsServerOptions := metricsserver.Options{
		BindAddress:   metricsAddr,
		SecureServing: secureMetrics,
		TLSOpts:       tlsOpts,
	}
	if secureMetrics {
		// Only clients that authenticate to the API server and are allowed
		// "get /metrics" (config/rbac/metrics_reader_role.yaml) can scrape.
		metricsServerOptions.FilterProvider = filters.WithAuthenticationAndAuthorization
	}

	var metricsCertWatcher *certwatcher.CertWatcher
	if metricsCertPath != "" {
		setupLog.Info("watching metrics server certificate", "path", metricsCertPath)
		var err error
		metricsCertWatcher, err = certwatcher.New(
			filepath.Join(metricsCertPath, metricsCertName),
			filepath.Join(metricsCertPath, metricsCertKey),
		)
		if err != nil {
			setupLog.Error(err, "unable to initialize metrics certificate watcher")
			os.Exit(1)
		}
		metricsServerOptions.TLSOpts = append(metricsServerOptions.TLSOpts, func(c *tls.Config) {
			c.GetCertificate = metricsCertWatcher.GetCertificate
		})
	}

	mgr, err := ctrl.NewManager(ctrl.GetConfigOrDie(), ctrl.Options{
		Scheme:                        scheme,
		Cache:                         controller.CacheOptions(),
		Client:                        controller.ClientOptions(),
		Metrics:                       metricsServerOptions,
		HealthProbeBindAddress:        probeAddr,
		PprofBindAddress:              pprofAddr,
		LeaderElection:                enableLeaderElection,
		LeaderElectionID:              "supportstack-operator.ops.supportstack.io",
		LeaderElectionReleaseOnCancel: true,
		Controller:                    config.Controller{MaxConcurrentReconciles: workers},
	})
	if err != nil {
		setupLog.Error(err, "unable to create manager")
		os.Exit(1)
	}

	if err := controller.SetupWithManager(mgr, controller.Options{
		AgentImage: agentImage, AgentCacheBytes: agentCacheBytes, Version: operatorVersion(), DrillTimeouts: drillTimeouts, MaxConcurrentDrillRunsPerNamespace: maxDrillRuns,
		SandboxNamespacePolicy: sandboxPolicy, OperatorNamespace: os.Getenv("POD_NAMESPACE"), RTImage: rtImage,
	}); err != nil {
		setupLog.Error(err, "unable to set up controllers")
		os.Exit(1)
	}

	if metricsCertWatcher != nil {
		if err := mgr.Add(metricsCertWatcher); err != nil {
			setupLog.Error(err, "unable to add metrics certificate watcher to manager")
			os.Exit(1)
		}
	}
	if err := mgr.AddHealthzCheck("healthz", healthz.Ping); err != nil {
		setupLog.Error(err, "unable to set up health check")
		os.Exit(1)
	}
	if err := mgr.AddReadyzCheck("readyz", healthz.Ping); err != nil {
		setupLog.Error(err, "unable to set up ready check")
		os.Exit(1)
	}

	// SetupSignalHandler cancels the context on SIGTERM/SIGINT: the manager
	// stops its controllers, waits for running reconciles and releases the
	// leader lease before main returns.
	setupLog.Info("starting manager")
	if err := mgr.Start(ctrl.SetupSignalHandler()); err != nil {
		setupLog.Error(err, "problem running manager")
		os.Exit(1)
	}
}
