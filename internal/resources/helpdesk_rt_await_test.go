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

package resources

import (
	"errors"
	"net"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/supportstack/operator/internal/queues/rttest"
)

// awaitDatabase runs AwaitDatabase's command line with this machine's
// perl, patience seconds in place of RTAwaitDatabasePatience, and returns
// the command's output, its exit status and how long the whole took.
func awaitDatabase(t *testing.T, port int, patience int, command ...string) (string, int, time.Duration) {
	t.Helper()
	argv := AwaitDatabase(HelpDeskDatabaseConn{Host: "127.0.0.1", Port: int32(port)}, command...)
	if argv[0] != "/usr/bin/perl" || argv[4] != "127.0.0.1" || argv[5] != strconv.Itoa(port) ||
		argv[6] != strconv.Itoa(int(RTAwaitDatabasePatience/time.Second)) || !slices.Equal(argv[7:], command) {
		t.Fatalf("AwaitDatabase: %q", argv)
	}
	argv[6] = strconv.Itoa(patience)
	began := time.Now()
	out, err := exec.Command("perl", argv[1:]...).CombinedOutput()
	status := 0
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		status = exit.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return string(out), status, time.Since(began)
}

// The command runs only once the database's port accepts a connection, as
// itself (its arguments, output and exit status), and at once when the
// port already does.
func TestAwaitDatabaseRunsTheCommandOnceConnected(t *testing.T) {
	port := rttest.FreePort(t)
	type listening struct {
		l  net.Listener
		at time.Time
	}
	opened := make(chan listening, 1)
	go func() {
		time.Sleep(2 * time.Second)
		// Before Listen: a script that waits may connect as soon as it
		// returns.
		at := time.Now()
		l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
		if err != nil {
			opened <- listening{}
			return
		}
		opened <- listening{l, at}
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			_ = c.Close()
		}
	}()
	began := time.Now()
	out, status, _ := awaitDatabase(t, port, 30, "/bin/sh", "-c", `echo "ran with $1 at $(date +%s%N)"; exit 3`, "sh", "its argument")
	got := <-opened
	if got.l == nil {
		t.Fatal("could not listen on the port again")
	}
	t.Cleanup(func() { _ = got.l.Close() })
	at := got.at
	fields := strings.Fields(out)
	if len(fields) != 6 || strings.Join(fields[:5], " ") != "ran with its argument at" || status != 3 {
		t.Fatalf("output %q, status %d; want the command's own, status 3", out, status)
	}
	ran, err := strconv.ParseInt(fields[5], 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	if when := time.Unix(0, ran); when.Before(at) {
		t.Errorf("the command ran %s after the start, before the port opened (%s after)", when.Sub(began), at.Sub(began))
	}

	// Open already: no wait.
	out, status, took := awaitDatabase(t, port, 30, "/bin/echo", "at once")
	if out != "at once\n" || status != 0 || took > 2*time.Second {
		t.Errorf("with the port open: %q, status %d, in %s", out, status, took)
	}
}

// Nobody listening: the command still runs once the patience is spent, and
// the reason it waited is said first.
func TestAwaitDatabaseRunsTheCommandAfterItsPatience(t *testing.T) {
	port := rttest.FreePort(t)
	out, status, took := awaitDatabase(t, port, 2, "/bin/sh", "-c", "echo ran anyway; exit 0")
	want := "the database at 127.0.0.1:" + strconv.Itoa(port) + " accepted no connection in 2 s ("
	if !strings.HasPrefix(out, want) || !strings.Contains(out, "); running /bin/sh anyway\nran anyway\n") || status != 0 {
		t.Errorf("output %q, status %d; want %q..., then the command's output", out, status, want)
	}
	// The script reads the clock in whole seconds, so it may stop a
	// second early when a try crosses into the next second.
	if took < time.Second || took > 10*time.Second {
		t.Errorf("took %s with a patience of 2 s", took)
	}
}
