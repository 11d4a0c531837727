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
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	networkingv1 "k8s.io/api/networking/v1"

	"github.com/supportstack/operator/internal/agent/pgtest"
)

// The schema Job on an external database, run for real: RT's schema set up
// by a role that owns its database and is no superuser (a CloudNativePG
// app Secret's), as that role, twice; a superuser role and a database that
// is not there refused with what to do.
func TestRTSchemaScriptExternalDatabase(t *testing.T) {
	if _, err := os.Stat(rtSetupDatabase); err != nil {
		t.Fatalf("Request Tracker is not installed (%v): apt-get install --no-install-recommends request-tracker5 rt5-db-postgresql (hack/install-deps.sh does)", err)
	}
	pg := pgtest.Start(t)
	pg.Exec(t, "postgres",
		"CREATE ROLE app LOGIN PASSWORD 'apppw0123' NOSUPERUSER NOCREATEDB NOCREATEROLE",
		"CREATE DATABASE app OWNER app",
		"CREATE ROLE boss LOGIN PASSWORD 'bosspw0123' SUPERUSER",
		"CREATE DATABASE bossdb OWNER boss")
	rootDir := t.TempDir()
	if err := os.WriteFile(filepath.Join(rootDir, "password"), []byte("rootpw0123\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	operatorDir := t.TempDir()
	if err := os.WriteFile(filepath.Join(operatorDir, "password"), []byte("operatorpw0123"), 0o600); err != nil {
		t.Fatal(err)
	}
	script := strings.NewReplacer(rtRootPasswordIn, rootDir, rtOperatorPasswordIn, operatorDir).Replace(RTSchemaScript)
	run := func(database, user, password string) (string, error) {
		conn, err := ExternalDatabaseConn("app-secret", map[string][]byte{
			"host": []byte("127.0.0.1"), "port": []byte(strconv.Itoa(pg.Port)), "dbname": []byte(database),
			"username": []byte(user), "password": []byte(password),
		}, false)
		if err != nil {
			t.Fatal(err)
		}
		config, err := RTSiteConfig(RTSite{Name: "rt", Organization: "example.com", WebDomain: "rt.example.com", TimeZone: "UTC",
			DatabaseHost: conn.Host, DatabasePort: conn.Port, DatabaseName: conn.Name, DatabaseUser: conn.User})
		if err != nil {
			t.Fatal(err)
		}
		job := RTSchemaJob(testRTObjects(), conn, secretRef("rt-root", "password"), secretRef("rt-root", "operator-password"))
		cmd := exec.Command("sh", "-c", script)
		cmd.Env = append(rtSiteEnv(t, config), "RT_DBA_USER="+user, "RT_DBA_PASSWORD="+password, RTDatabasePasswordEnv+"="+password)
		for _, e := range job.Spec.Template.Spec.Containers[0].Env {
			if e.ValueFrom == nil {
				cmd.Env = append(cmd.Env, e.Name+"="+e.Value)
			}
		}
		out, err := cmd.CombinedOutput()
		return string(out), err
	}

	out, err := run("app", "app", "apppw0123")
	if err != nil || !strings.Contains(out, "the database exists without tables") || !strings.Contains(out, "rt-schema: done") {
		t.Fatalf("the first run on the app database: %v\n%s", err, out)
	}
	for _, q := range []struct{ sql, want string }{
		{"SELECT count(*) FROM queues WHERE name = 'General'", "1"},
		{"SELECT count(*) FROM users WHERE name = 'root'", "1"},
		// The operator's RT user, with its system rights and no others.
		{"SELECT coalesce(string_agg(a.rightname, ',' ORDER BY a.rightname), '') FROM acl a JOIN groups g ON g.id = a.principalid JOIN users u ON u.id = g.instance " +
			"WHERE g.domain = 'ACLEquivalence' AND u.name = '" + RTOperatorUser + "' AND a.objecttype = 'RT::System'", "AdminGroup,AdminGroupMembership,AdminQueue,AdminUsers,SeeGroup,SeeQueue"},
		// RT's tables are the app role's: nothing was made as anyone else.
		{"SELECT count(*) FROM pg_tables WHERE schemaname = current_schema() AND tableowner <> 'app'", "0"},
	} {
		if got := pg.QueryString(t, "app", q.sql); got != q.want {
			t.Errorf("%s: %s, want %s", q.sql, got, q.want)
		}
	}
	// No role was made on someone else's server.
	roles := "SELECT string_agg(rolname, ',' ORDER BY rolname) FROM pg_roles WHERE rolname NOT LIKE 'pg\\_%'"
	if got := pg.QueryString(t, "postgres", roles); got != "app,boss,postgres" {
		t.Errorf("roles after the set-up: %s, want app,boss,postgres", got)
	}
	tickets := pg.QueryString(t, "app", "SELECT count(*) FROM transactions")
	operator := pg.QueryString(t, "app", "SELECT password || lastupdated FROM users WHERE name = '"+RTOperatorUser+"'")
	out, err = run("app", "app", "apppw0123")
	if err != nil || !strings.Contains(out, "acl only") || !strings.Contains(out, "rt-schema: done") {
		t.Fatalf("the second run: %v\n%s", err, out)
	}
	if got := pg.QueryString(t, "app", "SELECT count(*) FROM transactions"); got != tickets {
		t.Errorf("the second run changed RT's data: %s transactions, had %s", got, tickets)
	}
	if got := pg.QueryString(t, "app", "SELECT password || lastupdated FROM users WHERE name = '"+RTOperatorUser+"'"); got != operator {
		t.Errorf("the second run rewrote the operator's RT user")
	}

	out, err = run("bossdb", "boss", "bosspw0123")
	if err == nil || !strings.Contains(out, "the external database's role is a superuser") {
		t.Errorf("a superuser role was not refused: %v\n%s", err, out)
	}
	if got := pg.QueryString(t, "bossdb", "SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema()"); got != "0" {
		t.Errorf("the refused run made %s tables", got)
	}
	out, err = run("nodb", "app", "apppw0123")
	if err == nil || !strings.Contains(out, "cannot connect to the external database") || !strings.Contains(out, `database "nodb" does not exist`) {
		t.Errorf("a missing database was not refused with the server's answer: %v\n%s", err, out)
	}
	if got := pg.QueryString(t, "postgres", "SELECT count(*) FROM pg_database WHERE datname = 'nodb'"); got != "0" {
		t.Errorf("the operator created a database on an external server")
	}
}

// An external database's Secret, as CloudNativePG writes it, and what is
// refused in it: each refusal names the key and never a password.
func TestExternalDatabaseConn(t *testing.T) {
	cnpg := map[string][]byte{
		"host": []byte("rt-db-rw"), "port": []byte("5432"), "dbname": []byte("app"), "username": []byte("app"),
		"password": []byte("s3cret'pw"), "uri": []byte("postgresql://app:s3cret'pw@rt-db-rw.db:5432/app"),
		"jdbc-uri": []byte("jdbc:postgresql://rt-db-rw.db:5432/app"), "pgpass": []byte("rt-db-rw:5432:app:app:s3cret'pw"),
	}
	c, err := ExternalDatabaseConn("rt-db-app", cnpg, true)
	if err != nil {
		t.Fatal(err)
	}
	if c.Host != "rt-db-rw" || c.Port != 5432 || c.Name != "app" || c.User != "app" || !c.External ||
		c.Password != secretRef("rt-db-app", "password") || c.AdminUser != secretRef("rt-db-app", "username") ||
		c.AdminPassword != secretRef("rt-db-app", "password") || c.BackupURI != secretRef("rt-db-app", "uri") {
		t.Errorf("connection %+v", c)
	}
	with := func(key, value string) map[string][]byte {
		d := maps.Clone(cnpg)
		if value == "" {
			delete(d, key)
		} else {
			d[key] = []byte(value)
		}
		return d
	}
	if c, err := ExternalDatabaseConn("s", with("port", ""), false); err != nil || c.Port != 5432 {
		t.Errorf("without a port: %+v %v, want 5432", c, err)
	}
	if c, err := ExternalDatabaseConn("s", with("uri", ""), false); err != nil || c.Host != "rt-db-rw" {
		t.Errorf("without uri and without protection: %v", err)
	}
	for _, tc := range []struct {
		name    string
		data    map[string][]byte
		withURI bool
		want    string
	}{
		{"no host", with("host", ""), false, "has no key host"},
		{"no password", with("password", ""), false, "has no key password"},
		{"no uri with protection", with("uri", ""), true, "has no key uri (spec.protection dumps the database with it)"},
		{"host with a quote", with("host", "db');system('id"), false, "key host is not a lower-case DNS name"},
		{"host with a port", with("host", "db:5432"), false, "key host is not a lower-case DNS name"},
		{"port", with("port", "70000"), false, "key port is not a port from 1 to 65535"},
		{"port not a number", with("port", "5432;"), false, "key port is not a port"},
		{"quoted user", with("username", `app"; DROP TABLE users; --`), false, "key username is not a plain PostgreSQL name"},
		{"upper-case dbname", with("dbname", "App"), false, "key dbname is not a plain PostgreSQL name"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ExternalDatabaseConn("rt-db-app", tc.data, tc.withURI)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "rt-db-app") {
				t.Fatalf("error %v, want one naming the Secret and %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "s3cret") {
				t.Errorf("the refusal prints the password: %v", err)
			}
		})
	}
}

// With an external database, RT's pods reach that server (its Service's
// pods on their port, or its address) where they would reach the managed
// database's pod, and nothing else beyond DNS.
func TestHelpDeskExternalDatabaseEgress(t *testing.T) {
	n := HelpDeskNames{HelpDesk: "rt"}
	rtEgress := func(external *EgressPeer) networkingv1.NetworkPolicySpec {
		for _, np := range HelpDeskNetworkPolicies("support", n, nil, "", external, nil, nil) {
			if np.Name == "rt-rt-egress" {
				return np.Spec
			}
		}
		t.Fatal("no rt-rt-egress")
		return networkingv1.NetworkPolicySpec{}
	}
	managed := rtEgress(nil)
	if e := managed.Egress; len(e) != 2 || e[1].To[0].PodSelector.MatchExpressions[0].Values[0] != "database" || e[1].To[0].NamespaceSelector != nil {
		t.Errorf("managed: %+v, want DNS and the database's pod", e)
	}
	cnpg := rtEgress(&EgressPeer{Namespace: "db", PodSelector: map[string]string{"cnpg.io/cluster": "rt-db", "role": "primary"}, Port: 5432})
	if e := cnpg.Egress; len(e) != 2 || e[1].To[0].PodSelector.MatchLabels["cnpg.io/cluster"] != "rt-db" ||
		e[1].To[0].NamespaceSelector.MatchLabels["kubernetes.io/metadata.name"] != "db" || e[1].Ports[0].Port.IntVal != 5432 {
		t.Errorf("a CloudNativePG cluster: %+v", e)
	}
	address := rtEgress(&EgressPeer{CIDR: "192.0.2.5/32", Port: 6432})
	if e := address.Egress; len(e) != 2 || e[1].To[0].IPBlock.CIDR != "192.0.2.5/32" || e[1].Ports[0].Port.IntVal != 6432 {
		t.Errorf("a server by address: %+v", e)
	}
	if len(managed.Egress[0].To) != 0 || managed.Egress[0].Ports[0].Port.IntVal != 53 {
		t.Errorf("the first rule is not DNS: %+v", managed.Egress[0])
	}
}
