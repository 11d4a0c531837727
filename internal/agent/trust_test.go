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
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/supportstack/operator/internal/agent"
	"github.com/supportstack/operator/internal/agent/pgtest"
	"github.com/supportstack/operator/internal/agentapi"
)

// The SQLSTATE lines the attacks below end in.
const (
	insufficientPrivilege = "42501 insufficient_privilege (class 42 syntax error or access rule violation)"
	readOnlyTransaction   = "25006 read_only_sql_transaction (class 25 invalid transaction state)"
)

// checksRunAsChecker: a drill author's SQL runs as the checker role the
// restore created, in a read-only transaction. Each attack a superuser
// could carry out is tried as a check (expecting >= 0, so a check that got
// through would pass) and refused with its SQLSTATE, with no effect; a
// count on a restored table still works. The program attack is first
// carried out as the superuser, to show it would work there.
func checksRunAsChecker(t *testing.T, runner *agent.Runner, sandbox *pgtest.Server) {
	ctx := context.Background()
	// Where the server's user may write: the program attack's target.
	dir, err := os.MkdirTemp("", "supportstack-copy-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	asSuperuser, asChecker := filepath.Join(dir, "as-superuser"), filepath.Join(dir, "as-checker")
	// The program reads what COPY writes before it exits: a program that
	// exits first (touch alone) can make the server's write fail with a
	// broken pipe, as it did once on a loaded machine.
	program := func(file string) string { return "COPY (SELECT 1) TO PROGRAM 'cat >/dev/null && touch " + file + "'" }
	sandbox.Exec(t, "helpdesk", program(asSuperuser))
	if _, err := os.Stat(asSuperuser); err != nil {
		t.Fatalf("the control: the superuser's COPY TO PROGRAM did not run: %v", err)
	}
	countBefore := sandbox.QueryString(t, "helpdesk", "SELECT count(*)::text FROM tickets")

	for _, tc := range []struct{ name, sql, want string }{
		{"COPY TO PROGRAM", program(asChecker), insufficientPrivilege},
		{"pg_read_file", "SELECT length(pg_read_file('/etc/passwd'))", insufficientPrivilege},
		{"pg_ls_dir", "SELECT count(*) FROM pg_ls_dir('.')", insufficientPrivilege},
		{"lo_export", "SELECT lo_export(0, '" + asChecker + "')", insufficientPrivilege},
		{"ALTER ROLE to superuser", "ALTER ROLE " + checkerRole + " SUPERUSER", readOnlyTransaction},
		{"SET ROLE postgres", "SET ROLE postgres", insufficientPrivilege},
		{"set_config role", "SELECT length(set_config('role', 'postgres', false))", insufficientPrivilege},
		{"RESET ROLE", "RESET ROLE", `check "RESET ROLE" must return one number; it returned 0 columns (values not shown)`},
		{"INSERT", "WITH i AS (INSERT INTO tickets (customer_id, subject, status, priority, created_at) VALUES (1, 'x', 'new', 1, now()) RETURNING 1) SELECT count(*) FROM i", readOnlyTransaction},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := runner.Verify(ctx, []agentapi.VerifyCheck{{Name: tc.name, Database: "helpdesk", TargetURIEnv: "CHECKER_URI", SQL: tc.sql, Min: ptr64(0)}})
			if err != nil || len(res) != 1 || res[0].Passed || res[0].Message != tc.want {
				t.Errorf("%s: %+v %v, want refused with %q", tc.sql, res, err, tc.want)
			}
			if b, _ := json.Marshal(res); strings.Contains(string(b), "root:") {
				t.Errorf("a file's content in the result: %s", b)
			}
		})
	}
	if _, err := os.Stat(asChecker); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the checker's program or export ran: %v", err)
	}
	// The role itself: no superuser, nothing but pg_read_all_data, even
	// outside a read-only transaction.
	conn, err := pgx.Connect(ctx, strings.Replace(checkerURI(sandbox), "/postgres?", "/helpdesk?", 1))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.Close(ctx) }()
	for _, q := range []string{"ALTER ROLE " + checkerRole + " SUPERUSER", "INSERT INTO kb.pages VALUES ('x', 'y')", "CREATE TABLE public.x (a int)", "SET ROLE postgres"} {
		if _, err := conn.Exec(ctx, q); err == nil || !strings.Contains(err.Error(), "SQLSTATE 42501") {
			t.Errorf("as the checker outside a read-only transaction, %s: %v, want 42501", q, err)
		}
	}
	if got := sandbox.QueryString(t, "postgres", `SELECT r.rolsuper || ' ' || r.rolcreatedb || ' ' || r.rolcreaterole || ' ' || r.rolreplication || ' ' || r.rolbypassrls || ' ' ||
		array_to_string(ARRAY(SELECT b.rolname FROM pg_auth_members m JOIN pg_roles b ON b.oid = m.roleid WHERE m.member = r.oid), ',')
		FROM pg_roles r WHERE rolname = '`+checkerRole+`'`); got != "false false false false false pg_read_all_data" {
		t.Errorf("checker role: %s", got)
	}
	if got := sandbox.QueryString(t, "helpdesk", "SELECT count(*)::text FROM tickets"); got != countBefore {
		t.Errorf("tickets: %s rows after the attacks, %s before", got, countBefore)
	}
	// Counting a restored table still works as the checker.
	res, err := runner.Verify(ctx, []agentapi.VerifyCheck{{Name: "count", Database: "helpdesk", TargetURIEnv: "CHECKER_URI", SQL: "SELECT count(*) FROM tickets", Min: ptr64(1)}})
	if err != nil || !res[0].Passed || res[0].Observed != countBefore {
		t.Errorf("a count as the checker: %+v %v", res, err)
	}
	// The verify Job given the superuser's URI refuses to run any check.
	_, err = runner.Verify(ctx, []agentapi.VerifyCheck{{Name: "count", Database: "helpdesk", TargetURIEnv: "SANDBOX_URI", SQL: "SELECT count(*) FROM tickets", Min: ptr64(1)}})
	if !errors.As(err, new(*agent.DrillError)) || !strings.Contains(err.Error(), "checks never run as a superuser: the verify Job connected to the sandbox as postgres") {
		t.Errorf("checks as the superuser: %v", err)
	}
}

// observedNumbersOnly: a check's result is recorded only when it is one
// number (or NULL); a check selecting an e-mail column fails without the
// e-mail appearing in its result or the encoded termination message, and
// an error quoting a row value is reduced to its SQLSTATE.
func observedNumbersOnly(t *testing.T, runner *agent.Runner) {
	ctx := context.Background()
	check := func(name, sql string, expect func(*agentapi.VerifyCheck)) agentapi.VerifyCheck {
		c := agentapi.VerifyCheck{Name: name, Database: "helpdesk", TargetURIEnv: "CHECKER_URI", SQL: sql, Min: ptr64(0)}
		if expect != nil {
			expect(&c)
		}
		return c
	}
	// The first ten customers' e-mails, each character as three digits of
	// ASCII after a leading 1: the number a query packs them into.
	const smuggle = `SELECT ('1' || string_agg(lpad(ascii(ch)::text, 3, '0'), '' ORDER BY i))::numeric
		FROM regexp_split_to_table((SELECT string_agg(email, ',' ORDER BY id) FROM (SELECT id, email FROM customers ORDER BY id LIMIT 10) e), '') WITH ORDINALITY AS t(ch, i)`
	var emails []string
	for i := 1; i <= 10; i++ {
		emails = append(emails, fmt.Sprintf("c%d@example.com", i))
	}
	smuggled := "1"
	for _, ch := range strings.Join(emails, ",") {
		smuggled += fmt.Sprintf("%03d", ch)
	}
	cases := []struct {
		check            agentapi.VerifyCheck
		passed           bool
		observed, reason string
	}{
		{check("leak", "SELECT email FROM customers ORDER BY id LIMIT 1", nil), false, "",
			`check "leak" must return one number; it returned a value of type text (value not shown)`},
		{check("leak-numeric-text", "SELECT '42'::text", nil), false, "",
			`check "leak-numeric-text" must return one number; it returned a value of type text (value not shown)`},
		{check("array", "SELECT ARRAY[count(*)] FROM customers", nil), false, "",
			`check "array" must return one number; it returned a value of type _int8 (value not shown)`},
		{check("uncommon-type", "SELECT 'customers'::regclass", nil), false, "",
			`check "uncommon-type" must return one number; it returned a value of type with OID 2205 (value not shown)`},
		{check("two-columns", "SELECT count(*), max(email) FROM customers", nil), false, "",
			`check "two-columns" must return one number; it returned 2 columns (values not shown)`},
		{check("many-rows", "SELECT id FROM customers WHERE id <= 3", nil), false, "",
			`check "many-rows" must return one number; it returned 3 rows (values not shown)`},
		{check("no-row", "SELECT id FROM customers WHERE false", nil), false, "", `check "no-row" must return one number; it returned no row`},
		{check("error-quoting-a-row", "SELECT email::int FROM customers ORDER BY id LIMIT 1", nil), false, "error",
			"22P02 invalid_text_representation (class 22 data exception)"},
		{check("null", "SELECT NULL::int", nil), false, "null", "observed null, expected >= 0"},
		{check("decimal", "SELECT avg(priority) FROM tickets", func(c *agentapi.VerifyCheck) { c.Equals = ptr64(2) }), true, "2", ""},
		{check("fraction", "SELECT 1::numeric / 4", func(c *agentapi.VerifyCheck) { c.Max = ptr64(1) }), true, "0.25", ""},
		{check("exact-bigint", "SELECT 9007199254740993::bigint", func(c *agentapi.VerifyCheck) { c.Equals = ptr64(9007199254740993) }), true, "9007199254740993", ""},
		// Twenty digits at most: any bigint, an ordinary decimal; leading
		// zeros do not count. Row text packed into one numeric (three
		// digits a character) is refused without its value.
		{check("bigint-max", "SELECT 9223372036854775807::bigint", nil), true, "9223372036854775807", ""},
		{check("twenty-digits", "SELECT 1234567890.1234567891::numeric", nil), true, "1234567890.1234567891", ""},
		{check("small-fraction", "SELECT 0.000000000000000000000000025::numeric", func(c *agentapi.VerifyCheck) { c.Max = ptr64(1) }), true, "0.000000000000000000000000025", ""},
		{check("twenty-one-digits", "SELECT 123456789012345678901::numeric", nil), false, "",
			`check "twenty-one-digits" returned a number of 21 digits; a check returns at most 20 significant digits (value not shown)`},
		{check("float-1e300", "SELECT 1e300::float8", nil), false, "",
			`check "float-1e300" returned a number of 301 digits; a check returns at most 20 significant digits (value not shown)`},
		{check("smuggled-emails", smuggle, nil), false, "",
			fmt.Sprintf(`check "smuggled-emails" returned a number of %d digits; a check returns at most 20 significant digits (value not shown)`, len(smuggled))},
	}
	checks := make([]agentapi.VerifyCheck, 0, len(cases))
	for _, tc := range cases {
		checks = append(checks, tc.check)
	}
	results, err := runner.Verify(ctx, checks)
	if err != nil || len(results) != len(cases) {
		t.Fatalf("%+v %v", results, err)
	}
	for i, tc := range cases {
		r := results[i]
		if r.Passed != tc.passed || r.Observed != tc.observed || r.Message != tc.reason {
			t.Errorf("%s: %+v, want passed %v, observed %q, message %q", tc.check.Name, r, tc.passed, tc.observed, tc.reason)
		}
		// The operator records what the agent writes as it is.
		if kept, ok := agentapi.RecordableSQLCheck(r); !ok || kept != r {
			t.Errorf("%s: the operator would not record the agent's own result %+v", tc.check.Name, r)
		}
	}
	res := agentapi.DrillResult{Operation: agentapi.OperationVerify, Checks: results}
	full, _ := json.Marshal(res)
	for _, out := range [][]byte{full, res.Encode()} {
		if strings.Contains(string(out), "@example.com") || strings.Contains(string(out), "c1@") {
			t.Errorf("a row value in the verify result: %s", out)
		}
		// Not even a part of the packed e-mails: "c1@e" is 099049064101.
		for i := 1; i+12 <= len(smuggled); i += 3 {
			if strings.Contains(string(out), smuggled[i:i+12]) {
				t.Errorf("the packed e-mails' digits %s in the verify result: %s", smuggled[i:i+12], out)
				break
			}
		}
	}
}

// TestRestoreErrorCarriesNoRowValue: a restore that pg_restore cannot
// finish because of the data (a unique index the rows violate, its DETAIL
// quoting an e-mail) fails with pg_restore's step and the SQLSTATE, never
// the value.
func TestRestoreErrorCarriesNoRowValue(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	// An immutable function the index uses is redefined after the index
	// was built: the dump's CREATE UNIQUE INDEX meets duplicates.
	f.pg.Exec(t, "postgres", "CREATE DATABASE crm")
	f.pg.Exec(t, "crm",
		"CREATE FUNCTION norm(text) RETURNS text IMMUTABLE LANGUAGE sql AS 'SELECT $1'",
		"CREATE TABLE contacts (id int PRIMARY KEY, email text NOT NULL)",
		"INSERT INTO contacts VALUES (1, 'Alice@Example.com'), (2, 'alice@example.com')",
		"CREATE UNIQUE INDEX contacts_email ON contacts (norm(email))",
		"CREATE OR REPLACE FUNCTION norm(text) RETURNS text IMMUTABLE LANGUAGE sql AS 'SELECT lower($1)'")
	cfg, _ := backUpCRMIntoSandbox(ctx, t, f)
	done, err := f.runner(f.env).Restore(ctx, agentapi.RestoreConfig{Policy: cfg.Policy, Snapshot: "latest",
		Postgres: []agentapi.RestoreDatabase{{Source: "crm", Database: "crm", TargetURIEnv: "SANDBOX_URI"}},
		Checker:  &agentapi.CheckerRole{Name: checkerRole, PasswordEnv: "CHECKER_PASSWORD"}})
	want := `database crm: pg_restore: could not execute query: 23505 unique_violation (class 23 integrity constraint violation)`
	if err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Fatalf("restore: %v, want %q", err, want)
	}
	res := agentapi.DrillResult{Operation: agentapi.OperationRestore, Restored: done.Restored, Error: err.Error(), End: time.Now()}
	for _, out := range []string{err.Error(), string(res.Encode())} {
		if strings.Contains(strings.ToLower(out), "alice") || strings.Contains(out, "DETAIL") || strings.Contains(out, "Key (") {
			t.Errorf("a row value in the restore error: %s", out)
		}
	}
	t.Logf("restore error: %v", err)
}

// TestReducePgRestore: pg_restore's stderr, as PostgreSQL 15 prints it,
// reduced to pg_restore's step, the SQLSTATE and the TOC entry; the
// server's message, DETAIL, CONTEXT and the command are dropped.
func TestReducePgRestore(t *testing.T) {
	for _, tc := range []struct{ name, stderr, want string }{
		{"unique violation in COPY", `pg_restore: error: COPY failed for table "customers": ERROR:  duplicate key value violates unique constraint "customers_email_key"
DETAIL:  Key (email)=(alice@example.com) already exists.
CONTEXT:  COPY customers, line 2
`, `pg_restore: COPY failed for table "customers": 23505 unique_violation (class 23 integrity constraint violation)`},
		{"unique index over duplicates, with the TOC entry", `pg_restore: while PROCESSING TOC:
pg_restore: from TOC entry 3213; 1259 16402 INDEX contacts_email postgres
pg_restore: error: could not execute query: ERROR:  could not create unique index "contacts_email"
DETAIL:  Key (norm(email))=(alice@example.com) is duplicated.
Command was: CREATE UNIQUE INDEX contacts_email ON public.contacts USING btree (public.norm(email));
`, `pg_restore: could not execute query: 23505 unique_violation (class 23 integrity constraint violation) (TOC entry 3213, INDEX contacts_email)`},
		{"a value in the primary message", `pg_restore: error: COPY failed for table "customers": ERROR:  invalid input syntax for type integer: "alice@example.com"
CONTEXT:  COPY customers, line 1, column id: "alice@example.com"
`, `pg_restore: COPY failed for table "customers": 22P02 invalid_text_representation (class 22 data exception)`},
		{"not-null violation quoting the row", `pg_restore: error: COPY failed for table "customers": ERROR:  null value in column "email" of relation "customers" violates not-null constraint
DETAIL:  Failing row contains (7, null, Alice Smith).
`, `pg_restore: COPY failed for table "customers": 23502 not_null_violation (class 23 integrity constraint violation)`},
		{"disk full", `pg_restore: error: COPY failed for table "articles": ERROR:  could not extend file "base/16384/16390": No space left on device
HINT:  Check free disk space.
`, `pg_restore: COPY failed for table "articles": 53100 disk_full (class 53 insufficient resources)`},
		{"connection refused by the server", `pg_restore: error: connection to server at "127.0.0.1", port 5432 failed: FATAL:  password authentication failed for user "postgres"
`, `pg_restore: connection to server at "127.0.0.1", port 5432 failed: 28P01 invalid_password (class 28 invalid authorization specification)`},
		{"an SQLSTATE printed", `pg_restore: error: could not execute query: ERROR:  23514: new row for relation "t" violates check constraint "c"
DETAIL:  Failing row contains (secret).
`, `pg_restore: could not execute query: 23514 check_violation (class 23 integrity constraint violation)`},
		{"an unknown server message", `pg_restore: error: could not execute query: ERROR:  something new about "alice@example.com"
`, `pg_restore: could not execute query: a server error pg_restore printed without its SQLSTATE (message not shown)`},
		{"pg_restore's own error", "pg_restore: error: input file does not appear to be a valid archive\n",
			"pg_restore: input file does not appear to be a valid archive"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := agent.ReducePgRestore(tc.stderr)
			if got != tc.want {
				t.Errorf("ReducePgRestore:\n got %s\nwant %s", got, tc.want)
			}
			if strings.Contains(strings.ToLower(got), "alice") || strings.Contains(got, "secret") {
				t.Errorf("a row value survived: %s", got)
			}
		})
	}
}

func TestDescribeSQLState(t *testing.T) {
	for code, want := range map[string]string{
		"23505": "23505 unique_violation (class 23 integrity constraint violation)",
		"42501": "42501 insufficient_privilege (class 42 syntax error or access rule violation)",
		"P0001": "P0001 raise_exception (class P0 pl/pgsql error)",
		"99999": "99999 unknown condition (unknown class)",
	} {
		if got := agent.DescribeSQLState(code); got != want {
			t.Errorf("DescribeSQLState(%s) = %q, want %q", code, got, want)
		}
	}
}

// TestRestoredSecurityDefinerRunsAsInvoker: pg_restore --no-owner makes
// the sandbox's superuser own every restored function, so a SECURITY
// DEFINER function in the backup would run a check's call as the
// superuser. The source has two (one reads a server file, one runs a
// program) and a procedure; after the restore none is SECURITY DEFINER,
// and a check calling each as the checker is refused with 42501, no
// program runs and no file's content is in the result. The control makes
// them SECURITY DEFINER again in the sandbox: the same checks then read
// the file and run the program, so the test fails if the restore stops
// converting them.
func TestRestoredSecurityDefinerRunsAsInvoker(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	dir, err := os.MkdirTemp("", "supportstack-definer-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	touched := filepath.Join(dir, "touched")
	triggered := filepath.Join(dir, "event-trigger-fired")
	f.pg.Exec(t, "postgres", "CREATE DATABASE crm")
	f.pg.Exec(t, "crm",
		"CREATE SCHEMA ops",
		"CREATE TABLE contacts (id int PRIMARY KEY, email text NOT NULL)",
		"INSERT INTO contacts VALUES (1, 'alice@example.com')",
		"CREATE FUNCTION passwd_length() RETURNS int SECURITY DEFINER LANGUAGE sql AS $$SELECT length(pg_read_file('/etc/passwd'))$$",
		`CREATE FUNCTION ops."Touch"(path text) RETURNS int SECURITY DEFINER LANGUAGE plpgsql AS $$
BEGIN EXECUTE format('COPY (SELECT 1) TO PROGRAM %L', 'touch ' || path); RETURN 1; END $$`,
		"CREATE PROCEDURE ops.noop() SECURITY DEFINER LANGUAGE sql AS $$SELECT 1$$",
		// An event trigger from the backup, also the superuser's after the
		// restore: it would fire on the restore's own ALTER FUNCTIONs.
		`CREATE FUNCTION ops.on_ddl() RETURNS event_trigger LANGUAGE plpgsql AS $$
BEGIN EXECUTE format('COPY (SELECT 1) TO PROGRAM %L', 'touch `+triggered+`'); END $$`,
		"CREATE EVENT TRIGGER on_ddl ON ddl_command_end EXECUTE FUNCTION ops.on_ddl()")
	if _, err := os.Stat(triggered); err == nil {
		t.Fatal("the event trigger fired in the source")
	}
	const definers = `SELECT count(*)::text FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
		WHERE p.prosecdef AND n.nspname NOT IN ('pg_catalog', 'information_schema')`
	if got := f.pg.QueryString(t, "crm", definers); got != "3" {
		t.Fatalf("the source has %s SECURITY DEFINER functions, want 3", got)
	}
	cfg, sandbox := backUpCRMIntoSandbox(ctx, t, f)
	t.Setenv("CHECKER_URI", checkerURI(sandbox))
	runner := f.runner(f.env)
	if _, err := runner.Restore(ctx, agentapi.RestoreConfig{Policy: cfg.Policy, Snapshot: "latest",
		Postgres: []agentapi.RestoreDatabase{{Source: "crm", Database: "crm", TargetURIEnv: "SANDBOX_URI"}},
		Checker:  &agentapi.CheckerRole{Name: checkerRole, PasswordEnv: "CHECKER_PASSWORD"}}); err != nil {
		t.Fatal(err)
	}
	if got := sandbox.QueryString(t, "crm", definers); got != "0" {
		t.Errorf("%s SECURITY DEFINER functions left in the restored copy", got)
	}
	if _, err := os.Stat(triggered); err == nil {
		t.Error("the backup's event trigger ran as the superuser during the restore")
	}
	if got := sandbox.QueryString(t, "crm", "SELECT string_agg(evtenabled::text, ',') FROM pg_event_trigger"); got != "D" {
		t.Errorf("the restored event trigger is %q, want disabled (D)", got)
	}
	if got := sandbox.QueryString(t, "crm", "SELECT string_agg(DISTINCT r.rolsuper::text, ',') FROM pg_proc p JOIN pg_roles r ON r.oid = p.proowner WHERE p.proname IN ('passwd_length', 'Touch', 'noop')"); got != "true" {
		t.Fatalf("the restored functions' owners are superusers: %s, want true (the premise of the attack)", got)
	}
	checks := []agentapi.VerifyCheck{
		{Name: "read a file", Database: "crm", TargetURIEnv: "CHECKER_URI", SQL: "SELECT passwd_length()", Min: ptr64(0)},
		{Name: "run a program", Database: "crm", TargetURIEnv: "CHECKER_URI", SQL: `SELECT ops."Touch"('` + touched + `')`, Min: ptr64(0)},
	}
	results, err := runner.Verify(ctx, checks)
	if err != nil || len(results) != 2 {
		t.Fatalf("%+v %v", results, err)
	}
	for _, r := range results {
		if r.Passed || r.Observed != agentapi.ObservedError || r.Message != insufficientPrivilege {
			t.Errorf("%s as the checker: %+v, want refused with %q", r.Name, r, insufficientPrivilege)
		}
	}
	if _, err := os.Stat(touched); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the checker ran a program through a restored SECURITY DEFINER function: %v", err)
	}
	out := string(agentapi.DrillResult{Operation: agentapi.OperationVerify, Checks: results}.Encode())
	if strings.Contains(out, "root:") || strings.Contains(out, "alice") {
		t.Errorf("a file's or a row's content in the result: %s", out)
	}

	// The control: as SECURITY DEFINER (owned by the superuser) the same
	// calls read the file and run the program.
	sandbox.Exec(t, "crm", "ALTER FUNCTION passwd_length() SECURITY DEFINER", `ALTER FUNCTION ops."Touch"(text) SECURITY DEFINER`)
	results, err = runner.Verify(ctx, checks)
	if err != nil || len(results) != 2 || !results[0].Passed {
		t.Fatalf("the control: %+v %v, want both calls to succeed as SECURITY DEFINER", results, err)
	}
	// The premise is that the program runs. Once, on a loaded machine, the
	// server ran it and then lost its exit status (pclose: ECHILD, reported
	// as XX000): the file it touched is the proof, not the call's status.
	if _, err := os.Stat(touched); err != nil {
		t.Errorf("the control: the program did not run: %v (the call: %+v)", err, results[1])
	} else if !results[1].Passed {
		t.Logf("the control: the program ran, its exit status was lost: %+v", results[1])
	}
}

// backUpCRMIntoSandbox backs up the fixture's crm database with the agent
// and starts an empty sandbox server for its restore: SANDBOX_URI names its
// superuser, CHECKER_PASSWORD the checker role's password.
func backUpCRMIntoSandbox(ctx context.Context, t *testing.T, f *fixture) (agentapi.Config, *pgtest.Server) {
	t.Helper()
	cfg, err := agentapi.ParseConfig(`{"policy":"crm/nightly","postgres":[{"name":"crm","uriEnv":"TEST_PG_URI","databases":["crm"]}]}`)
	if err != nil {
		t.Fatal(err)
	}
	if res := f.runner(f.env).Backup(ctx, cfg); !res.Succeeded {
		t.Fatal(res.Error)
	}
	sandbox := pgtest.Start(t)
	t.Setenv("SANDBOX_URI", sandbox.URI("postgres"))
	t.Setenv("CHECKER_PASSWORD", checkerPassword)
	return cfg, sandbox
}
