package console

import (
	"fmt"
	"html/template"
	"sort"
	"strings"
	"time"

	"github.com/logbookhq/logbook/internal/store"
)

// palette holds calm colours that stay apart for common colour-vision
// deficiencies (after Okabe and Ito), the last for "other".
var palette = []string{"#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#8A8F98"}

// maxSeries is how many labels a chart shows before lumping the rest.
const maxSeries = 6

// series is one label's counts per bucket.
type series struct {
	Label  string
	Colour string
	Total  int64
	Counts []int64
}

// chart is a stacked bar chart of counts per label over time, rendered as
// inline SVG with its numbers also in a legend table.
type chart struct {
	ID     string
	Title  string
	From   time.Time
	Step   time.Duration
	Series []series
	Total  int64
	SVG    template.HTML
}

// buildChart buckets counts into n buckets of step from `from`, keeps the
// largest labels and lumps the rest as "other".
func buildChart(id, title string, counts []store.LabelCount, from time.Time, step time.Duration, n int) chart {
	byLabel := map[string]*series{}
	var total int64
	for _, c := range counts {
		i := int(c.Hour.Sub(from) / step)
		if c.Hour.Before(from) || i >= n {
			continue
		}
		label := c.Label
		if label == "" {
			label = "(none)"
		}
		s := byLabel[label]
		if s == nil {
			s = &series{Label: label, Counts: make([]int64, n)}
			byLabel[label] = s
		}
		s.Counts[i] += c.N
		s.Total += c.N
		total += c.N
	}
	all := make([]*series, 0, len(byLabel))
	for _, s := range byLabel {
		all = append(all, s)
	}
	sort.Slice(all, func(i, j int) bool {
		if all[i].Total != all[j].Total {
			return all[i].Total > all[j].Total
		}
		return all[i].Label < all[j].Label
	})
	ch := chart{ID: id, Title: title, From: from, Step: step, Total: total}
	for i, s := range all {
		if i < maxSeries-1 || len(all) == maxSeries {
			s.Colour = palette[i]
			ch.Series = append(ch.Series, *s)
			continue
		}
		if i == maxSeries-1 {
			ch.Series = append(ch.Series, series{Label: "other", Colour: palette[len(palette)-1], Counts: make([]int64, n)})
		}
		o := &ch.Series[len(ch.Series)-1]
		o.Total += s.Total
		for k, v := range s.Counts {
			o.Counts[k] += v
		}
	}
	ch.SVG = ch.render(n, nil)
	return ch
}

// Chart geometry, in SVG user units.
const (
	chartW, chartH    = 720, 200
	padL, padR        = 44, 8
	padTop, padBottom = 10, 26
)

// render draws the stacked bars. With link, each bar segment is a link to
// link(its label, its bar's start). Every value placed in the markup is a
// number or a label or URL escaped here, since the result is trusted HTML.
func (ch chart) render(n int, link func(label string, at time.Time) string) template.HTML {
	var max int64
	for i := 0; i < n; i++ {
		var sum int64
		for _, s := range ch.Series {
			sum += s.Counts[i]
		}
		max = maxInt(max, sum)
	}
	top := niceCeil(max)
	plotW := float64(chartW - padL - padR)
	plotH := float64(chartH - padTop - padBottom)
	bw := plotW / float64(n)
	var b strings.Builder
	role := "img"
	if link != nil {
		role = "group" // an img's children are hidden, its links too
	}
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %d %d" role="%s" aria-labelledby="%s-title %s-desc" xmlns="http://www.w3.org/2000/svg">`, chartW, chartH, role, ch.ID, ch.ID)
	fmt.Fprintf(&b, `<title id="%s-title">%s</title>`, ch.ID, template.HTMLEscapeString(ch.Title))
	fmt.Fprintf(&b, `<desc id="%s-desc">%d events from %s, in bars of %s; the table below lists the totals.</desc>`,
		ch.ID, ch.Total, ch.From.UTC().Format("Jan 2 15:04 UTC"), stepName(ch.Step))
	// Grid lines and y labels at 0, half and top.
	for _, f := range []float64{0, 0.5, 1} {
		y := float64(padTop) + plotH*(1-f)
		fmt.Fprintf(&b, `<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" class="grid"/>`, padL, chartW-padR, y, y)
		fmt.Fprintf(&b, `<text x="%d" y="%.1f" class="axis" text-anchor="end">%d</text>`, padL-6, y+4, int64(float64(top)*f))
	}
	for i := 0; i < n; i++ {
		y := float64(padTop) + plotH
		x := float64(padL) + float64(i)*bw + bw*0.12
		for _, s := range ch.Series {
			v := s.Counts[i]
			if v == 0 || top == 0 {
				continue
			}
			hgt := plotH * float64(v) / float64(top)
			y -= hgt
			rect := fmt.Sprintf(`<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"><title>%s: %d</title></rect>`,
				x, y, bw*0.76, hgt, s.Colour, template.HTMLEscapeString(s.Label), v)
			if link == nil {
				b.WriteString(rect)
				continue
			}
			at := ch.From.Add(time.Duration(i) * ch.Step)
			fmt.Fprintf(&b, `<a href="%s" aria-label="%s: %d from %s, show them">%s</a>`,
				template.HTMLEscapeString(link(s.Label, at)), template.HTMLEscapeString(s.Label), v,
				at.UTC().Format("Jan 2 15:04 UTC"), rect)
		}
	}
	// x labels: about six, at bucket starts.
	every := (n + 5) / 6
	for i := 0; i < n; i += every {
		t := ch.From.Add(time.Duration(i) * ch.Step).UTC()
		label := t.Format("Jan 2")
		if ch.Step < 24*time.Hour {
			label = t.Format("15:04")
			if t.Hour() == 0 || i == 0 {
				label = t.Format("Jan 2 15:04")
			}
		}
		class := "axis"
		if (i/every)%2 == 1 {
			class += " alt" // hidden on a phone, where the chart is small
		}
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" class="%s">%s</text>`, float64(padL)+float64(i)*bw, chartH-8, class, label)
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

func maxInt(a, b int64) int64 {
	if a > b {
		return a
	}
	return b
}

// niceCeil rounds v up to 1, 2 or 5 times a power of ten (0 stays 0).
func niceCeil(v int64) int64 {
	if v <= 0 {
		return 0
	}
	p := int64(1)
	for {
		for _, m := range []int64{1, 2, 5} {
			if m*p >= v {
				return m * p
			}
		}
		p *= 10
	}
}

func stepName(d time.Duration) string {
	switch {
	case d%(24*time.Hour) == 0:
		if d == 24*time.Hour {
			return "days"
		}
		return fmt.Sprintf("%d days", d/(24*time.Hour))
	case d == time.Hour:
		return "hours"
	}
	return fmt.Sprintf("%d hours", d/time.Hour)
}
