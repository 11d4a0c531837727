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

package agent

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"time"
)

// Restic runs the restic CLI. The repository, its password and credentials
// come from the environment (RESTIC_REPOSITORY, RESTIC_PASSWORD, AWS_*...),
// never from arguments.
type Restic struct {
	Binary string
	Env    []string
}

// ResticError is a failed restic run, with its last meaningful stderr line.
type ResticError struct {
	Args   []string
	Detail string
	// Stderr is restic's whole error output, for classification.
	Stderr string
	Err    error
}

func (e *ResticError) Error() string { return describeRestic(e.Detail, e.Err) }

// describeRestic turns restic's stderr into one line a human understands.
func describeRestic(detail string, err error) string {
	d := strings.ToLower(detail)
	switch {
	case strings.Contains(d, "wrong password"):
		return "repository: wrong password (check the Secret named by repository.passwordSecretRef)"
	case strings.Contains(d, "no space left on device"):
		return "repository: disk full: " + detail
	case strings.Contains(d, "connection refused"), strings.Contains(d, "no such host"),
		strings.Contains(d, "i/o timeout"), strings.Contains(d, "network is unreachable"):
		return "repository unreachable: " + detail
	case strings.Contains(d, "repository is already locked"), strings.Contains(d, "unable to create lock"):
		return "repository is locked by another run: " + detail
	case strings.Contains(d, "access denied"), strings.Contains(d, "signature we calculated does not match"),
		strings.Contains(d, "signaturedoesnotmatch"), strings.Contains(d, "access key id you provided does not exist"):
		return "repository: access denied (check the Secret named by repository.credentialsSecretRef): " + detail
	case strings.Contains(d, "permission denied"):
		return "repository: permission denied: " + detail
	}
	if detail == "" {
		return fmt.Sprintf("restic: %v", err)
	}
	return "restic: " + detail
}

// lastLine returns the line of stderr that says what went wrong: restic's
// "Fatal:" line when there is one, else the last non-empty line that is not
// JSON progress.
func lastLine(stderr string) string {
	lines := strings.Split(strings.TrimSpace(stderr), "\n")
	for _, l := range lines {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(l), "Fatal: "); ok {
			return rest
		}
	}
	for i := len(lines) - 1; i >= 0; i-- {
		l := strings.TrimSpace(lines[i])
		if l != "" && !strings.HasPrefix(l, "{") {
			return l
		}
	}
	return ""
}

func (r *Restic) command(ctx context.Context, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, r.Binary, args...)
	cmd.Env = r.Env
	// Let restic finish writing what it can on cancellation, then stop it.
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 30 * time.Second
	return cmd
}

// run runs restic and returns stdout.
func (r *Restic) run(ctx context.Context, args ...string) ([]byte, error) {
	cmd := r.command(ctx, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.Bytes(), &ResticError{Args: args, Detail: lastLine(stderr.String()), Stderr: stderr.String(), Err: err}
	}
	return stdout.Bytes(), nil
}

// IsMissingRepository reports whether err says there is no repository yet.
func IsMissingRepository(err error) bool {
	var re *ResticError
	if !errors.As(err, &re) {
		return false
	}
	// "unable to open config file" alone also comes with "Access Denied":
	// only a config that is not there means no repository.
	d := strings.ToLower(re.Stderr)
	return strings.Contains(d, "unable to open config file") &&
		(strings.Contains(d, "no such file") || strings.Contains(d, "does not exist") || strings.Contains(d, "not found"))
}

// IsLocked reports whether err says another process holds the repository's
// exclusive lock (a prune or check, or a stale lock one left).
func IsLocked(err error) bool {
	var re *ResticError
	return errors.As(err, &re) && strings.Contains(strings.ToLower(re.Stderr), "repository is already locked")
}

// unlockStale removes the locks restic itself knows are stale: those of
// processes on this host that are gone, and any older than 30 minutes.
// Best effort: a failure leaves them to prune's and check's preparation.
func (r *Restic) unlockStale(ctx context.Context) {
	_, _ = r.run(ctx, "unlock")
}

// Lock is a restic lock file.
type Lock struct {
	ID       string
	Time     time.Time `json:"time"`
	Hostname string    `json:"hostname"`
	PID      int       `json:"pid"`
}

// Locks lists the repository's locks.
func (r *Restic) Locks(ctx context.Context) ([]Lock, error) {
	out, err := r.run(ctx, "list", "locks", "--no-lock")
	if err != nil {
		return nil, err
	}
	var locks []Lock
	for _, id := range strings.Fields(string(out)) {
		raw, err := r.run(ctx, "cat", "lock", id, "--no-lock")
		if err != nil {
			continue // removed meanwhile
		}
		l := Lock{ID: id}
		if err := json.Unmarshal(raw, &l); err != nil {
			return nil, fmt.Errorf("lock %s: %w", id, err)
		}
		locks = append(locks, l)
	}
	return locks, nil
}

// RemoveStaleLocks removes locks older than age (a run killed mid-way
// leaves one) and reports what it found; younger locks are left alone.
func (r *Restic) RemoveStaleLocks(ctx context.Context, age time.Duration, now time.Time) ([]string, error) {
	locks, err := r.Locks(ctx)
	if err != nil {
		return nil, err
	}
	var notes []string
	stale := 0
	for _, l := range locks {
		if now.Sub(l.Time) > age {
			stale++
			notes = append(notes, fmt.Sprintf("stale lock %.8s from %s pid %d at %s (older than %s)", l.ID, l.Hostname, l.PID, l.Time.UTC().Format(time.RFC3339), age))
		} else {
			notes = append(notes, fmt.Sprintf("active lock %.8s from %s pid %d at %s", l.ID, l.Hostname, l.PID, l.Time.UTC().Format(time.RFC3339)))
		}
	}
	if stale > 0 {
		// Plain unlock removes only locks restic itself considers stale (not
		// refreshed for 30 minutes: a live restic refreshes every 5), so a
		// run still in progress keeps its lock.
		if _, err := r.run(ctx, "unlock"); err != nil {
			return notes, err
		}
		notes = append(notes, fmt.Sprintf("removed %d stale lock(s)", stale))
	}
	return notes, nil
}

// BackupSummary is restic backup's closing summary.
type BackupSummary struct {
	SnapshotID string  `json:"snapshot_id"`
	DataAdded  int64   `json:"data_added"`
	TotalBytes int64   `json:"total_bytes_processed"`
	Duration   float64 `json:"total_duration"`
}

// parseSummary reads restic backup --json output.
func parseSummary(out []byte) (BackupSummary, error) {
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var m struct {
			Type string `json:"message_type"`
			BackupSummary
		}
		if json.Unmarshal(sc.Bytes(), &m) == nil && m.Type == "summary" && m.SnapshotID != "" {
			return m.BackupSummary, nil
		}
	}
	return BackupSummary{}, errors.New("restic reported no snapshot")
}

// BackupCommand prepares restic backup --json with tags; the caller
// provides stdin for a --stdin backup.
func (r *Restic) BackupCommand(ctx context.Context, tags []string, args ...string) *exec.Cmd {
	// Compression auto (zstd's default level) whatever RESTIC_COMPRESSION
	// says; a format-1 repository ignores it.
	full := []string{"backup", "--json", "--compression", "auto"}
	for _, t := range tags {
		full = append(full, "--tag", t)
	}
	return r.command(ctx, append(full, args...)...)
}

// BackupPaths backs up files and directories.
func (r *Restic) BackupPaths(ctx context.Context, tags []string, paths ...string) (BackupSummary, error) {
	cmd := r.BackupCommand(ctx, tags, paths...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return BackupSummary{}, &ResticError{Args: cmd.Args, Detail: lastLine(stderr.String()), Err: err}
	}
	return parseSummary(stdout.Bytes())
}

// BackupReader stores what read yields as one file of a new snapshot.
func (r *Restic) BackupReader(ctx context.Context, tags []string, filename string, read io.Reader) (BackupSummary, error) {
	cmd := r.BackupCommand(ctx, tags, "--stdin", "--stdin-filename", filename)
	var stdout, stderr bytes.Buffer
	cmd.Stdin, cmd.Stdout, cmd.Stderr = read, &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return BackupSummary{}, &ResticError{Args: cmd.Args, Detail: lastLine(stderr.String()), Err: err}
	}
	return parseSummary(stdout.Bytes())
}

// forgetBatch bounds the ids of one restic forget: an argument list stays
// far below the kernel's limit.
const forgetBatch = 500

// ForgetIDs forgets snapshots by id and prunes the data no snapshot uses
// any more.
func (r *Restic) ForgetIDs(ctx context.Context, ids []string) error {
	for start := 0; start < len(ids); start += forgetBatch {
		batch := ids[start:min(start+forgetBatch, len(ids))]
		args := append([]string{"forget"}, batch...)
		if start+forgetBatch >= len(ids) {
			args = append(args, "--prune")
		}
		if _, err := r.run(ctx, args...); err != nil {
			return err
		}
	}
	return nil
}

// Check verifies the repository, re-reading percent of the pack data.
func (r *Restic) Check(ctx context.Context, percent int) ([]byte, error) {
	args := []string{"check"}
	if percent > 0 {
		args = append(args, "--read-data-subset", fmt.Sprintf("%d%%", percent))
	}
	return r.run(ctx, args...)
}

// Snapshots lists the snapshots carrying all of tags.
func (r *Restic) Snapshots(ctx context.Context, tags []string) ([]ResticSnapshot, error) {
	args := []string{"snapshots", "--json", "--no-lock"}
	if len(tags) > 0 {
		args = append(args, "--tag", strings.Join(tags, ","))
	}
	out, err := r.run(ctx, args...)
	if err != nil {
		return nil, err
	}
	var snaps []ResticSnapshot
	if err := json.Unmarshal(out, &snaps); err != nil {
		return nil, fmt.Errorf("restic snapshots: %w", err)
	}
	return snaps, nil
}

// ResticSnapshot is one entry of restic snapshots --json.
type ResticSnapshot struct {
	ID      string    `json:"id"`
	ShortID string    `json:"short_id"`
	Time    time.Time `json:"time"`
	Tags    []string  `json:"tags"`
	Paths   []string  `json:"paths"`
	// Original is the id the snapshot had before restic tag rewrote it.
	Original string `json:"original,omitempty"`
}
