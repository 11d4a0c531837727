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
//	agent restore --config JSON   a drill's restore into its sandbox (restic dump | pg_restore, volumes)
//	agent verify  --config JSON   a drill's checks on the restored copy (read-only)
//
// The result is written as JSON to the termination log (the operator reads it
// into status) and to stdout; on failure the exit code is 1 and stderr has a
// one-line reason. A configuration written for another contract version
// (agentapi.ContractVersion: the manager and agent images are different
// builds) is refused before anything runs, as a failed result with exit
// code 3. Secrets come only from the environment. It knows no
// Kubernetes API: it must not import client-go, controller-runtime or the
// operator's reconcilers.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/supportstack/operator/internal/agent"
	"github.com/supportstack/operator/internal/agentapi"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		_, _ = fmt.Fprintln(stderr, "usage: agent backup|prune|check|restore|verify --config JSON")
		return 2
	}
	op := args[0]
	fs := flag.NewFlagSet(op, flag.ContinueOnError)
	fs.SetOutput(stderr)
	config := fs.String(agentapi.ConfigFlag, "", "the agent configuration (JSON; no secrets)")
	termination := fs.String("termination-log", "/dev/termination-log", "where to write the result for the operator")
	restic := fs.String("restic", "restic", "the restic binary")
	pgDump := fs.String("pg-dump", "pg_dump", "the pg_dump binary")
	pgRestore := fs.String("pg-restore", "pg_restore", "the pg_restore binary")
	connectPatience := fs.Duration("connect-patience", 30*time.Second,
		"how long refused or timed-out database connections are retried (NetworkPolicies reach a new pod a moment after it starts)")
	if err := fs.Parse(args[1:]); err != nil {
		// A manager of a later version may pass a flag this agent does not
		// know: its configuration's contract version still gets the
		// refusal that manager can read, not a bare usage error.
		if cfg, ok := flagValue(args[1:], agentapi.ConfigFlag); ok {
			if cerr := agentapi.CheckContract(cfg); cerr != nil {
				term, found := flagValue(args[1:], "termination-log")
				if !found {
					term = "/dev/termination-log"
				}
				return refuse(op, cfg, cerr, term, stdout, stderr)
			}
		}
		return 2
	}
	// Before anything else: a configuration from a manager of another
	// contract version is refused, in a result that manager can read.
	if err := agentapi.CheckContract(*config); err != nil {
		return refuse(op, *config, err, *termination, stdout, stderr)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	runner := &agent.Runner{
		Restic:    &agent.Restic{Binary: *restic, Env: os.Environ()},
		PgDump:    *pgDump,
		PgRestore: *pgRestore,
		Env:       os.Environ(),
		Now:       time.Now,

		ConnectPatience: *connectPatience,
	}
	// The agent's own peak memory, children (pg_dump, restic) excluded, in
	// the pod log: what its memory limit must hold beyond theirs.
	defer reportPeakRSS(stderr)
	if op == agentapi.OperationRestore || op == agentapi.OperationVerify {
		return drill(ctx, runner, op, *config, *termination, stdout, stderr)
	}
	cfg, err := agentapi.ParseConfig(*config)
	if err == nil && op == agentapi.OperationBackup {
		err = cfg.CheckConnections()
	}
	if err != nil {
		_, _ = fmt.Fprintln(stderr, err)
		return 2
	}
	var res agentapi.Result
	switch op {
	case agentapi.OperationBackup:
		res = runner.Backup(ctx, cfg)
	case agentapi.OperationPrune:
		res = runner.Prune(ctx, cfg)
	case agentapi.OperationCheck:
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

// refuse reports a configuration the agent will not run (another contract
// version) as the failed result of its operation, touching nothing else.
func refuse(op, config string, err error, termination string, stdout, stderr io.Writer) int {
	now := time.Now()
	var out []byte
	if op == agentapi.OperationRestore || op == agentapi.OperationVerify {
		out = agentapi.DrillResult{Operation: op, Start: now, End: now, DrillError: true, Error: err.Error()}.Encode()
	} else {
		out = agentapi.Result{Operation: op, Policy: agentapi.ConfigPolicy(config), Start: now, End: now, Error: err.Error()}.Encode()
	}
	if termination != "" {
		if werr := os.WriteFile(termination, out, 0o644); werr != nil {
			_, _ = fmt.Fprintf(stderr, "writing the termination log: %v\n", werr)
		}
	}
	_, _ = stdout.Write(append(out, '\n'))
	_, _ = fmt.Fprintf(stderr, "%s refused: %s\n", op, err)
	return agentapi.ExitContractMismatch
}

// A passed verification tags its recovery set; restic tag needs the
// repository's exclusive lock, which a backup, a prune or another drill's
// restore may hold for a while: it tries for up to 20 minutes.
const (
	markVerifiedAttempts = 60
	markVerifiedWait     = 20 * time.Second
)

// PeakRSSLine starts the line the agent logs last: its own peak resident
// set, in KiB.
const PeakRSSLine = "agent peak RSS KiB (own, children excluded): "

func reportPeakRSS(w io.Writer) {
	var u syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &u) == nil {
		_, _ = fmt.Fprintf(w, "%s%d\n", PeakRSSLine, u.Maxrss)
	}
}

func drill(ctx context.Context, runner *agent.Runner, op, config, termination string, stdout, stderr io.Writer) int {
	res := agentapi.DrillResult{Operation: op, Start: time.Now()}
	var err error
	switch op {
	case agentapi.OperationRestore:
		var cfg agentapi.RestoreConfig
		if cfg, err = agentapi.ParseRestoreConfig(config); err == nil {
			var done agent.Restoration
			done, err = runner.Restore(ctx, cfg)
			res.Restored, res.RecoverySet, res.Phases = done.Restored, done.RecoverySet, done.Phases
		}
	case agentapi.OperationVerify:
		var job agentapi.VerifyJob
		if job, err = agentapi.ParseVerifyConfig(config); err == nil {
			res.Checks, err = runner.Verify(ctx, job.Checks)
			res.AllPassed = err == nil && len(res.Checks) == len(job.Checks)
			for _, c := range res.Checks {
				res.AllPassed = res.AllPassed && c.Passed
			}
			if res.AllPassed && job.MarkVerified != nil {
				// A tag that cannot be written does not undo the checks:
				// the run still passes, and says so.
				var tagErr *agent.TagError
				if res.Tagged, err = runner.MarkVerified(ctx, *job.MarkVerified, markVerifiedAttempts, markVerifiedWait); errors.As(err, &tagErr) {
					res.TagFailure = tagErr.Kind
					_, _ = fmt.Fprintln(stderr, err)
				}
				err = nil
			}
		}
	}
	res.End = time.Now()
	if err != nil {
		var de *agent.DrillError
		res.Error, res.DrillError = err.Error(), errors.As(err, &de)
	}
	out, _ := json.Marshal(res)
	if termination != "" {
		// The termination log keeps 4 KiB; stdout, the pod log, has everything.
		if err := os.WriteFile(termination, res.Encode(), 0o644); err != nil {
			_, _ = fmt.Fprintf(stderr, "writing the termination log: %v\n", err)
		}
	}
	_, _ = stdout.Write(append(out, '\n'))
	if err != nil {
		_, _ = fmt.Fprintf(stderr, "%s failed: %s\n", op, res.Error)
		return 1
	}
	return 0
}

// flagValue finds a flag's value in arguments the flag package could not
// parse: -name=value, --name=value, -name value or --name value.
func flagValue(args []string, name string) (string, bool) {
	for i, a := range args {
		key, value, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if !strings.HasPrefix(a, "-") || key != name {
			continue
		}
		if hasValue {
			return value, true
		}
		if i+1 < len(args) {
			return args[i+1], true
		}
	}
	return "", false
}
