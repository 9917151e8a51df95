package client

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"time"

	"github.com/logbookhq/logbook/events"
)

// Request asks for one page: a continuation when Cursor is set, otherwise
// the reset in Reset (whose zero value is the server's default: 100 events
// of the last hour).
type Request struct {
	Cursor string
	Reset  events.ResetCursor
}

// FromCursor continues a stream at cursor.
func FromCursor(cursor string) Request { return Request{Cursor: cursor} }

// FromReset starts a stream afresh.
func FromReset(r events.ResetCursor) Request { return Request{Reset: r} }

// body is the JSON the request sends. Times go in UTC.
func (r Request) body() any {
	if r.Cursor != "" {
		return events.CursorRequest{Cursor: r.Cursor}
	}
	b := r.Reset
	if b.StartTime != nil {
		t := b.StartTime.UTC()
		b.StartTime = &t
	}
	if b.EndTime != nil {
		t := b.EndTime.UTC()
		b.EndTime = &t
	}
	return b
}

// Introspect returns what the token may read. With API version 1 the v1
// reply is converted (it carries no account UUID).
func (c *Client) Introspect(ctx context.Context) (events.Introspection, error) {
	if c.version == 1 {
		v1, err := doJSON[events.IntrospectionV1](ctx, c, "GET", "/api/auth/introspect", nil, "introspect", "reply")
		if err != nil {
			return events.Introspection{}, err
		}
		return events.Introspection{UUID: v1.UUID, IssuedAt: v1.IssuedAt, Features: v1.Features}, nil
	}
	return doJSON[events.Introspection](ctx, c, "GET", "/api/v2/auth/introspect", nil, "introspect", "reply")
}

// doJSON sends a request and decodes its reply into a T. Its errors begin
// with what; one from decoding says "decode " + noun.
func doJSON[T any](ctx context.Context, c *Client, method, path string, body any, what, noun string) (T, error) {
	var v T
	data, err := c.do(ctx, method, path, body)
	if err != nil {
		return v, fmt.Errorf("%s: %w", what, err)
	}
	if err := json.Unmarshal(data, &v); err != nil {
		var zero T
		return zero, fmt.Errorf("%s: decode %s: %w", what, noun, err)
	}
	return v, nil
}

// RawPage fetches one page of feature and returns its events as the bytes
// the server sent. The envelope is checked (an object with a string
// cursor, a boolean has_more and an array of objects); the events are not
// decoded.
func (c *Client) RawPage(ctx context.Context, feature events.Feature, req Request) (events.RawPage, error) {
	p, _, err := c.RawPageInto(ctx, feature, req, nil)
	return p, err
}

// RawPageInto is RawPage reading the reply into buf's storage (a new
// buffer when buf is too small) instead of a fresh allocation. It returns
// the buffer it used, which the page's items alias: pass that buffer to a
// later call only once nothing uses those items any more. A forwarder
// recycling a few buffers saves allocating and zeroing a buffer of the
// page's size per request.
func (c *Client) RawPageInto(ctx context.Context, feature events.Feature, req Request, buf []byte) (events.RawPage, []byte, error) {
	if !feature.Valid() {
		return events.RawPage{}, buf, fmt.Errorf("raw page: unknown feature %q", feature)
	}
	if c.version == 3 && feature == events.AuditEvents {
		return c.rawPageV3(ctx, req, buf)
	}
	data, err := c.doInto(ctx, "POST", c.postPath(feature), req.body(), buf)
	if err != nil {
		return events.RawPage{}, buf, fmt.Errorf("%s: %w", feature, err)
	}
	p, err := SplitPage(data)
	if err != nil {
		return events.RawPage{}, data, fmt.Errorf("%s: malformed page: %w", feature, err)
	}
	return p, data, nil
}

func page[T any](ctx context.Context, c *Client, feature events.Feature, req Request) (events.Page[T], error) {
	p, err := doJSON[events.Page[T]](ctx, c, "POST", c.postPath(feature), req.body(), string(feature), "page")
	if err != nil {
		return events.Page[T]{}, err
	}
	if p.Items == nil {
		p.Items = []T{}
	}
	return p, nil
}

// SignInAttempts fetches one page of sign-in attempts.
func (c *Client) SignInAttempts(ctx context.Context, req Request) (events.Page[events.SignInAttempt], error) {
	return page[events.SignInAttempt](ctx, c, events.SignInAttempts, req)
}

// ItemUsages fetches one page of item usages.
func (c *Client) ItemUsages(ctx context.Context, req Request) (events.Page[events.ItemUsage], error) {
	return page[events.ItemUsage](ctx, c, events.ItemUsages, req)
}

// AuditEvents fetches one page of audit events.
func (c *Client) AuditEvents(ctx context.Context, req Request) (events.Page[events.AuditEvent], error) {
	return page[events.AuditEvent](ctx, c, events.AuditEvents, req)
}

// seq yields every event from reset on, following the cursor while the
// server says has_more, and stops after the first error. Call the
// page methods directly to keep the final cursor for later polls.
func seq[T any](ctx context.Context, c *Client, feature events.Feature, reset events.ResetCursor) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		req := FromReset(reset)
		for {
			p, err := page[T](ctx, c, feature, req)
			if err != nil {
				var zero T
				yield(zero, err)
				return
			}
			for _, ev := range p.Items {
				if !yield(ev, nil) {
					return
				}
			}
			if !p.HasMore || p.Cursor == "" {
				return
			}
			req = FromCursor(p.Cursor)
		}
	}
}

// SignInAttemptsSeq yields every sign-in attempt from reset until the
// server has no more.
func (c *Client) SignInAttemptsSeq(ctx context.Context, reset events.ResetCursor) iter.Seq2[events.SignInAttempt, error] {
	return seq[events.SignInAttempt](ctx, c, events.SignInAttempts, reset)
}

// ItemUsagesSeq yields every item usage from reset until the server has no
// more.
func (c *Client) ItemUsagesSeq(ctx context.Context, reset events.ResetCursor) iter.Seq2[events.ItemUsage, error] {
	return seq[events.ItemUsage](ctx, c, events.ItemUsages, reset)
}

// AuditEventsSeq yields every audit event from reset until the server has
// no more.
func (c *Client) AuditEventsSeq(ctx context.Context, reset events.ResetCursor) iter.Seq2[events.AuditEvent, error] {
	return seq[events.AuditEvent](ctx, c, events.AuditEvents, reset)
}

// Since is a convenience for a reset from t with the given limit.
func Since(t time.Time, limit int) events.ResetCursor {
	t = t.UTC()
	return events.ResetCursor{Limit: limit, StartTime: &t}
}
