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
	"context"
	"errors"
	"io"
	"net"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/supportstack/operator/internal/agent/pgtest"
)

func TestDescribeRestic(t *testing.T) {
	cases := []struct{ name, stderr, want string }{
		{"wrong password", "Fatal: wrong password or no key found", "repository: wrong password"},
		{"disk full", "Fatal: unable to save snapshot: write /r/data/x: no space left on device", "repository: disk full: unable to save snapshot"},
		{"connection refused", "Fatal: unable to open config file: Stat: Get \"http://127.0.0.1:1/config\": dial tcp 127.0.0.1:1: connect: connection refused", "repository unreachable: "},
		{"repository locked", "Fatal: unable to create lock in backend: repository is already locked exclusively by PID 12", "repository is locked by another run"},
		{"unknown error after progress", "some progress\nFatal: something new", "restic: something new"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := (&ResticError{Detail: lastLine(tc.stderr), Err: errors.New("exit status 1")}).Error()
			if !strings.HasPrefix(got, tc.want) {
				t.Errorf("%q -> %q, want prefix %q", tc.stderr, got, tc.want)
			}
		})
	}
}

// A pod's first connections may be refused until its NetworkPolicies are in
// place: connect retries refusals for ConnectPatience, and a refusal by the
// server itself (a wrong password) at once.
func TestConnectRetriesRefusals(t *testing.T) {
	ctx := context.Background()
	pg := pgtest.Start(t)
	u, err := url.Parse(pg.URI("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	// A port nothing listens on yet; a proxy to the server opens there 2 s later.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	proxyAddr := l.Addr().String()
	_ = l.Close()
	behind := *u
	behind.Host = proxyAddr

	if _, err := (&Runner{}).connect(ctx, behind.String()); err == nil || !strings.Contains(describePg(err).Error(), "connection refused") {
		t.Fatalf("without patience: %v, want connection refused", err)
	}

	opened := make(chan struct{})
	go func() {
		time.Sleep(2 * time.Second)
		l, err := net.Listen("tcp", proxyAddr)
		if err != nil {
			t.Error(err)
			return
		}
		t.Cleanup(func() { _ = l.Close() })
		close(opened)
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				s, err := net.Dial("tcp", u.Host)
				if err != nil {
					_ = c.Close()
					return
				}
				go func() { _, _ = io.Copy(s, c); _ = s.Close() }()
				_, _ = io.Copy(c, s)
				_ = c.Close()
			}()
		}
	}()
	start := time.Now()
	conn, err := (&Runner{ConnectPatience: 20 * time.Second}).connect(ctx, behind.String())
	if err != nil {
		t.Fatalf("with patience: %v", err)
	}
	_ = conn.Close(ctx)
	if waited := time.Since(start); waited < 1500*time.Millisecond {
		t.Errorf("connected after %s, before the proxy opened", waited)
	}
	<-opened

	wrong := behind
	wrong.User = url.UserPassword(u.User.Username(), "not-the-password")
	start = time.Now()
	if _, err := (&Runner{ConnectPatience: 20 * time.Second}).connect(ctx, wrong.String()); err == nil ||
		!strings.Contains(describePg(err).Error(), "password authentication failed") {
		t.Errorf("wrong password: %v", err)
	}
	if waited := time.Since(start); waited > 5*time.Second {
		t.Errorf("a wrong password was retried for %s", waited)
	}
}
