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

package agentapi

import (
	"fmt"
	"regexp"
	"strings"
)

// An SQL check's result holds numbers and fixed words only. The agent
// writes its texts with the functions below; the operator keeps an SQL
// check's result only when every text has one of these shapes, so not even
// a compromised verify pod (which can read the whole restored copy) can
// carry a row value into status, events or evidence.

// ObservedError is an SQL check's Observed when its query failed.
const ObservedError = "error"

// ObservedNull is an SQL check's Observed when its query returned NULL.
const ObservedNull = "null"

// NotOneNumber is the message of an SQL check whose result is not one
// number: what names the shape, never a value ("a value of type text
// (value not shown)", "2 columns (values not shown)", "no row").
func NotOneNumber(check, what string) string {
	return fmt.Sprintf("check %q must return one number; it returned %s", check, what)
}

// DescribeSQLState names a SQLSTATE: "23505 unique_violation (class 23
// integrity constraint violation)", from PostgreSQL 15's errcodes.txt.
func DescribeSQLState(code string) string {
	name := sqlStateNames[code]
	if name == "" {
		name = "unknown condition"
	}
	class := "unknown class"
	if len(code) == 5 {
		if c, ok := sqlStateClasses[code[:2]]; ok {
			class = fmt.Sprintf("class %s %s", code[:2], c)
		}
	}
	return fmt.Sprintf("%s %s (%s)", code, name, class)
}

// shownTypes are the types an SQL check's "not one number" message names;
// others are named by their OID, so that no word but these can be in it.
var shownTypes = map[string]bool{}

func init() {
	for _, t := range strings.Fields(`bool bytea char name text varchar bpchar json jsonb xml uuid
		date time timetz timestamp timestamptz interval inet cidr macaddr bit varbit tsvector
		point line lseg box path polygon circle oid record int4range int8range numrange daterange tsrange tstzrange`) {
		shownTypes[t], shownTypes["_"+t] = true, true
	}
	for _, t := range []string{"_int2", "_int4", "_int8", "_numeric", "_float4", "_float8"} {
		shownTypes[t] = true
	}
}

// ShownType is how a "not one number" message names a result's type: its
// name when it is one of shownTypes, "with OID 16400" otherwise.
func ShownType(name string, oid uint32) string {
	if shownTypes[name] {
		return name
	}
	return fmt.Sprintf("with OID %d", oid)
}

// ExpectationMissed is the message of an SQL check whose number is outside
// its expectation.
func ExpectationMissed(observed, expected string) string {
	return fmt.Sprintf("observed %s, expected %s", observed, expected)
}

// MaxSignificantDigits is the most digits an SQL check's number may have.
// Twenty hold any bigint count (at most 19 digits) and ordinary decimals;
// a longer number is refused, never recorded, because a query can pack row
// text into one numeric (three digits a character: 1 KB of text is a
// number of about 3,000 digits).
const MaxSignificantDigits = 20

// SignificantDigits counts the digits of a number as the agent writes it
// ("45000", "-0.25"): those from its first non-zero digit on, and those of
// an exponent, which the agent never writes but a verify pod could.
// Leading zeros carry nothing; trailing ones count.
func SignificantDigits(number string) int {
	n, started := 0, false
	for _, r := range number {
		switch {
		case r == 'e' || r == 'E':
			started = true // an exponent's digits all count
		case r >= '1' && r <= '9':
			started = true
			n++
		case r == '0' && started:
			n++
		}
	}
	return n
}

// TooManyDigits is the message of an SQL check whose number has more than
// MaxSignificantDigits digits; the number is not recorded.
func TooManyDigits(check string, digits int) string {
	return fmt.Sprintf("check %q returned a number of %d digits; a check returns at most %d significant digits (value not shown)", check, digits, MaxSignificantDigits)
}

const (
	numberPattern = `(?:-?[0-9]+(?:\.[0-9]+)?(?:e[-+]?[0-9]+)?|NaN|[-+]Inf|null)`
	// An expectation is at most "= a and >= b and <= c", each an int64.
	expectationPattern = `(?:(?:= |>= |<= )-?[0-9]{1,19}(?: and (?:= |>= |<= )-?[0-9]{1,19}){0,2})?`
)

var (
	sqlObserved    = regexp.MustCompile(`^(?:` + numberPattern + `|error|)$`)
	sqlExpected    = regexp.MustCompile(`^` + expectationPattern + `$`)
	sqlNotOne      = regexp.MustCompile(`^must return one number; it returned (?:a value of type (?:with OID [0-9]{1,10}|([a-z0-9_]{1,63})) \(value not shown\)|[0-9]{1,19} (?:columns|rows) \(values not shown\)|no row)$`)
	sqlMissed      = regexp.MustCompile(`^observed (` + numberPattern + `), expected ` + expectationPattern + `$`)
	sqlTooMany     = regexp.MustCompile(`^returned a number of [0-9]{1,7} digits; a check returns at most ` + fmt.Sprint(MaxSignificantDigits) + ` significant digits \(value not shown\)$`)
	sqlState       = regexp.MustCompile(`^([0-9A-Z]{5}) `)
	sqlFixedErrors = []string{
		"the query returned no row",
		"the query was cancelled or ran out of time",
	}
	// A Go error type: *pkg.Name, no longer than Go's error types are.
	sqlUnknownError = regexp.MustCompile(`^the query failed without an SQLSTATE \(\*?[a-z][a-z0-9]{0,15}\.[A-Za-z][A-Za-z0-9]{0,31}; the message is not shown\)$`)
)

// RecordableSQLCheck is c when its Expected, Observed and Message have the
// shapes the agent writes for an SQL check, every number in them of at most
// MaxSignificantDigits digits; otherwise c failed, its Observed is empty and
// its Message says that what the verify Job reported was not recorded.
func RecordableSQLCheck(c CheckResult) (CheckResult, bool) {
	msgOK := c.Message == "" || sqlUnknownError.MatchString(c.Message)
	// An SQLSTATE line is the one DescribeSQLState writes for its code: no
	// other word fits in it.
	if m := sqlState.FindStringSubmatch(c.Message); m != nil && c.Message == DescribeSQLState(m[1]) {
		msgOK = true
	}
	if m := sqlMissed.FindStringSubmatch(c.Message); m != nil && SignificantDigits(m[1]) <= MaxSignificantDigits {
		msgOK = true
	}
	if rest, ok := strings.CutPrefix(c.Message, fmt.Sprintf("check %q ", c.Name)); ok {
		// A type is named only when it is one of shownTypes.
		if m := sqlNotOne.FindStringSubmatch(rest); m != nil && (m[1] == "" || shownTypes[m[1]]) || sqlTooMany.MatchString(rest) {
			msgOK = true
		}
	}
	for _, m := range sqlFixedErrors {
		msgOK = msgOK || c.Message == m
	}
	if msgOK && sqlObserved.MatchString(c.Observed) && SignificantDigits(c.Observed) <= MaxSignificantDigits && sqlExpected.MatchString(c.Expected) {
		return c, true
	}
	return CheckResult{Name: c.Name, Passed: false,
		Message: "the verify Job reported a result for this SQL check that is not one number or a message the agent writes; it was not recorded"}, false
}
