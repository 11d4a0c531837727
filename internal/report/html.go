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
	"fmt"
	"html/template"
	"io"
	"time"
)

// The HTML is one self-contained page: inline CSS and inline SVG charts
// (no script, no external asset, no URL: inline SVG in HTML needs no
// namespace), every text escaped by html/template. Charts scale with the
// page (a viewBox and width 100%); tables sit in containers that scroll
// sideways on their own, so the page itself never overflows a phone.

// Chart geometry, in viewBox units.
const (
	chartW   = 480
	chartH   = 180
	chartPad = 28 // left and bottom margin for the axis labels
	cellW    = 14 // a heat-map half-hour
	cellH    = 14 // a heat-map day
	heatLeft = 76 // heat-map day labels
	heatTop  = 16 // heat-map hour labels
)

// bar is one bar of a chart, with its label and tooltip.
type bar struct {
	X, Y, W, H float64
	Label      string
	LabelX     float64
	Title      string
}

// chart is a bar chart with an optional line (the forecast).
type chart struct {
	W, H, Base, Left float64
	Max              float64
	Bars             []bar
	Line             string // polyline points; empty for none
}

// barChart lays out values (and line, when not nil) over labels; every
// labelEvery-th label is drawn.
func barChart(labels []string, values, line []float64, labelEvery int, title func(i int) string) chart {
	c := chart{W: chartW, H: chartH, Base: chartH - chartPad, Left: chartPad}
	for i, v := range values {
		c.Max = max(c.Max, v)
		if line != nil {
			c.Max = max(c.Max, line[i])
		}
	}
	scale := 0.0
	if c.Max > 0 {
		scale = (c.Base - 10) / c.Max
	}
	step := (c.W - c.Left) / float64(max(1, len(values)))
	for i, v := range values {
		b := bar{X: c.Left + float64(i)*step + step*0.1, W: step * 0.8, H: v * scale, Title: title(i)}
		b.Y = c.Base - b.H
		b.LabelX = b.X + b.W/2
		if labelEvery > 0 && i%labelEvery == 0 {
			b.Label = labels[i]
		}
		c.Bars = append(c.Bars, b)
	}
	for i := range line {
		c.Line += fmt.Sprintf("%.1f,%.1f ", c.Left+float64(i)*step+step/2, c.Base-line[i]*scale)
	}
	return c
}

// heatCell is one half-hour of the heat-map.
type heatCell struct {
	X, Y  int
	Gap   int
	Class string
	Title string
}

// heatRow is one day of the heat-map.
type heatRow struct {
	Y     int
	Label string
}

// heatMap is the grid of days by the 48 half-hours of the wall clock.
type heatMap struct {
	W, H  int
	Rows  []heatRow
	Cells []heatCell
	Hours []heatRow // hour labels: Y is the x position
}

// gapClass is a cell's colour: no staff required, covered, or short by
// 1, 2, 3 or more.
func gapClass(required, gap int) string {
	switch {
	case required == 0:
		return "h-none"
	case gap == 0:
		return "h-ok"
	case gap == 1:
		return "h-g1"
	case gap == 2:
		return "h-g2"
	}
	return "h-g3"
}

// buildHeatMap places each half-hour by its local date and wall-clock
// time, with required, scheduled and gap summed over the queues. On a
// night the clocks go back the repeated half-hours share a cell, which
// shows the larger gap of the two; on a night they go forward the skipped
// cells stay empty.
func buildHeatMap(r Report) heatMap {
	h := heatMap{W: heatLeft + 48*cellW, H: heatTop + len(r.Days)*cellH}
	row := map[string]int{}
	for i, d := range r.Days {
		row[d.Date] = i
		label := weekdayOf(d.Date) + " " + d.Date[5:]
		h.Rows = append(h.Rows, heatRow{Y: heatTop + i*cellH + cellH - 3, Label: label})
	}
	for hr := 0; hr < 24; hr += 3 {
		h.Hours = append(h.Hours, heatRow{Y: heatLeft + hr*2*cellW, Label: fmt.Sprintf("%02d", hr)})
	}
	cell := map[[2]int]int{}
	for _, iv := range r.Intervals {
		req, sched, gap := 0, 0, 0
		for _, q := range iv.Queues {
			req, sched, gap = req+q.Required, sched+q.Scheduled, gap+q.Gap
		}
		y := row[iv.Start.Format(time.DateOnly)]
		x := iv.Start.Hour()*2 + iv.Start.Minute()/30
		c := heatCell{X: heatLeft + x*cellW, Y: heatTop + y*cellH, Gap: gap, Class: gapClass(req, gap),
			Title: fmt.Sprintf("%s: required %d, scheduled %d, gap %d", iv.Start.Format("Mon 2 Jan 15:04 MST"), req, sched, gap)}
		if i, ok := cell[[2]int{x, y}]; ok {
			if gap > h.Cells[i].Gap {
				h.Cells[i] = c
			}
			continue
		}
		cell[[2]int{x, y}] = len(h.Cells)
		h.Cells = append(h.Cells, c)
	}
	return h
}

func weekdayOf(date string) string {
	t, err := time.Parse(time.DateOnly, date)
	if err != nil {
		return ""
	}
	return t.Format("Mon")
}

// staffDay is one day's line of the table under the heat-map: what the
// cells' colours and tooltips say, in print (phones cannot hover, paper
// cannot either). Figures are per half-hour, all queues together, as in
// the heat-map.
type staffDay struct {
	Date string
	// PeakRequired and PeakScheduled are the day's largest required and
	// scheduled staff in a half-hour (not necessarily the same one).
	PeakRequired, PeakScheduled int
	// ShortHalfHours is how many half-hours had fewer staff scheduled
	// than required; ShortStaff is the staff missing summed over them
	// (staff-half-hours: 2 short for an hour is 4).
	ShortHalfHours, ShortStaff int
}

// staffDays sums the half-hours into one staffDay per day of the period.
func staffDays(r Report) []staffDay {
	out := make([]staffDay, 0, len(r.Days))
	index := map[string]int{}
	for _, d := range r.Days {
		index[d.Date] = len(out)
		out = append(out, staffDay{Date: d.Date})
	}
	for _, iv := range r.Intervals {
		i, ok := index[iv.Start.Format(time.DateOnly)]
		if !ok {
			continue
		}
		req, sched, gap := 0, 0, 0
		for _, q := range iv.Queues {
			req, sched, gap = req+q.Required, sched+q.Scheduled, gap+q.Gap
		}
		d := &out[i]
		d.PeakRequired, d.PeakScheduled = max(d.PeakRequired, req), max(d.PeakScheduled, sched)
		if gap > 0 {
			d.ShortHalfHours++
			d.ShortStaff += gap
		}
	}
	return out
}

// view is what the template reads.
type view struct {
	Report
	Daily  chart
	Hourly chart
	Heat   heatMap
	Staff  []staffDay
	Margin string
}

func newView(r Report) view {
	labels := make([]string, len(r.Days))
	created := make([]float64, len(r.Days))
	fc := make([]float64, len(r.Days))
	for i, d := range r.Days {
		labels[i] = d.Date[5:]
		created[i] = float64(d.Created)
		fc[i] = d.Forecast
	}
	every := max(1, len(r.Days)/10)
	v := view{Report: r, Heat: buildHeatMap(r), Staff: staffDays(r),
		Margin: fmt.Sprintf("at least %g ticket and %g%% above the forecast", DemandMarginTickets, DemandMarginFraction*100)}
	v.Daily = barChart(labels, created, fc, every, func(i int) string {
		return fmt.Sprintf("%s: %d created, %g forecast", r.Days[i].Date, r.Days[i].Created, r.Days[i].Forecast)
	})
	hl := make([]string, 24)
	hv := make([]float64, 24)
	hf := make([]float64, 24)
	for i, h := range r.Hours {
		hl[i] = fmt.Sprintf("%02d", h.Hour)
		hv[i] = float64(h.Created)
		hf[i] = h.Forecast
	}
	v.Hourly = barChart(hl, hv, hf, 3, func(i int) string {
		return fmt.Sprintf("%02d:00-%02d:59: %d created, %g forecast", i, i, r.Hours[i].Created, r.Hours[i].Forecast)
	})
	return v
}

// WriteHTML writes the report as one self-contained HTML page.
func (r Report) WriteHTML(w io.Writer) error { return page.Execute(w, newView(r)) }

func duration(seconds int64) string {
	if seconds == 0 {
		return "-"
	}
	d := time.Duration(seconds) * time.Second
	h, m, sec := int(d.Hours()), int(d.Minutes())%60, int(d.Seconds())%60
	switch {
	case sec != 0:
		return d.String()
	case h == 0:
		return fmt.Sprintf("%dm", m)
	case m == 0:
		return fmt.Sprintf("%dh", h)
	}
	return fmt.Sprintf("%dh%02dm", h, m)
}

func percent(p *int) string {
	if p == nil {
		return "-"
	}
	return fmt.Sprintf("%d%%", *p)
}

var page = template.Must(template.New("report").Funcs(template.FuncMap{
	"duration": duration,
	"percent":  percent,
	"when":     func(t time.Time) string { return t.Format("Mon 2 Jan 2006 15:04 MST") },
	"date":     func(t time.Time) string { return t.Format("Mon 2 Jan 2006") },
	"met": func(b *bool) string {
		switch {
		case b == nil:
			return "-"
		case *b:
			return "yes"
		}
		return "no"
	},
	"deref": func(b *bool) bool { return *b },
	"label": func(base float64) float64 { return base + 16 },
	"last":  func(t time.Time) string { return t.Add(-time.Nanosecond).Format("Mon 2 Jan 2006") },
}).Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Team}}: help desk report {{date .From}} to {{last .To}}</title>
<style>
*{box-sizing:border-box}
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0 auto;padding:12px;max-width:1100px;color:#222;line-height:1.4}
h1,h2,p,li{overflow-wrap:anywhere}
h1{font-size:1.4em}h2{font-size:1.15em;margin-top:1.6em;border-bottom:1px solid #ccc}
.scroll{overflow-x:auto;max-width:100%}
table{border-collapse:collapse;font-size:.9em}
th,td{padding:3px 8px;border-bottom:1px solid #e2e2e2;text-align:right;white-space:nowrap}
th:first-child,td:first-child{text-align:left}
svg{display:block;width:100%;height:auto}
svg text{font-size:12px;fill:#444}
.chart{max-width:720px}
.heat{min-width:560px;max-width:1000px}
.bar{fill:#4a7fb5}.fc{fill:none;stroke:#e07b00;stroke-width:2}
.h-none{fill:#eeeeee}.h-ok{fill:#8fd19e}.h-g1{fill:#f6c177}.h-g2{fill:#f08a5d}.h-g3{fill:#d7263d}
.legend span{display:inline-block;width:12px;height:12px;margin:0 4px 0 10px;vertical-align:middle}
.bad{color:#b00020;font-weight:600}
</style>
</head>
<body>
<h1>{{.Team}}: help desk report</h1>
<p>{{.Period}} from {{when .From}} to {{when .To}} (end exclusive), time zone {{.TimeZone}}; tickets as known at {{when .AsOf}}.</p>

<h2>Service level per queue</h2>
<p>Share of tickets whose first response came within the queue's first-response target in business hours (pending tickets left out), rounded down; target {{.TargetPercent}}%.</p>
<div class="scroll"><table>
<tr><th>Queue</th><th>Target</th><th>Created</th><th>Forecast</th><th>Met</th><th>Missed</th><th>Pending</th><th>Service level</th><th>Met target</th><th>Median first response</th><th>90th pct</th></tr>
{{range .ServiceLevels}}<tr><td>{{.Queue}}</td><td>{{duration .FirstResponseTargetSeconds}}</td><td>{{.Created}}</td><td>{{.Forecast}}</td><td>{{.Met}}</td><td>{{.Missed}}</td><td>{{.Pending}}</td><td>{{percent .ServiceLevelPercent}}</td><td{{if .MetTarget}}{{if not (deref .MetTarget)}} class="bad"{{end}}{{end}}>{{met .MetTarget}}</td><td>{{duration .MedianFirstResponseSeconds}}</td><td>{{duration .P90FirstResponseSeconds}}</td></tr>
{{end}}</table></div>

<h2>Tickets per day: actual and forecast</h2>
<p>Bars: tickets created each day. Line: the forecast, the demand in use (declared, or a History queue's forecast from status; contacts per hour) times half an hour, summed over the day's half-hours; none on a closed holiday.</p>
{{template "chart" .Daily}}
<div class="scroll"><table>
<tr><th>Day</th><th>Holiday</th><th>Created</th><th>Forecast</th>{{range .Queues}}<th>{{.}} created</th><th>{{.}} forecast</th><th>{{.}} service level</th>{{end}}</tr>
{{range .Days}}<tr><td>{{.Date}}</td><td>{{.Holiday}}</td><td>{{.Created}}</td><td>{{.Forecast}}</td>{{range .Queues}}<td>{{.Created}}</td><td>{{.Forecast}}</td><td>{{percent .ServiceLevelPercent}}</td>{{end}}</tr>
{{end}}</table></div>

<h2>Tickets by hour of day: actual and forecast</h2>
<p>Bars: tickets created in each local hour, all days of the period together. Line: the forecast of those hours.</p>
{{template "chart" .Hourly}}

<h2>Scheduled vs required staff</h2>
<p>Each half-hour of each day, all queues together: required staff from the demand in use, scheduled staff from shifts, time off and holidays; the colour is the gap. The table below gives each day's figures (a cell's own are in its tooltip where the device shows one).</p>
<p class="legend"><span style="background:#eeeeee"></span>none required<span style="background:#8fd19e"></span>covered<span style="background:#f6c177"></span>short 1<span style="background:#f08a5d"></span>short 2<span style="background:#d7263d"></span>short 3 or more</p>
<div class="scroll"><svg class="heat" viewBox="0 0 {{.Heat.W}} {{.Heat.H}}" role="img" aria-label="staff gap per half-hour">
{{range .Heat.Hours}}<text x="{{.Y}}" y="11">{{.Label}}</text>
{{end}}{{range .Heat.Rows}}<text x="0" y="{{.Y}}">{{.Label}}</text>
{{end}}{{range .Heat.Cells}}<rect x="{{.X}}" y="{{.Y}}" width="13" height="13" class="{{.Class}}"><title>{{.Title}}</title></rect>
{{end}}</svg></div>
<div class="scroll"><table>
<tr><th>Day</th><th>Peak required</th><th>Peak scheduled</th><th>Half-hours short</th><th>Staff short (staff × half-hours)</th></tr>
{{range .Staff}}<tr><td>{{.Date}}</td><td>{{.PeakRequired}}</td><td>{{.PeakScheduled}}</td><td{{if .ShortHalfHours}} class="bad"{{end}}>{{.ShortHalfHours}}</td><td>{{.ShortStaff}}</td></tr>
{{end}}</table></div>

<h2>Productivity per person</h2>
<p>Tickets of the period whose first resolution each person made, whose first response each member gave, and the median of those first responses in business hours. Per-person figures appear in reports only, never in metrics.</p>
<div class="scroll"><table>
<tr><th>Name</th><th>RT user</th><th>Resolved</th><th>Answered first</th><th>Median first response</th></tr>
{{range .Members}}<tr><td>{{.Name}}{{if not .Member}} (not a member){{end}}</td><td>{{if .RTUser}}{{.RTUser}}{{else}}no e-mail in the spec: not matched{{end}}</td><td>{{.Resolved}}</td><td>{{.Answered}}</td><td>{{duration .MedianFirstResponseSeconds}}</td></tr>
{{end}}</table></div>

<h2>Worst half-hours</h2>
<p>Half-hours of a queue with a missed ticket or a staff gap, most missed tickets first, then largest gap. Cause: demand above forecast when arrivals were {{.Margin}}; staff below plan when fewer were scheduled than required.</p>
<div class="scroll"><table>
<tr><th>Half-hour</th><th>Queue</th><th>Missed</th><th>Created</th><th>Forecast</th><th>Required</th><th>Scheduled</th><th>Gap</th><th>Cause</th></tr>
{{range .Worst}}<tr><td>{{when .Start}}</td><td>{{.Queue}}</td><td>{{.Missed}}</td><td>{{.Created}}</td><td>{{.Forecast}}</td><td>{{.Required}}</td><td>{{.Scheduled}}</td><td>{{.Gap}}</td><td>{{.Cause}}</td></tr>
{{else}}<tr><td colspan="9">No missed ticket and no staff gap in the period.</td></tr>
{{end}}</table></div>

<h2>Training needs</h2>
<p>Who, had they had one more skill, would have closed the most of the period's staff gaps under its roster: the staff-half-hours short each closes, net of every queue.</p>
<ul>
{{range .Training}}<li>{{.Advice}}</li>
{{else}}<li>No staff gap in the period that one person with one more skill would have closed.</li>
{{end}}</ul>
</body>
</html>
{{define "chart"}}<svg class="chart" viewBox="0 0 {{.W}} {{.H}}" role="img">
<line x1="{{.Left}}" y1="{{.Base}}" x2="{{.W}}" y2="{{.Base}}" stroke="#999"/>
<text x="0" y="12">{{.Max}}</text>
{{range .Bars}}<rect class="bar" x="{{printf "%.1f" .X}}" y="{{printf "%.1f" .Y}}" width="{{printf "%.1f" .W}}" height="{{printf "%.1f" .H}}"><title>{{.Title}}</title></rect>
{{if .Label}}<text x="{{printf "%.1f" .LabelX}}" y="{{printf "%.1f" (label $.Base)}}" text-anchor="middle">{{.Label}}</text>
{{end}}{{end}}{{if .Line}}<polyline class="fc" points="{{.Line}}"/>{{end}}
</svg>{{end}}`))
