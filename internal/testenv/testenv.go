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

// Package testenv starts a real kube-apiserver and etcd (envtest) with the
// SupportStack CRDs installed, for tests of every package that needs the API
// server's own behaviour: validation, defaulting, status, garbage collection.
// Test code only: no package of the operator's binaries may import it.
package testenv

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	k8sruntime "k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"

	opsv1alpha1 "github.com/supportstack/operator/api/v1alpha1"
)

// RepoRoot is the repository's root directory, found from this file's path.
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// Scheme knows the built-in kinds and the SupportStack kinds.
func Scheme() *k8sruntime.Scheme {
	s := k8sruntime.NewScheme()
	if err := clientgoscheme.AddToScheme(s); err != nil {
		panic(err)
	}
	if err := opsv1alpha1.AddToScheme(s); err != nil {
		panic(err)
	}
	return s
}

// Codecs decodes YAML manifests with the scheme.
func Codecs() serializer.CodecFactory { return serializer.NewCodecFactory(Scheme()) }

// Env is a running API server with the CRDs installed.
type Env struct {
	Env    *envtest.Environment
	Config *rest.Config
	Client client.Client
}

// Start starts etcd and kube-apiserver from KUBEBUILDER_ASSETS (set by
// "make test" to the binaries hack/setup-k8s.sh built) and installs the CRDs
// from config/crd/bases.
func Start() (*Env, error) {
	if os.Getenv("KUBEBUILDER_ASSETS") == "" {
		return nil, fmt.Errorf("KUBEBUILDER_ASSETS is not set: run the tests with \"make test\", " +
			"or export KUBEBUILDER_ASSETS=$(hack/setup-k8s.sh)")
	}
	env := &envtest.Environment{
		CRDDirectoryPaths:     []string{filepath.Join(RepoRoot(), "config", "crd", "bases")},
		ErrorIfCRDPathMissing: true,
	}
	// ValidatingAdmissionPolicies (the rules CRD schemas cannot express)
	// are installed as the kustomize overlay installs them.
	policies, err := ReadObjects(filepath.Join(RepoRoot(), "config", "admission"))
	if err != nil {
		return nil, err
	}
	cfg, err := env.Start()
	if err != nil {
		// Start may fail after etcd and kube-apiserver are up (a CRD the
		// server refuses, say): stop them rather than leak them.
		_ = env.Stop()
		return nil, fmt.Errorf("starting envtest: %w", err)
	}
	c, err := client.New(cfg, client.Options{Scheme: Scheme()})
	if err != nil {
		_ = env.Stop()
		return nil, fmt.Errorf("creating client: %w", err)
	}
	for _, p := range policies {
		if err := c.Create(context.Background(), p); err != nil {
			_ = env.Stop()
			return nil, fmt.Errorf("installing %s %s: %w", p.GetKind(), p.GetName(), err)
		}
	}
	return &Env{Env: env, Config: cfg, Client: c}, nil
}

// ReadObjects decodes every object of every YAML file in dir, except kustomization.yaml.
func ReadObjects(dir string) ([]*unstructured.Unstructured, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil {
		return nil, err
	}
	var objs []*unstructured.Unstructured
	for _, f := range files {
		if filepath.Base(f) == "kustomization.yaml" {
			continue
		}
		in, err := readFile(f)
		if err != nil {
			return nil, err
		}
		objs = append(objs, in...)
	}
	return objs, nil
}

// readFile decodes every object of one YAML file.
func readFile(f string) ([]*unstructured.Unstructured, error) {
	data, err := os.ReadFile(f)
	if err != nil {
		return nil, err
	}
	var objs []*unstructured.Unstructured
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
	for {
		u := &unstructured.Unstructured{}
		if err := dec.Decode(&u.Object); err != nil {
			if errors.Is(err, io.EOF) {
				return objs, nil
			}
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		if len(u.Object) > 0 {
			objs = append(objs, u)
		}
	}
}

// SandboxPolicy reads config/admission/sandbox_namespace_policy.yaml: the
// policy and its binding, both named name (the binding naming that
// policy). Start installs the file under its own unprefixed names, which
// the operator does not read; a test that wants the operator to rely on
// the policy installs this copy under the name it looks up.
func SandboxPolicy(name string) ([]*unstructured.Unstructured, error) {
	objs, err := readFile(filepath.Join(RepoRoot(), "config", "admission", "sandbox_namespace_policy.yaml"))
	if err != nil {
		return nil, err
	}
	if len(objs) != 2 {
		return nil, fmt.Errorf("sandbox_namespace_policy.yaml holds %d objects, want the policy and its binding", len(objs))
	}
	for _, u := range objs {
		u.SetName(name)
		if u.GetKind() == "ValidatingAdmissionPolicyBinding" {
			if err := unstructured.SetNestedField(u.Object, name, "spec", "policyName"); err != nil {
				return nil, err
			}
		}
	}
	return objs, nil
}

// Sample decodes config/samples' first object of kind into obj and puts it
// in namespace ns: tests start from the objects users see first.
func Sample(ns, kind string, obj client.Object) error {
	objs, err := ReadObjects(filepath.Join(RepoRoot(), "config", "samples"))
	if err != nil {
		return err
	}
	for _, u := range objs {
		if u.GetKind() == kind {
			if err := k8sruntime.DefaultUnstructuredConverter.FromUnstructured(u.Object, obj); err != nil {
				return fmt.Errorf("config/samples' %s: %w", kind, err)
			}
			obj.SetNamespace(ns)
			return nil
		}
	}
	return fmt.Errorf("config/samples has no %s", kind)
}

// Stop stops the API server and etcd.
func (e *Env) Stop() error { return e.Env.Stop() }
