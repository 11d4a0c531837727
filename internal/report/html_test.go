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
	"bytes"
	"context"
	"errors"
	"fmt"
	"image/png"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"
)

// weekHTML is the seeded week's report as HTML, with a team name that
// would run as a script if it were not escaped.
func weekHTML(t *testing.T) []byte {
	t.Helper()
	in := weekInput(t)
	in.Name = `helpdesk/<script>alert("x")</script>`
	r, err := Build(in)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := r.WriteHTML(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// voidElements have no end tag in HTML.
var voidElements = map[string]bool{"meta": true, "br": true, "img": true, "input": true, "link": true, "hr": true}

// TestHTMLSelfContained: no script, no URL of any scheme but data:, no
// attribute that loads something, the team name escaped, and every
// element closed in order (the tokenizer would accept a mess; the stack
// does not).
func TestHTMLSelfContained(t *testing.T) {
	page := weekHTML(t)
	lower := strings.ToLower(string(page))
	for _, bad := range []string{"<script", "http:", "https:", "//", " src=", " href=", "url(", "@import", "<link", "<img", "<iframe", "<object"} {
		if strings.Contains(lower, bad) {
			i := strings.Index(lower, bad)
			t.Errorf("the HTML holds %q: ...%s...", bad, lower[max(0, i-60):min(len(lower), i+60)])
		}
	}
	if !bytes.Contains(page, []byte("helpdesk/&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;")) {
		t.Error("the team name is not escaped in the page")
	}
	z := html.NewTokenizer(bytes.NewReader(page))
	var stack []string
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			if !errors.Is(z.Err(), io.EOF) {
				t.Fatal(z.Err())
			}
			break
		}
		name, _ := z.TagName()
		tag := string(name)
		switch {
		case tt == html.StartTagToken && !voidElements[tag]:
			stack = append(stack, tag)
		case tt == html.EndTagToken:
			if len(stack) == 0 || stack[len(stack)-1] != tag {
				t.Fatalf("</%s> closes %v", tag, stack)
			}
			stack = stack[:len(stack)-1]
		}
	}
	if len(stack) != 0 {
		t.Errorf("elements left open: %v", stack)
	}
	for _, want := range []string{`name="viewport"`, "<svg", `class="scroll"`, "Worst half-hours", "staff below plan", "demand above forecast"} {
		if !bytes.Contains(page, []byte(want)) {
			t.Errorf("the HTML lacks %q", want)
		}
	}
}

// chromium finds the browser: $CHROMIUM, else chromium on PATH. Missing,
// the test fails: make test installs it (hack/install-deps.sh).
func chromium(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("CHROMIUM"); p != "" {
		return p
	}
	p, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatal("chromium not found on PATH nor in $CHROMIUM: run make test, or hack/install-deps.sh to install Debian's chromium")
	}
	return p
}

// runChromium runs headless Chromium at a window size with extra
// arguments and returns its standard output.
func runChromium(t *testing.T, bin string, w, h int, args ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	all := append([]string{"--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run",
		"--user-data-dir=" + t.TempDir(), fmt.Sprintf("--window-size=%d,%d", w, h)}, args...)
	cmd := exec.CommandContext(ctx, bin, all...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %v: %v\n%s", bin, args, err, errOut.String())
	}
	return out.Bytes()
}

// measured is the test-only wrapper: the report in an iframe w px wide
// (Chromium's window is at least 500 px wide, the frame is not), and a
// script that, once the report is loaded, writes the report document's
// scroll width and the frame's viewport width into the wrapper's DOM for
// --dump-dom. The report itself carries no script.
func measured(w, h int) []byte {
	return []byte(fmt.Sprintf(`<!DOCTYPE html><html><body style="margin:0"><iframe src="/" style="width:%dpx;height:%dpx;border:0" `+
		`onload="document.body.setAttribute('data-widths', this.contentDocument.documentElement.scrollWidth + ' ' + this.contentWindow.innerWidth)"></iframe></body></html>`, w, h))
}

var widths = regexp.MustCompile(`data-widths="(\d+) (\d+)"`)

// TestHTMLInChromium renders the report in headless Chromium at desktop
// (1280 px) and phone (390 px) widths: each screenshot is a PNG of the
// window's size that is not one colour, and at each width the page is no
// wider than the window (tables scroll in their own boxes, charts
// shrink).
func TestHTMLInChromium(t *testing.T) {
	bin := chromium(t)
	page := weekHTML(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		var width, height int
		if _, err := fmt.Sscanf(r.URL.Path, "/measured/%dx%d", &width, &height); err == nil {
			_, _ = w.Write(measured(width, height))
			return
		}
		_, _ = w.Write(page)
	}))
	defer srv.Close()
	for _, size := range []struct {
		name string
		w, h int
	}{{"desktop", 1280, 2000}, {"phone", 390, 844}} {
		t.Run(size.name, func(t *testing.T) {
			shot := filepath.Join(t.TempDir(), size.name+".png")
			runChromium(t, bin, size.w, size.h, "--screenshot="+shot, srv.URL+"/")
			checkScreenshot(t, shot, size.w, size.h)

			dom := runChromium(t, bin, max(size.w, 500)+20, size.h+20, "--dump-dom", fmt.Sprintf("%s/measured/%dx%d", srv.URL, size.w, size.h))
			m := widths.FindSubmatch(dom)
			if m == nil {
				t.Fatalf("the measured page has no widths; its DOM starts %q", dom[:min(len(dom), 300)])
			}
			scroll, _ := strconv.Atoi(string(m[1]))
			inner, _ := strconv.Atoi(string(m[2]))
			if inner != size.w {
				t.Fatalf("the frame's innerWidth is %d, want %d: the size did not apply", inner, size.w)
			}
			if scroll > inner {
				t.Errorf("the page is %d px wide in a %d px window: it overflows sideways", scroll, inner)
			}
		})
	}
}

// checkScreenshot decodes the PNG and checks its size and that it shows
// something: many colours, not a blank page.
func checkScreenshot(t *testing.T, path string, w, h int) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() != w || b.Dy() != h {
		t.Fatalf("screenshot %dx%d, want %dx%d", b.Dx(), b.Dy(), w, h)
	}
	colours := map[[4]uint32]bool{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y += 2 {
		for x := b.Min.X; x < b.Max.X; x += 2 {
			r, g, bl, a := img.At(x, y).RGBA()
			colours[[4]uint32{r, g, bl, a}] = true
		}
	}
	// Text, bars and the heat-map's five colours: a blank or error page
	// has a handful.
	if len(colours) < 20 {
		t.Errorf("the screenshot has %d colours: a blank page?", len(colours))
	}
}

// TestHeatMapClockChange: the night the clocks go back, the two 01:00
// half-hours share one cell, which shows the larger gap whichever comes
// first; every other half-hour has its own cell.
func TestHeatMapClockChange(t *testing.T) {
	loc := newYork(t)
	first := time.Date(2026, 11, 1, 1, 0, 0, 0, loc) // 01:00 EDT
	second := first.Add(time.Hour)                   // 01:00 EST
	half := func(at time.Time, required, scheduled int) HalfHour {
		return HalfHour{Start: at, Queues: []HalfHourQueue{{Queue: "email", Required: required, Scheduled: scheduled, Gap: max(0, required-scheduled)}}}
	}
	for _, order := range [][]HalfHour{
		{half(first, 1, 1), half(second, 2, 0)},
		{half(first, 2, 0), half(second, 1, 1)},
	} {
		r := Report{Days: []DayFigures{{Date: "2026-11-01"}}, Intervals: append(order, half(first.Add(30*time.Minute), 0, 0))}
		h := buildHeatMap(r)
		if len(h.Cells) != 2 {
			t.Fatalf("%d cells, want 2 (01:00 once, 01:30)", len(h.Cells))
		}
		if h.Cells[0].Class != "h-g2" || !strings.Contains(h.Cells[0].Title, "gap 2") {
			t.Errorf("the repeated 01:00 shows %s %q, want the gap of 2", h.Cells[0].Class, h.Cells[0].Title)
		}
		if h.Cells[1].Class != "h-none" {
			t.Errorf("01:30 with nothing required is %s, want h-none", h.Cells[1].Class)
		}
	}
}

// TestHTMLStaffFigures: the heat-map's figures are printed, not only in
// its tooltips (which phones and paper do not show): a line a day with
// the peak required and scheduled staff and the half-hours short.
// Monday 26 October by hand: email (4 an hour, 10 minutes) and portal (2
// an hour, 15 minutes) each need 1 from 09:00 to 17:00 (email from
// 08:00), 2 at the peak; ann (email, portal) works 07:00-15:30 and ben
// (email only) 11:30-20:00, dan is off: 2 scheduled at the peak; portal
// is short 09:00-11:30 (ann serves email) and 15:30-17:00 (ben cannot
// serve it): 8 half-hours, 1 staff each. The closed Wednesday needs and
// schedules nobody.
func TestHTMLStaffFigures(t *testing.T) {
	page := string(weekHTML(t))
	for _, want := range []string{
		"<th>Day</th><th>Peak required</th><th>Peak scheduled</th><th>Half-hours short</th><th>Staff short (staff × half-hours)</th>",
		`<tr><td>2026-10-26</td><td>2</td><td>2</td><td class="bad">8</td><td>8</td></tr>`,
		`<tr><td>2026-10-28</td><td>0</td><td>0</td><td>0</td><td>0</td></tr>`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the HTML lacks %s", want)
		}
	}
}
