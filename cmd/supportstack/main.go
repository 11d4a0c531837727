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

// Command supportstack is the SupportStack command line for people:
//
//	supportstack coverage -f team.yaml            a team's week from a manifest
//	supportstack coverage -n helpdesk windows-tier1   from the cluster (kubeconfig)
//
// It prints the coming 7 days hour by hour: required versus scheduled staff
// per queue, gaps marked.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	opsv1alpha1 "github.com/supportstack/operator/api/v1alpha1"
	"github.com/supportstack/operator/internal/coverage"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "supportstack:", err)
		os.Exit(1)
	}
}

func run(args []string, out io.Writer) error {
	if len(args) == 0 || args[0] != "coverage" {
		return errors.New("usage: supportstack coverage [-f FILE | -n NAMESPACE NAME] [--at RFC3339]")
	}
	fs := flag.NewFlagSet("coverage", flag.ContinueOnError)
	file := fs.String("f", "", "read the SupportTeam from this YAML file instead of the cluster")
	namespace := fs.String("n", "default", "namespace of the SupportTeam in the cluster")
	at := fs.String("at", "", "start of the week to show (RFC 3339); default now")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	now := time.Now()
	if *at != "" {
		t, err := time.Parse(time.RFC3339, *at)
		if err != nil {
			return fmt.Errorf("--at: %w", err)
		}
		now = t
	}
	team, err := loadTeam(*file, *namespace, fs.Args())
	if err != nil {
		return err
	}
	model, err := coverage.FromSpec(team.Spec)
	if err != nil {
		return err
	}
	result, err := coverage.Compute(model, now)
	if err != nil {
		return err
	}
	if _, err := fmt.Fprintf(out, "SupportTeam %s: %d members, %d on shift now\n\n", team.Name, result.Headcount, result.OnShiftNow); err != nil {
		return err
	}
	return coverage.WriteHourly(out, model, result)
}

func loadTeam(file, namespace string, rest []string) (*opsv1alpha1.SupportTeam, error) {
	team := &opsv1alpha1.SupportTeam{}
	if file != "" {
		data, err := os.ReadFile(file)
		if err != nil {
			return nil, err
		}
		var kind metav1.TypeMeta
		if err := yaml.Unmarshal(data, &kind); err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
		if kind.Kind != "SupportTeam" {
			return nil, fmt.Errorf("%s holds a %q, not a SupportTeam", file, kind.Kind)
		}
		if err := yaml.UnmarshalStrict(data, team); err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
		return team, nil
	}
	if len(rest) != 1 {
		return nil, errors.New("name one SupportTeam, or give -f FILE")
	}
	scheme := runtime.NewScheme()
	if err := opsv1alpha1.AddToScheme(scheme); err != nil {
		return nil, err
	}
	cfg, err := ctrl.GetConfig()
	if err != nil {
		return nil, err
	}
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		return nil, err
	}
	err = c.Get(context.Background(), types.NamespacedName{Namespace: namespace, Name: rest[0]}, team)
	return team, err
}
