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
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// TestCompletion writes the bash and zsh scripts, checks their syntax with
// bash -n, then calls the completion function in bash as readline would
// and checks what it offers: subcommands under their parents, each
// command's flags as its flag set defines them (a flag's value is skipped
// when finding the command), and the values of --format and -o.
func TestCompletion(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Fatalf("bash is not on PATH (%v): the completion script is for bash, and the test runs it there", err)
	}
	dir := t.TempDir()
	for _, shell := range []string{"bash", "zsh"} {
		var script bytes.Buffer
		if err := run([]string{"completion", shell}, &script); err != nil {
			t.Fatalf("completion %s: %v", shell, err)
		}
		path := filepath.Join(dir, shell)
		if err := os.WriteFile(path, script.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		// zsh's script is the bash one behind bashcompinit: bash parses it too.
		if out, err := exec.Command(bash, "-n", path).CombinedOutput(); err != nil {
			t.Fatalf("bash -n on the %s script: %v\n%s", shell, err, out)
		}
	}
	if err := run([]string{"completion", "fish"}, &bytes.Buffer{}); err == nil {
		t.Error("completion fish: no error")
	}

	cases := []struct {
		line      string // the words typed; the last is the one completed
		want, not []string
	}{
		{"supportstack ", []string{"coverage", "schedule", "verify-evidence", "report", "forecast", "keygen", "completion"}, []string{"train", "--kubeconfig"}},
		{"supportstack sch", []string{"schedule"}, []string{"coverage"}},
		{"supportstack schedule ", []string{"train", "propose"}, []string{"coverage"}},
		{"supportstack schedule propose --", []string{"--weeks", "--time-limit", "--seed", "--kubeconfig", "--context", "--namespace"}, []string{"--top", "--format"}},
		{"supportstack schedule propose -", []string{"-o", "-f", "-n"}, nil},
		{"kubectl-supportstack coverage -n helpdesk --kube", []string{"--kubeconfig"}, nil},
		{"supportstack verify-evidence helpdesk-weekly --n", []string{"--no-head", "--namespace"}, []string{"--format"}},
		{"supportstack report --format ", []string{"json", "csv", "html"}, []string{"--from"}},
		{"supportstack schedule propose -o y", []string{"yaml"}, []string{"table"}},
		{"supportstack report -", []string{"-A", "--all-namespaces", "--max-age", "--public-key"}, nil},
		{"supportstack keygen --p", []string{"--private", "--public"}, []string{"--kubeconfig"}},
		{"supportstack completion ", []string{"bash", "zsh"}, nil},
		{"supportstack report ", []string{"team"}, []string{"forecast"}},
		{"supportstack report team --period ", []string{"day", "week", "month"}, nil},
		{"supportstack report team --", []string{"--period", "--tickets", "--rt-token-file", "--format"}, []string{"--max-age"}},
		{"supportstack forecast --", []string{"--weeks", "--alpha", "--tickets", "--min-tickets"}, []string{"--period"}},
		{"supportstack schedule train --top ", nil, []string{"--top", "train"}},
	}
	for _, tc := range cases {
		words := strings.Split(tc.line, " ")
		var quoted []string
		for _, w := range words {
			quoted = append(quoted, "'"+w+"'")
		}
		prog := "source " + filepath.Join(dir, "bash") + "\n" +
			"COMP_WORDS=(" + strings.Join(quoted, " ") + ")\n" +
			"COMP_CWORD=" + strconv.Itoa(len(words)-1) + "\n" +
			"_supportstack\nprintf '%s\\n' \"${COMPREPLY[@]}\"\n"
		cmd := exec.Command(bash, "--norc", "--noprofile", "-c", prog)
		cmd.Env = append(os.Environ(), "PATH=/nonexistent") // no kubectl: the namespace and context lists stay empty
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%q: %v\n%s", tc.line, err, out)
		}
		got := strings.Fields(string(out))
		for _, w := range tc.want {
			if !slices.Contains(got, w) {
				t.Errorf("%q: completion %q lacks %q", tc.line, got, w)
			}
		}
		for _, w := range tc.not {
			if slices.Contains(got, w) {
				t.Errorf("%q: completion %q offers %q", tc.line, got, w)
			}
		}
	}
}
