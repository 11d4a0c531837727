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
	"bytes"
	"context"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/supportstack/operator/internal/agentapi"
)

// ParallelRestoreMinBytes is the smallest dump loaded from a file with
// pg_restore --jobs rather than piped: below it, writing and reading the
// file back costs about what the parallel load saves (make bench measures
// both at 1 GB).
const ParallelRestoreMinBytes = 64 << 20

// parallelRestore reports whether a dump of the manifest's size is fetched
// to a file in the scratch directory and loaded with pg_restore --jobs:
// the restore pod may use two CPUs or more, the dump is large enough, and
// it fits the scratch directory (its sizeLimit and the disk's free space)
// with a tenth to spare. A manifest without the dump's size (older
// backups) is piped.
func (a *Runner) parallelRestore(cfg agentapi.RestoreConfig, m agentapi.Manifest) bool {
	minBytes := int64(ParallelRestoreMinBytes)
	if a.ParallelRestoreMinBytes > 0 {
		minBytes = a.ParallelRestoreMinBytes
	}
	if cfg.Jobs < 2 || cfg.ScratchDir == "" || m.Database == nil || m.Database.DumpBytes < minBytes {
		return false
	}
	room := cfg.ScratchBytes
	avail, total, err := diskSpace(cfg.ScratchDir)
	if err != nil {
		return false
	}
	// Leave the filesystem more than 10 % free after the file: the kubelet
	// evicts pods when a node's disk falls under that (its default
	// nodefs.available threshold).
	free := avail - total/10
	if room <= 0 || free < room {
		room = free
	}
	return m.Database.DumpBytes+m.Database.DumpBytes/10 <= room
}

// diskSpace is the space available to the agent and the size of the
// filesystem holding dir.
var diskSpace = func(dir string) (avail, total int64, err error) {
	var fs syscall.Statfs_t
	if err := syscall.Statfs(dir, &fs); err != nil {
		return 0, 0, err
	}
	return int64(fs.Bavail) * fs.Frsize, int64(fs.Blocks) * fs.Frsize, nil
}

// dumpFetch is restic dump writing one database's dump into a pipe, whose
// read end either pg_restore reads directly (no copy through the agent) or
// toFile drains into the scratch directory.
type dumpFetch struct {
	started time.Time
	cmd     *exec.Cmd
	out     *os.File
	stderr  bytes.Buffer
	done    chan struct{}
	once    sync.Once
	// unlock removes the locks of restic processes that are gone (see
	// stop).
	unlock func()
	// ended and err are set when restic has exited (after done closes).
	ended time.Time
	err   error
}

// startFetch starts restic dump of a database's dump from a snapshot: an
// id, or "latest" with tags (restic picks the newest snapshot that has
// them all).
func (a *Runner) startFetch(ctx context.Context, snapshot string, tags []string, database string) (*dumpFetch, error) {
	r, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	f := &dumpFetch{started: time.Now(), out: r, done: make(chan struct{}), unlock: func() { a.Restic.unlockStale(ctx) }}
	args := []string{"dump"}
	if len(tags) > 0 {
		args = append(args, "--tag", strings.Join(tags, ","))
	}
	cmd := a.Restic.command(ctx, append(args, snapshot, database+".dump")...)
	cmd.Stdout, cmd.Stderr = w, &f.stderr
	if err := cmd.Start(); err != nil {
		_ = r.Close()
		_ = w.Close()
		return nil, err
	}
	_ = w.Close() // restic holds the write end now
	f.cmd = cmd
	go func() {
		if err := cmd.Wait(); err != nil {
			f.err = &ResticError{Args: cmd.Args, Detail: lastLine(f.stderr.String()), Stderr: f.stderr.String(), Err: err}
		}
		f.ended = time.Now()
		close(f.done)
	}()
	return f, nil
}

// toFile drains the dump into a new file in dir (readable by the agent
// alone), waits for restic, and returns the file and its size.
func (f *dumpFetch) toFile(dir string) (string, int64, error) {
	file, err := os.CreateTemp(dir, "restore-*.dump")
	if err != nil {
		return "", 0, err
	}
	n, copyErr := io.Copy(file, f.out)
	closeErr := file.Close()
	if copyErr == nil {
		f.finish()
	}
	f.stop()
	// The copy's own error first: a full scratch disk, not the broken pipe
	// restic then died of.
	if err := firstError(copyErr, closeErr, f.err); err != nil {
		_ = os.Remove(file.Name())
		return "", 0, err
	}
	return file.Name(), n, nil
}

// finishGrace is how long a restic whose dump was read to the end has to
// exit on its own before it is interrupted.
var finishGrace = 30 * time.Second

// finish ends a fetch whose reader is done with the dump: restic may still
// be running after its last byte (removing its lock from the repository,
// slower on a loaded node), and an interrupt then fails a whole dump
// (restic exits with "signal interrupt received"). Bytes nobody read are
// drained so restic never waits on a full pipe; a restic still running
// after finishGrace is interrupted (stop).
func (f *dumpFetch) finish() {
	go func() { _, _ = io.Copy(io.Discard, f.out) }()
	select {
	case <-f.done:
	case <-time.After(finishGrace):
	}
	f.stop()
}

// stop ends the fetch: a restic still running is interrupted, its pipe
// closed, and waited for. An interrupted restic 0.14 may still leave its
// lock (a signal that arrives as it takes the lock; one killed by the
// broken pipe always does), which blocks prunes and checks: the locks of
// restic processes that are gone are then removed.
func (f *dumpFetch) stop() {
	f.once.Do(func() {
		interrupted := false
		select {
		case <-f.done:
		default:
			interrupted = f.cmd.Process.Signal(os.Interrupt) == nil
		}
		_ = f.out.Close()
		<-f.done
		if interrupted {
			f.unlock()
		}
	})
	<-f.done
}

// restoreProgress reads pg_restore --verbose as it writes: it notes when
// each table's rows finished loading and when the first post-data object
// (index, constraint, trigger) was created, and keeps the lines that are
// not progress, bounded, for ReducePgRestore.
type restoreProgress struct {
	mu               sync.Mutex
	partial          []byte
	lastDataFinished time.Time
	firstPostData    time.Time
	errors           bytes.Buffer
}

// maxRestoreErrors bounds what is kept of pg_restore's other lines.
const maxRestoreErrors = 64 << 10

// postDataObjects are what pg_restore creates after the rows (its
// post-data section).
var postDataObjects = []string{"INDEX", "CONSTRAINT", "FK CONSTRAINT", "TRIGGER", "RULE", "POLICY", "INDEX ATTACH", "EVENT TRIGGER"}

func (p *restoreProgress) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	p.partial = append(p.partial, b...)
	for {
		i := bytes.IndexByte(p.partial, '\n')
		if i < 0 {
			break
		}
		p.line(string(p.partial[:i]), now)
		p.partial = p.partial[i+1:]
	}
	return len(b), nil
}

func (p *restoreProgress) line(line string, now time.Time) {
	rest, ok := strings.CutPrefix(line, "pg_restore: ")
	switch {
	case !ok || strings.HasPrefix(rest, "error: ") || strings.HasPrefix(rest, "warning: ") || strings.HasPrefix(rest, "from TOC entry"):
		if p.errors.Len() < maxRestoreErrors {
			p.errors.WriteString(line)
			p.errors.WriteByte('\n')
		}
	case strings.HasPrefix(rest, "finished item ") && strings.Contains(rest, " TABLE DATA "):
		p.lastDataFinished = now
	case strings.HasPrefix(rest, "creating "):
		for _, o := range postDataObjects {
			if strings.HasPrefix(rest, "creating "+o+" ") && p.firstPostData.IsZero() {
				p.firstPostData = now
			}
		}
	}
}

// loadEnd is when the rows were in: the last table's data finished
// (parallel), else the first post-data object (piped, where post-data
// follows every table's rows), else zero (neither seen).
func (p *restoreProgress) loadEnd() time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.lastDataFinished.IsZero() {
		return p.lastDataFinished
	}
	return p.firstPostData
}

func (p *restoreProgress) stderr() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.errors.String() + string(p.partial)
}

// addPhases adds one database's phases to the restore's.
func addPhases(sum *agentapi.RestorePhases, p agentapi.RestorePhases) *agentapi.RestorePhases {
	if sum == nil {
		return &p
	}
	if p.Method == agentapi.RestoreParallel {
		sum.Method, sum.Jobs = p.Method, max(sum.Jobs, p.Jobs)
	}
	sum.Fetch += p.Fetch
	sum.Load += p.Load
	sum.Indexes += p.Indexes
	return sum
}
