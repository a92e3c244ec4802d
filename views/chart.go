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

// Geometry of the vertical trend chart, in SVG user units.
const (
	trendW     = 600
	trendH     = 160
	trendAxis  = 18 // room for the x labels
	trendTop   = 14 // room for the max label
	hbarRowH   = 28
	hbarLabelW = 150
	hbarW      = 600
	hbarValueW = 70
)

func trendViewBox() string { return fmt.Sprintf("0 0 %d %d", trendW, trendH) }

// trendBar returns x, y, width and height of bar i.
func (c Chart) trendBar(i int) (x, y, w, h string) {
	n := max(len(c.Bars), 1)
	slot := float64(trendW) / float64(n)
	bw := slot * 0.8
	plotH := float64(trendH - trendAxis - trendTop)
	bh := plotH * float64(c.Bars[i].Value) / float64(c.Max())
	if c.Bars[i].Value > 0 && bh < 1 {
		bh = 1
	}
	return f1(slot*float64(i) + slot*0.1), f1(float64(trendH-trendAxis) - bh), f1(bw), f1(bh)
}

// trendLabelAt reports whether bar i gets an x-axis label (about six labels).
func (c Chart) trendLabelAt(i int) bool {
	step := max(len(c.Bars)/6, 1)
	return i%step == 0
}

func (c Chart) trendLabelX(i int) string {
	n := max(len(c.Bars), 1)
	slot := float64(trendW) / float64(n)
	return f1(slot*float64(i) + slot/2)
}

func trendLabelY() string { return strconv.Itoa(trendH - 4) }
func trendBaseY() string  { return strconv.Itoa(trendH - trendAxis) }
func trendWidth() string  { return strconv.Itoa(trendW) }

func (c Chart) hbarViewBox() string {
	return fmt.Sprintf("0 0 %d %d", hbarW, max(len(c.Bars), 1)*hbarRowH)
}

// hbar returns y and width of horizontal bar i.
func (c Chart) hbar(i int) (y, w string) {
	plot := float64(hbarW - hbarLabelW - hbarValueW)
	bw := plot * float64(c.Bars[i].Value) / float64(c.Max())
	if c.Bars[i].Value > 0 && bw < 2 {
		bw = 2
	}
	return strconv.Itoa(i*hbarRowH + 5), f1(bw)
}

func hbarTextY(i int) string { return strconv.Itoa(i*hbarRowH + 19) }
func hbarLabelX() string     { return strconv.Itoa(hbarLabelW - 8) }
func hbarBarX() string       { return strconv.Itoa(hbarLabelW) }
func (c Chart) hbarValueX(i int) string {
	_, w := c.hbar(i)
	v, _ := strconv.ParseFloat(w, 64)
	return f1(float64(hbarLabelW) + v + 6)
}

func f1(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }
