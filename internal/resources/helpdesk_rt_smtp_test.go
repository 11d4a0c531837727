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
	"crypto/tls"
	"encoding/base64"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/supportstack/operator/internal/queues/rttest"
	"github.com/supportstack/operator/internal/testenv"
)

// smtpEvent is what the test relay saw on one connection.
type smtpEvent struct {
	// kind: "message" (Subject in detail), "auth" (detail "tls" or
	// "plain", then the user and password), "tls-failed", "closed".
	kind, detail, user, password string
}

// smtpRelay is an SMTP server on loopback for RT to send to: with cert
// it offers STARTTLS; it offers AUTH PLAIN (also before TLS, as a careless
// server would, so that a client that logs in in the clear is caught) and
// accepts user and password; every message's Subject, login and failed
// handshake is reported on events.
type smtpRelay struct {
	port   int32
	events chan smtpEvent
}

func startSMTPRelay(t *testing.T, cert *tls.Certificate, user, password string) *smtpRelay {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Close() })
	relay := &smtpRelay{port: int32(l.Addr().(*net.TCPAddr).Port), events: make(chan smtpEvent, 64)}
	go func() {
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			go relay.serve(conn, cert, user, password)
		}
	}()
	return relay
}

func (s *smtpRelay) serve(c net.Conn, cert *tls.Certificate, user, password string) {
	defer func() { _ = c.Close(); s.events <- smtpEvent{kind: "closed"} }()
	_ = c.SetDeadline(time.Now().Add(30 * time.Second))
	r := bufio.NewReader(c)
	reply := func(line string) { _, _ = fmt.Fprint(c, line+"\r\n") }
	reply("220 test ESMTP")
	secure, data := false, false
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		line = strings.TrimRight(line, "\r\n")
		verb := strings.ToUpper(strings.SplitN(line, " ", 2)[0])
		switch {
		case data && line == ".":
			data = false
			reply("250 queued")
		case data && strings.HasPrefix(line, "Subject: "):
			s.events <- smtpEvent{kind: "message", detail: strings.TrimPrefix(line, "Subject: ")}
		case data:
		case verb == "EHLO":
			reply("250-test")
			if cert != nil && !secure {
				reply("250-STARTTLS")
			}
			reply("250 AUTH PLAIN")
		case verb == "STARTTLS" && cert != nil && !secure:
			reply("220 go ahead")
			tc := tls.Server(c, &tls.Config{Certificates: []tls.Certificate{*cert}, MinVersion: tls.VersionTLS12})
			if err := tc.Handshake(); err != nil {
				s.events <- smtpEvent{kind: "tls-failed", detail: err.Error()}
				return
			}
			c, r, secure = tc, bufio.NewReader(tc), true
		case verb == "STARTTLS":
			reply("502 not offered")
		case verb == "AUTH":
			fields := strings.Fields(line)
			if len(fields) == 2 {
				reply("334 ")
				more, err := r.ReadString('\n')
				if err != nil {
					return
				}
				fields = append(fields, strings.TrimSpace(more))
			}
			how := "plain"
			if secure {
				how = "tls"
			}
			decoded, _ := base64.StdEncoding.DecodeString(fields[len(fields)-1])
			parts := strings.Split(string(decoded), "\x00")
			ev := smtpEvent{kind: "auth", detail: how}
			if len(parts) == 3 {
				ev.user, ev.password = parts[1], parts[2]
			}
			s.events <- ev
			if ev.user == user && ev.password == password {
				reply("235 welcome")
			} else {
				reply("535 no")
			}
		case verb == "DATA":
			data = true
			reply("354 go on")
		case verb == "QUIT":
			reply("221 bye")
			return
		default:
			reply("250 ok")
		}
	}
}

// testCA is a CA (as PEM) and a server certificate it signed for
// 127.0.0.1.
func testCA(t *testing.T) (caPEM []byte, server tls.Certificate) {
	t.Helper()
	caPEM, certPEM, keyPEM, err := testenv.TestCA("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	server, err = tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	return caPEM, server
}

// mailLines are the lines of RT's site configuration for relay that set
// $MailCommand, as a file RT reads.
func mailLines(t *testing.T, relay RTSite) string {
	t.Helper()
	relay.Name, relay.Organization, relay.WebDomain, relay.TimeZone = "rt", "example.com", "rt.example.com", "UTC"
	relay.DatabaseHost, relay.DatabaseName, relay.DatabaseUser = "db", "rt5", "rt_user"
	config, err := RTSiteConfig(relay)
	if err != nil {
		t.Fatal(err)
	}
	var mail []string
	for _, line := range strings.Split(config, "\n") {
		if strings.HasPrefix(line, "Set($MailCommand") || (len(mail) > 0 && !strings.HasPrefix(mail[len(mail)-1], "});")) {
			mail = append(mail, line)
		}
	}
	if len(mail) != 5 {
		t.Fatalf("the configuration's mail lines: %q\n%s", mail, config)
	}
	return strings.Join(mail, "\n") + "\n1;\n"
}

// sendTicket gives RT mail (mailLines) and env, restarts it and creates a
// ticket with a requestor, whose autoreply RT sends.
func sendTicket(t *testing.T, rt *rttest.Server, mail string, env []string, subject string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(rt.ConfigDir(), "60-mail.pm"), []byte(mail), 0o644); err != nil {
		t.Fatal(err)
	}
	rt.Env = env
	rt.Restart()
	if code, out := rt.Call("POST", "/ticket", map[string]any{"Queue": "General", "Subject": subject, "Requestor": "customer@example.com"}); code != 201 {
		t.Fatalf("creating a ticket: %d %v", code, out)
	}
}

// next is the relay's next event, failing the test after 30 s.
func (s *smtpRelay) next(t *testing.T) smtpEvent {
	t.Helper()
	select {
	case e := <-s.events:
		return e
	case <-time.After(30 * time.Second):
		t.Fatal("the relay saw nothing within 30s")
		return smtpEvent{}
	}
}

// TestRTSendsThroughTheRelay: a real RT (rttest) given the mail lines
// RTSiteConfig writes for a relay sends a new ticket's autoreply to that
// relay (here an SMTP server of the test's on loopback).
func TestRTSendsThroughTheRelay(t *testing.T) {
	relay := startSMTPRelay(t, nil, "", "")
	rt := rttest.Start(t)
	sendTicket(t, rt, mailLines(t, RTSite{SMTPHost: "127.0.0.1", SMTPPort: relay.port}), nil, "printer on fire")
	if e := relay.next(t); e.kind != "message" || !strings.Contains(e.detail, "printer on fire") {
		t.Errorf("the relay saw %+v, want the new ticket's autoreply", e)
	}
}

// TestRTLogsInToTheRelayOverTLSOnly: with startTLS and credentials, a real
// RT switches to TLS, verifies the relay's certificate against the CA
// file, logs in with the user and password of its environment and sends
// the autoreply. To a relay that offers no STARTTLS (but AUTH) it sends
// nothing and never the password; to one whose certificate another CA
// signed, nothing either.
func TestRTLogsInToTheRelayOverTLSOnly(t *testing.T) {
	caPEM, cert := testCA(t)
	otherCA, _ := testCA(t)
	dir := t.TempDir()
	for name, b := range map[string][]byte{"ca.pem": caPEM, "other-ca.pem": otherCA} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	const user, password = "rt@example.com", "relay pass'word\"$@"
	env := []string{RTSMTPUsernameEnv + "=" + user, RTSMTPPasswordEnv + "=" + password}
	rt := rttest.Start(t)
	login := func(port int32, ca string) string {
		return mailLines(t, RTSite{SMTPHost: "127.0.0.1", SMTPPort: port, SMTPStartTLS: true, SMTPCAFile: filepath.Join(dir, ca), SMTPAuth: true})
	}

	tlsRelay := startSMTPRelay(t, &cert, user, password)
	sendTicket(t, rt, login(tlsRelay.port, "ca.pem"), env, "printer on fire")
	var events []smtpEvent
	for e := tlsRelay.next(t); e.kind != "message"; e = tlsRelay.next(t) {
		events = append(events, e)
		if e.kind == "tls-failed" {
			t.Fatalf("the TLS handshake failed: %s", e.detail)
		}
	}
	if len(events) != 1 || events[0].kind != "auth" || events[0].detail != "tls" || events[0].user != user || events[0].password != password {
		t.Errorf("before the message the relay saw %+v, want one login over TLS with the Secret's user and password", events)
	}

	plainRelay := startSMTPRelay(t, nil, user, password)
	sendTicket(t, rt, login(plainRelay.port, "ca.pem"), env, "printer still on fire")
	if e := plainRelay.next(t); e.kind != "closed" {
		t.Errorf("a relay without STARTTLS saw %+v, want RT to hang up without logging in or sending", e)
	}

	wrongCA := startSMTPRelay(t, &cert, user, password)
	sendTicket(t, rt, login(wrongCA.port, "other-ca.pem"), env, "printer on fire again")
	if e := wrongCA.next(t); e.kind != "tls-failed" {
		t.Errorf("a relay whose certificate another CA signed saw %+v, want the handshake refused", e)
	}
	if e := wrongCA.next(t); e.kind != "closed" {
		t.Errorf("after the refused handshake the relay saw %+v", e)
	}

	// The Go side refuses a login without TLS outright.
	if _, err := RTSiteConfig(RTSite{Name: "rt", Organization: "example.com", WebDomain: "rt.example.com", TimeZone: "UTC",
		DatabaseHost: "db", DatabaseName: "rt5", DatabaseUser: "rt_user", SMTPHost: "127.0.0.1", SMTPPort: 25, SMTPAuth: true}); err == nil {
		t.Errorf("a login to the relay without STARTTLS was rendered")
	}
}

// TestRTPodsGetTheRelaysSecrets: every RT pod builder given RTObjects.SMTP
// (the controller gives it to the web and mail gateway) passes the relay's
// login as environment variables from its Secret and its CA as a
// read-only file at RTSMTPCAFile; pods without it get neither.
func TestRTPodsGetTheRelaysSecrets(t *testing.T) {
	o := testRTObjects()
	o.SMTP = &RTSMTPSecrets{Credentials: "relay-login", CA: &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "relay-ca"}, Key: "ca.crt"}}
	pods := map[string]corev1.PodSpec{
		"web":          RTWebDeployment(o, 1, 2).Spec.Template.Spec,
		"mail gateway": RTMailGatewayDeployment(o, 1).Spec.Template.Spec,
		"cron":         RTCronJob(o, "*/15 * * * *", "UTC", "/bin/true").Spec.JobTemplate.Spec.Template.Spec,
	}
	for what, spec := range pods {
		env := map[string]string{}
		for _, e := range spec.Containers[0].Env {
			if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil {
				env[e.Name] = e.ValueFrom.SecretKeyRef.Name + "/" + e.ValueFrom.SecretKeyRef.Key
			}
		}
		if env[RTSMTPUsernameEnv] != "relay-login/username" || env[RTSMTPPasswordEnv] != "relay-login/password" {
			t.Errorf("%s: the relay's login from %v", what, env)
		}
		mounted := false
		for _, m := range spec.Containers[0].VolumeMounts {
			for _, v := range spec.Volumes {
				if v.Name == m.Name && v.Secret != nil && v.Secret.SecretName == "relay-ca" && len(v.Secret.Items) == 1 && v.Secret.Items[0].Key == "ca.crt" &&
					m.MountPath+"/"+v.Secret.Items[0].Path == RTSMTPCAFile && m.ReadOnly {
					mounted = true
				}
			}
		}
		if !mounted {
			t.Errorf("%s: the relay's CA is not mounted read-only at %s", what, RTSMTPCAFile)
		}
		checkRestrictedRTPod(t, spec)
	}
	o.SMTP = nil
	for _, e := range RTWebDeployment(o, 1, 2).Spec.Template.Spec.Containers[0].Env {
		if strings.HasPrefix(e.Name, "SUPPORTSTACK_SMTP") {
			t.Errorf("a web pod without a relay login has %s", e.Name)
		}
	}
}
