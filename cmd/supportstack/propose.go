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
	"fmt"
	"io"
	"os"
	"time"

	"sigs.k8s.io/yaml"

	opsv1alpha1 "github.com/supportstack/operator/api/v1alpha1"
	"github.com/supportstack/operator/internal/roster"
	"github.com/supportstack/operator/internal/rosterplan"
)

// proposeCmd proposes a roster for a team: a diff against the current one
// with the figures before and after (-o table), or the whole SupportTeam
// with its shifts replaced, to review and kubectl apply (-o yaml). It never
// writes to the cluster.
func proposeCmd(args []string, out io.Writer) error {
	fs := newFlagSet("schedule propose")
	file := fs.String("f", "", "read the SupportTeam from this YAML file instead of the cluster")
	kube := kubeFlags(fs)
	weeks := fs.Int("weeks", 1, "weeks to plan, 1-4, from the local midnight of --at (the pattern repeats weekly)")
	output := fs.String("o", "table", "table (diff and figures) or yaml (the whole proposed SupportTeam)")
	limit := fs.Duration("time-limit", roster.DefaultTimeLimit, "how long the solver searches")
	seed := fs.Uint64("seed", 1, "the solver's seed (the search stops at --time-limit, so a faster machine may search further)")
	at := fs.String("at", "", "a time in the first day of the horizon (RFC 3339); default now")
	names, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	switch {
	case *weeks < 1 || *weeks > 4:
		return fmt.Errorf("--weeks %d: give 1 to 4", *weeks)
	case *output != "table" && *output != "yaml":
		return fmt.Errorf("-o %s: give table or yaml", *output)
	case *limit <= 0:
		return fmt.Errorf("--time-limit %s: give a positive duration such as 5s", *limit)
	}
	now := time.Now()
	if *at != "" {
		if now, err = time.Parse(time.RFC3339, *at); err != nil {
			return fmt.Errorf("--at: %w", err)
		}
	}
	team, err := loadTeam(*file, kube, names)
	if err != nil {
		return err
	}
	p, err := rosterplan.Propose(demandInUse(team), now, rosterplan.Options{Weeks: *weeks, Solver: roster.Options{Seed: *seed, TimeLimit: *limit}})
	if err != nil {
		return err
	}
	if *output == "table" {
		return p.WriteTable(out)
	}
	// From a file, start from the manifest as written, so everything but
	// the shifts stays exactly as the manager wrote it.
	var obj map[string]any
	if *file != "" {
		data, err := os.ReadFile(*file)
		if err != nil {
			return err
		}
		if err := yaml.Unmarshal(data, &obj); err != nil {
			return fmt.Errorf("%s: %w", *file, err)
		}
	} else if obj, err = rosterplan.TeamObject(team); err != nil {
		return err
	}
	manifest, err := p.Manifest(obj)
	if err != nil {
		return err
	}
	_, err = out.Write(manifest)
	return err
}

// demandInUse is a copy of the team whose spec has the demand the operator
// last measured coverage with (status.queues[].demand, for queues whose
// demand comes from history), so a proposal fits the same demand as status;
// the manifest a proposal writes still starts from the team as it is.
func demandInUse(team *opsv1alpha1.SupportTeam) *opsv1alpha1.SupportTeam {
	c := team.DeepCopy()
	c.Spec = team.SpecInUse()
	return c
}
