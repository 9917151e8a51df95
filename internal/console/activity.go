package console

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/logbookhq/logbook/events"
	"github.com/logbookhq/logbook/internal/scorecard"
	"github.com/logbookhq/logbook/internal/store"
)

// activityRange is a choice of time range on the activity page.
type activityRange struct {
	Value, Label string
	span, step   time.Duration
}

var activityRanges = []activityRange{
	{"24h", "Last 24 hours", 24 * time.Hour, time.Hour},
	{"7d", "Last 7 days", 7 * 24 * time.Hour, 6 * time.Hour},
	{"30d", "Last 30 days", 30 * 24 * time.Hour, 24 * time.Hour},
}

// Limits of the latest-events table.
const (
	defaultRows = 25
	maxRows     = 500
	// maxDepth bounds how far back the table pages: page × rows.
	maxDepth = 5000
	// maxScan bounds how many stored events one stream's table scan reads,
	// so a rare label cannot make a request read the whole stream.
	maxScan    = 20000
	scanWindow = 1000
	// maxQuery bounds the length of the table's search text.
	maxQuery = 200
)

// tableSorts are the orders of the latest-events table: newest first (the
// default, ""), oldest first, and by kind, label or who (newest first
// within each).
var tableSorts = []struct{ Value, Label string }{
	{"", "Newest first"}, {"oldest", "Oldest first"}, {"kind", "Kind"}, {"label", "Label"}, {"who", "Who"},
}

// eventRow is one line of the latest-events table.
type eventRow struct {
	Time    time.Time
	Feature events.Feature
	Label   string
	Who     string
	Detail  string
	IP      string
	// Object is an audit event's object UUID; Name what the account calls
	// it (an integration, a user), when known.
	Object, Name string
}

type activityFilter struct {
	Range string
	Kind  string // "" or a feature
	Label string
	// Q narrows the table to events whose who, label, details, object
	// name or IP contain it (any case); Sort is one of tableSorts.
	Q, Sort string
	Rows    int
	Page    int
	// At, when set, narrows the table to the chart bar that starts there.
	At time.Time
}

// RowsSet reports whether the table's rows per page are not the default,
// so the filter form keeps them.
func (f activityFilter) RowsSet() bool { return f.Rows != defaultRows }

// query is the filter as a query string, with page p (the first when 1)
// and without At when bar is false.
func (f activityFilter) query(p int, bar bool) string {
	q := url.Values{"range": {f.Range}}
	if f.Kind != "" {
		q.Set("kind", f.Kind)
	}
	if f.Label != "" {
		q.Set("label", f.Label)
	}
	if f.Q != "" {
		q.Set("q", f.Q)
	}
	if f.Sort != "" {
		q.Set("sort", f.Sort)
	}
	if f.Rows != defaultRows {
		q.Set("rows", strconv.Itoa(f.Rows))
	}
	if bar && !f.At.IsZero() {
		q.Set("at", f.At.UTC().Format(time.RFC3339))
	}
	if p > 1 {
		q.Set("page", strconv.Itoa(p))
	}
	return q.Encode()
}

type activityView struct {
	Filter  activityFilter
	Ranges  []activityRange
	Kinds   []events.Feature
	Labels  []string
	Charts  []chart
	Events  []eventRow
	Scanned bool // the scan limit was reached before enough rows matched
	Sorts   []struct{ Value, Label string }
	// SortBy links each sortable column (time, kind, label, who) to the
	// table sorted by it; the time column's link turns the order round.
	SortBy map[string]template.URL
	// Newer and Older link to the neighbouring pages of the table, empty
	// when there is none; Bar names the chart bar the table is narrowed
	// to, and AllBars links to the whole range. The links are made of
	// url.Values.Encode.
	Newer, Older template.URL
	Bar          string
	AllBars      template.URL
	Now          time.Time
	Scorecards   []scorecardView
	// NoScorecards is set when the server has no scorecard source.
	NoScorecards bool
	ScoreError   string
}

// scorecardView is one token's scorecard with the integration it belongs to.
type scorecardView struct {
	scorecard.Card
	Integration string
	LastUsed    time.Time
}

// readFilter reads the query's filters; a bad value names the field.
func readFilter(r *http.Request) (activityFilter, activityRange, error) {
	q := r.URL.Query()
	f := activityFilter{Range: q.Get("range"), Kind: q.Get("kind"), Label: q.Get("label"),
		Q: strings.TrimSpace(q.Get("q")), Sort: q.Get("sort"), Rows: defaultRows}
	if f.Range == "" {
		f.Range = "7d"
	}
	var rg activityRange
	for _, c := range activityRanges {
		if c.Value == f.Range {
			rg = c
		}
	}
	if rg.Value == "" {
		return f, rg, &pageError{http.StatusBadRequest, "Bad filter", fmt.Sprintf("range: %q is not 24h, 7d or 30d", f.Range)}
	}
	if f.Kind != "" && !events.Feature(f.Kind).Valid() {
		return f, rg, &pageError{http.StatusBadRequest, "Bad filter", fmt.Sprintf("kind: %q is not signinattempts, itemusages or auditevents", f.Kind)}
	}
	if utf8.RuneCountInString(f.Q) > maxQuery {
		return f, rg, &pageError{http.StatusBadRequest, "Bad filter", fmt.Sprintf("q: the search is longer than %d characters", maxQuery)}
	}
	if !slices.ContainsFunc(tableSorts, func(s struct{ Value, Label string }) bool { return s.Value == f.Sort }) {
		return f, rg, &pageError{http.StatusBadRequest, "Bad filter", fmt.Sprintf("sort: %q is not oldest, kind, label or who", f.Sort)}
	}
	if v := q.Get("rows"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxRows {
			return f, rg, &pageError{http.StatusBadRequest, "Bad filter", fmt.Sprintf("rows: %q is not a number from 1 to %d", v, maxRows)}
		}
		f.Rows = n
	}
	f.Page = 1
	if v := q.Get("page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n*f.Rows > maxDepth {
			return f, rg, &pageError{http.StatusBadRequest, "Bad filter", fmt.Sprintf("page: %q is not a number from 1 to %d", v, maxDepth/f.Rows)}
		}
		f.Page = n
	}
	if v := q.Get("at"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			return f, rg, &pageError{http.StatusBadRequest, "Bad filter", fmt.Sprintf("at: %q is not a time such as 2026-03-02T06:00:00Z", v)}
		}
		f.At = t.UTC()
	}
	return f, rg, nil
}

func (h *handler) activity(w http.ResponseWriter, r *http.Request, c *call) error {
	ctx := r.Context()
	f, rg, err := readFilter(r)
	if err != nil {
		return err
	}
	acct := c.actor.Account.UUID
	now := h.now().UTC()
	to := now.Truncate(time.Hour).Add(time.Hour)
	from := to.Add(-rg.span)
	n := int(rg.span / rg.step)
	v := activityView{Filter: f, Ranges: activityRanges, Now: now, Sorts: tableSorts,
		Kinds: []events.Feature{events.SignInAttempts, events.ItemUsages, events.AuditEvents}}
	// The kind and label filters apply to the charts as to the table; the
	// label choices come from every kind.
	kinds := v.Kinds
	if f.Kind != "" {
		kinds = []events.Feature{events.Feature(f.Kind)}
	}
	labels := map[string]bool{}
	for _, ft := range v.Kinds {
		counts, err := h.cfg.Store.CountEvents(ctx, acct, ft, from, to)
		if err != nil {
			return fmt.Errorf("count %s: %w", ft, err)
		}
		for _, lc := range counts {
			labels[lc.Label] = true
		}
		if !slices.Contains(kinds, ft) {
			continue
		}
		if f.Label != "" {
			counts = slices.DeleteFunc(counts, func(lc store.LabelCount) bool { return lc.Label != f.Label })
		}
		title := map[events.Feature]string{
			events.SignInAttempts: "Sign-in attempts by category",
			events.ItemUsages:     "Item usages by action",
			events.AuditEvents:    "Audit events by action",
		}[ft]
		ch := buildChart("chart-"+string(ft), title, counts, from, rg.step, n)
		ch.SVG = ch.render(n, func(label string, at time.Time) string {
			g := f
			g.Kind, g.At, g.Page = string(ft), at, 1
			if label != "other" {
				g.Label = label
			}
			return h.prefix + "/activity?" + g.query(1, true) + "#latest"
		})
		v.Charts = append(v.Charts, ch)
	}
	for l := range labels {
		if l != "" {
			v.Labels = append(v.Labels, l)
		}
	}
	sort.Strings(v.Labels)

	// The table: one page of the newest matching events of the range, or
	// of the chart bar chosen.
	tFrom, tTo := from, to
	if !f.At.IsZero() {
		tFrom, tTo = f.At, f.At.Add(rg.step)
		v.Bar = fmt.Sprintf("%s – %s", f.At.Format("Jan 2 15:04"), tTo.Format("Jan 2 15:04 UTC"))
		v.AllBars = h.activityURL(f.query(1, false))
	}
	names, err := h.objectNames(ctx, c)
	if err != nil {
		return err
	}
	keep := func(row *eventRow) bool {
		row.Name = names[row.Object]
		return (f.Label == "" || row.Label == f.Label) && row.matches(f.Q)
	}
	// Newest first needs only the newest page*rows+1 (one more says there
	// is an older page); another order needs every match the scan reaches
	// (more than maxScan never match: latest then says it was capped).
	want := f.Page*f.Rows + 1
	if f.Sort != "" {
		want = maxScan + 1
	}
	for _, ft := range kinds {
		rows, capped, err := h.latest(ctx, acct, ft, tFrom, tTo, keep, want)
		if err != nil {
			return err
		}
		v.Events = append(v.Events, rows...)
		v.Scanned = v.Scanned || capped
	}
	sortRows(v.Events, f.Sort)
	if len(v.Events) > f.Page*f.Rows {
		v.Older = h.activityURL(f.query(f.Page+1, true))
		v.Events = v.Events[:f.Page*f.Rows]
	}
	v.Events = v.Events[min((f.Page-1)*f.Rows, len(v.Events)):]
	if f.Page > 1 {
		v.Newer = h.activityURL(f.query(f.Page-1, true))
	}
	v.SortBy = map[string]template.URL{}
	for _, col := range []string{"time", "kind", "label", "who"} {
		g := f
		g.Sort = col
		if col == "time" {
			g.Sort = map[bool]string{true: "", false: "oldest"}[f.Sort == "oldest"]
		}
		v.SortBy[col] = h.activityURL(g.query(1, true))
	}

	if h.cfg.Scorecard == nil {
		v.NoScorecards = true
	} else if v.Scorecards, err = h.scorecards(ctx, c); err != nil {
		h.log.Error("console: scorecards", "account", acct, "err", err)
		v.ScoreError = "The scorecards could not be read; the server's log has the details."
	}
	h.render(w, r, c, http.StatusOK, "activity.html", "Activity", "activity", v)
	return nil
}

// scorecards returns the scorecard of every token of the account that has
// been used, most recently used first.
func (h *handler) scorecards(ctx context.Context, c *call) ([]scorecardView, error) {
	ts, err := h.cfg.Admin.Tokens(ctx, c.actor, "")
	if err != nil {
		return nil, err
	}
	ins, err := h.cfg.Admin.Integrations(ctx, c.actor, true)
	if err != nil {
		return nil, err
	}
	names := map[string]string{}
	for _, in := range ins {
		names[in.UUID] = in.Name
	}
	sort.SliceStable(ts, func(i, j int) bool { return ts[i].LastUsedAt.After(ts[j].LastUsedAt) })
	var out []scorecardView
	for _, t := range ts {
		if t.LastUsedAt.IsZero() {
			continue
		}
		sc, err := h.cfg.Scorecard(ctx, c.actor.Account.UUID, t.ID)
		if err != nil {
			return nil, fmt.Errorf("scorecard of token %s: %w", t.ID, err)
		}
		if sc.TokenName == "" {
			sc.TokenName = t.Name
		}
		out = append(out, scorecardView{Card: sc, Integration: names[t.IntegrationUUID], LastUsed: t.LastUsedAt})
	}
	return out, nil
}

// latest returns up to limit of the newest events of one stream with a
// timestamp in [from, to) that keep accepts (it may fill in the row),
// newest first. It reads the stream backwards in windows from its head;
// capped is set when it stopped at maxScan before finding limit rows.
func (h *handler) latest(ctx context.Context, acct string, ft events.Feature, from, to time.Time, keep func(*eventRow) bool, limit int) (rows []eventRow, capped bool, err error) {
	hi, err := h.cfg.Store.HeadPosition(ctx, acct, ft)
	if err != nil {
		return nil, false, fmt.Errorf("head of %s: %w", ft, err)
	}
	scanned := int64(0)
	for hi > 0 && len(rows) < limit {
		if scanned >= maxScan {
			return rows, true, nil
		}
		lo := max(hi-scanWindow, 0)
		res, err := h.cfg.Store.ListEvents(ctx, store.ListQuery{Account: acct, Feature: ft, After: lo,
			Start: from, End: to, Limit: scanWindow})
		if err != nil {
			return nil, false, fmt.Errorf("list %s: %w", ft, err)
		}
		var window []eventRow
		for _, row := range res.Rows {
			if row.Seq > hi {
				break
			}
			ev, err := decodeRow(ft, row.Data)
			if err != nil {
				return nil, false, err
			}
			if keep(&ev) {
				window = append(window, ev)
			}
		}
		// The window is in ingestion order; the table wants newest first.
		for i := len(window) - 1; i >= 0 && len(rows) < limit; i-- {
			rows = append(rows, window[i])
		}
		scanned += hi - lo
		hi = lo
	}
	return rows, false, nil
}

// decodeRow reads a stored v2 event into a table row.
func decodeRow(ft events.Feature, data []byte) (eventRow, error) {
	row := eventRow{Feature: ft}
	var err error
	switch ft {
	case events.SignInAttempts:
		var e events.SignInAttempt
		if err = json.Unmarshal(data, &e); err == nil {
			row.Time, row.Label, row.IP = e.Timestamp, e.Category, e.Client.IPAddress
			row.Who = e.TargetUser.Email
			row.Detail = e.Type
			if e.Country != "" {
				row.Detail += " · " + e.Country
			}
		}
	case events.ItemUsages:
		var e events.ItemUsage
		if err = json.Unmarshal(data, &e); err == nil {
			row.Time, row.Label, row.IP = e.Timestamp, e.Action, e.Client.IPAddress
			row.Who = e.User.Email
			row.Detail = "item " + e.ItemUUID + " in vault " + e.VaultUUID
		}
	case events.AuditEvents:
		var e events.AuditEvent
		if err = json.Unmarshal(data, &e); err == nil {
			row.Time, row.Label = e.Timestamp, e.Action+"/"+e.ObjectType
			if e.ActorDetails != nil {
				row.Who = e.ActorDetails.Email
			}
			if e.Session != nil {
				row.IP = e.Session.IP
			}
			if e.ObjectUUID != nil && *e.ObjectUUID != "" {
				row.Detail, row.Object = *e.ObjectUUID, *e.ObjectUUID
			}
			if e.AuxInfo != "" {
				if row.Detail != "" {
					row.Detail += " · "
				}
				row.Detail += e.AuxInfo
			}
		}
	}
	if err != nil {
		return row, fmt.Errorf("decode stored %s event: %w", ft, err)
	}
	return row, nil
}

// activityURL is the activity page with the query q (url.Values.Encode).
func (h *handler) activityURL(q string) template.URL {
	return template.URL(h.prefix + "/activity?" + q)
}

// matches reports whether the row's who, label, details, object name or
// IP contain q, in any case; an empty q matches every row.
func (row eventRow) matches(q string) bool {
	if q == "" {
		return true
	}
	q = strings.ToLower(q)
	for _, s := range []string{row.Who, row.Label, row.Detail, row.Name, row.IP} {
		if strings.Contains(strings.ToLower(s), q) {
			return true
		}
	}
	return false
}

// sortRows puts the table's rows in the order by (a tableSorts value):
// newest first unless by is "oldest", and within the same kind, label or
// who when by is one of those.
func sortRows(rows []eventRow, by string) {
	key := map[string]func(eventRow) string{
		"kind":  func(r eventRow) string { return featureTitle(r.Feature) },
		"label": func(r eventRow) string { return r.Label },
		"who":   func(r eventRow) string { return r.Who },
	}[by]
	slices.SortStableFunc(rows, func(a, b eventRow) int {
		if key != nil {
			if c := cmp.Compare(key(a), key(b)); c != 0 {
				return c
			}
		}
		if by == "oldest" {
			return a.Time.Compare(b.Time)
		}
		return b.Time.Compare(a.Time)
	})
}

// objectNames maps the UUIDs of the account's integrations (deleted ones
// too), users and the account itself to their names, for the rows whose
// object they are.
func (h *handler) objectNames(ctx context.Context, c *call) (map[string]string, error) {
	names := map[string]string{c.actor.Account.UUID: c.actor.Account.Name}
	ins, err := h.cfg.Admin.Integrations(ctx, c.actor, true)
	if err != nil {
		return nil, err
	}
	for _, in := range ins {
		names[in.UUID] = in.Name
	}
	us, err := h.cfg.Admin.Users(ctx, c.actor)
	if err != nil {
		return nil, err
	}
	for _, u := range us {
		names[u.UUID] = u.Name + " <" + u.Email + ">"
	}
	return names, nil
}

// ago says how long before now t was, briefly: "just now", "5 min ago",
// "3 h ago", "2 d ago"; a time after now is "just now".
func ago(t, now time.Time) string {
	switch d := now.Sub(t); {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return fmt.Sprintf("%d min ago", int(d/time.Minute))
	case d < 48*time.Hour:
		return fmt.Sprintf("%d h ago", int(d/time.Hour))
	default:
		return fmt.Sprintf("%d d ago", int(d/(24*time.Hour)))
	}
}
