package client

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/logbookhq/logbook/events"
)

// v3Path is the v3 beta's one endpoint.
const v3Path = "/api/v3/auditevents"

// v3Values is q as a query string. Times go in UTC.
func v3Values(q events.V3Query) string {
	v := url.Values{}
	if q.MaxPageSize > 0 {
		v.Set("max_page_size", strconv.Itoa(q.MaxPageSize))
	}
	if q.StartTime != nil {
		v.Set("start_time", q.StartTime.UTC().Format(time.RFC3339Nano))
	}
	if q.EndTime != nil {
		v.Set("end_time", q.EndTime.UTC().Format(time.RFC3339Nano))
	}
	if q.PageToken != "" {
		v.Set("page_token", q.PageToken)
	}
	return v.Encode()
}

// v3PathQuery is the path and query of q's request.
func v3PathQuery(q events.V3Query) string {
	if qs := v3Values(q); qs != "" {
		return v3Path + "?" + qs
	}
	return v3Path
}

// getV3 fetches one v3 page into buf's storage.
func (c *Client) getV3(ctx context.Context, q events.V3Query, buf []byte) ([]byte, error) {
	data, err := c.doInto(ctx, "GET", v3PathQuery(q), nil, buf)
	if err != nil {
		return nil, fmt.Errorf("v3 auditevents: %w", err)
	}
	return data, nil
}

// AuditEventsV3 fetches one page of the v3 audit events beta
// (GET /api/v3/auditevents), whatever the client's API version.
func (c *Client) AuditEventsV3(ctx context.Context, q events.V3Query) (events.PageV3[events.AuditEventV3], error) {
	p, err := doJSON[events.PageV3[events.AuditEventV3]](ctx, c, "GET", v3PathQuery(q), nil, "v3 auditevents", "page")
	if err != nil {
		return p, err
	}
	if p.AuditEvents == nil {
		p.AuditEvents = []events.AuditEventV3{}
	}
	return p, nil
}

// AuditEventsV3Seq yields every v3 audit event of q's window, following
// next_page_token until the server gives none, and stops after the first
// error. To keep polling afterwards, start a new query with the last
// event's InsertTime as StartTime (1Password's beta reference).
func (c *Client) AuditEventsV3Seq(ctx context.Context, q events.V3Query) iter.Seq2[events.AuditEventV3, error] {
	return func(yield func(events.AuditEventV3, error) bool) {
		for {
			p, err := c.AuditEventsV3(ctx, q)
			if err != nil {
				yield(events.AuditEventV3{}, err)
				return
			}
			for _, ev := range p.AuditEvents {
				if !yield(ev, nil) {
					return
				}
			}
			if p.NextPageToken == "" {
				return
			}
			q = events.V3Query{MaxPageSize: q.MaxPageSize, PageToken: p.NextPageToken}
		}
	}
}

// A version 3 client's RawPage of audit events reads the v3 beta and
// presents it as a cursor page, so that a reader of cursor pages (the
// forwarder) follows v3 unchanged. Its cursors are positions this client
// makes, "v3.<max_page_size>.t.<page token>" while the server hands out
// page tokens, and "v3.<max_page_size>.a.<start_time>[/<end_time>]" after
// the last page of a window: the next poll starts after the last event's
// insert_time, as 1Password's beta reference says to poll. has_more is
// whether the reply had a next_page_token.
const v3CursorPrefix = "v3."

func v3Cursor(limit int, kind, rest string) string {
	return v3CursorPrefix + strconv.Itoa(limit) + "." + kind + "." + rest
}

// v3QueryOf is the v3 query of req, and the page size its cursors carry.
func v3QueryOf(req Request) (events.V3Query, error) {
	if req.Cursor == "" {
		q := events.V3Query{MaxPageSize: req.Reset.Limit, EndTime: req.Reset.EndTime}
		if req.Reset.StartTime != nil {
			// A reset's start is inclusive, v3's exclusive.
			t := req.Reset.StartTime.Add(-time.Nanosecond)
			q.StartTime = &t
		}
		return q, nil
	}
	parts := strings.SplitN(req.Cursor, ".", 4)
	if len(parts) != 4 || parts[0]+"." != v3CursorPrefix {
		return events.V3Query{}, fmt.Errorf("cursor %.40q is not a v3 position made by this client", req.Cursor)
	}
	limit, err := strconv.Atoi(parts[1])
	if err != nil || limit < 0 {
		return events.V3Query{}, fmt.Errorf("cursor %.40q: bad page size", req.Cursor)
	}
	q := events.V3Query{MaxPageSize: limit}
	switch parts[2] {
	case "t":
		q.PageToken = parts[3]
		return q, nil
	case "a":
		start, end, bounded := strings.Cut(parts[3], "/")
		t, err := time.Parse(time.RFC3339Nano, start)
		if err != nil {
			return q, fmt.Errorf("cursor %.40q: bad start: %w", req.Cursor, err)
		}
		q.StartTime = &t
		if bounded {
			e, err := time.Parse(time.RFC3339Nano, end)
			if err != nil {
				return q, fmt.Errorf("cursor %.40q: bad end: %w", req.Cursor, err)
			}
			q.EndTime = &e
		}
		return q, nil
	}
	return q, fmt.Errorf("cursor %.40q is not a v3 position made by this client", req.Cursor)
}

// rawPageV3 is RawPageInto of audit events for a version 3 client.
func (c *Client) rawPageV3(ctx context.Context, req Request, buf []byte) (events.RawPage, []byte, error) {
	q, err := v3QueryOf(req)
	if err != nil {
		return events.RawPage{}, buf, fmt.Errorf("v3 auditevents: %w", err)
	}
	data, err := c.getV3(ctx, q, buf)
	if err != nil {
		return events.RawPage{}, buf, err
	}
	p, err := SplitPageV3(data)
	if err != nil {
		return events.RawPage{}, data, fmt.Errorf("v3 auditevents: malformed page: %w", err)
	}
	out := events.RawPage{Items: p.AuditEvents, HasMore: p.NextPageToken != "", Cursor: req.Cursor}
	after := func(t time.Time) string {
		rest := t.UTC().Format(time.RFC3339Nano)
		if q.EndTime != nil {
			rest += "/" + q.EndTime.UTC().Format(time.RFC3339Nano)
		}
		return v3Cursor(q.MaxPageSize, "a", rest)
	}
	switch {
	case p.NextPageToken != "":
		out.Cursor = v3Cursor(q.MaxPageSize, "t", p.NextPageToken)
	case len(p.AuditEvents) > 0:
		if t, ok := insertTime(p.AuditEvents[len(p.AuditEvents)-1]); ok {
			out.Cursor = after(t)
		}
	case q.PageToken == "" && q.StartTime != nil:
		out.Cursor = after(*q.StartTime)
	}
	return out, data, nil
}

// insertTime reads an event's insert_time.
func insertTime(ev json.RawMessage) (time.Time, bool) {
	var t time.Time
	ok := false
	_ = EachField(ev, func(key, value []byte) bool {
		if string(key) != "insert_time" {
			return true
		}
		var s string
		if json.Unmarshal(value, &s) == nil {
			if parsed, err := time.Parse(time.RFC3339Nano, s); err == nil {
				t, ok = parsed, true
			}
		}
		return false
	})
	return t, ok
}
