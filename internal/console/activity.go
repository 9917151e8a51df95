package console

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"time"

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
	// maxScan bounds how many stored events one stream's table scan reads,
	// so a rare label cannot make a request read the whole stream.
	maxScan    = 20000
	scanWindow = 1000
)

// eventRow is one line of the latest-events table.
type eventRow struct {
	Time    time.Time
	Feature events.Feature
	Label   string
	Who     string
	Detail  string
	IP      string
}

type activityFilter struct {
	Range string
	Kind  string // "" or a feature
	Label string
	Rows  int
}

type activityView struct {
	Filter     activityFilter
	Ranges     []activityRange
	Kinds      []events.Feature
	Labels     []string
	Charts     []chart
	Events     []eventRow
	Scanned    bool // the scan limit was reached before enough rows matched
	Scorecards []scorecardView
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
	f := activityFilter{Range: q.Get("range"), Kind: q.Get("kind"), Label: q.Get("label"), Rows: defaultRows}
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
	if v := q.Get("rows"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxRows {
			return f, rg, &pageError{http.StatusBadRequest, "Bad filter", fmt.Sprintf("rows: %q is not a number from 1 to %d", v, maxRows)}
		}
		f.Rows = n
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
	to := h.now().UTC().Truncate(time.Hour).Add(time.Hour)
	from := to.Add(-rg.span)
	n := int(rg.span / rg.step)
	v := activityView{Filter: f, Ranges: activityRanges,
		Kinds: []events.Feature{events.SignInAttempts, events.ItemUsages, events.AuditEvents}}
	labels := map[string]bool{}
	for _, ft := range v.Kinds {
		counts, err := h.cfg.Store.CountEvents(ctx, acct, ft, from, to)
		if err != nil {
			return fmt.Errorf("count %s: %w", ft, err)
		}
		for _, lc := range counts {
			labels[lc.Label] = true
		}
		title := map[events.Feature]string{
			events.SignInAttempts: "Sign-in attempts by category",
			events.ItemUsages:     "Item usages by action",
			events.AuditEvents:    "Audit events by action",
		}[ft]
		v.Charts = append(v.Charts, buildChart("chart-"+string(ft), title, counts, from, rg.step, n))
	}
	for l := range labels {
		if l != "" {
			v.Labels = append(v.Labels, l)
		}
	}
	sort.Strings(v.Labels)

	kinds := v.Kinds
	if f.Kind != "" {
		kinds = []events.Feature{events.Feature(f.Kind)}
	}
	for _, ft := range kinds {
		rows, capped, err := h.latest(ctx, acct, ft, from, to, f.Label, f.Rows)
		if err != nil {
			return err
		}
		v.Events = append(v.Events, rows...)
		v.Scanned = v.Scanned || capped
	}
	sort.SliceStable(v.Events, func(i, j int) bool { return v.Events[i].Time.After(v.Events[j].Time) })
	if len(v.Events) > f.Rows {
		v.Events = v.Events[:f.Rows]
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
// timestamp in [from, to) and the label (any when empty), newest first. It
// reads the stream backwards in windows from its head; capped is set when
// it stopped at maxScan before finding limit rows.
func (h *handler) latest(ctx context.Context, acct string, ft events.Feature, from, to time.Time, label string, limit int) (rows []eventRow, capped bool, err error) {
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
			if label == "" || ev.Label == label {
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
				row.Detail = *e.ObjectUUID
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
