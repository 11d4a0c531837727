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
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/supportstack/operator/internal/queues/rttest"
)

// TestRTServerScriptGate runs RTServerScript in both roles on a real RT
// (Debian's request-tracker5 on SQLite, rttest) and tries the mail gateway
// the way someone who wants anonymous tickets would: the web role refuses
// every spelling of its path and still serves RT; the mail-gateway role
// serves that path alone, and rt-mailgate through it makes a ticket.
func TestRTServerScriptGate(t *testing.T) {
	rt := rttest.Start(t)
	serve := func(role string) string {
		return rt.Serve(t, []string{rtServerRoleEnv + "=" + role}, "/usr/bin/perl", "-e", RTServerScript, "--",
			"--server", "Standalone", "--port", "{port}")
	}
	web, gateway := serve("web"), serve("mail-gateway")

	tickets := func() int {
		t.Helper()
		code, out := rt.Call("GET", "/tickets?query="+url.QueryEscape("Queue = 'General'"), nil)
		if code != 200 {
			t.Fatalf("counting tickets: %d %v", code, out)
		}
		n, _ := out["total"].(float64)
		return int(n)
	}
	// raw sends one request with exactly this request target (no client
	// path cleaning) and returns the status code.
	raw := func(base, method, target, body string) int {
		t.Helper()
		u, _ := url.Parse(base)
		conn, err := net.DialTimeout("tcp", u.Host, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = conn.Close() }()
		_ = conn.SetDeadline(time.Now().Add(60 * time.Second))
		_, err = fmt.Fprintf(conn, "%s %s HTTP/1.0\r\nHost: %s\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: %d\r\n\r\n%s",
			method, target, u.Host, len(body), body)
		if err != nil {
			t.Fatalf("%s %s: %v", method, target, err)
		}
		reader := bufio.NewReader(conn)
		status, err := reader.ReadString('\n')
		if err != nil {
			t.Fatalf("%s %s: %v", method, target, err)
		}
		var code int
		if _, err := fmt.Sscanf(status, "HTTP/%s %d", new(string), &code); err != nil {
			t.Fatalf("%s %s: status line %q", method, target, status)
		}
		_, _ = io.Copy(io.Discard, reader)
		return code
	}
	// From root's address (RT's default root@localhost): RT lets a user
	// with the rights create tickets by mail; a fresh RT gives none to
	// unknown senders.
	message := "From: root@localhost\nSubject: gate test\n\nhello\n"
	form := url.Values{"queue": {"General"}, "action": {"correspond"}, "message": {message}}.Encode()

	before := tickets()
	for _, target := range []string{
		"/REST/1.0/NoAuth/mail-gateway",
		"/REST/1.0/NoAuth/mail-gateway/",
		"//REST/1.0/NoAuth//mail-gateway",
		"/REST/1.0/NoAuth/./mail-gateway",
		"/REST/1.0/NoAuth/Mail-Gateway",
		"/REST/1.0/NoAuth/mail%2Dgateway",
		"/REST/1.0/NoAuth/mail%2dgateway",
		"/REST/1.0/NoAuth/%6dail-gateway",
		"/REST/1.0/NoAuth/mail-gateway?queue=General",
	} {
		if code := raw(web, "POST", target, form); code != 403 {
			t.Errorf("web role: POST %s answered %d, want 403", target, code)
		}
	}
	if code := raw(web, "GET", "/NoAuth/Login.html", ""); code != 200 {
		t.Errorf("web role: the login page answered %d, want 200", code)
	}
	if n := tickets(); n != before {
		t.Fatalf("the web role let the mail gateway make %d tickets", n-before)
	}

	for _, target := range []string{"/", "/NoAuth/Login.html", "/REST/2.0/queues/all", "/REST/1.0/ticket/1", "/REST/1.0/NoAuth/mail-gateway-x", "/x/REST/1.0/NoAuth/mail-gateway",
		// A trailing newline: Perl's $ matches before it, and RT would hand
		// the unknown path to its REST 1.0 dhandler and login.
		"/REST/1.0/NoAuth/mail-gateway%0A", "/REST/1.0/NoAuth/mail-gateway/%0A", "/REST/1.0/NoAuth/mail-gateway%0D"} {
		if code := raw(gateway, "GET", target, ""); code != 404 {
			t.Errorf("mail-gateway role: GET %s answered %d, want 404", target, code)
		}
	}
	if code := raw(gateway, "POST", "//REST/1.0/NoAuth/mail-gateway", form); code != 200 {
		t.Errorf("mail-gateway role: POST //REST/1.0/NoAuth/mail-gateway answered %d, want 200", code)
	}
	cmd := exec.Command("rt-mailgate", "--url", gateway, "--queue", "General", "--action", "correspond")
	cmd.Stdin = strings.NewReader(strings.Replace(message, "gate test", "through rt-mailgate", 1))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("rt-mailgate --url %s: %v\n%s", gateway, err, out)
	}
	if n := tickets(); n != before+2 {
		t.Errorf("after a POST and an rt-mailgate through the gateway role: %d new tickets, want 2", n-before)
	}
}

// TestRTServerScriptSandbox runs RTServerScript's sandbox role (a drill's
// RT) on a real RT: REST2 answers reads without credentials, as RT's system
// user; every write, every other path (the web interface, REST 1.0, the
// mail gateway) is refused; and it listens on loopback only, even when its
// arguments name every address.
func TestRTServerScriptSandbox(t *testing.T) {
	rt := rttest.Start(t)
	sandbox := rt.Serve(t, []string{rtServerRoleEnv + "=sandbox"}, "/usr/bin/perl", "-e", RTServerScript, "--",
		"--server", "Standalone", "--host", "0.0.0.0", "--port", "{port}")
	request := func(method, path, body string) (int, string) {
		t.Helper()
		req, err := http.NewRequest(method, sandbox+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = resp.Body.Close() }()
		out, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(out)
	}
	if code, out := request("GET", "/REST/2.0/queues/all", ""); code != 200 || !strings.Contains(out, `"total"`) {
		t.Errorf("sandbox role: GET /REST/2.0/queues/all without credentials: %d %s, want 200 and the queues", code, out)
	}
	_, before := rt.Call("GET", "/tickets?query="+url.QueryEscape("id > 0"), nil)
	for _, c := range []struct {
		method, path string
		want         int
	}{
		{"POST", "/REST/2.0/ticket", 405},
		{"PUT", "/REST/2.0/queue/1", 405},
		{"DELETE", "/REST/2.0/queue/1", 405},
		{"GET", "/", 404},
		{"GET", "/NoAuth/Login.html", 404},
		{"GET", "/REST/1.0/ticket/1", 404},
		{"POST", "/REST/1.0/NoAuth/mail-gateway", 404},
	} {
		if code, out := request(c.method, c.path, `{"Queue":"General","Subject":"from the sandbox"}`); code != c.want {
			t.Errorf("sandbox role: %s %s answered %d, want %d: %s", c.method, c.path, code, c.want, out)
		}
	}
	if _, after := rt.Call("GET", "/tickets?query="+url.QueryEscape("id > 0"), nil); after["total"] != before["total"] {
		t.Errorf("the sandbox role let a request make tickets: %v before, %v after", before["total"], after["total"])
	}
	u, _ := url.Parse(sandbox)
	_, port, _ := net.SplitHostPort(u.Host)
	addrs, _ := net.InterfaceAddrs()
	for _, a := range addrs {
		ip, ok := a.(*net.IPNet)
		if !ok || ip.IP.IsLoopback() || ip.IP.To4() == nil {
			continue
		}
		if conn, err := net.DialTimeout("tcp", net.JoinHostPort(ip.IP.String(), port), 2*time.Second); err == nil {
			_ = conn.Close()
			t.Errorf("sandbox role: it accepts connections on %s, want loopback only", ip.IP)
		}
	}
}
