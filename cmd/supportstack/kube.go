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
	"flag"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/pflag"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"sigs.k8s.io/controller-runtime/pkg/client"

	opsv1alpha1 "github.com/supportstack/operator/api/v1alpha1"
)

// kubeFlags adds kubectl's flags for reaching a cluster to a subcommand's
// flags: --kubeconfig, --context, -n/--namespace, --cluster, --user,
// -s/--server, --token, --as and the rest of cli-runtime's ConfigFlags,
// which resolves them (with $KUBECONFIG, ~/.kube/config and the
// in-cluster config) exactly as kubectl does. The subcommands keep the
// standard flag package, so their own flags parse as before.
func kubeFlags(fs *flag.FlagSet) *genericclioptions.ConfigFlags {
	kube := genericclioptions.NewConfigFlags(true)
	pfs := pflag.NewFlagSet(fs.Name(), pflag.ContinueOnError)
	kube.AddFlags(pfs)
	pfs.VisitAll(func(f *pflag.Flag) {
		fs.Var(kubeValue{f.Value}, f.Name, f.Usage)
		if f.Shorthand != "" {
			fs.Var(kubeValue{f.Value}, f.Shorthand, f.Usage+" (short for --"+f.Name+")")
		}
	})
	return kube
}

// kubeValue is a ConfigFlags (pflag) value as a standard flag.Value: the
// zero kubeValue, which the flag package makes to print the defaults,
// prints empty, and boolean flags stay boolean (--insecure-skip-tls-verify
// takes no value).
type kubeValue struct{ pflag.Value }

func (v kubeValue) String() string {
	if v.Value == nil {
		return ""
	}
	return v.Value.String()
}

func (v kubeValue) IsBoolFlag() bool {
	b, ok := v.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}

// namespaceOf is the namespace kubectl would use: -n/--namespace, else the
// context's namespace, else "default".
func namespaceOf(kube genericclioptions.RESTClientGetter) (string, error) {
	ns, _, err := kube.ToRawKubeConfigLoader().Namespace()
	return ns, err
}

// newClient reads the cluster the kubectl flags name; tests replace it.
var newClient = func(kube genericclioptions.RESTClientGetter) (client.Client, error) {
	scheme := runtime.NewScheme()
	if err := opsv1alpha1.AddToScheme(scheme); err != nil {
		return nil, err
	}
	if err := corev1.AddToScheme(scheme); err != nil {
		return nil, err
	}
	cfg, err := kube.ToRESTConfig()
	if err != nil {
		return nil, err
	}
	if cfg.QPS == 0 {
		// As controller-runtime's GetConfig did: report lists and reads a lot.
		cfg.QPS, cfg.Burst = 20, 30
	}
	return client.New(cfg, client.Options{Scheme: scheme})
}

// progName is how the user ran the CLI: "kubectl supportstack" when
// kubectl found it as the plugin kubectl-supportstack on PATH.
func progName() string {
	base := strings.TrimSuffix(filepath.Base(os.Args[0]), ".exe")
	if plugin, ok := strings.CutPrefix(base, "kubectl-"); ok {
		return "kubectl " + strings.ReplaceAll(plugin, "_", "-")
	}
	return "supportstack"
}
