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

package report

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// WriteJSON writes the report as indented JSON. Field names are the
// struct tags of Report and stay stable; times are RFC 3339 with the
// team's offset; durations are whole seconds in fields named ...Seconds.
func (r Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// CSVHeader is the header of the CSV: one long table, a row per figure.
// section names the part of the report (period, service_level, day, hour,
// half_hour, member, worst); date is a local date (day), start a local
// time (RFC 3339 for half_hour and worst, HH:00 for hour); queue and
// member say whose figure it is (empty for a day's total; for training,
// queue holds the skill to train the member in); metric names
// the figure and value holds it (a number, or text for period, cause,
// holiday and rt_user). A figure that does not exist (no service level
// without a target) has no row. A spreadsheet's pivot table or a filter
// on section gives each table back.
var CSVHeader = []string{"section", "date", "start", "queue", "member", "metric", "value"}

// WriteCSV writes the report as the long CSV table CSVHeader describes.
func (r Report) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	rows := [][]string{CSVHeader}
	add := func(section, date, start, queue, member, metric, value string) {
		row := []string{section, date, start, queue, member, metric, value}
		for i := range row {
			row[i] = cell(row[i])
		}
		rows = append(rows, row)
	}
	for _, kv := range [][2]string{
		{"team", r.Team}, {"time_zone", r.TimeZone}, {"period", string(r.Period)},
		{"from", r.From.Format(time.RFC3339)}, {"to", r.To.Format(time.RFC3339)}, {"as_of", r.AsOf.Format(time.RFC3339)},
		{"service_level_target_percent", strconv.Itoa(r.TargetPercent)},
	} {
		add("period", "", "", "", "", kv[0], kv[1])
	}
	for _, s := range r.ServiceLevels {
		figureRows(add, "service_level", "", s.Figures)
		if s.MetTarget != nil {
			add("service_level", "", "", s.Queue, "", "met_target", strconv.FormatBool(*s.MetTarget))
		}
		for _, kv := range []struct {
			k string
			v int64
		}{{"first_response_target_seconds", s.FirstResponseTargetSeconds}, {"answered", int64(s.Answered)},
			{"median_first_response_seconds", s.MedianFirstResponseSeconds}, {"p90_first_response_seconds", s.P90FirstResponseSeconds}} {
			add("service_level", "", "", s.Queue, "", kv.k, strconv.FormatInt(kv.v, 10))
		}
	}
	for _, d := range r.Days {
		if d.Holiday != "" {
			add("day", d.Date, "", "", "", "holiday", d.Holiday)
		}
		add("day", d.Date, "", "", "", "created", strconv.Itoa(d.Created))
		add("day", d.Date, "", "", "", "forecast", num(d.Forecast))
		for _, f := range d.Queues {
			figureRows(add, "day", d.Date, f)
		}
	}
	for _, h := range r.Hours {
		start := fmt.Sprintf("%02d:00", h.Hour)
		add("hour", "", start, "", "", "created", strconv.Itoa(h.Created))
		add("hour", "", start, "", "", "forecast", num(h.Forecast))
		for qi, n := range h.Queues {
			add("hour", "", start, r.Queues[qi], "", "created", strconv.Itoa(n))
		}
	}
	for _, h := range r.Intervals {
		for _, q := range h.Queues {
			halfHourRows(add, "half_hour", h.Start, q)
		}
	}
	for _, m := range r.Members {
		for _, kv := range [][2]string{{"rt_user", m.RTUser}, {"member", strconv.FormatBool(m.Member)}, {"resolved", strconv.Itoa(m.Resolved)},
			{"answered", strconv.Itoa(m.Answered)}, {"median_first_response_seconds", strconv.FormatInt(m.MedianFirstResponseSeconds, 10)}} {
			add("member", "", "", "", m.Name, kv[0], kv[1])
		}
	}
	for i, wi := range r.Worst {
		start := wi.Start.Format(time.RFC3339)
		add("worst", "", start, wi.Queue, "", "rank", strconv.Itoa(i+1))
		halfHourRows(add, "worst", wi.Start, wi.HalfHourQueue)
		add("worst", "", start, wi.Queue, "", "cause", string(wi.Cause))
	}
	for _, n := range r.Training {
		add("training", "", "", n.Skill, n.Member, "closes_staff_half_hours", strconv.Itoa(n.ClosesStaffHalfHours))
		add("training", "", "", n.Skill, n.Member, "advice", n.Advice)
	}
	if err := cw.WriteAll(rows); err != nil {
		return err
	}
	return cw.Error()
}

type addRow func(section, date, start, queue, member, metric, value string)

// figureRows writes a queue's Figures.
func figureRows(add addRow, section, date string, f Figures) {
	add(section, date, "", f.Queue, "", "created", strconv.Itoa(f.Created))
	add(section, date, "", f.Queue, "", "forecast", num(f.Forecast))
	add(section, date, "", f.Queue, "", "met", strconv.Itoa(f.Met))
	add(section, date, "", f.Queue, "", "missed", strconv.Itoa(f.Missed))
	add(section, date, "", f.Queue, "", "pending", strconv.Itoa(f.Pending))
	if f.ServiceLevelPercent != nil {
		add(section, date, "", f.Queue, "", "service_level_percent", strconv.Itoa(*f.ServiceLevelPercent))
	}
}

// halfHourRows writes a queue's figures in a half-hour.
func halfHourRows(add addRow, section string, start time.Time, q HalfHourQueue) {
	s := start.Format(time.RFC3339)
	add(section, "", s, q.Queue, "", "created", strconv.Itoa(q.Created))
	add(section, "", s, q.Queue, "", "forecast", num(q.Forecast))
	add(section, "", s, q.Queue, "", "met", strconv.Itoa(q.Met))
	add(section, "", s, q.Queue, "", "missed", strconv.Itoa(q.Missed))
	add(section, "", s, q.Queue, "", "required_staff", strconv.Itoa(q.Required))
	add(section, "", s, q.Queue, "", "scheduled_staff", strconv.Itoa(q.Scheduled))
	add(section, "", s, q.Queue, "", "gap", strconv.Itoa(q.Gap))
}

// cell defuses a text a spreadsheet would run as a formula: one that
// starts with =, +, -, @, a tab or a carriage return (names come from RT,
// where anyone who can open a ticket or name a user writes them) gets a
// leading ' (OWASP's advice for CSV injection). Numbers, negative ones
// too, stay as they are.
func cell(s string) string {
	if s == "" || !strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return s
	}
	if _, err := strconv.ParseFloat(s, 64); err == nil {
		return s
	}
	return "'" + s
}

// num writes a forecast: the shortest decimal that reads back the same.
func num(x float64) string { return strconv.FormatFloat(x, 'f', -1, 64) }
