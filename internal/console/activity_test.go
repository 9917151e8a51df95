package console_test

import (
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

var (
	auditLabel = regexp.MustCompile(`<td data-label="Label"><code>([a-z]+/[a-z]+)</code></td>`)
	barLink    = regexp.MustCompile(`<a href="(/console/activity\?[^"]+)" aria-label="([^"]+)"><rect`)
	pageLink   = regexp.MustCompile(`href="(/console/activity\?[^"]+)#latest" rel="(prev|next)"`)
)

// setupThreeAuditEvents is setup with Acme's owner signed in and three
// audit events in Acme a minute apart: create/sa (setup), then the tokens
// "first" and "second" issued (create/satoken).
func setupThreeAuditEvents(t *testing.T) (*testBundle, *browserless) {
	t.Helper()
	b := setup(t)
	c := b.signedIn(t, "owner@acme.test")
	for _, name := range []string{"first", "second"} {
		b.clock.Advance(time.Minute)
		if r := c.post("/console/integrations/"+b.mine+"/tokens", url.Values{"name": {name}, "expires": {"never"}, "features": {"itemusages"}}); r.status != http.StatusSeeOther {
			t.Fatalf("issue %s = %d", name, r.status)
		}
	}
	return b, c
}

// TestActivityPagesAndBars pages through the events table on the server,
// narrows it to a chart bar, and checks the filters apply to the charts
// and that objects are named beside their UUIDs.
func TestActivityPagesAndBars(t *testing.T) {
	t.Parallel()
	b, c := setupThreeAuditEvents(t)
	b.clock.Advance(5 * time.Minute)

	var labels []string
	next := "/console/activity?range=24h&kind=auditevents&rows=1"
	for page := 1; next != ""; page++ {
		r := c.get(next)
		if r.status != http.StatusOK {
			t.Fatalf("GET %s = %d", next, r.status)
		}
		rows := auditLabel.FindAllStringSubmatch(r.body, -1)
		if len(rows) != 1 {
			t.Fatalf("page %d (%s) has %d rows, want 1", page, next, len(rows))
		}
		labels = append(labels, rows[0][1])
		if !strings.Contains(r.body, fmt.Sprintf("Page %d", page)) {
			t.Errorf("page %d does not say which page it is", page)
		}
		next = ""
		for _, m := range pageLink.FindAllStringSubmatch(r.body, -1) {
			if m[2] == "next" {
				next = html.UnescapeString(m[1])
			}
		}
		if page > 3 {
			t.Fatal("more than three pages of three events")
		}
	}
	if got := strings.Join(labels, " "); got != "create/satoken create/satoken create/sa" {
		t.Errorf("pages list %q, want the two token events then create/sa, newest first", got)
	}

	r := c.get("/console/activity?range=24h&kind=auditevents&label=create/sa")
	// The label filter applies to the charts: only create/sa's bars.
	bars := barLink.FindAllStringSubmatch(r.body, -1)
	if len(bars) != 1 || !strings.HasPrefix(bars[0][2], "create/sa: 1 from ") {
		t.Fatalf("bars with the create/sa filter = %v, want one for create/sa", bars)
	}
	if strings.Contains(r.body, `id="chart-signinattempts-title"`) {
		t.Error("the kind filter does not apply to the charts: sign-in attempts chart shown")
	}
	// The object is named beside its UUID.
	if !strings.Contains(r.body, "<span><strong>Acme Splunk</strong><br>"+b.mine) {
		t.Errorf("create/sa row does not name the integration beside %s", b.mine)
	}
	// A bar's link narrows the table to its hour and label.
	bar := c.get(html.UnescapeString(bars[0][1]))
	if bar.status != http.StatusOK || !strings.Contains(bar.body, "Showing the bar Mar 2 10:00 – Mar 2 11:00 UTC for <code>create/sa</code>") {
		t.Errorf("bar page = %d without the bar's notice:\n%s", bar.status, bar.body)
	}
	if got := auditLabel.FindAllStringSubmatch(bar.body, -1); len(got) != 1 || got[0][1] != "create/sa" {
		t.Errorf("bar page rows = %v, want create/sa only", got)
	}
	// Relative time, with the exact UTC time on hover.
	if !strings.Contains(bar.body, `title="Mon Mar 2, 2026 10:00:30 UTC">7 min ago</time>`) {
		t.Errorf("create/sa row lacks its relative time with the exact time:\n%s", bar.body)
	}
	if empty := c.get("/console/activity?range=24h&at=2026-03-02T09:00:00Z"); !strings.Contains(empty.body, "No events match these filters.") {
		t.Error("a bar with no events lists some")
	}
	for _, bad := range []string{"page=0", "page=x", "rows=500&page=11", "at=yesterday"} {
		r := c.get("/console/activity?" + bad)
		field := bad[strings.LastIndex(bad, "&")+1 : strings.LastIndex(bad, "=")]
		if r.status != http.StatusBadRequest || !strings.Contains(r.body, field+":") {
			t.Errorf("activity?%s = %d, want 400 naming %s", bad, r.status, field)
		}
	}
}

// TestActivitySearchAndSort searches the events table and sorts it on the
// server, with the paging kept, and refuses a bad order or search.
func TestActivitySearchAndSort(t *testing.T) {
	t.Parallel()
	b, c := setupThreeAuditEvents(t)
	labelsOf := func(path string) string {
		t.Helper()
		r := c.get(path)
		if r.status != http.StatusOK {
			t.Fatalf("GET %s = %d", path, r.status)
		}
		var got []string
		for _, m := range auditLabel.FindAllStringSubmatch(r.body, -1) {
			got = append(got, m[1])
		}
		return strings.Join(got, " ")
	}
	base := "/console/activity?range=24h&kind=auditevents"
	for _, tt := range []struct{ query, want string }{
		{"", "create/satoken create/satoken create/sa"},
		{"&sort=oldest", "create/sa create/satoken create/satoken"},
		{"&sort=label", "create/sa create/satoken create/satoken"},
		{"&sort=oldest&rows=1&page=2", "create/satoken"},
		// The token's name (aux_info) in any case; the integration's name
		// beside its UUID (the object of all three).
		{"&q=SECOND", "create/satoken"},
		{"&q=" + url.QueryEscape("acme Splunk") + "&sort=oldest", "create/sa create/satoken create/satoken"},
		{"&q=" + b.mine + "&label=create/satoken", "create/satoken create/satoken"},
		{"&q=no-such-thing", ""},
	} {
		if got := labelsOf(base + tt.query); got != tt.want {
			t.Errorf("activity%s lists %q, want %q", tt.query, got, tt.want)
		}
	}
	// The column headers sort; the time column's turns the order round, and
	// a page link keeps the search and the order.
	r := c.get(base + "&q=acme&sort=oldest&rows=1")
	if !strings.Contains(r.body, `<th scope="col" aria-sort="ascending"><a href="/console/activity?kind=auditevents&amp;q=acme&amp;range=24h&amp;rows=1#latest">Time`) {
		t.Errorf("the time column, sorted oldest first, does not link to newest first:\n%s", r.body)
	}
	if !strings.Contains(r.body, `href="/console/activity?kind=auditevents&amp;page=2&amp;q=acme&amp;range=24h&amp;rows=1&amp;sort=oldest#latest" rel="next"`) {
		t.Errorf("the next page's link does not keep the search and order:\n%s", r.body)
	}
	if !strings.Contains(r.body, `<input type="hidden" name="rows" value="1">`) || !strings.Contains(r.body, `id="q" name="q" type="search" value="acme"`) {
		t.Errorf("the filter form does not keep the rows per page and the search:\n%s", r.body)
	}
	for _, bad := range []string{"sort=name", "q=" + strings.Repeat("x", 201)} {
		r := c.get("/console/activity?" + bad)
		field := bad[:strings.Index(bad, "=")]
		if r.status != http.StatusBadRequest || !strings.Contains(r.body, field+":") {
			t.Errorf("activity?%.20s = %d, want 400 naming %s", bad, r.status, field)
		}
	}
}
