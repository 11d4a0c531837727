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

// Package rttest runs a private Request Tracker 5 (Debian's request-tracker5,
// rt5-db-sqlite, rt5-standalone) on loopback for tests: its own SQLite
// database and site configuration in a temporary directory, so the
// package's own configuration and database are never touched. Test code
// only: no binary may import it.
package rttest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

const (
	setupDatabase = "/usr/sbin/rt-setup-database-5"
	rtServer      = "/usr/share/request-tracker5/libexec/rt-server"
	rtLib         = "/usr/share/request-tracker5/lib"
)

// Server is a running private RT.
type Server struct {
	URL   string
	Token string
	// Env is added to the environment of RT's processes from the next
	// (re)start.
	Env  []string
	dir  string
	port int
	cmd  *exec.Cmd
	t    testing.TB
}

// Start sets up a fresh RT and starts it; t.Cleanup stops it. It fails the
// test with the install command when RT is not installed.
func Start(t testing.TB) *Server {
	t.Helper()
	for _, f := range []string{setupDatabase, rtServer} {
		if _, err := os.Stat(f); err != nil {
			t.Fatalf("Request Tracker is not installed (%v): apt-get install --no-install-recommends request-tracker5 rt5-db-sqlite rt5-standalone (.ci/run does)", err)
		}
	}
	dir := t.TempDir()
	s := &Server{dir: dir, t: t}
	if err := os.MkdirAll(s.ConfigDir(), 0o755); err != nil {
		t.Fatal(err)
	}
	s.listenOn(FreePort(t))
	if err := os.WriteFile(filepath.Join(dir, "root-password"), []byte("supportstack-test\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s.run(setupDatabase, "--action", "init", "--skip-create", "--root-password-file", filepath.Join(dir, "root-password"))
	s.Token = strings.TrimSpace(s.Perl(`
my $user = RT::User->new(RT->SystemUser); $user->Load('root') or die "no root user";
my $token = RT::AuthToken->new(RT->SystemUser);
my ($ok, $msg, $auth) = $token->Create(Owner => $user->id, Description => 'supportstack tests');
die "creating token: $msg" unless $ok;
print $auth;`))
	// A port chosen before the set-up above stood free for its seconds,
	// and once another process took it in that time (RT: "couldn't start
	// up a web server"): choose it again just before the server starts.
	s.listenOn(FreePort(t))
	s.start()
	t.Cleanup(s.stop)
	return s
}

// listenOn writes the site configuration with RT's web server on port.
func (s *Server) listenOn(port int) {
	s.t.Helper()
	s.port, s.URL = port, fmt.Sprintf("http://127.0.0.1:%d", port)
	site := fmt.Sprintf(`Set($rtname, 'supportstack-test');
Set($Organization, 'supportstack.test');
Set($WebDomain, '127.0.0.1');
Set($WebPort, %d);
Set($WebBaseURL, '%s');
Set($DatabaseType, 'SQLite');
Set($DatabaseName, '%s');
Set($LogToSTDERR, 'warning');
Set($LogToSyslog, undef);
Set($Timezone, 'UTC');
1;
`, port, s.URL, filepath.Join(s.dir, "rt.db"))
	if err := os.WriteFile(filepath.Join(s.dir, "RT_SiteConfig.pm"), []byte(site), 0o644); err != nil {
		s.t.Fatal(err)
	}
}

// ConfigDir is the RT_SiteConfig.d directory of this RT.
func (s *Server) ConfigDir() string { return filepath.Join(s.dir, "RT_SiteConfig.d") }

func (s *Server) env() []string {
	return append(append(os.Environ(),
		"RT_SITE_CONFIG="+filepath.Join(s.dir, "RT_SiteConfig.pm"),
		"RT_SITE_CONFIG_DIR="+s.ConfigDir()), s.Env...)
}

// Command runs name with args in RT's environment (this RT's site
// configuration) and extraEnv, and returns its combined output.
func (s *Server) Command(extraEnv []string, name string, args ...string) (string, error) {
	cmd := exec.Command(name, args...)
	cmd.Env = append(s.env(), extraEnv...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func (s *Server) run(name string, args ...string) string {
	s.t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Env = s.env()
	out, err := cmd.CombinedOutput()
	if err != nil {
		s.t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// Perl runs code with RT's API loaded against this RT and returns its stdout.
func (s *Server) Perl(code string) string {
	s.t.Helper()
	cmd := exec.Command("perl", "-I"+rtLib, "-e", "use strict; use warnings; use RT; RT::LoadConfig(); RT::Init();\n"+code)
	cmd.Env = s.env()
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		s.t.Fatalf("perl: %v\n%s", err, stderr.String())
	}
	return string(out)
}

// InsertData applies an initialdata file with rt-setup-database.
func (s *Server) InsertData(file string) string {
	s.t.Helper()
	return s.run(setupDatabase, "--action", "insert", "--datafile", file)
}

// FreePort is a loopback port nothing listens on now (the kernel refuses
// connections to it until someone listens).
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = l.Close() }()
	return l.Addr().(*net.TCPAddr).Port
}

// startLogged starts cmd in a process group of its own (RT's servers fork
// workers), its output in the file logFile.
func startLogged(t testing.TB, cmd *exec.Cmd, logFile string) {
	t.Helper()
	log, err := os.Create(logFile)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = log.Close() }()
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
}

func (s *Server) start() {
	s.t.Helper()
	cmd := exec.Command(rtServer, "--port", fmt.Sprint(s.port))
	cmd.Env = s.env()
	startLogged(s.t, cmd, filepath.Join(s.dir, "rt-server.log"))
	s.cmd = cmd
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for ctx.Err() == nil {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.URL+"/REST/2.0/queues/all", nil)
		req.Header.Set("Authorization", "token "+s.Token)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	data, _ := os.ReadFile(filepath.Join(s.dir, "rt-server.log"))
	s.t.Fatalf("RT did not answer on %s within 60s:\n%s", s.URL, data)
}

func (s *Server) stop() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	// rt-server forks workers: stop the whole process group.
	_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
		<-done
	}
	s.cmd = nil
}

// Call sends one REST2 request with the server's token, for assertions that
// must not go through the code under test.
func (s *Server) Call(method, path string, body any) (int, map[string]any) {
	s.t.Helper()
	var b []byte
	if body != nil {
		var err error
		if b, err = json.Marshal(body); err != nil {
			s.t.Fatal(err)
		}
	}
	req, err := http.NewRequest(method, s.URL+"/REST/2.0"+path, bytes.NewReader(b))
	if err != nil {
		s.t.Fatal(err)
	}
	req.Header.Set("Authorization", "token "+s.Token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	out := map[string]any{}
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

// Serve starts another web server on this RT's database and site
// configuration: command with args, "{port}" in args replaced by a free
// loopback port, extraEnv added to RT's environment. It returns the
// server's base URL once the port accepts connections; t.Cleanup stops it.
func (s *Server) Serve(t testing.TB, extraEnv []string, command string, args ...string) string {
	t.Helper()
	port := fmt.Sprint(FreePort(t))
	addr := "127.0.0.1:" + port
	argv := make([]string, len(args))
	for i, a := range args {
		argv[i] = strings.ReplaceAll(a, "{port}", port)
	}
	cmd := exec.Command(command, argv...)
	cmd.Env = append(s.env(), extraEnv...)
	logFile := filepath.Join(t.TempDir(), "server.log")
	startLogged(t, cmd, logFile)
	logged := func() string { b, _ := os.ReadFile(logFile); return string(b) }
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-exited
	})
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			t.Fatalf("%s exited before it served:\n%s", command, logged())
		default:
		}
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			_ = c.Close()
			return "http://" + addr
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("%s did not listen on %s within 60s:\n%s", command, addr, logged())
	return ""
}

// Restart restarts RT so it reads its site configuration again.
func (s *Server) Restart() {
	s.t.Helper()
	s.stop()
	s.start()
}

// Stop stops RT, as an outage would; Restart starts it again.
func (s *Server) Stop() {
	s.t.Helper()
	s.stop()
}
