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
	"fmt"
	"regexp"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/supportstack/operator/internal/agentapi"
)

// Errors from PostgreSQL are reduced to what carries no data before they go
// anywhere (a result, a status, an event, evidence): the SQLSTATE and its
// class. A server's message text, DETAIL, HINT, CONTEXT and WHERE can quote
// row values ("Key (email)=(alice@example.com) already exists") and are
// never kept.

// DescribeSQLState names a SQLSTATE: "23505 unique_violation (class 23
// integrity constraint violation)". The names live in agentapi, where the
// operator checks that an SQL check's error is one of these lines.
func DescribeSQLState(code string) string { return agentapi.DescribeSQLState(code) }

// reduceSQLError is one line about err that carries no data: a server
// error's SQLSTATE and class, a connection failure's host and port.
func reduceSQLError(err error) string {
	var pgErr *pgconn.PgError
	var connErr *pgconn.ConnectError
	switch {
	case err == nil:
		return ""
	case errors.As(err, &pgErr):
		return DescribeSQLState(pgErr.Code)
	case errors.Is(err, pgx.ErrNoRows):
		return "the query returned no row"
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return "the query was cancelled or ran out of time"
	case errors.As(err, &connErr):
		return describePg(err).Error()
	}
	return fmt.Sprintf("the query failed without an SQLSTATE (%T; the message is not shown)", err)
}

// restoreMessages are the primary messages of the server errors a restore
// meets, by the fixed words they start with, and their SQLSTATE. pg_restore
// prints a server error's text but not its SQLSTATE; the text is never
// kept, the SQLSTATE found from it is.
var restoreMessages = []struct {
	pattern *regexp.Regexp
	code    string
}{
	{regexp.MustCompile(`^duplicate key value violates unique constraint`), "23505"},
	{regexp.MustCompile(`^insert or update on table .* violates foreign key constraint`), "23503"},
	{regexp.MustCompile(`^update or delete on table .* violates foreign key constraint`), "23503"},
	{regexp.MustCompile(`^null value in column .* violates not-null constraint`), "23502"},
	{regexp.MustCompile(`violates check constraint`), "23514"},
	{regexp.MustCompile(`^conflicting key value violates exclusion constraint`), "23P01"},
	{regexp.MustCompile(`^could not create unique index`), "23505"},
	{regexp.MustCompile(`^invalid input syntax`), "22P02"},
	{regexp.MustCompile(`^invalid byte sequence for encoding`), "22021"},
	{regexp.MustCompile(`^value too long for type`), "22001"},
	{regexp.MustCompile(`out of range`), "22003"},
	{regexp.MustCompile(`^(extra data after last expected column|missing data for column)`), "22P04"},
	{regexp.MustCompile(`^(permission denied|must be owner|must be superuser)`), "42501"},
	{regexp.MustCompile(`^relation .* already exists`), "42P07"},
	{regexp.MustCompile(`^(schema|role|type|constraint|trigger|index) .* already exists`), "42710"},
	{regexp.MustCompile(`^relation .* does not exist`), "42P01"},
	{regexp.MustCompile(`^schema .* does not exist`), "3F000"},
	{regexp.MustCompile(`^function .* does not exist`), "42883"},
	{regexp.MustCompile(`^(role|type) .* does not exist`), "42704"},
	{regexp.MustCompile(`^database .* does not exist`), "3D000"},
	{regexp.MustCompile(`^(could not open extension control file|extension .* is not available|could not access file)`), "58P01"},
	{regexp.MustCompile(`^could not extend file|No space left on device`), "53100"},
	{regexp.MustCompile(`^out of memory`), "53200"},
	{regexp.MustCompile(`^too many connections`), "53300"},
	{regexp.MustCompile(`^canceling statement due to statement timeout`), "57014"},
	{regexp.MustCompile(`^(terminating connection|the database system is shutting down)`), "57P01"},
	{regexp.MustCompile(`^the database system is starting up`), "57P03"},
	{regexp.MustCompile(`^password authentication failed`), "28P01"},
	{regexp.MustCompile(`^no pg_hba.conf entry`), "28000"},
	{regexp.MustCompile(`^syntax error`), "42601"},
}

// serverMessage finds a server error in a pg_restore line: its severity
// and primary message (up to the end of the line).
var serverMessage = regexp.MustCompile(`\b(ERROR|FATAL|PANIC):\s+(?:([0-9A-Z]{5}): )?(.*)$`)

// tocEntry is pg_restore's "from TOC entry 3345; 0 16390 TABLE DATA public
// customers postgres": the kind and name of the object (the owner at the
// end is dropped).
var tocEntry = regexp.MustCompile(`from TOC entry (\d+); \d+ \d+ (.*?)(?: \S+)?$`)

// ReducePgRestore turns pg_restore's stderr into one line that carries no
// data: pg_restore's own words up to the server's message (which name the
// step and the object: `COPY failed for table "customers"`), the SQLSTATE
// of the server's message when it is one a restore meets, and the TOC
// entry being processed. DETAIL, CONTEXT, HINT, the "Command was" SQL and
// the server's message text are never kept.
func ReducePgRestore(stderr string) string {
	var step, state, toc string
	for _, line := range strings.Split(stderr, "\n") {
		line = strings.TrimSpace(line)
		rest, ok := strings.CutPrefix(line, "pg_restore: ")
		if !ok {
			continue // DETAIL, CONTEXT, HINT, Command was, the SQL itself
		}
		if m := tocEntry.FindStringSubmatch(rest); m != nil {
			toc = fmt.Sprintf("TOC entry %s, %s", m[1], m[2])
			continue
		}
		rest, isError := strings.CutPrefix(rest, "error: ")
		if !isError || step != "" {
			continue // progress, warnings, errors after the first
		}
		step = rest
		if loc := serverMessage.FindStringSubmatchIndex(rest); loc != nil {
			step = strings.TrimRight(strings.TrimSpace(rest[:loc[0]]), ":")
			m := serverMessage.FindStringSubmatch(rest)
			state = serverState(m[2], m[3])
		}
	}
	if step == "" {
		step = "failed"
	}
	out := "pg_restore: " + step
	if state != "" {
		out += ": " + state
	}
	if toc != "" {
		out += " (" + toc + ")"
	}
	return out
}

// serverState is the SQLSTATE of a server message: the one printed, or
// the one its fixed words say.
func serverState(printed, message string) string {
	if printed != "" {
		return DescribeSQLState(printed)
	}
	for _, m := range restoreMessages {
		if m.pattern.MatchString(message) {
			return DescribeSQLState(m.code)
		}
	}
	return "a server error pg_restore printed without its SQLSTATE (message not shown)"
}
