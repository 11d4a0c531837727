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
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/supportstack/operator/internal/agent/pgtest"
)

// rtDataFingerprint is RT's rows that an upgrade to the same version must
// leave alone: tickets, their history, users, groups, rights, queues,
// attachments, and every attribute.
const rtDataFingerprint = `SELECT string_agg(t || ':' || n || ':' || h, ' ' ORDER BY t) FROM (
  SELECT 'tickets' t, count(*) n, md5(coalesce(string_agg(x::text, '|' ORDER BY id), '')) h FROM tickets x
  UNION ALL SELECT 'transactions', count(*), md5(coalesce(string_agg(x::text, '|' ORDER BY id), '')) FROM transactions x
  UNION ALL SELECT 'users', count(*), md5(coalesce(string_agg(x::text, '|' ORDER BY id), '')) FROM users x
  UNION ALL SELECT 'groups', count(*), md5(coalesce(string_agg(x::text, '|' ORDER BY id), '')) FROM groups x
  UNION ALL SELECT 'acl', count(*), md5(coalesce(string_agg(x::text, '|' ORDER BY id), '')) FROM acl x
  UNION ALL SELECT 'queues', count(*), md5(coalesce(string_agg(x::text, '|' ORDER BY id), '')) FROM queues x
  UNION ALL SELECT 'attachments', count(*), md5(coalesce(string_agg(x::text, '|' ORDER BY id), '')) FROM attachments x
  UNION ALL SELECT 'attributes', count(*), md5(coalesce(string_agg(x::text, '|' ORDER BY id), '')) FROM attributes x) f`

// TestRTUpgradeScript runs the schema script and then the upgrade script
// with real RT against a real PostgreSQL (as an external database's own
// role: the upgrade Job's administrator). The schema records the image's
// RT version; the upgrade to the same version runs rt-setup-database's
// upgrade and changes no row; a database that records no version is
// refused, not guessed at; one that records an older version is upgraded
// by RT and the record moves.
func TestRTUpgradeScript(t *testing.T) {
	if _, err := os.Stat(rtSetupDatabase); err != nil {
		t.Fatalf("Request Tracker is not installed (%v): apt-get install --no-install-recommends request-tracker5 rt5-db-postgresql (.ci/run does)", err)
	}
	pg := pgtest.Start(t)
	pg.Exec(t, "postgres",
		"CREATE ROLE app LOGIN PASSWORD 'apppw0123' NOSUPERUSER NOCREATEDB NOCREATEROLE",
		"CREATE DATABASE app OWNER app")
	dir := t.TempDir()
	for _, f := range []string{"root", "operator"} {
		if err := os.MkdirAll(filepath.Join(dir, f), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f, "password"), []byte(f+"pw0123456"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	conn, err := ExternalDatabaseConn("app", map[string][]byte{"host": []byte("127.0.0.1"), "port": []byte(strconv.Itoa(pg.Port)),
		"dbname": []byte("app"), "username": []byte("app"), "password": []byte("apppw0123")}, false)
	if err != nil {
		t.Fatal(err)
	}
	config, err := RTSiteConfig(RTSite{Name: "rt", Organization: "example.com", WebDomain: "rt.example.com", TimeZone: "UTC",
		DatabaseHost: conn.Host, DatabasePort: conn.Port, DatabaseName: conn.Name, DatabaseUser: conn.User})
	if err != nil {
		t.Fatal(err)
	}
	env := append(rtSiteEnv(t, config), "RT_DBA_USER=app", "RT_DBA_PASSWORD=apppw0123", RTDatabasePasswordEnv+"=apppw0123", RTExternalDatabaseEnv+"=1")
	run := func(script string) (string, error) {
		cmd := exec.Command("sh", "-c", strings.NewReplacer(rtRootPasswordIn, filepath.Join(dir, "root"), rtOperatorPasswordIn, filepath.Join(dir, "operator")).Replace(script))
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	if out, err := run(RTSchemaScript); err != nil || !strings.Contains(out, "rt-schema: the schema is RT 5.") {
		t.Fatalf("the schema script: %v\n%s", err, out)
	}
	version := pg.QueryString(t, "app", "SELECT content FROM attributes WHERE name = '"+RTSchemaVersionAttribute+"'")
	if !strings.HasPrefix(version, "5.") || strings.Contains(version, "+") {
		t.Fatalf("the recorded schema version %q, want RT's major.minor.patch", version)
	}
	if out, err := run(RTSchemaScript); err != nil || strings.Contains(out, "the schema is RT") {
		t.Errorf("a second schema run recorded the version again: %v\n%s", err, out)
	}

	// The same version: the path runs, nothing changes.
	before := pg.QueryString(t, "app", rtDataFingerprint)
	out, err := run(RTUpgradeScript)
	if err != nil || !strings.Contains(out, "rt-upgrade: the schema is RT "+version+"; the image runs RT "+version) ||
		!strings.Contains(out, "No DB changes since "+version) && !strings.Contains(out, "up to date") || !strings.Contains(out, "rt-upgrade: done") {
		t.Fatalf("the upgrade to the same version: %v\n%s", err, out)
	}
	if after := pg.QueryString(t, "app", rtDataFingerprint); after != before {
		t.Errorf("the upgrade to the same version changed RT's data:\nbefore %s\nafter  %s", before, after)
	}

	// A database that records no version is not upgraded.
	pg.Exec(t, "app", "UPDATE attributes SET name = 'Moved' WHERE name = '"+RTSchemaVersionAttribute+"'")
	if out, err := run(RTUpgradeScript); err == nil || !strings.Contains(out, "does not record the RT version of its schema") {
		t.Errorf("no recorded version: %v\n%s", err, out)
	}
	pg.Exec(t, "app", "UPDATE attributes SET name = '"+RTSchemaVersionAttribute+"' WHERE name = 'Moved'")

	// An older recorded version: RT's upgrade steps run (5.0.2's and
	// later, each written for a schema that lacks them), and the record
	// moves to the image's version.
	pg.Exec(t, "app", "UPDATE attributes SET content = '5.0.1' WHERE name = '"+RTSchemaVersionAttribute+"'")
	out, err = run(RTUpgradeScript)
	if err != nil || !strings.Contains(out, "the schema is RT 5.0.1;") || !strings.Contains(out, "Going to apply following upgrades") ||
		!strings.Contains(out, "rt-upgrade: the schema is now RT "+version) {
		t.Errorf("the upgrade from 5.0.1: %v\n%s", err, out)
	}
	if got := pg.QueryString(t, "app", "SELECT content FROM attributes WHERE name = '"+RTSchemaVersionAttribute+"'"); got != version {
		t.Errorf("the recorded version after the upgrade: %q, want %s", got, version)
	}
}
