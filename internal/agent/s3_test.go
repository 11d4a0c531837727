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

package agent_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// startS3 serves an S3-compatible endpoint on loopback with rclone
// (RCLONE_BIN, built by make test from the Go module proxy).
func startS3(t *testing.T) (endpoint string) {
	t.Helper()
	bin := os.Getenv("RCLONE_BIN")
	if bin == "" {
		t.Fatal("RCLONE_BIN is not set: run the tests with \"make test\", which builds rclone into bin/")
	}
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "backups"), 0o755); err != nil {
		t.Fatal(err)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", closedPort(t))
	cmd := exec.Command(bin, "serve", "s3", "--addr", addr, "--auth-key", "AKIDSUPPORTSTACK,supportstack-s3-secret", root)
	var log strings.Builder
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	for deadline := time.Now().Add(20 * time.Second); ; {
		if c, err := net.Dial("tcp", addr); err == nil {
			_ = c.Close()
			return "http://" + addr
		}
		if time.Now().After(deadline) {
			t.Fatalf("rclone serve s3 did not listen on %s:\n%s", addr, log.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestBackupToS3 backs up into an S3-compatible endpoint: the repository is
// created there, and wrong credentials are a clear failure.
func TestBackupToS3(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	cfg := f.config(t)
	endpoint := startS3(t)
	env := append(append([]string{}, f.env...),
		"RESTIC_REPOSITORY=s3:"+endpoint+"/backups/helpdesk",
		"AWS_ACCESS_KEY_ID=AKIDSUPPORTSTACK", "AWS_SECRET_ACCESS_KEY=supportstack-s3-secret")
	res := f.runner(env).Backup(ctx, cfg)
	if !res.Succeeded || len(res.Snapshots) != 2 || !contains(res.Notes, "initialised the repository") {
		t.Fatalf("backup to S3: %+v", res)
	}
	again := f.runner(env).Backup(ctx, cfg)
	if !again.Succeeded || again.Snapshots[1].Added >= res.Snapshots[1].Added {
		t.Errorf("second backup to S3: %+v", again)
	}
	bad := append(append([]string{}, env...), "AWS_SECRET_ACCESS_KEY=wrong")
	failed := f.runner(bad).Backup(ctx, cfg)
	if failed.Succeeded || !strings.HasPrefix(failed.Error, "repository: access denied") {
		t.Errorf("wrong S3 key: %q", failed.Error)
	}
	if strings.Contains(failed.Error, "supportstack-s3-secret") {
		t.Error("the S3 secret appears in the error")
	}
}
