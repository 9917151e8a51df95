package api

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/logbookhq/logbook/events"
	"github.com/logbookhq/logbook/internal/store"
)

var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// events serves POST /api/v{version}/{feature}.
func (h *handler) events(f events.Feature, version int) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		v, err := h.authenticate(r, f)
		if err != nil {
			return err
		}
		call := Call{Token: v, Feature: f, Version: version}
		if h.Guard != nil && h.Guard(w, r, call) {
			return nil
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
		if err != nil {
			return badRequest(fmt.Errorf("read body: %w", err))
		}
		if len(body) > maxBody {
			return badRequest(fmt.Errorf("body: larger than %d bytes", maxBody))
		}
		req, err := parsePageRequest(body)
		if err != nil {
			return badRequest(err)
		}
		st, err := h.state(r, v.Token.AccountUUID, f, req)
		if err != nil {
			return err
		}
		res, next, err := h.read(r, call, st)
		if err != nil {
			return err
		}
		// Always the canonical encoding, never the request's bytes: the
		// decoder skips CR and LF (the Splunk add-on sends its stored cursor
		// with a trailing newline), and echoing those would put a raw
		// control character inside a JSON string. Sealing is deterministic,
		// so a drained stream still answers with the cursor it was given.
		h.writePage(w, h.codec.encode(next), res)
		return nil
	}
}

// read lists the page st asks for, in the rendering of call's version (v3
// reads the v2 bytes), and returns it with the state after it. A v3
// state's Start and End bound the insertion time (exclusive), and the
// events older than the account's serving window are left out as it
// slides.
func (h *handler) read(r *http.Request, call Call, st cursorState) (store.ListResult, cursorState, error) {
	q := store.ListQuery{
		Account: st.Account, Feature: call.Feature, After: st.After,
		Start: st.Start, End: st.End, Limit: st.Limit, V1: call.Version == 1,
	}
	if call.Version == 3 {
		floor, err := h.floor(r, st.Account, h.Now())
		if err != nil {
			return store.ListResult{}, st, err
		}
		q.InsertedAfter, q.InsertedBefore, q.WithInserted = st.Start, st.End, true
		q.Start, q.End = floor, time.Time{}
	}
	res, err := h.Store.ListEvents(r.Context(), q)
	if err != nil {
		return res, st, fmt.Errorf("list %s: %w", call.Feature, err)
	}
	if call.Version == 1 && call.Feature == events.AuditEvents {
		res.Rows = v1Rows(res.Rows)
	}
	next := st
	next.After = max(res.Last, st.After)
	// Observe before the page goes out, so that what the observer records
	// (the scorecard's drained-at time, say) happens before the client
	// can send its next request.
	if h.Observe != nil {
		s := Served{Items: len(res.Rows), HasMore: res.More}
		if len(res.Rows) > 0 {
			s.First, s.Last = res.Rows[0].Seq, res.Rows[len(res.Rows)-1].Seq
		}
		h.Observe(call, s)
	}
	return res, next, nil
}

// state turns a request into the cursor state it reads from: the decoded
// cursor, or a new one for a reset.
func (h *handler) state(r *http.Request, account string, f events.Feature, req pageRequest) (cursorState, error) {
	if req.Cursor != "" {
		st, err := h.codec.decode(req.Cursor)
		if err != nil {
			return st, badRequest(err)
		}
		if st.Account != account {
			return st, badRequest(fmt.Errorf("cursor: issued for account %s, token is for %s", st.Account, account))
		}
		if st.Feature != f {
			return st, badRequest(fmt.Errorf("cursor: issued for %s, used on %s", st.Feature, f))
		}
		return st, nil
	}
	return h.reset(r, account, f, req)
}

// reset is the state a reset request (req without a cursor) starts from.
func (h *handler) reset(r *http.Request, account string, f events.Feature, req pageRequest) (cursorState, error) {
	st, _, err := h.resetState(r, account, f, req)
	if err != nil {
		return st, err
	}
	return h.startAt(r, st, st.Start)
}

// resetState is a reset's state before its position: the page size (the
// default for 0), the end, and the start (one hour before the end or now
// when absent), never before the account's serving window, which starts
// at floor (zero: it serves forever).
func (h *handler) resetState(r *http.Request, account string, f events.Feature, req pageRequest) (st cursorState, floor time.Time, err error) {
	now := h.Now().UTC()
	st = cursorState{Account: account, Feature: f, Limit: req.Limit}
	if st.Limit == 0 {
		st.Limit = defaultLimit
	}
	if req.End != nil {
		st.End = *req.End
	}
	switch {
	case req.Start != nil:
		st.Start = *req.Start
	case req.End != nil:
		st.Start = req.End.Add(-time.Hour)
	default:
		st.Start = now.Add(-time.Hour)
	}
	// Older than retention is clamped, not refused: connectors send
	// 2020-01-01 and expect everything there is (spec §3).
	if floor, err = h.floor(r, account, now); err != nil {
		return st, floor, err
	}
	if st.Start.Before(floor) {
		st.Start = floor
	}
	return st, floor, nil
}

// floor is where the account's serving window starts at now; zero when it
// serves forever.
func (h *handler) floor(r *http.Request, account string, now time.Time) (time.Time, error) {
	window, err := h.window(r.Context(), account)
	if err != nil || window == 0 {
		return time.Time{}, err
	}
	return now.Add(-window), nil
}

// startAt sets st's position before every event of its stream with a
// timestamp at or after t.
func (h *handler) startAt(r *http.Request, st cursorState, t time.Time) (cursorState, error) {
	pos, err := h.Store.StartPosition(r.Context(), st.Account, st.Feature, t)
	if err != nil {
		return st, fmt.Errorf("start position: %w", err)
	}
	st.After = pos
	return st, nil
}

// window is how far back the account's events are served; 0 is no bound.
func (h *handler) window(ctx context.Context, account string) (time.Duration, error) {
	if h.AccountWindow == nil {
		return h.Retention, nil
	}
	w, err := h.AccountWindow(ctx, account)
	switch {
	case err != nil:
		return 0, fmt.Errorf("serving window of account %s: %w", account, err)
	case w == store.ServeForever:
		return 0, nil
	case w > 0:
		return w, nil
	}
	return h.Retention, nil
}

// writePage splices stored event bytes into the envelope, keys in the order
// cursor, has_more, items.
func (h *handler) writePage(w http.ResponseWriter, cursor string, res store.ListResult) {
	buf := getBuf()
	defer putBuf(buf)
	buf.WriteString(`{"cursor":"`)
	buf.WriteString(cursor)
	buf.WriteString(`","has_more":`)
	buf.WriteString(strconv.FormatBool(res.More))
	buf.WriteString(`,"items":[`)
	for i, row := range res.Rows {
		if i > 0 {
			buf.WriteByte(',')
		}
		buf.Write(row.Data)
	}
	buf.WriteString("]}")
	sendPage(w, buf.Bytes())
}

func getBuf() *bytes.Buffer {
	buf := bufPool.Get().(*bytes.Buffer)
	buf.Reset()
	return buf
}

func putBuf(buf *bytes.Buffer) {
	if buf.Cap() <= 4<<20 {
		bufPool.Put(buf)
	}
}

// sendPage writes a 200 with the JSON body b.
func sendPage(w http.ResponseWriter, b []byte) {
	hd := w.Header()
	hd.Set("Content-Type", "application/json; charset=utf-8")
	hd.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
}

// introspect serves GET /api/auth/introspect (v1) and
// /api/v2/auth/introspect.
func (h *handler) introspect(version int) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		v, err := h.authenticate(r, "")
		if err != nil {
			return err
		}
		if h.Guard != nil && h.Guard(w, r, Call{Token: v, Version: version}) {
			return nil
		}
		var body any
		issued := v.Token.IssuedAt.UTC()
		if version == 1 {
			body = events.IntrospectionV1{UUID: v.Token.IntegrationUUID, IssuedAt: issued, Features: v.Token.Features}
		} else {
			body = events.Introspection{UUID: v.Token.IntegrationUUID, IssuedAt: issued, Features: v.Token.Features, AccountUUID: v.Token.AccountUUID}
		}
		return writeJSON(w, http.StatusOK, body)
	}
}
