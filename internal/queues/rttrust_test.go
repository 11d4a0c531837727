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

package queues

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestCheckURL(t *testing.T) {
	for _, tc := range []struct {
		url  string
		want string // "" when accepted, else a substring of the refusal
	}{
		{"https://rt.example.com", ""},
		{"https://rt.example.com:8443/rt", ""},
		{"http://127.0.0.1:8080", ""},
		{"http://127.9.9.9", ""},
		{"http://localhost:8080/", ""},
		{"http://[::1]:8080", ""},
		{"http://rt.example.com", "plain http to a host that is not loopback"},
		{"http://10.0.0.1", "plain http to a host that is not loopback"},
		{"http://localhost.evil.example", "plain http to a host that is not loopback"},
		{"http://127.0.0.1.nip.io", "plain http to a host that is not loopback"},
		{"http://[::ffff:10.0.0.1]", "plain http to a host that is not loopback"},
		{"ftp://rt.example.com", "is not an http(s) URL"},
		{"rt.example.com", "is not an http(s) URL"},
		{"https://", "is not an http(s) URL"},
	} {
		t.Run(tc.url, func(t *testing.T) {
			err := CheckURL(tc.url)
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("refused: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("got %v, want a refusal containing %q", err, tc.want)
			}
		})
	}
}

// recorder is an HTTP server that counts the connections made to it and
// keeps the Authorization headers it received.
type recorder struct {
	*httptest.Server
	mu          sync.Mutex
	connections int
	auth        []string
}

func newRecorder(t *testing.T, tls bool, handler func(w http.ResponseWriter, r *http.Request)) *recorder {
	t.Helper()
	rec := &recorder{}
	s := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec.mu.Lock()
		rec.auth = append(rec.auth, r.Header.Get("Authorization"))
		rec.mu.Unlock()
		handler(w, r)
	}))
	s.Config.ConnState = func(_ net.Conn, state http.ConnState) {
		if state == http.StateNew {
			rec.mu.Lock()
			rec.connections++
			rec.mu.Unlock()
		}
	}
	if tls {
		s.StartTLS()
	} else {
		s.Start()
	}
	t.Cleanup(s.Close)
	rec.Server = s
	return rec
}

func (r *recorder) seen() (int, []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.connections, append([]string(nil), r.auth...)
}

func redirectTo(target string) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target+r.URL.Path, http.StatusTemporaryRedirect)
	}
}

// TestRedirectsKeepTheToken has a Request Tracker answer with redirects to
// another origin, as a compromised or misconfigured RT (or whoever answers
// at its URL) would, and checks that the token never reaches the target.
func TestRedirectsKeepTheToken(t *testing.T) {
	const token = "rt-token-value-never-leaves"
	ctx := context.Background()
	desired := RTDesired{Owner: "helpdesk/desk", Group: "g", Queues: []RTQueue{{Name: "desk-mail"}}}

	t.Run("to another port", func(t *testing.T) {
		thief := newRecorder(t, false, func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNotFound) })
		rt := newRecorder(t, false, redirectTo(thief.URL))
		c := &RequestTracker{BaseURL: rt.URL, Token: token, HTTP: &http.Client{Timeout: 10 * time.Second}}
		_, err := c.Sync(ctx, desired)
		want := "redirect to http://" + strings.TrimPrefix(thief.URL, "http://") + " refused: the token is sent only to " + rt.URL
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("got %v, want an error containing %q", err, want)
		}
		if n, _ := thief.seen(); n != 0 {
			t.Errorf("the redirect target received %d connections, want 0", n)
		}
		if strings.Contains(err.Error(), token) {
			t.Error("the error holds the token")
		}
	})

	t.Run("to another host name of the same server", func(t *testing.T) {
		var rt *recorder
		rt = newRecorder(t, false, func(w http.ResponseWriter, r *http.Request) {
			if r.Host == strings.TrimPrefix(rt.URL, "http://") {
				redirectTo(strings.Replace(rt.URL, "127.0.0.1", "localhost", 1))(w, r)
				return
			}
			w.WriteHeader(http.StatusNotFound)
		})
		c := &RequestTracker{BaseURL: rt.URL, Token: token, HTTP: &http.Client{Timeout: 10 * time.Second}}
		_, err := c.Sync(ctx, desired)
		if err == nil || !strings.Contains(err.Error(), "redirect to http://localhost:") {
			t.Fatalf("got %v, want the redirect to localhost refused", err)
		}
		if _, auth := rt.seen(); len(auth) != 1 {
			t.Errorf("%d requests reached the server, want only the first (%v)", len(auth), auth)
		}
	})

	t.Run("https downgraded to http", func(t *testing.T) {
		thief := newRecorder(t, false, func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNotFound) })
		rt := newRecorder(t, true, redirectTo(thief.URL))
		client := rt.Client()
		client.Timeout = 10 * time.Second
		c := &RequestTracker{BaseURL: rt.URL, Token: token, HTTP: client}
		_, err := c.Sync(ctx, desired)
		if err == nil || !strings.Contains(err.Error(), "refused: the token is sent only to "+rt.URL) {
			t.Fatalf("got %v, want the downgrade refused", err)
		}
		if n, _ := thief.seen(); n != 0 {
			t.Errorf("the http target received %d connections, want 0", n)
		}
	})

	// The control: a redirect within the origin is followed, token and all,
	// so the refusals above are the origin check and not a client that
	// never follows anything.
	t.Run("within the origin", func(t *testing.T) {
		rt := newRecorder(t, false, func(w http.ResponseWriter, r *http.Request) {
			if !strings.HasPrefix(r.URL.Path, "/moved/") {
				http.Redirect(w, r, "/moved"+r.URL.Path, http.StatusTemporaryRedirect)
				return
			}
			w.WriteHeader(http.StatusTeapot)
		})
		c := &RequestTracker{BaseURL: rt.URL, Token: token, HTTP: &http.Client{Timeout: 10 * time.Second}}
		_, err := c.Sync(ctx, desired)
		if err == nil || !strings.Contains(err.Error(), "418") {
			t.Fatalf("got %v, want the answer at the redirect target (418)", err)
		}
		if _, auth := rt.seen(); len(auth) != 2 || auth[1] != "token "+token {
			t.Errorf("Authorization headers %q, want the token on the redirected request too", auth)
		}
	})

	t.Run("plain http to a remote host is never dialled", func(t *testing.T) {
		c := &RequestTracker{BaseURL: "http://rt.example.com", Token: token}
		_, err := c.Sync(ctx, desired)
		if err == nil || !strings.Contains(err.Error(), "plain http to a host that is not loopback") {
			t.Fatalf("got %v, want the URL refused before any request", err)
		}
	})
}
