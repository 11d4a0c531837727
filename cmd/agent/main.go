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

// Command agent runs inside the SupportStack Job pods:
//
//	agent backup --config JSON    pg_dump | restic backup --stdin, restic backup of volumes, manifests
//	agent prune  --config JSON    restic forget --prune with the policy's keep rules
//	agent check  --config JSON    restic check --read-data-subset
//
// The result is written as JSON to the termination log (the operator reads it
// into status) and to stdout; on failure the exit code is 1 and stderr has a
// one-line reason. Secrets come only from the environment.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/supportstack/operator/internal/agent"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		_, _ = fmt.Fprintln(stderr, "usage: agent backup|prune|check --config JSON")
		return 2
	}
	op := args[0]
	fs := flag.NewFlagSet(op, flag.ContinueOnError)
	fs.SetOutput(stderr)
	config := fs.String("config", "", "the agent configuration (JSON; no secrets)")
	termination := fs.String("termination-log", "/dev/termination-log", "where to write the result for the operator")
	restic := fs.String("restic", "restic", "the restic binary")
	pgDump := fs.String("pg-dump", "pg_dump", "the pg_dump binary")
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	cfg, err := agent.ParseConfig(*config)
	if err != nil {
		_, _ = fmt.Fprintln(stderr, err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()

	runner := &agent.Runner{
		Restic: &agent.Restic{Binary: *restic, Env: os.Environ()},
		PgDump: *pgDump,
		Env:    os.Environ(),
		Now:    time.Now,
	}
	var res agent.Result
	switch op {
	case "backup":
		res = runner.Backup(ctx, cfg)
	case "prune":
		res = runner.Prune(ctx, cfg)
	case "check":
		res = runner.Check(ctx, cfg)
	default:
		_, _ = fmt.Fprintf(stderr, "unknown operation %q: use backup, prune or check\n", op)
		return 2
	}
	out := res.Encode()
	if *termination != "" {
		if err := os.WriteFile(*termination, out, 0o644); err != nil {
			_, _ = fmt.Fprintf(stderr, "writing the termination log: %v\n", err)
		}
	}
	_, _ = stdout.Write(append(out, '\n'))
	if !res.Succeeded {
		_, _ = fmt.Fprintf(stderr, "%s failed: %s\n", op, res.Error)
		return 1
	}
	return 0
}
