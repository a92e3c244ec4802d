package views

import (
	"fmt"
	"strconv"
)

// Bar is one bar of a chart.
type Bar struct {
	Label string // axis or row label
	Value int64
	Link  string // optional in-app URL the bar leads to
}

// Chart is a server-rendered SVG bar chart with a text alternative.
type Chart struct {
	ID      string
	Title   string
	Summary string // one sentence for screen readers and the caption
	Bars    []Bar
}

// Max is the largest value (at least 1, so empty charts draw flat).
func (c Chart) Max() int64 {
	var m int64 = 1
	for _, b := range c.Bars {
		m = max(m, b.Value)
	}
	return m
}

// Total is the sum of all bars.
func (c Chart) Total() int64 {
	var t int64
	for _, b := range c.Bars {
		t += b.Value
	}
	return t
}

// Geometry of the charts. Heights are CSS pixels; the bars are drawn in
// plots of trendW (or hbarPlotW) user units that stretch to the width the
// page gives them, while the labels are placed in percent of that width.
const (
	trendW    = 600
	trendH    = 160
	trendAxis = 18 // room for the x labels
	trendTop  = 14 // room for the max label
	hbarRowH  = 28
	hbarPlotW = 1000
	// A row's label ends at hbarLabelX, its bar takes hbarBarW from
	// hbarBarX, and its value is right-aligned at the end of the row.
	hbarLabelX = "33%"
	hbarBarX   = "35%"
	hbarBarW   = "48%"
)

func trendHeight() string     { return strconv.Itoa(trendH) }
func trendTopY() string       { return strconv.Itoa(trendTop) }
func trendPlotH() int         { return trendH - trendAxis - trendTop }
func trendPlotHeight() string { return strconv.Itoa(trendPlotH()) }
func trendPlotViewBox() string {
	return fmt.Sprintf("0 0 %d %d", trendW, trendPlotH())
}

// trendBar returns x, y, width and height of bar i in the plot.
func (c Chart) trendBar(i int) (x, y, w, h string) {
	n := max(len(c.Bars), 1)
	slot := float64(trendW) / float64(n)
	bw := slot * 0.8
	plotH := float64(trendPlotH())
	bh := plotH * float64(c.Bars[i].Value) / float64(c.Max())
	if c.Bars[i].Value > 0 && bh < 1 {
		bh = 1
	}
	return f1(slot*float64(i) + slot*0.1), f1(plotH - bh), f1(bw), f1(bh)
}

// trendLabelAt reports whether bar i gets an x-axis label (about six labels).
func (c Chart) trendLabelAt(i int) bool {
	step := max(len(c.Bars)/6, 1)
	return i%step == 0
}

// trendLabelX is the middle of bar i, in percent of the chart's width; the
// first label starts at its bar's left edge instead (see trendLabelAnchor).
func (c Chart) trendLabelX(i int) string {
	n := max(len(c.Bars), 1)
	if i == 0 {
		return f1(10/float64(n)) + "%"
	}
	return f1(100*(float64(i)+0.5)/float64(n)) + "%"
}

// trendLabelAnchor keeps the first label inside the chart: it starts at its
// bar instead of centring on it.
func (c Chart) trendLabelAnchor(i int) string {
	if i == 0 {
		return "start"
	}
	return "middle"
}

func trendLabelY() string { return strconv.Itoa(trendH - 4) }
func trendBaseY() string  { return strconv.Itoa(trendH - trendAxis) }

func (c Chart) hbarHeight() string { return strconv.Itoa(max(len(c.Bars), 1) * hbarRowH) }
func (c Chart) hbarPlotViewBox() string {
	return fmt.Sprintf("0 0 %d %d", hbarPlotW, max(len(c.Bars), 1)*hbarRowH)
}

// hbar returns y and width of horizontal bar i in the plot.
func (c Chart) hbar(i int) (y, w string) {
	bw := float64(hbarPlotW) * float64(c.Bars[i].Value) / float64(c.Max())
	if c.Bars[i].Value > 0 && bw < 4 {
		bw = 4
	}
	return strconv.Itoa(i*hbarRowH + 5), f1(bw)
}

func hbarTextY(i int) string { return strconv.Itoa(i*hbarRowH + 19) }

func f1(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }
